import type { LiveDataEvent, LiveEndReason } from '../../shared/contract-live';
import type { AppErrorData } from '../../shared/errors';
import type { ContractClient } from '../../shared/rpc/contract-client';
import { utf8CutBefore } from '../../shared/utf8';

/**
 * Feeds one main-side stream (`live.data` events) into an xterm `write`, acknowledging each chunk from xterm's write
 * callback, i.e. once it is parsed and on its way to the screen: main stops reading the host while too much is
 * unacknowledged. Subscribes to the transport's events directly; terminal bytes never pass through React or the
 * store. Only status (connecting, live, ended) is reported back, for the tab's banner.
 */

/** The largest single write into xterm (see `StreamBinding.receive`). */
export const MAX_WRITE = 32 * 1024;

/**
 * The largest write of a catch-up snapshot: it comes while the page is behind, so its pieces are small (each is
 * parsed in one go, a few ms), and the screen it draws is held until its end (synchronized output, mode 2026).
 */
export const SNAPSHOT_WRITE = 8 * 1024;
const HOLD_REPAINT = '\x1b[?2026h';
const REPAINT = '\x1b[?2026l';

export interface TerminalSink {
  write(data: string | Uint8Array, callback: () => void): void;
}

export type StreamStatus =
  | { readonly phase: 'connecting' }
  | { readonly phase: 'live'; readonly source: string }
  | { readonly phase: 'reconnecting'; readonly message: string }
  | { readonly phase: 'ended'; readonly reason: LiveEndReason; readonly message?: string | undefined }
  | { readonly phase: 'failed'; readonly error: AppErrorData };

/** What a catch-up snapshot says about the output it skipped (see `live.data` `snapshot`). */
export type SkippedOutput = Omit<NonNullable<LiveDataEvent['snapshot']>, 'cols' | 'rows'>;

/** Resizes and markers of the recording, and catch-up snapshots: applied in order with the output around them. */
export interface CastEventSink {
  resize(cols: number, rows: number): void;
  marker(label: string, castTime: number | null): void;
  skipped(info: SkippedOutput): void;
}

export interface OpenedStream {
  readonly streamId: string;
  /** Terminal streams: where the offsets count, for reopening after a drop. */
  readonly source?: 'host' | 'mirror';
}

export interface StreamBindingOptions {
  readonly client: ContractClient;
  readonly sink: TerminalSink;
  /** Opens (or reopens after a drop, from `fromOffset`) the stream on main. */
  readonly open: (
    resume: { fromOffset: number; source: 'host' | 'mirror' } | null,
  ) => Promise<{ ok: true; data: OpenedStream } | { ok: false; error: AppErrorData }>;
  readonly onStatus: (status: StreamStatus) => void;
  /** Bytes of the host's recording not shown yet (0: caught up); terminal streams during a flood. */
  readonly onBehind?: (bytes: number) => void;
  /** Terminal streams: the recording's resizes and markers, and snapshots that skipped output. */
  readonly castEvents?: CastEventSink;
  /** Reopen after a dropped connection (terminal streams); a peek shell that dropped is over. */
  readonly reopenAfterDrop: boolean;
  /** Acks are batched up to this many characters or `ackDelayMs`, whichever first. */
  readonly ackBatch?: number;
  readonly ackDelayMs?: number;
}

export class StreamBinding {
  private streamId: string | null = null;
  private source: 'host' | 'mirror' = 'host';
  private offset = 0;
  private early: Array<
    | ({ kind: 'data' } & LiveDataEvent)
    | { kind: 'end'; streamId: string; reason: LiveEndReason; message?: string | undefined }
  > = [];
  private opening = false;
  private lost = false;
  private finished = false;
  private disposed = false;
  private unacked = 0;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly unsubscribe: Array<() => void>;
  /** Output written and rendered (bytes; characters where main sent text), for the test driver. */
  written = 0;
  private readonly renderedListeners = new Set<(data: string | Uint8Array) => void>();

