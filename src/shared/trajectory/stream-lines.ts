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
  /** Epoch ms from the `[ISO-Z] ` prefix, when the line has one. */
  t: number | null;
}

const ISO_PREFIX = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)\] ?/;

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
    if (match) {
      const ms = Date.parse(match[1]!);
      if (Number.isFinite(ms)) {
        t = ms;
        body = body.slice(match[0].length);
      }
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
