/**
 * What a byte-stream transform holds back from the end of one chunk for the next: a UTF-8 character, a secret or an
 * escape sequence cut by the chunk's end. Bytes only, never decoded.
 */
export class HeldBytes {
  private held: Buffer = Buffer.alloc(0);

  /** Bytes held now. */
  get length(): number {
    return this.held.length;
  }

  /** `chunk` after what was held (the chunk itself, no copy, when nothing was). */
  before(chunk: Buffer): Buffer {
    return this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
  }

  /** Holds `data` from `cut` on for the next chunk and returns what comes before it. */
  holdFrom(data: Buffer, cut: number): Buffer {
    if (cut >= data.length) {
      this.held = Buffer.alloc(0);
      return data;
    }
    this.held = Buffer.from(data.subarray(cut));
    return data.subarray(0, cut);
  }

  /** What is held, let go (the stream ended). */
  flush(): Buffer {
    const held = this.held;
    this.held = Buffer.alloc(0);
    return held;
  }
}