  constructor(private readonly options: StreamBindingOptions) {
    const { client } = options;
    // Subscribed before the stream opens: its first events can arrive before the reply to `live.open`.
    this.unsubscribe = [
      client.on('live.data', (event) => {
        if (event.streamId === this.streamId) this.received(event);
        else if (this.opening) this.early.push({ kind: 'data', ...event });
      }),
      client.on('live.behind', (event) => {
        if (event.streamId === this.streamId) this.options.onBehind?.(event.bytes);
      }),
      client.on('live.end', (event) => {
        if (event.streamId === this.streamId) this.ended(event.reason, event.message);
        else if (this.opening) this.early.push({ kind: 'end', ...event });
      }),
    ];
  }

  get currentStreamId(): string | null {
    return this.streamId;
  }

  async start(): Promise<void> {
    await this.openStream(null);
  }

  private async openStream(resume: { fromOffset: number; source: 'host' | 'mirror' } | null): Promise<void> {
    // One stream at a time: a retry and a restored connection must not both open one.
    if (this.disposed || this.opening || this.streamId) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.options.onStatus(resume ? { phase: 'reconnecting', message: 'Reconnecting…' } : { phase: 'connecting' });
    this.opening = true;
    this.early = [];
    const result = await this.options.open(resume);
    this.opening = false;
    if (this.disposed) {
      if (result.ok) void this.options.client.call('live.close', { streamId: result.data.streamId });
      return;
    }
    if (!result.ok) {
      if (resume && result.error.retryable) return this.retryLater(result.error.message);
      this.options.onStatus({ phase: 'failed', error: result.error });
      return;
    }
    this.streamId = result.data.streamId;
    this.source = result.data.source ?? 'host';
    this.options.onStatus({ phase: 'live', source: this.source });
    const early = this.early.filter((e) => e.streamId === this.streamId);
    this.early = [];
    for (const event of early) {
      if (event.kind === 'data') this.received(event);
      else this.ended(event.reason, event.message);
    }
  }

  /**
   * One `live.data`: a snapshot resizes the terminal to its size first (in order with what was written before it),
   * then its data (which starts with a full reset) replaces the screen; a resize or marker is applied after the data.
   */
  private received(event: LiveDataEvent): void {
    const sink = this.options.castEvents;
    const snapshot = event.snapshot;
    if (snapshot && sink) this.inOrder(() => sink.resize(snapshot.cols, snapshot.rows));
    if (snapshot) this.receiveSnapshot(event.data, event.offset);
    else this.receive(event.data, event.offset);
    // Main sends the next screen once this one is rendered: its ack goes at once, not after the batching delay.
    if (snapshot) this.inOrder(() => this.flushAck());
    if (!sink) return;
    if (snapshot) {
      const { skippedBytes, totalSkippedBytes, castTime, at } = snapshot;
      this.inOrder(() => sink.skipped({ skippedBytes, totalSkippedBytes, castTime, at }));
    }
    const { resize, marker } = event;
    if (resize) this.inOrder(() => sink.resize(resize.cols, resize.rows));
    if (marker) this.inOrder(() => sink.marker(marker.label, marker.castTime));
  }

  /** Runs `fn` once xterm has parsed everything written before (its write callbacks run in order, between writes). */
  private inOrder(fn: () => void): void {
    this.options.sink.write('', () => {
      if (!this.disposed) fn();
    });
  }

  /**
   * Bytes go to xterm as they are (it decodes UTF-8 itself); acks count what main counted: bytes, or characters.
   * A large message is written in pieces of at most {@link MAX_WRITE} bytes, cut between characters: xterm checks
   * its time budget between writes (it yields to the page every ~12 ms), not inside one, so a 256 KiB write would
   * hold the page for one long task.
   */
  private receive(data: string | Uint8Array, offset: number, pieceBytes = MAX_WRITE): void {
    this.offset = offset;
    if (data.length === 0) return;
    if (typeof data === 'string' || data.length <= pieceBytes) {
      this.write(data);
      return;
    }
    for (let at = 0; at < data.length;) {
      const cut = utf8CutBefore(data, at + pieceBytes);
      this.write(data.subarray(at, cut));
      at = cut;
    }
  }

