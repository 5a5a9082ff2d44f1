import { HeldBytes } from './held-bytes';

/**
 * Holds back an escape sequence cut by a chunk's end (`ESC [ 3` … `1 m`), so that every chunk a catch-up stream
 * hands on ends with the terminal's parser in its ground state: a snapshot taken between two chunks then starts the
 * viewer where the headless terminal was, and the bytes after it never begin in the middle of a sequence.
 *
 * The state is judged from the last ESC of the output (a later ESC always ends or aborts an earlier sequence): a
 * CSI without its final byte, an ESC with intermediates and no final, or a string (OSC, DCS, APC, PM, SOS) without
 * BEL or ST is incomplete. 8-bit C1 introducers (U+009B…) are not looked for: agents write 7-bit sequences. A held
 * tail longer than {@link MAX_HELD} (a huge OSC 52 or sixel image) is let through rather than kept.
 */

const ESC = 0x1b;
const BEL = 0x07;
/** The most held back: a longer unfinished sequence is passed on. */
export const MAX_HELD = 64 * 1024;

/** Where an unfinished escape sequence at the end of `data` starts, or -1 when `data` ends in the ground state. */
export function unfinishedEscapeAt(data: Uint8Array): number {
  const p = data.lastIndexOf(ESC);
  if (p < 0) return -1;
  if (p === data.length - 1) {
    // A lone ESC at the end may be the start of the ST of a string before it: hold the whole string.
    const q = p > 0 ? data.lastIndexOf(ESC, p - 1) : -1;
    if (q >= 0 && isStringIntroducer(data[q + 1]!) && data.subarray(q + 2, p).indexOf(BEL) < 0) return q;
    return p;
  }
  const kind = data[p + 1]!;
  if (kind === 0x5b) {
    // CSI: parameters and intermediates (0x20–0x3f), then a final byte (0x40–0x7e).
    for (let i = p + 2; i < data.length; i++) {
      const b = data[i]!;
      if (b >= 0x40 && b <= 0x7e) return -1;
      if (b < 0x20 || b > 0x3f) return -1; // a control or an odd byte: the parser is no longer waiting here
    }
    return p;
  }
  if (isStringIntroducer(kind)) {
    // A string: ends at BEL (OSC) or ST (`ESC \`, whose ESC would be the last one, handled below).
    return data.indexOf(BEL, p + 2) >= 0 ? -1 : p;
  }
  if (kind >= 0x20 && kind <= 0x2f) {
    // ESC with intermediates (`ESC ( B`): waits for a final byte 0x30–0x7e.
    for (let i = p + 2; i < data.length; i++) {
      const b = data[i]!;
      if (b >= 0x30 && b <= 0x7e) return -1;
      if (b < 0x20 || b > 0x2f) return -1;
    }
    return p;
  }
  return -1;
}

export class EscapeCarry {
  private readonly held = new HeldBytes();

  /** Bytes held back now. */
  get heldBytes(): number {
    return this.held.length;
  }

  /** `chunk` after what was held, less an unfinished sequence at its end (kept for the next push). */
  push(chunk: Buffer): Buffer {
    const data = this.held.before(chunk);
    const at = unfinishedEscapeAt(data);
    return this.held.holdFrom(data, at < 0 || data.length - at > MAX_HELD ? data.length : at);
  }

  /** Whatever is held (the stream ended). */
  flush(): Buffer {
    return this.held.flush();
  }
}

/** OSC, DCS, APC, PM, SOS: strings that end at BEL or ST. */
function isStringIntroducer(byte: number): boolean {
  return byte === 0x5d || byte === 0x50 || byte === 0x5f || byte === 0x5e || byte === 0x58;
}
