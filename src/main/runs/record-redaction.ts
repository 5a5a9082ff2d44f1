import { minimumSecretLength, redactionMark, type NamedSecret } from '../../shared/redact';

/**
 * Redaction of run records as they are mirrored from the host (the supervisor never sees the agent's key, but the
 * agent may print it). Each function takes the bytes read from the host since the last sync and says how many of
 * them it consumed: bytes it cannot judge yet (a line not finished, terminal text that could be the start of a
 * key) are left on the host and read again next time, so no piece of a key is ever held on local disk between
 * syncs. With no secrets the output is the input, byte for byte.
 */

export interface RedactedChunk {
  /** What to append to the local file. */
  output: Buffer;
  /** How many input bytes that covers; the rest is read again at the next sync. */
  consumed: number;
}

const NEWLINE = 0x0a;

/** Secrets worth matching, longest first, each also in its JSON-escaped spelling when that differs. */
export function redactionNeedles(secrets: readonly NamedSecret[]): NamedSecret[] {
  const needles: NamedSecret[] = [];
  for (const s of secrets) {
    if (s.value.length < minimumSecretLength) continue;
    needles.push(s);
    const escaped = JSON.stringify(s.value).slice(1, -1);
    if (escaped !== s.value) needles.push({ name: s.name, value: escaped });
  }
  return needles.sort((a, b) => b.value.length - a.value.length);
}

