/**
 * Search over terminal output as a person reads it: escape sequences removed, `\r` and `\n` as line breaks, so
 * `loss` is found in `\x1b[1mlo\x1b[0mss` and a hit may span two output events. Streaming: the caller pushes
 * each output event's data in order and never holds the whole output.
 */

/** Removes escape sequences and control characters from a stream of terminal output, across chunk boundaries. */
export class TerminalTextStripper {
  /** 0 text, 1 after ESC, 2 in CSI, 3 in a string (OSC/DCS/SOS/PM/APC) up to BEL or ST, 4 ESC inside a string. */
  private state = 0;

  push(data: string): string {
    let out = '';
    let runStart = -1;
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (this.state === 0) {
        if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c <= 0x9f)) {
          if (runStart < 0) runStart = i;
          continue;
        }
        if (runStart >= 0) {
          out += data.slice(runStart, i);
          runStart = -1;
        }
        if (c === 0x1b) this.state = 1;
        else if (c === 0x9b) this.state = 2;
        else if (c === 0x9d || c === 0x90) this.state = 3;
        else if (c === 0x0a || c === 0x0d) out += '\n';
        else if (c === 0x09) out += ' ';
      } else if (this.state === 1) {
        if (c === 0x5b /* [ */) this.state = 2;
        else if (c === 0x5d /* ] */ || c === 0x50 /* P */ || c === 0x58 || c === 0x5e || c === 0x5f) this.state = 3;
        else if (c >= 0x20 && c <= 0x2f)
          this.state = 1; // intermediate bytes, e.g. ESC ( B
        else this.state = 0;
      } else if (this.state === 2) {
        if (c >= 0x40 && c <= 0x7e) this.state = 0;
        else if (c === 0x1b) this.state = 1;
      } else if (this.state === 3) {
        if (c === 0x07 || c === 0x9c) this.state = 0;
        else if (c === 0x1b) this.state = 4;
      } else {
        this.state = c === 0x5c /* \ */ ? 0 : 3;
      }
    }
    if (runStart >= 0) out += data.slice(runStart);
    return out;
  }
}

export interface TextHit<M> {
  /** Where the output event that completed the match is (its time, byte offset…). */
  at: M;
  /** The line of plain text around the hit, at most ~160 characters. */
  excerpt: string;
  /** Where the match starts within `excerpt`. */
  matchStart: number;
}

const CONTEXT = 80;

interface PendingHit<M> {
  at: M;
  before: string;
  match: string;
  after: string;
}

/**
 * Case-insensitive substring search over pushed plain text. Hits are reported with the metadata of the push that
 * completed them; the excerpt's tail is filled in from the text that follows (up to the next line break).
 */
export class TerminalTextSearch<M> {
  private readonly needle: string;
  /** The last characters seen (original and lower-cased), for matches across pushes and excerpt heads. */
  private tail = '';
  private pending: PendingHit<M>[] = [];
  private readonly done: TextHit<M>[] = [];
  private total = 0;

  constructor(
    query: string,
    private readonly limit: number,
  ) {
    this.needle = query.toLowerCase();
    if (this.needle.length === 0) throw new Error('an empty query matches everything');
  }

  /** Hits found so far (complete excerpts only until {@link finish}). */
  get count(): number {
    return this.total;
  }

  get full(): boolean {
    return this.total >= this.limit;
  }

  push(text: string, at: M): void {
    if (text.length === 0) return;
    this.fillPending(text);
    if (this.total >= this.limit) {
      this.updateTail(text);
      return;
    }
    const hay = this.tail + text;
    const lower = hay.toLowerCase();
    // Matches that end inside `text` only: one that ended in the tail was reported by an earlier push.
    const minEnd = this.tail.length + 1;
    let from = Math.max(0, minEnd - this.needle.length);
    // Lower-casing may change the length of some characters; fall back to the lower-cased text for excerpts then.
    const source = lower.length === hay.length ? hay : lower;
    while (this.total < this.limit) {
      const i = lower.indexOf(this.needle, from);
      if (i < 0) break;
      const end = i + this.needle.length;
      if (end >= minEnd) {
        const lineStart = source.lastIndexOf('\n', i - 1) + 1;
        const before = source.slice(Math.max(lineStart, i - CONTEXT), i);
        const match = source.slice(i, end);
        const rest = source.slice(end);
        const nl = rest.indexOf('\n');
        const after = nl >= 0 ? rest.slice(0, nl) : rest;
        const hit: PendingHit<M> = { at, before, match, after: after.slice(0, CONTEXT) };
        this.total++;
        if (nl >= 0 || after.length >= CONTEXT) this.complete(hit);
        else this.pending.push(hit);
      }
      from = i + 1;
    }
    this.updateTail(text);
  }

  /** The hits, in order of appearance. */
  finish(): TextHit<M>[] {
    for (const hit of this.pending.splice(0)) this.complete(hit);
    return this.done;
  }

  private complete(hit: PendingHit<M>): void {
    this.done.push({ at: hit.at, excerpt: hit.before + hit.match + hit.after, matchStart: hit.before.length });
  }

  private fillPending(text: string): void {
    if (this.pending.length === 0) return;
    const nl = text.indexOf('\n');
    const piece = nl >= 0 ? text.slice(0, nl) : text;
    const still: PendingHit<M>[] = [];
    for (const hit of this.pending) {
      hit.after = (hit.after + piece).slice(0, CONTEXT);
      if (nl >= 0 || hit.after.length >= CONTEXT) this.complete(hit);
      else still.push(hit);
    }
    this.pending = still;
  }

  private updateTail(text: string): void {
    const keep = Math.max(CONTEXT, this.needle.length);
    const joined = this.tail + text;
    this.tail = joined.length > keep ? joined.slice(joined.length - keep) : joined;
  }
}
