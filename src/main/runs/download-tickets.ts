import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * One-time tickets for `ptw serve`'s bundle downloads. A browser download is a plain navigation: it cannot carry the
 * serve token in a header, and a token in its URL would stay in the downloads list and the history. So the page asks
 * for a ticket over the WebSocket (token-checked), and the download URL carries the ticket instead: good for one
 * download of one run, for a minute. A ticket seen in a history list later is spent.
 */
export class DownloadTickets {
  readonly #tickets = new Map<string, { runId: string; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(runId: string): string {
    this.#prune();
    const ticket = randomBytes(24).toString('hex');
    this.#tickets.set(ticket, { runId, expiresAt: this.now() + this.ttlMs });
    return ticket;
  }

  /** Whether `ticket` was issued for `runId` and is still good; it is spent either way. */
  redeem(runId: string, ticket: string | null): boolean {
    this.#prune();
    if (!ticket) return false;
    for (const [known, entry] of this.#tickets) {
      const a = Buffer.from(known);
      const b = Buffer.from(ticket);
      if (a.length === b.length && timingSafeEqual(a, b)) {
        this.#tickets.delete(known);
        return entry.runId === runId && entry.expiresAt > this.now();
      }
    }
    return false;
  }

  #prune(): void {
    const now = this.now();
    for (const [ticket, entry] of this.#tickets) if (entry.expiresAt <= now) this.#tickets.delete(ticket);
  }
}