/** Replaces every occurrence of each needle in `data`, on bytes (invalid UTF-8 elsewhere stays as it was). */
export function redactBytes(data: Buffer, secrets: readonly NamedSecret[]): Buffer {
  let out = data;
  for (const s of redactionNeedles(secrets)) {
    const needle = Buffer.from(s.value, 'utf8');
    if (out.indexOf(needle) < 0) continue;
    const mark = Buffer.from(redactionMark(s.name), 'utf8');
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, from)) {
      parts.push(out.subarray(from, at), mark);
      from = at + needle.length;
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

function completeLength(input: Buffer, final: boolean): number {
  if (final) return input.length;
  return input.lastIndexOf(NEWLINE) + 1;
}

/**
 * Line-oriented records (events, agent stream, GPU samples, logs): complete lines only, unless `final` (the file
 * will not grow again). A key has no newline in it, so redacting whole lines never misses one split across syncs.
 */
export function redactLines(input: Buffer, secrets: readonly NamedSecret[], final: boolean): RedactedChunk {
  const consumed = completeLength(input, final);
  const complete = input.subarray(0, consumed);
  return { output: secrets.length === 0 ? Buffer.from(complete) : redactBytes(complete, secrets), consumed };
}

/** `[12.345678, "o", "text"]` as the supervisor writes it; `t` is kept as written. */
const OUTPUT_EVENT = /^\[([-+0-9.eE]+), "o", (".*")\]$/;

interface CastLine {
  /** The line without its newline. */
  text: string;
  /** Byte offset of the line in the input. */
  start: number;
  /** Set for `o` events. */
  output?: { t: string; data: string };
}

function splitCastLines(complete: Buffer): CastLine[] {
  const lines: CastLine[] = [];
  let start = 0;
  while (start < complete.length) {
    let end = complete.indexOf(NEWLINE, start);
    if (end < 0) end = complete.length;
    const text = complete.subarray(start, end).toString('utf8');
    const line: CastLine = { text, start };
    const match = OUTPUT_EVENT.exec(text);
    if (match) {
      try {
        const data = JSON.parse(match[2]!) as unknown;
        if (typeof data === 'string') line.output = { t: match[1]!, data };
      } catch {
        // Not an event we can read: kept as it is (and redacted as bytes).
      }
    }
    lines.push(line);
    start = end + 1;
  }
  return lines;
}

interface Match {
  from: number;
  to: number;
  name: string;
}

/** Non-overlapping occurrences, leftmost first, the longest secret winning at one position. */
function findMatches(text: string, needles: readonly NamedSecret[]): Match[] {
  const matches: Match[] = [];
  let pos = 0;
  for (;;) {
    let best: Match | undefined;
    for (const n of needles) {
      const at = text.indexOf(n.value, pos);
      if (at >= 0 && (!best || at < best.from || (at === best.from && n.value.length > best.to - best.from))) {
        best = { from: at, to: at + n.value.length, name: n.name };
      }
    }
    if (!best) return matches;
    matches.push(best);
    pos = best.to;
  }
}

/**
 * terminal.cast: a key the agent printed may be split across two output events (two reads of its terminal), so
 * redaction runs over the terminal text across events. The mark goes into the event where the key began; the
 * events it spilled into lose their part of it. Output events that could still be the start of a key are held
 * back (not consumed) until the next sync shows how they go on, or until `final`.
 */
export function redactCast(input: Buffer, secrets: readonly NamedSecret[], final: boolean): RedactedChunk {
  const needles = redactionNeedles(secrets).filter((n) => !n.value.includes('\n'));
  const completeBytes = completeLength(input, final);
  if (needles.length === 0) return { output: Buffer.from(input.subarray(0, completeBytes)), consumed: completeBytes };
  const lines = splitCastLines(input.subarray(0, completeBytes));

  // The terminal text of all output events, and where each event's part starts in it.
  const events = lines.flatMap((line, index) => (line.output ? [{ index, data: line.output.data, at: 0 }] : []));
  let text = '';
  for (const e of events) {
    e.at = text.length;
    text += e.data;
  }
  const eventAt = (pos: number): number => {
    let k = 0;
    while (k + 1 < events.length && events[k + 1]!.at <= pos) k++;
    return k;
  };

  // Hold back from the first event whose text could be the start of a key that continues in later output.
  let hold = events.length; // index into `events`
  if (!final) {
    const longest = Math.max(...needles.map((n) => n.value.length));
    for (let x = Math.max(0, text.length - longest + 1); x < text.length; x++) {
      const tail = text.slice(x);
      if (needles.some((n) => n.value.length > tail.length && n.value.startsWith(tail))) {
        hold = eventAt(x);
        break;
      }
    }
    // A key that straddles the hold point is held whole, or its second half would be re-read without its first.
    for (let changed = true; changed && hold < events.length;) {
      changed = false;
      const boundary = events[hold]!.at;
      for (const m of findMatches(text, needles)) {
        if (m.from < boundary && m.to > boundary) {
          hold = eventAt(m.from);
          changed = true;
          break;
        }
      }
    }
  }
  const keptText = hold < events.length ? text.slice(0, events[hold]!.at) : text;
  const lastLine = hold < events.length ? events[hold]!.index : lines.length;

  // Rewrite the kept events: covered characters are removed, each mark lands where its key began.
  const matches = findMatches(keptText, needles);
  const rewritten = new Map<number, string>();
  for (let k = 0; k < Math.min(hold, events.length); k++) {
    const e = events[k]!;
    const end = e.at + e.data.length;
    const touching = matches.filter((m) => m.from < end && m.to > e.at);
    if (touching.length === 0) continue;
    let out = '';
    let pos = e.at;
    for (const m of touching) {
      if (m.from > pos) out += keptText.slice(pos, m.from);
      if (m.from >= e.at) out += redactionMark(m.name);
      pos = Math.max(pos, Math.min(m.to, end));
    }
    if (pos < end) out += keptText.slice(pos, end);
    rewritten.set(e.index, out);
  }

  const parts: string[] = [];
  let lastEmitted = -1;
  for (let i = 0; i < lastLine; i++) {
    const line = lines[i]!;
    const replacement = rewritten.get(i);
    if (replacement === undefined) {
      // Lines that are not output events (header, resize, marker) are still redacted as text.
      parts.push(line.output ? line.text : redactBytes(Buffer.from(line.text, 'utf8'), secrets).toString('utf8'));
    } else if (replacement !== '') {
      parts.push(`[${line.output!.t}, "o", ${JSON.stringify(replacement)}]`);
    } else continue;
    lastEmitted = i;
  }
  const consumed = lastLine < lines.length ? lines[lastLine]!.start : completeBytes;
  // Only a final chunk can end without a newline; its last line keeps having none.
  const unterminated = completeBytes > 0 && input[completeBytes - 1] !== NEWLINE;
  let output = parts.join('\n');
  if (parts.length > 0 && !(unterminated && lastEmitted === lines.length - 1)) output += '\n';
  return { output: Buffer.from(output, 'utf8'), consumed };
}
