import { exactJsonText } from './exact-json';
/**
 * Pure parsing and shaping of dataset rows, shared by main (pages read over SFTP byte ranges) and the renderer
 * (chat rendering, highlighted overlap spans). Rows are untrusted: everything here returns plain strings for React
 * to render as text.
 */

/** One CSV record (RFC 4180: quoted fields may hold commas, quotes as `""` and newlines) and the line it starts on. */
export interface CsvRecord {
  fields: string[];
  /** 0-based line within the parsed text where the record starts. */
  line: number;
  /** A quoted field was still open at the end of the text. */
  unterminated?: boolean;
}

/** Parses CSV text that starts at a record boundary. Blank lines are skipped, like Python's csv module does. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 0;
  let recordLine = 0;
  let started = false;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!started) {
      started = true;
      recordLine = line;
    }
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else field += c;
  }
  if (started) {
    const open = quoted;
    endRecord();
    if (open && records.length) records[records.length - 1]!.unterminated = true;
  }
  return records;
}

/** A CSV record as an object keyed by the header (missing fields are null), and whether its width is wrong. */
export function csvRow(
  header: readonly string[],
  fields: readonly string[],
): { value: Record<string, string | null>; error?: string } {
  const value: Record<string, string | null> = {};
  header.forEach((name, i) => (value[name] = i < fields.length ? fields[i]! : null));
  if (fields.length !== header.length) {
    return { value, error: `has ${fields.length} fields, the header has ${header.length}` };
  }
  return { value };
}

export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * The conversation in a row, when it has one: `messages` (OpenAI style, `role`/`content`) or `conversations`
 * (ShareGPT style, `from`/`value`). Content that is a list of parts is joined from its text parts.
 */
export function chatMessages(value: unknown): ChatMessage[] | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const list = Array.isArray(record.messages)
    ? record.messages
    : Array.isArray(record.conversations)
      ? record.conversations
      : null;
  if (!list || list.length === 0) return null;
  const out: ChatMessage[] = [];
  for (const item of list) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return null;
    const m = item as Record<string, unknown>;
    const role = m.role ?? m.from;
    const content = m.content ?? m.value;
    out.push({ role: typeof role === 'string' ? role : String(role ?? '?'), content: contentText(content) });
  }
  return out;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (content == null) return '';
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part;
        if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
          return (part as { text: string }).text;
        }
        return JSON.stringify(part);
      })
      .join('\n');
  }
  return JSON.stringify(content);
}

/** A piece of text and whether it is inside a highlighted range. */
export interface TextPiece {
  text: string;
  mark: boolean;
}

/** Splits `text` at the given [start, end) ranges (which may overlap or be unsorted) into plain and marked pieces. */
export function splitMarked(text: string, ranges: ReadonlyArray<{ start: number; end: number }>): TextPiece[] {
  const sorted = ranges
    .map((r) => ({
      start: Math.max(0, Math.min(text.length, r.start)),
      end: Math.max(0, Math.min(text.length, r.end)),
    }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const pieces: TextPiece[] = [];
  let at = 0;
  for (const r of sorted) {
    if (r.end <= at) continue;
    const start = Math.max(r.start, at);
    if (start > at) pieces.push({ text: text.slice(at, start), mark: false });
    pieces.push({ text: text.slice(start, r.end), mark: true });
    at = r.end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), mark: false });
  return pieces;
}

/** A one-line preview of a cell value for the table. */
export function cellText(value: unknown, max = 300): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value === undefined) text = '';
  else text = exactJsonText(value);
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
