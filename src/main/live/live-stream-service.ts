import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import {
  LIVE_BEHIND_REPORT_BYTES,
  type LiveEndReason,
  type LiveOpenResult,
  type PeekOpenResult,
} from '../../shared/contract-live';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { utf8CutBefore } from '../../shared/utf8';
import type { HostCommandStream, HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import { requireRunHost } from '../runs/run-host';
import { hostRunPaths } from '../runs/run-layout';
import { RunMirror } from '../runs/run-mirror';
import type { RunService } from '../runs/run-service';
import { ByteStreamRedactor, Utf8Carry } from './byte-redactor';
import { firstLine, followCastScript, noticeLine } from './cast-follow';
import { CastLineReader, parseCastHeader, type CastChunk } from './cast-line-reader';
import { EscapeCarry } from './escape-carry';
import { defaultFlowWindow, FlowWindow, type FlowWindowOptions } from './flow-control';
import {
  defaultCatchUp,
  MAX_MESSAGE_BYTES,
  type CastControl,
  type CatchUpOptions,
  type CatchUpState,
  type LiveStream,
  type RunFollow,
  type StreamSource,
} from './live-stream-state';
import { startPeekShell } from './peek-shell';
import { SCREEN_SCROLLBACK, ScreenTracker, SNAPSHOT_SCROLLBACK } from './screen-tracker';

/**
 * Live terminal streams of runs (issue 5), one per viewer (a window, a browser tab), each with its own flow window,
 * its events going to it alone. With screen-state catch-up (issue 19, the default) every viewer of a run shares
 * one follow of its recording (`RunFollow`: one `tail -c +1 -F` on the host's `record/terminal.cast` over an exec
 * channel, or the local mirror's copy of a finished run; one redactor; one headless terminal), joined and left by
 * reference; without it (`catchUp: false`, every byte rendered) a viewer has its own reader from its offset. The peek
 * shell is a Docker exec with a TTY in the agent's container, with the same flow control, recorded on the host as an
 * intervention before it opens.
 */

export interface LiveStreamServiceOptions {
  runsDir: string;
  session(host: string): Promise<HostSession>;
  /**
   * The run service: the run's state as its syncer mirrors it (one view of the host for every viewer), the values
   * to redact, and the control request that records a peek shell.
   */
  runs: LiveRuns;
  events: Pick<EventHub, 'emitTo' | 'onPeerGone' | 'hasPeer'>;
  flow?: FlowWindowOptions;
  /** How often a host stream checks whether the run has ended and everything was sent. */
  endCheckMs?: number;
  /** Output is gathered this long before it is sent (fewer, larger messages during a flood). */
  coalesceMs?: number;
  /** Screen-state catch-up: how far behind (oldest unrendered output, bytes unrendered) a viewer may fall. */
  catchUp?: CatchUpOptions;
  /** The headless terminals of catch-up streams (one worker for the service); made on first use. */
  screens?: ScreenTracker;
}

/** What the live stream uses of the run service. */
export type LiveRuns = Pick<RunService, 'sync' | 'recentSync' | 'redactionSecrets' | 'recordPeekShell'>;

export class LiveStreamService {
  private readonly streams = new Map<string, LiveStream>();
  /** Followed recordings by run and origin; the promise while its source starts. */
  private readonly follows = new Map<string, { started: Promise<RunFollow>; follow?: RunFollow }>();
  private readonly flow: FlowWindowOptions;
  private readonly catchUpLimits: CatchUpOptions;
  private screenTracker: ScreenTracker | undefined;
  private disposed = false;

  constructor(private readonly options: LiveStreamServiceOptions) {
    this.flow = options.flow ?? defaultFlowWindow;
    this.catchUpLimits = options.catchUp ?? defaultCatchUp;
    this.screenTracker = options.screens;
  }

  private get screens(): ScreenTracker {
    return (this.screenTracker ??= new ScreenTracker());
  }

  /** Catch-up facts of a stream (tests, the benchmark): skipped bytes so far, the mode and its run's screen. */
  catchUpOf(streamId: string): { totalSkipped: number; mode: CatchUpState['mode']; screen: number } | undefined {
    const state = this.streams.get(streamId)?.catchUp;
    return state && { totalSkipped: state.totalSkipped, mode: state.mode, screen: state.follow.screen };
  }

  /** Followed recordings open now (tests: one per run however many viewers). */
  get openFollows(): number {
    return this.follows.size;
  }

  /** Streams open now (tests, the benchmark). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** A stream's flow window, for tests and the benchmark. */
  flowOf(streamId: string): FlowWindow | undefined {
    return this.streams.get(streamId)?.window;
  }

  // --- terminal streams ---------------------------------------------------------------------------------------

  async open(
    input: {
      id: string;
      fromOffset?: number | undefined;
      source?: 'host' | 'mirror' | undefined;
      catchUp?: boolean | undefined;
    },
    peerId: string,
  ): Promise<LiveOpenResult> {
    this.requirePeer(peerId);
    const mirror = new RunMirror(this.options.runsDir, input.id);
    const sync = await mirror.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No run ${input.id} here (ptw run ls lists runs on your hosts).`);
    const secrets = await this.redactionSecrets(mirror);
    const fromOffset = input.fromOffset ?? 0;
    const useMirror =
      input.source === 'mirror' ||
      sync.imported !== null ||
      (sync.complete && input.source !== 'host' && fromOffset === 0);

    if (useMirror) {
      const castFile = mirror.file('terminal.cast');
      const header = parseCastHeader(await firstLine(castFile));
      if (input.catchUp === true) {
        const follow = await this.followOf(input.id, 'mirror', header, (f) => this.followMirror(f, castFile, secrets));
        return this.openResult(this.join(follow, peerId, fromOffset), 'mirror', follow.header);
      }
      const stream = this.register(peerId, input.id, 'terminal');
      this.startMirrorSource(stream, castFile, fromOffset, secrets);
      return this.openResult(stream, 'mirror', header);
    }

    // The gate (runs/run-host.ts): reached only for a run that is not imported, but said once, here too.
    requireRunHost(input.id, sync);
    const session = await this.options.session(sync.host);
    const stream = session.stream?.bind(session);
    if (!stream) {
      throw new AppError('INTERNAL', `The session to ${sync.host} cannot stream commands; live terminals need it.`);
    }
    const paths = hostRunPaths(sync.hostRunDir);
    const castPath = path.posix.join(paths.record, 'terminal.cast');
    const headerBytes = await session.readFile(castPath, { maxBytes: 4096 }).catch(() => Buffer.alloc(0));
    const header = parseCastHeader(headerBytes.toString('utf8').split('\n')[0] ?? '');
    if (input.catchUp !== false) {
      // The run's headless terminal needs the whole recording: its follow reads from the start, and this viewer
      // gets what comes after `fromOffset` (what it had before a drop, it still shows).
      const follow = await this.followOf(input.id, 'host', header, async (f) =>
        this.followHost(f, await stream(followCastScript(castPath, 0)), secrets),
      );
      return this.openResult(this.join(follow, peerId, fromOffset), 'host', follow.header);
    }
    const command = await stream(followCastScript(castPath, fromOffset));
    const viewer = this.register(peerId, input.id, 'terminal');
    this.startHostSource(viewer, command, fromOffset, secrets);
    return this.openResult(viewer, 'host', header);
  }

  private openResult(
    stream: LiveStream,
    source: 'host' | 'mirror',
    header: { width: number | null; height: number | null },
  ): LiveOpenResult {
    return {
      streamId: stream.id,
      source,
      cols: header.width,
      rows: header.height,
      highWatermark: this.flow.highWatermark,
      lowWatermark: this.flow.lowWatermark,
      catchUp: stream.catchUp !== undefined,
    };
  }

  /** A viewer's own reader of the host's cast from `fromOffset` (rendering every byte, with flow control). */
  private startHostSource(
    stream: LiveStream,
    command: HostCommandStream,
    fromOffset: number,
    secrets: readonly NamedSecret[],
  ): void {
    const reader = new CastLineReader(fromOffset, 'terminal.cast', noticeLine);
    const redactor = new ByteStreamRedactor(secrets);
    stream.offset = fromOffset;
    stream.source = sourceOf(command);
    command.stderr.resume();
    command.stdout.on('data', (chunk: Buffer) => {
      if (!stream.ended) this.deliver(stream, reader.push(chunk), redactor);
    });
    void command.exited.then(() => {
      if (stream.ended) return;
      this.queue(stream, redactor.flush());
      this.end(stream, 'disconnected', DISCONNECTED);
    });
    let reportedBehind = 0;
    this.watchHostEnd(reader, {
      runId: stream.runId,
      done: () => stream.ended,
      // Everything read was sent: the window is not holding the host back.
      sent: () => !stream.window.paused,
      setTimer: (timer) => (stream.endTimer = timer),
      behind: (behind) => {
        if (behind < LIVE_BEHIND_REPORT_BYTES && reportedBehind === 0) return;
        reportedBehind = behind >= LIVE_BEHIND_REPORT_BYTES ? behind : 0;
        this.options.events.emitTo(stream.peerId, 'live.behind', { streamId: stream.id, bytes: reportedBehind });
      },
      finish: () => {
        this.queue(stream, redactor.flush());
        this.end(stream, 'run-ended');
      },
    });
  }

  /**
   * Whether the run has ended and everything in its cast was read and sent (in two syncs in a row, so the last
   * flush is in too), and how far behind the host's recording the reader is. Checked while paused too: that is when
   * a viewer lags. The host is asked through the run syncer, which every viewer of the run shares.
   */
  private watchHostEnd(
    reader: CastLineReader,
    watch: {
      runId: string;
      done(): boolean;
      sent(): boolean;
      setTimer(timer: NodeJS.Timeout): void;
      behind?(bytes: number): void;
      finish(): void;
    },
  ): void {
    let quietChecks = 0;
    let lastSync: number | null = null;
    const check = async (): Promise<void> => {
      if (watch.done() || this.disposed) return;
      const synced = await this.options.runs.recentSync(watch.runId, this.endCheckMs).catch(() => undefined);
      if (synced && !watch.done()) {
        const size = synced.castBytes;
        watch.behind?.(Math.max(0, size - reader.offset - reader.heldBack));
        const newSync = synced.syncedAt !== null && synced.syncedAt !== lastSync;
        lastSync = synced.syncedAt;
        const ended = watch.sent() && synced.caughtUp && synced.agentStopped && reader.offset >= size;
        if (!ended || reader.heldBack > 0) quietChecks = 0;
        else if (newSync) quietChecks += 1;
        if (quietChecks >= 2) {
          watch.finish();
          return;
        }
      }
      if (!watch.done() && !this.disposed) watch.setTimer(setTimeout(() => void check(), this.endCheckMs));
    };
    watch.setTimer(setTimeout(() => void check(), this.endCheckMs));
  }

  private get endCheckMs(): number {
    return this.options.endCheckMs ?? 2_000;
  }

  /** A viewer's own reader of the mirror's cast from `fromOffset` (rendering every byte, with flow control). */
  private startMirrorSource(
    stream: LiveStream,
    castFile: string,
    fromOffset: number,
    secrets: readonly NamedSecret[],
  ): void {
    const reader = new CastLineReader(fromOffset, 'terminal.cast', noticeLine);
    // The bundle is redacted already; this catches a key that changed since it was written.
    const redactor = new ByteStreamRedactor(secrets);
    stream.offset = fromOffset;
    stream.source = readMirror(castFile, fromOffset, {
      data: (chunk) => {
        if (!stream.ended) this.deliver(stream, reader.push(chunk), redactor);
      },
      end: () => {
        if (stream.ended) return;
        this.queue(stream, redactor.flush());
        this.end(stream, 'run-ended');
      },
      error: (reason, message) => {
        if (!stream.ended) this.end(stream, reason, message);
      },
    });
  }

  // --- the peek shell -----------------------------------------------------------------------------------------

  async peekOpen(input: { id: string; cols: number; rows: number }, peerId: string): Promise<PeekOpenResult> {
    this.requirePeer(peerId);
    const mirror = new RunMirror(this.options.runsDir, input.id);
    const { exec, duplex, containerId, request } = await startPeekShell(this.options, input.id);
    const secrets = await this.redactionSecrets(mirror);
    const stream = this.register(peerId, input.id, 'peek');
    const redactor = new ByteStreamRedactor(secrets);
    // The shell's output is cut anywhere; the viewer gets whole characters.
    const whole = new Utf8Carry();
    stream.source = { pause: () => duplex.pause(), resume: () => duplex.resume(), close: () => duplex.destroy() };
    stream.input = (data) => void duplex.write(data);
    stream.resize = async (cols, rows) => {
      await exec.resize({ w: cols, h: rows });
    };
    duplex.on('data', (chunk: Buffer) => {
      if (!stream.ended) this.queue(stream, redactor.push(whole.push(chunk)));
    });
    const finished = (): void => {
      if (stream.ended) return;
      this.queue(stream, redactor.push(whole.flush()));
      this.queue(stream, redactor.flush());
      this.end(stream, 'exited', 'The shell exited.');
    };
    duplex.on('end', finished);
    duplex.on('close', finished);
    duplex.on('error', (err) => {
      if (!stream.ended) this.end(stream, 'error', `The peek shell failed: ${err.message}`);
    });
    // The TTY starts at Docker's default size; the exec must have started before it can be resized.
    await stream.resize(input.cols, input.rows).catch(() => undefined);
    return {
      streamId: stream.id,
      shell: 'bash -i (sh -i where bash is missing)',
      containerId,
      request,
      highWatermark: this.flow.highWatermark,
      lowWatermark: this.flow.lowWatermark,
    };
  }

  input(streamId: string, data: string, peerId: string): number {
    const stream = this.owned(streamId, peerId);
    if (!stream.input)
      throw new AppError('CONFLICT', 'This stream is a read-only terminal; only a peek shell takes input.');
    stream.input(data);
    return data.length;
  }

  async resize(streamId: string, cols: number, rows: number, peerId: string): Promise<boolean> {
    const stream = this.owned(streamId, peerId);
    if (!stream.resize) return false;
    await stream.resize(cols, rows);
    return true;
  }

  // --- flow control and lifetime ------------------------------------------------------------------------------

  ack(streamId: string, bytes: number, peerId: string): number {
    const stream = this.streams.get(streamId);
    // An ack that crosses the stream's end is harmless.
    if (!stream || stream.peerId !== peerId) return 0;
    const action = stream.window.acked(bytes);
    const state = stream.catchUp;
    if (!state) {
      if (action === 'resume') stream.source?.resume();
      return stream.window.unacked;
    }
    while (state.sentAt.length > 0 && state.sentAt[0]!.end <= stream.window.ackedTotal) state.sentAt.shift();
    if (state.mode === 'skipping') this.snapshotWhenDrained(stream);
    return stream.window.unacked;
  }

  close(streamId: string, peerId: string): boolean {
    const stream = this.streams.get(streamId);
    if (!stream || stream.peerId !== peerId) return false;
    this.end(stream, 'closed');
    return true;
  }

  dispose(): void {
    this.disposed = true;
    for (const stream of [...this.streams.values()]) this.end(stream, 'closed', 'The app is shutting down.');
    void this.screenTracker?.dispose();
  }

  private requirePeer(peerId: string): void {
    if (this.disposed) throw new AppError('CONFLICT', 'The app is shutting down.');
    if (!this.options.events.hasPeer(peerId)) {
      throw new AppError(
        'INVALID_INPUT',
        'A live stream needs a window or browser connection to send to (from a terminal, use `ptw run watch`).',
      );
    }
  }

  private owned(streamId: string, peerId: string): LiveStream {
    const stream = this.streams.get(streamId);
    if (!stream || stream.peerId !== peerId) throw new AppError('NOT_FOUND', `No open stream ${streamId}.`);
    return stream;
  }

  private register(peerId: string, runId: string, kind: LiveStream['kind']): LiveStream {
    const stream: LiveStream = {
      id: `${kind === 'peek' ? 'peek' : 'live'}-${randomBytes(8).toString('hex')}`,
      peerId,
      runId,
      kind,
      window: new FlowWindow(this.flow),
      source: undefined,
      offset: 0,
      pending: [],
      pendingLength: 0,
      flushTimer: undefined,
      endTimer: undefined,
      ended: false,
      stopWatchingPeer: () => undefined,
    };
    this.streams.set(stream.id, stream);
    stream.stopWatchingPeer = this.options.events.onPeerGone(peerId, () => {
      if (!stream.ended) this.end(stream, 'closed', 'The viewer went away.');
    });
    return stream;
  }

  private queue(stream: LiveStream, data: Buffer): void {
    if (stream.ended || data.length === 0) return;
    stream.pending.push(data);
    stream.pendingLength += data.length;
    // Counted when read, not when sent: the source must stop while output waits out the coalescing too. A catch-up
    // stream counts what it sends (it may drop what waits) and never pauses its source for the viewer.
    if (!stream.catchUp && stream.window.sent(data.length) === 'pause') stream.source?.pause();
    if (stream.pendingLength >= MAX_MESSAGE_BYTES) this.flush(stream);
    else stream.flushTimer ??= setTimeout(() => this.flush(stream), this.options.coalesceMs ?? 4);
  }

  private flush(stream: LiveStream): void {
    if (stream.flushTimer) clearTimeout(stream.flushTimer);
    stream.flushTimer = undefined;
    if (stream.pendingLength === 0) return;
    const data = stream.pending.length === 1 ? stream.pending[0]! : Buffer.concat(stream.pending);
    stream.pending = [];
    stream.pendingLength = 0;
    for (let at = 0; at < data.length;) {
      const cut = utf8CutBefore(data, at + MAX_MESSAGE_BYTES);
      const piece = data.subarray(at, cut);
      at = cut;
      if (stream.catchUp) {
        this.countSent(stream, stream.catchUp, piece.length);
        stream.catchUp.sentOffset = stream.offset;
      }
      const delivered = this.options.events.emitTo(stream.peerId, 'live.data', {
        streamId: stream.id,
        data: piece,
        offset: stream.offset,
      });
      if (!delivered) {
        this.end(stream, 'closed');
        return;
      }
    }
  }

  /** A non-catch-up viewer's chunk read from the cast: its output (redacted) and its resize and marker events. */
  private deliver(stream: LiveStream, read: CastChunk, redactor: ByteStreamRedactor): void {
    stream.offset = read.offset;
    let at = 0;
    for (const event of read.events) {
      this.queue(stream, redactor.push(read.data.subarray(at, event.at)));
      at = event.at;
      this.control(stream, castControl(event));
    }
    this.queue(stream, redactor.push(at === 0 ? read.data : read.data.subarray(at)));
  }

  // --- screen-state catch-up (issue 19) ---------------------------------------------------------------------

  /**
   * The run's follow of its recording from `origin`, started by `start` (which returns its source) when there is
   * none: one per run and origin, however many viewers; a follow whose source has ended is not joined.
   */
  private async followOf(
    runId: string,
    origin: RunFollow['origin'],
    header: RunFollow['header'],
    start: (follow: RunFollow) => Promise<StreamSource> | StreamSource,
  ): Promise<RunFollow> {
    const key = `${origin}:${runId}`;
    const existing = this.follows.get(key);
    if (existing) {
      const follow = await existing.started;
      if (!follow.sourceDone && !follow.closed) return follow;
      if (this.follows.get(key) === existing) this.follows.delete(key);
      return this.followOf(runId, origin, header, start);
    }
    const follow: RunFollow = {
      key,
      runId,
      origin,
      header,
      screen: this.screens.open({
        cols: header.width ?? 80,
        rows: header.height ?? 24,
        // The headless terminal parses more slowly than the host writes only briefly; hold the host meanwhile.
        onPressure: (paused) => {
          if (follow.closed) return;
          follow.screenPaused = paused;
          if (paused) follow.source?.pause();
          else follow.source?.resume();
        },
      }),
      viewers: new Set(),
      source: undefined,
      position: 0,
      readOffset: 0,
      escapes: new EscapeCarry(),
      castTime: null,
      screenPaused: false,
      sourceDone: false,
      closed: false,
      endTimer: undefined,
    };
    const entry: { started: Promise<RunFollow>; follow?: RunFollow } = {
      started: (async () => {
        try {
          follow.source = await start(follow);
        } catch (err) {
          this.closeFollow(follow);
          throw err;
        }
        return follow;
      })(),
      follow,
    };
    this.follows.set(key, entry);
    return entry.started;
  }

  /** A viewer joins a run's follow from `fromOffset`: what it missed before the present comes as a snapshot. */
  private join(follow: RunFollow, peerId: string, fromOffset: number): LiveStream {
    const stream = this.register(peerId, follow.runId, 'terminal');
    const state: CatchUpState = {
      follow,
      from: fromOffset,
      mode: 'live',
      skipped: 0,
      totalSkipped: 0,
      after: [],
      afterBytes: 0,
      stale: false,
      sentAt: [],
      sentOffset: fromOffset,
      joined: false,
    };
    stream.catchUp = state;
    stream.offset = fromOffset;
    follow.viewers.add(stream);
    if (fromOffset < follow.readOffset) {
      // The follow is past this viewer's point (another viewer's reader): it starts from the screen as it is now.
      const missed = follow.readOffset - fromOffset;
      state.mode = 'skipping';
      state.skipped = missed;
      state.totalSkipped = missed;
      state.joined = true;
      stream.offset = follow.readOffset;
      this.snapshotWhenDrained(stream);
    }
    return stream;
  }

  /** Reads the host's cast from its start into `follow` (a `tail -F` over an exec channel). */
  private followHost(follow: RunFollow, command: HostCommandStream, secrets: readonly NamedSecret[]): StreamSource {
    const reader = new CastLineReader(0, 'terminal.cast', noticeLine);
    const redactor = new ByteStreamRedactor(secrets);
    command.stderr.resume();
    command.stdout.on('data', (chunk: Buffer) => this.followChunk(follow, reader, redactor, chunk));
    void command.exited.then(() => {
      if (follow.closed || follow.sourceDone) return;
      this.followTail(follow, redactor);
      follow.sourceDone = true;
      for (const viewer of [...follow.viewers]) this.end(viewer, 'disconnected', DISCONNECTED);
    });
    this.watchHostEnd(reader, {
      runId: follow.runId,
      done: () => follow.closed || follow.sourceDone,
      // Every viewer that is behind gets its last snapshot before it ends (endCaughtUp).
      sent: () => true,
      setTimer: (timer) => (follow.endTimer = timer),
      finish: () => this.followEnded(follow, redactor),
    });
    return sourceOf(command);
  }

  /** Reads the mirror's cast from its start into `follow`. */
  private followMirror(follow: RunFollow, castFile: string, secrets: readonly NamedSecret[]): StreamSource {
    const reader = new CastLineReader(0, 'terminal.cast', noticeLine);
    const redactor = new ByteStreamRedactor(secrets);
    return readMirror(castFile, 0, {
      data: (chunk) => this.followChunk(follow, reader, redactor, chunk),
      end: () => this.followEnded(follow, redactor),
      error: (reason, message) => {
        if (follow.closed || follow.sourceDone) return;
        follow.sourceDone = true;
        for (const viewer of [...follow.viewers]) this.end(viewer, reason, message);
      },
    });
  }

  /**
   * A chunk of the cast for a follow. It is cut at every viewer's `fromOffset` still ahead (a line end), so that
   * each piece is wholly before or after each viewer's point: before it, output goes to the screen only.
   */
  private followChunk(follow: RunFollow, reader: CastLineReader, redactor: ByteStreamRedactor, chunk: Buffer): void {
    while (chunk.length > 0 && !follow.closed && !follow.sourceDone) {
      const start = follow.position;
      let cut = chunk.length;
      for (const viewer of follow.viewers) {
        const from = viewer.catchUp!.from;
        if (from > start && from - start < cut) cut = from - start;
      }
      const piece = cut === chunk.length ? chunk : chunk.subarray(0, cut);
      chunk = chunk.subarray(cut);
      follow.position += piece.length;
      const read = reader.push(piece);
      follow.readOffset = read.offset;
      follow.castTime = read.time ?? follow.castTime;
      const viewers = [...follow.viewers].filter((v) => v.catchUp!.from <= start);
      for (const viewer of viewers) viewer.offset = read.offset;
      let at = 0;
      for (const event of read.events) {
        this.followFeed(follow, viewers, redactor.push(read.data.subarray(at, event.at)));
        at = event.at;
        if (event.kind === 'resize') this.screens.resize(follow.screen, event.cols, event.rows);
        for (const viewer of viewers) this.control(viewer, castControl(event));
      }
      this.followFeed(follow, viewers, redactor.push(at === 0 ? read.data : read.data.subarray(at)));
    }
  }

  /** Output for the screen and the viewers past their point, in whole escape sequences (a snapshot needs them). */
  private followFeed(follow: RunFollow, viewers: readonly LiveStream[], data: Buffer): void {
    const whole = follow.escapes.push(data);
    if (whole.length === 0 || follow.closed) return;
    this.screens.write(follow.screen, whole);
    for (const viewer of viewers) if (!viewer.ended) this.feed(viewer, viewer.catchUp!, whole);
  }

  /** What the redactor and the escape carry still hold, at the source's end. */
  private followTail(follow: RunFollow, redactor: ByteStreamRedactor): void {
    const viewers = [...follow.viewers].filter((v) => v.catchUp!.from <= follow.position);
    this.followFeed(follow, viewers, redactor.flush());
    const tail = follow.escapes.flush();
    if (tail.length === 0) return;
    this.screens.write(follow.screen, tail);
    for (const viewer of viewers) {
      const state = viewer.catchUp!;
      if (state.mode === 'live') this.queue(viewer, tail);
      else if (state.mode === 'snapshotting') state.after.push(tail);
      else state.skipped += tail.length;
    }
  }

  /** The run ended and its whole cast was read: each viewer ends once it has everything (its last snapshot). */
  private followEnded(follow: RunFollow, redactor: ByteStreamRedactor): void {
    if (follow.closed || follow.sourceDone) return;
    this.followTail(follow, redactor);
    follow.sourceDone = true;
    for (const viewer of [...follow.viewers]) this.endCaughtUp(viewer, 'run-ended');
  }

  /** A viewer left: the last one closes the follow (its source and its screen). */
  private leave(stream: LiveStream, state: CatchUpState): void {
    const { follow } = state;
    follow.viewers.delete(stream);
    if (follow.viewers.size === 0) this.closeFollow(follow);
  }

  private closeFollow(follow: RunFollow): void {
    if (follow.closed) return;
    follow.closed = true;
    if (follow.endTimer) clearTimeout(follow.endTimer);
    follow.source?.close();
    this.screens.close(follow.screen);
    if (this.follows.get(follow.key)?.follow === follow) this.follows.delete(follow.key);
  }

  /** Output for a catch-up viewer: sent, skipped or kept for after a snapshot. */
  private feed(stream: LiveStream, state: CatchUpState, whole: Buffer): void {
    if (state.mode === 'live') {
      if (!this.viewerBehind(stream, state, whole.length)) {
        this.queue(stream, whole);
        return;
      }
      // Behind: drop what waits to be sent and this, let the viewer render what it has, then send the screen.
      state.mode = 'skipping';
      state.skipped += stream.pendingLength + whole.length;
      state.totalSkipped += stream.pendingLength + whole.length;
      stream.pending = [];
      stream.pendingLength = 0;
      if (stream.flushTimer) clearTimeout(stream.flushTimer);
      stream.flushTimer = undefined;
      this.snapshotWhenDrained(stream);
    } else if (state.mode === 'skipping') {
      state.skipped += whole.length;
      state.totalSkipped += whole.length;
    } else {
      state.after.push(whole);
      state.afterBytes += whole.length;
      if (state.afterBytes > this.catchUpLimits.maxBytes) {
        // Too much arrived while the snapshot was made to send after it: skipped; the next snapshot has it.
        state.stale = true;
        this.dropAfter(stream, state);
      }
    }
  }

  /** Output kept for after a snapshot that will not be sent: skipped (its markers are still shown). */
  private dropAfter(stream: LiveStream, state: CatchUpState): void {
    state.skipped += state.afterBytes;
    state.totalSkipped += state.afterBytes;
    const markers = state.after.filter((item): item is CastControl => !Buffer.isBuffer(item) && 'marker' in item);
    state.after = [];
    state.afterBytes = 0;
    for (const marker of markers) {
      this.options.events.emitTo(stream.peerId, 'live.data', {
        streamId: stream.id,
        data: '',
        offset: state.sentOffset,
        ...marker,
      });
    }
  }

  /** Whether sending `more` now would leave the viewer further behind than the limits allow. */
  private viewerBehind(stream: LiveStream, state: CatchUpState, more: number): boolean {
    const unrendered = stream.window.unacked + stream.pendingLength + more;
    if (unrendered > this.catchUpLimits.maxBytes) return true;
    const oldest = state.sentAt[0];
    return oldest !== undefined && Date.now() - oldest.at > this.catchUpLimits.maxLagMs;
  }

  private countSent(stream: LiveStream, state: CatchUpState, size: number): void {
    stream.window.sent(size);
    state.sentAt.push({ end: stream.window.sentTotal, at: Date.now() });
  }

  /** Once the viewer has rendered everything it was sent, the snapshot (a new screen is useless behind a backlog). */
  private snapshotWhenDrained(stream: LiveStream): void {
    const state = stream.catchUp;
    if (!state || state.mode !== 'skipping' || stream.ended || stream.window.unacked > 0) return;
    state.mode = 'snapshotting';
    state.stale = false;
    const { follow } = state;
    const castTime = follow.castTime;
    const snapshotOffset = stream.offset;
    // Under a flood, a short scrollback (cheap to make and to render); a viewer that just joined, all there is.
    const scrollback = state.joined ? SCREEN_SCROLLBACK : SNAPSHOT_SCROLLBACK;
    state.joined = false;
    this.screens.snapshot(follow.screen, scrollback).then(
      (snapshot) => {
        if (stream.ended) return;
        const data = Buffer.from(`\x1bc${snapshot.data}`, 'utf8');
        this.countSent(stream, state, data.length);
        const delivered = this.options.events.emitTo(stream.peerId, 'live.data', {
          streamId: stream.id,
          data,
          offset: snapshotOffset,
          snapshot: {
            skippedBytes: state.skipped,
            totalSkippedBytes: state.totalSkipped,
            castTime,
            at:
              castTime !== null && follow.header.timestamp != null
                ? Math.round((follow.header.timestamp + castTime) * 1000)
                : null,
            cols: snapshot.cols,
            rows: snapshot.rows,
          },
        });
        if (!delivered) {
          this.end(stream, 'closed');
          return;
        }
        state.skipped = 0;
        state.sentOffset = snapshotOffset;
        if (state.stale) {
          // Output after this screen was skipped while it was made: it is still the newest screen there is (the
          // next comes once the viewer has rendered this one), like a frame mosh sends and skips past.
          this.dropAfter(stream, state);
          state.mode = 'skipping';
          stream.offset = follow.readOffset;
          return;
        }
        state.mode = 'live';
        const after = state.after;
        state.after = [];
        state.afterBytes = 0;
        for (const item of after) {
          if (Buffer.isBuffer(item)) this.queue(stream, item);
          else this.control(stream, item);
        }
        const endNow = state.endWhenLive;
        state.endWhenLive = undefined;
        endNow?.();
      },
      (err: unknown) => {
        if (stream.ended) return;
        this.end(
          stream,
          'error',
          `The terminal's screen could not be caught up: ${err instanceof Error ? err.message : String(err)}`,
        );
      },
    );
  }

  /** A resize or marker of the recording, in order with the output around it. */
  private control(stream: LiveStream, what: CastControl): void {
    const state = stream.catchUp;
    // Made while a snapshot is: it follows the snapshot. While skipping, the coming snapshot carries the size; a
    // marker is sent at once (the viewer lists it; Replay has it in place).
    if (state?.mode === 'snapshotting') {
      state.after.push(what);
      return;
    }
    if (state?.mode === 'skipping' && 'resize' in what) return;
    this.flush(stream);
    if (stream.ended) return;
    this.options.events.emitTo(stream.peerId, 'live.data', {
      streamId: stream.id,
      data: '',
      offset: state && state.mode !== 'live' ? state.sentOffset : stream.offset,
      ...what,
    });
  }

  /** Ends the stream once its viewer has everything: after the last snapshot, for a catch-up viewer behind. */
  private endCaughtUp(stream: LiveStream, reason: LiveEndReason): void {
    const state = stream.catchUp;
    if (state && state.mode !== 'live') {
      state.endWhenLive = () => this.end(stream, reason);
      this.snapshotWhenDrained(stream);
      return;
    }
    this.end(stream, reason);
  }

  private end(stream: LiveStream, reason: LiveEndReason, message?: string): void {
    if (stream.ended) return;
    if (reason !== 'closed') this.flush(stream);
    stream.ended = true;
    if (stream.flushTimer) clearTimeout(stream.flushTimer);
    if (stream.endTimer) clearTimeout(stream.endTimer);
    stream.stopWatchingPeer();
    stream.source?.close();
    if (stream.catchUp) this.leave(stream, stream.catchUp);
    this.streams.delete(stream.id);
    this.options.events.emitTo(stream.peerId, 'live.end', {
      streamId: stream.id,
      reason,
      ...(message ? { message } : {}),
    });
  }

  /** The values to redact: every key the run's agent could have been given (the run service's list). */
  private async redactionSecrets(mirror: RunMirror): Promise<NamedSecret[]> {
    return this.options.runs.redactionSecrets((await mirror.readRunJson())?.spec.agent.id);
  }
}

const DISCONNECTED = 'The stream from the host ended (connection lost?); reopen to continue.';

function sourceOf(command: HostCommandStream): StreamSource {
  return { pause: () => command.stdout.pause(), resume: () => command.stdout.resume(), close: () => command.close() };
}

function castControl(event: CastChunk['events'][number]): CastControl {
  return event.kind === 'resize'
    ? { resize: { cols: event.cols, rows: event.rows } }
    : { marker: { label: event.label, castTime: event.time } };
}

/** Reads a local cast file from `offset` in 64 KiB chunks; a missing file is a run that recorded nothing. */
function readMirror(
  castFile: string,
  offset: number,
  on: {
    data(chunk: Buffer): void;
    end(): void;
    error(reason: LiveEndReason, message: string): void;
  },
): StreamSource {
  const file = createReadStream(castFile, { start: offset, highWaterMark: 64 * 1024 });
  file.on('data', (chunk) => on.data(chunk as Buffer));
  file.on('end', () => on.end());
  file.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') on.error('run-ended', `${castFile}: the run recorded no terminal output`);
    else on.error('error', `${castFile}: ${err.message}`);
  });
  return { pause: () => file.pause(), resume: () => file.resume(), close: () => file.destroy() };
}
