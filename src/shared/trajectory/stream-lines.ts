/**
 * The lines of an agent's stream as recorded: the app's `agent-stream.jsonl` (JSON lines verbatim) or a
 * PostTrainBench `solve_out.txt`, where every line the agent printed carries a `[YYYY-MM-DDTHH:MM:SSZ] ` prefix and
 * the launcher's own lines (CUDA checks, warnings) sit between the JSON (shared/PTB.md).
 */

export interface StreamLine {
  /** 1-based. */
  line: number;
  /** The text after any timestamp prefix, trailing `\r` removed. */
  text: string;
  /** Epoch ms from the `[ISO-Z] ` (or `[epoch ms] `) prefix, when the line has one. */
  t: number | null;
}

const ISO_PREFIX = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)\] ?/;
/** `[1741255200000] `: an epoch-millisecond prefix, as some launchers write. */
const EPOCH_MS_PREFIX = /^\[(\d{13})\] ?/;

/** Epoch ms from 2000 to 2200: a number outside is not a time (a counter, a size). */
const MIN_MS = 946_684_800_000;
const MAX_MS = 7_258_118_400_000;

/** A time field as epoch ms: ISO text, epoch milliseconds, or epoch seconds; null when it is none of those. */
export function timeValue(value: unknown): number | null {
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isFinite(value)) ms = value >= 1e12 ? value : value * 1000;
  else if (typeof value === 'string' && value.length <= 40) {
    ms = /^\d+(?:\.\d+)?$/.test(value) ? timeValue(Number(value)) : Date.parse(value);
  }
  return ms !== null && Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? ms : null;
}

/** When an event says it happened: `timestamp_ms` (Cursor), `timestamp` (Gemini, OpenCode), `ts`; else null. */
export function eventTime(event: Record<string, unknown>): number | null {
  for (const key of ['timestamp_ms', 'timestampMs', 'timestamp', 'ts', 'time']) {
    const t = timeValue(event[key]);
    if (t !== null) return t;
  }
  return null;
}

/** Splits `text` into lines; a final line without a newline counts (a stream cut short still shows its end). */
export function streamLines(text: string): StreamLine[] {
  const out: StreamLine[] = [];
  const parts = text.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  for (let i = 0; i < parts.length; i++) {
    let body = parts[i]!;
    if (body.endsWith('\r')) body = body.slice(0, -1);
    let t: number | null = null;
    const match = ISO_PREFIX.exec(body);
    const epoch = match ? null : EPOCH_MS_PREFIX.exec(body);
    const ms = match ? Date.parse(match[1]!) : epoch ? timeValue(Number(epoch[1])) : null;
    if (ms !== null && Number.isFinite(ms)) {
      t = ms;
      body = body.slice((match ?? epoch)![0].length);
    }
    out.push({ line: i + 1, text: body, t });
  }
  return out;
}

export type ParsedLine =
  { ok: true; value: Record<string, unknown> } | { ok: false; json: boolean; problem: string | null };

/** A line as a JSON object; launcher text is `json: false` with no problem, broken JSON says why. */
export function parseJsonLine(text: string): ParsedLine {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return { ok: false, json: false, problem: null };
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return { ok: true, value: value as Record<string, unknown> };
    }
    return { ok: false, json: true, problem: 'not a JSON object' };
  } catch (err) {
    return { ok: false, json: true, problem: `not valid JSON (${(err as Error).message})` };
  }
}
