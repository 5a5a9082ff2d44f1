/**
 * Secret redaction for everything the app records, shows or exports. Secrets are matched literally; values
 * shorter than 8 characters are ignored (they would redact ordinary words and are not real API keys).
 */

export const minimumSecretLength = 8;

export interface NamedSecret {
  readonly name: string;
  readonly value: string;
}

function usable(secrets: readonly NamedSecret[]): NamedSecret[] {
  // Longest first, so a secret that contains another is replaced whole.
  return secrets.filter((s) => s.value.length >= minimumSecretLength).sort((a, b) => b.value.length - a.value.length);
}

export function redactionMark(name: string): string {
  return `[REDACTED:${name}]`;
}

/** Replaces every occurrence of every secret in one string. */
export function redactText(text: string, secrets: readonly NamedSecret[]): string {
  let out = text;
  for (const s of usable(secrets)) out = out.split(s.value).join(redactionMark(s.name));
  return out;
}

/**
 * Redacts a stream delivered in chunks: a secret split across two chunks is still caught, because the tail that
 * could start a secret is held back until the next chunk (or `flush`). Output order and all other text are kept.
 */
export class StreamRedactor {
  private readonly secrets: NamedSecret[];
  private readonly holdBack: number;
  private pending = '';

  constructor(secrets: readonly NamedSecret[]) {
    this.secrets = usable(secrets);
    this.holdBack = Math.max(0, ...this.secrets.map((s) => s.value.length - 1));
  }

  push(chunk: string): string {
    if (this.secrets.length === 0) return chunk;
    const text = redactText(this.pending + chunk, this.secrets);
    const cut = this.safeCut(text);
    this.pending = text.slice(cut);
    return text.slice(0, cut);
  }

  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  /** The longest prefix that cannot be the start of a secret continuing into the next chunk. */
  private safeCut(text: string): number {
    const from = Math.max(0, text.length - this.holdBack);
    for (let i = from; i < text.length; i++) {
      const tail = text.slice(i);
      if (this.secrets.some((s) => s.value.startsWith(tail))) return i;
    }
    return text.length;
  }
}