  /**
   * A snapshot (a full reset, then the serialized screen): its reset, then the rest in small pieces with repaints
   * held until the last one, so the page neither parses it in one long task nor paints it half drawn. The mode is
   * one the snapshot never leaves set (the serializer does not write it), and writes outside the stream's bytes are
   * not acked.
   */
  private receiveSnapshot(data: string | Uint8Array, offset: number): void {
    // Main sends bytes; anything else is written as it is (acks count what main counted).
    if (typeof data === 'string' || data.length < 2 || data[0] !== 0x1b || data[1] !== 0x63) {
      this.receive(data, offset);
      return;
    }
    const bytes = data;
    this.offset = offset;
    this.write(bytes.subarray(0, 2));
    this.options.sink.write(HOLD_REPAINT, () => undefined);
    this.receive(bytes.subarray(2), offset, SNAPSHOT_WRITE);
    this.options.sink.write(REPAINT, () => undefined);
  }

  private write(data: string | Uint8Array): void {
    const size = data.length;
    this.options.sink.write(data, () => {
      this.written += size;
      for (const listener of this.renderedListeners) listener(data);
      this.ack(size);
    });
  }

  /** Called with each chunk once xterm has taken it (the test driver's and the benchmark's latency probe). */
  onRendered(listener: (data: string | Uint8Array) => void): () => void {
    this.renderedListeners.add(listener);
    return () => {
      this.renderedListeners.delete(listener);
    };
  }

  private ack(size: number): void {
    this.unacked += size;
    if (this.unacked >= (this.options.ackBatch ?? 64 * 1024)) this.flushAck();
    else this.ackTimer ??= setTimeout(() => this.flushAck(), this.options.ackDelayMs ?? 10);
  }

  private flushAck(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const bytes = this.unacked;
    this.unacked = 0;
    if (bytes > 0 && this.streamId && !this.disposed) {
      void this.options.client.call('live.ack', { streamId: this.streamId, bytes });
    }
  }

  private ended(reason: LiveEndReason, message: string | undefined): void {
    this.flushAck();
    this.options.onBehind?.(0);
    this.streamId = null;
    if (reason === 'disconnected' && this.options.reopenAfterDrop && !this.disposed) {
      this.retryLater(message ?? 'The connection dropped.');
      return;
    }
    this.finish(reason, message);
  }

  private finish(reason: LiveEndReason, message: string | undefined): void {
    this.finished = true;
    this.options.onStatus({ phase: 'ended', reason, message });
  }

  private retryLater(message: string): void {
    this.options.onStatus({ phase: 'reconnecting', message });
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.openStream({ fromOffset: this.offset, source: this.source }), 2_000);
  }

  /** After a failed open (the host was unreachable…): try again, from where the terminal was. */
  retry(): void {
    if (this.disposed || this.streamId) return;
    this.finished = false;
    void this.openStream(this.offset > 0 ? { fromOffset: this.offset, source: this.source } : null);
  }

  /**
   * The app's connection (serve mode's WebSocket) dropped: main closed this peer's streams with it, and no
   * `live.end` can arrive.
   */
  connectionLost(): void {
    if (this.disposed || this.finished) return;
    this.lost = true;
    this.streamId = null;
    this.options.onStatus({ phase: 'reconnecting', message: 'the connection to the app was lost' });
  }

  /** Connected again: a terminal goes on from where it was; a peek shell's session is over. */
  connectionRestored(): void {
    if (this.disposed || !this.lost) return;
    this.lost = false;
    if (this.options.reopenAfterDrop) void this.openStream({ fromOffset: this.offset, source: this.source });
    else this.finish('disconnected', 'The connection to the app was lost; open a new shell.');
  }

  /** Closes the stream on main (if open) and stops listening. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    if (this.streamId) void this.options.client.call('live.close', { streamId: this.streamId });
    this.streamId = null;
  }
}
