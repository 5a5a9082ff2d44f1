import { minimumSecretLength, redactionMark, type NamedSecret } from '../../shared/redact';
import { HeldBytes } from './held-bytes';

/**
 * {@link StreamRedactor}'s rule on UTF-8 bytes, for the live terminal, which never turns the host's bytes into a
 * string: every secret is replaced by `[REDACTED:NAME]`, values under 8 characters are ignored, longest first (a
 * secret that contains another is replaced whole), and the tail that could begin a secret is held back until the next
 * chunk (or {@link flush}), so a key split across two reads is still caught. Without secrets a chunk passes through
 * untouched, with no copy.
 */
export class ByteStreamRedactor {
  private readonly secrets: Array<{ value: Buffer; mark: Buffer }>;
  private readonly holdBack: number;
  private readonly pending = new HeldBytes();

  constructor(secrets: readonly NamedSecret[]) {
    this.secrets = secrets
      .filter((s) => s.value.length >= minimumSecretLength)
      .map((s) => ({ value: Buffer.from(s.value, 'utf8'), mark: Buffer.from(redactionMark(s.name), 'utf8') }))
      .sort((a, b) => b.value.length - a.value.length);
    this.holdBack = Math.max(0, ...this.secrets.map((s) => s.value.length - 1));
  }

  push(chunk: Buffer): Buffer {
    if (this.secrets.length === 0) return chunk;
    const data = this.redact(this.pending.before(chunk));
    return this.pending.holdFrom(data, this.safeCut(data));
  }

  flush(): Buffer {
    return this.pending.flush();
  }

  private redact(data: Buffer): Buffer {
    let out = data;
    for (const { value, mark } of this.secrets) {
      let at = out.indexOf(value);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (at >= 0) {
        parts.push(out.subarray(from, at), mark);
        from = at + value.length;
        at = out.indexOf(value, from);
      }
      parts.push(out.subarray(from));
      out = Buffer.concat(parts);
    }
    return out;
  }

  /** The longest prefix that cannot be the start of a secret continuing into the next chunk. */
  private safeCut(data: Buffer): number {
    for (let i = Math.max(0, data.length - this.holdBack); i < data.length; i++) {
      const tail = data.subarray(i);
      if (this.secrets.some((s) => s.value.subarray(0, tail.length).equals(tail))) return i;
    }
    return data.length;
  }
}

/** Carries an incomplete UTF-8 character at the end of a chunk over to the next (a raw stream such as a shell). */
export class Utf8Carry {
  private readonly carry = new HeldBytes();

  push(chunk: Buffer): Buffer {
    const data = this.carry.before(chunk);
    return this.carry.holdFrom(data, completeUpTo(data));
  }

  flush(): Buffer {
    return this.carry.flush();
  }
}

/** The length of `data` without a last character whose bytes have not all arrived. */
function completeUpTo(data: Uint8Array): number {
  const n = data.length;
  for (let back = 1; back <= Math.min(4, n); back++) {
    const byte = data[n - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead byte
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}
