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
} from './live-stream-state';
import { startPeekShell } from './peek-shell';
import { ScreenTracker } from './screen-tracker';

/**
 * Live terminal streams of runs (issue 5), one per viewer: each viewer (a window, a browser tab) that opens a run's
 * terminal gets its own reader on the host (`tail -c +N -F` on `record/terminal.cast` over an exec channel), its
 * own redactor and its own flow window, and its events go to it alone. A finished run whose bundle is complete is
 * served from the local mirror instead. The peek shell is a Docker exec with a TTY in the agent's container, with
 * the same flow control, recorded on the host as an intervention before it opens.
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

  /** Catch-up facts of a stream (tests, the benchmark): skipped bytes so far and the mode. */
  catchUpOf(streamId: string): { totalSkipped: number; mode: CatchUpState['mode']; screen: number } | undefined {
    const state = this.streams.get(streamId)?.catchUp;
    return state && { totalSkipped: state.totalSkipped, mode: state.mode, screen: state.screen };
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
      const stream = this.register(peerId, input.id, 'terminal');
      if (input.catchUp === true) this.startCatchUp(stream, header);
      this.startMirrorSource(stream, castFile, fromOffset, secrets);
      return this.openResult(stream, 'mirror', header);
    }

    // The gate (runs/run-host.ts): reached only for a run that is not imported, but said once, here too.
    requireRunHost(input.id, sync);
    const session = await this.options.session(sync.host);
    if (!session.stream) {
      throw new AppError('INTERNAL', `The session to ${sync.host} cannot stream commands; live terminals need it.`);
    }
    const paths = hostRunPaths(sync.hostRunDir);
    const castPath = path.posix.join(paths.record, 'terminal.cast');
    const headerBytes = await session.readFile(castPath, { maxBytes: 4096 }).catch(() => Buffer.alloc(0));
    const header = parseCastHeader(headerBytes.toString('utf8').split('\n')[0] ?? '');
    const catchUp = input.catchUp !== false;
    // A catch-up stream's headless terminal needs the whole recording: it reads from the start, and the viewer gets
    // what comes after `fromOffset` (what it had before a drop, it still shows).
    const command = await session.stream(followCastScript(castPath, catchUp ? 0 : fromOffset));
    const stream = this.register(peerId, input.id, 'terminal');
    if (catchUp) this.startCatchUp(stream, header);
    this.startHostSource(stream, command, fromOffset, secrets);
    return this.openResult(stream, 'host', header);
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

  private startHostSource(
    stream: LiveStream,
    command: HostCommandStream,
    fromOffset: number,
    secrets: readonly NamedSecret[],
  ): void {
    // A catch-up stream reads from the start (its screen needs everything) and shows the viewer from `fromOffset`.
    const readFrom = stream.catchUp ? 0 : fromOffset;
    const reader = new CastLineReader(readFrom, 'terminal.cast', noticeLine);
    const redactor = new ByteStreamRedactor(secrets);
    stream.offset = fromOffset;
    if (stream.catchUp) stream.catchUp.sentOffset = fromOffset;
    stream.source = {
      pause: () => command.stdout.pause(),
      resume: () => command.stdout.resume(),
      close: () => command.close(),
    };
    command.stderr.resume();
    let position = readFrom;
    command.stdout.on('data', (chunk: Buffer) => {
      if (stream.ended) return;
      // The part before `fromOffset` (complete lines: offsets are line ends) goes to the screen only.
      if (position < fromOffset) {
        const head = chunk.subarray(0, fromOffset - position);
        position += head.length;
        chunk = chunk.subarray(head.length);
        this.deliver(stream, reader.push(head), redactor, false);
      }
      position += chunk.length;
      if (chunk.length > 0) this.deliver(stream, reader.push(chunk), redactor, true);
    });
    void command.exited.then(() => {
      if (stream.ended) return;
      this.feed(stream, redactor.flush(), true);
      this.end(stream, 'disconnected', 'The stream from the host ended (connection lost?); reopen to continue.');
    });
    // How far behind the host's recording this viewer is, and whether the run has ended and everything in its cast
    // was sent (in two syncs in a row, so the last flush is in too). Checked while paused too: that is when a viewer
    // lags. The host is asked through the run syncer, which every viewer of the run shares.
    let quietChecks = 0;
    let reportedBehind = 0;
    let lastSync: number | null = null;
    const check = async (): Promise<void> => {
      if (stream.ended || this.disposed) return;
      const synced = await this.options.runs.recentSync(stream.runId, this.endCheckMs).catch(() => undefined);
      if (synced && !stream.ended) {
        const size = synced.castBytes;
        const behind = Math.max(0, size - reader.offset - reader.heldBack);
        // A catch-up stream is never behind for long: it skips to the present instead.
        if (!stream.catchUp && (behind >= LIVE_BEHIND_REPORT_BYTES || reportedBehind > 0)) {
          reportedBehind = behind >= LIVE_BEHIND_REPORT_BYTES ? behind : 0;
          this.options.events.emitTo(stream.peerId, 'live.behind', { streamId: stream.id, bytes: reportedBehind });
        }
        const sent = stream.catchUp ? stream.catchUp.mode === 'live' : !stream.window.paused;
        const newSync = synced.syncedAt !== null && synced.syncedAt !== lastSync;
        lastSync = synced.syncedAt;
        const done = sent && synced.caughtUp && synced.agentStopped && reader.offset >= size;
        if (!done || reader.heldBack > 0) quietChecks = 0;
        else if (newSync) quietChecks += 1;
        if (quietChecks >= 2) {
          this.feed(stream, redactor.flush(), true);
          this.endCaughtUp(stream, 'run-ended');
          return;
        }
      }
      if (!stream.ended && !this.disposed) stream.endTimer = setTimeout(() => void check(), this.endCheckMs);
    };
    stream.endTimer = setTimeout(() => void check(), this.endCheckMs);
  }

  private get endCheckMs(): number {
    return this.options.endCheckMs ?? 2_000;
  }

  private startMirrorSource(
    stream: LiveStream,
    castFile: string,
    fromOffset: number,
    secrets: readonly NamedSecret[],
  ): void {
    const reader = new CastLineReader(fromOffset, 'terminal.cast', noticeLine);
    // The bundle is redacted already; this catches a key that changed since it was written.
    const redactor = new ByteStreamRedactor(secrets);
    const file = createReadStream(castFile, { start: fromOffset, highWaterMark: 64 * 1024 });
    stream.offset = fromOffset;
    if (stream.catchUp) stream.catchUp.sentOffset = fromOffset;
    stream.source = { pause: () => file.pause(), resume: () => file.resume(), close: () => file.destroy() };
    file.on('data', (chunk) => {
      if (stream.ended) return;
      this.deliver(stream, reader.push(chunk as Buffer), redactor, true);
    });
    file.on('end', () => {
      if (stream.ended) return;
      this.feed(stream, redactor.flush(), true);
      this.endCaughtUp(stream, 'run-ended');
    });
    file.on('error', (err: NodeJS.ErrnoException) => {
      if (stream.ended) return;
      const message =
        err.code === 'ENOENT' ? `${castFile}: the run recorded no terminal output` : `${castFile}: ${err.message}`;
      this.end(stream, err.code === 'ENOENT' ? 'run-ended' : 'error', message);
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

  // --- screen-state catch-up (issue 19) ---------------------------------------------------------------------

  private startCatchUp(
    stream: LiveStream,
    header: { width: number | null; height: number | null; timestamp?: number | null },
  ): void {
    const screen = this.screens.open({
      cols: header.width ?? 80,
      rows: header.height ?? 24,
      // The headless terminal parses more slowly than the host writes only briefly; hold the host meanwhile.
      onPressure: (paused) => {
        const state = stream.catchUp;
        if (!state || stream.ended) return;
        state.screenPaused = paused;
        if (paused) stream.source?.pause();
        else stream.source?.resume();
      },
    });
    stream.catchUp = {
      screen,
      mode: 'live',
      skipped: 0,
      totalSkipped: 0,
      after: [],
      afterBytes: 0,
      stale: false,
      sentAt: [],
      escapes: new EscapeCarry(),
      castTime: null,
      startedAt: header.timestamp ?? null,
      screenPaused: false,
      sentOffset: stream.offset,
    };
  }

  /**
   * A chunk read from the cast: its output (redacted) and its resize and marker events, in order. `toViewer` false:
   * the part of a catch-up stream before the viewer's `fromOffset`, for the screen only.
   */
  private deliver(stream: LiveStream, read: CastChunk, redactor: ByteStreamRedactor, toViewer: boolean): void {
    if (toViewer) stream.offset = read.offset;
    const state = stream.catchUp;
    if (state) state.castTime = read.time ?? state.castTime;
    let at = 0;
    for (const event of read.events) {
      this.feed(stream, redactor.push(read.data.subarray(at, event.at)), toViewer);
      at = event.at;
      if (event.kind === 'resize') {
        if (state) this.screens.resize(state.screen, event.cols, event.rows);
        if (toViewer) this.control(stream, { resize: { cols: event.cols, rows: event.rows } });
      } else if (toViewer) {
        this.control(stream, { marker: { label: event.label, castTime: event.time } });
      }
    }
    this.feed(stream, redactor.push(at === 0 ? read.data : read.data.subarray(at)), toViewer);
  }

  /** Output for the viewer (and a catch-up stream's screen): sent, skipped or kept for after a snapshot. */
  private feed(stream: LiveStream, data: Buffer, toViewer: boolean): void {
    const state = stream.catchUp;
    if (!state) {
      if (toViewer) this.queue(stream, data);
      return;
    }
    // Whole escape sequences only, so that a snapshot between two chunks is taken with the parser at rest.
    const whole = state.escapes.push(data);
    if (whole.length === 0 || stream.ended) return;
    this.screens.write(state.screen, whole);
    if (!toViewer) return;
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
        // Too much arrived while the snapshot was made: it would be stale on arrival. Skip this too, take another.
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
    const castTime = state.castTime;
    const snapshotOffset = stream.offset;
    this.screens.snapshot(state.screen).then(
      (snapshot) => {
        if (stream.ended) return;
        if (state.stale) {
          // What came after the stale point is in the screen already: skipped too, and the next snapshot has it.
          this.dropAfter(stream, state);
          state.mode = 'skipping';
          this.snapshotWhenDrained(stream);
          return;
        }
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
            at: castTime !== null && state.startedAt !== null ? Math.round((state.startedAt + castTime) * 1000) : null,
            cols: snapshot.cols,
            rows: snapshot.rows,
          },
        });
        if (!delivered) {
          this.end(stream, 'closed');
          return;
        }
        state.mode = 'live';
        state.skipped = 0;
        state.sentOffset = snapshotOffset;
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

  /** Ends the stream once its viewer has everything: after the last snapshot, for a catch-up stream behind. */
  private endCaughtUp(stream: LiveStream, reason: LiveEndReason): void {
    const state = stream.catchUp;
    if (state) {
      const tail = state.escapes.flush();
      if (tail.length > 0) {
        this.screens.write(state.screen, tail);
        if (state.mode === 'live') this.queue(stream, tail);
        else if (state.mode === 'snapshotting') state.after.push(tail);
        else state.skipped += tail.length;
      }
      if (state.mode !== 'live') {
        state.endWhenLive = () => this.end(stream, reason);
        this.snapshotWhenDrained(stream);
        return;
      }
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
    if (stream.catchUp) this.screens.close(stream.catchUp.screen);
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
