import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import {
  LIVE_BEHIND_REPORT_BYTES,
  type LiveEndReason,
  type LiveOpenResult,
  type PeekOpenResult,
} from '../../shared/contract-live';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { getAgent, isAgentId, shellQuote } from '../../shared/runs/agent-catalog';
import { isFinalRunStatus } from '../../shared/runs/run-status';
import type { HostCommandStream, HostSession } from '../hosts/host-exec-types';
import type { EventHub } from '../rpc/contract-router';
import { placeControlScript } from '../runs/host-scripts';
import { requireRunHost } from '../runs/run-host';
import { hostRunPaths } from '../runs/run-layout';
import { RunMirror } from '../runs/run-mirror';
import type { SecretStore } from '../secrets/secret-store';
import { utf8CutBefore } from '../../shared/utf8';
import { ByteStreamRedactor, Utf8Carry } from './byte-redactor';
import { CastLineReader, parseCastHeader } from './cast-line-reader';
import { defaultFlowWindow, FlowWindow, type FlowWindowOptions } from './flow-control';

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
  secrets: Pick<SecretStore, 'get'>;
  events: Pick<EventHub, 'emitTo' | 'onPeerGone' | 'hasPeer'>;
  /** Brings the run's mirror up to date (to see the supervisor's answer to the peek-shell request). */
  syncRun(id: string): Promise<unknown>;
  /** Who control requests are from (`app`, `cli`). */
  by: string;
  flow?: FlowWindowOptions;
  /** How often a host stream checks whether the run has ended and everything was sent. */
  endCheckMs?: number;
  /** Output is gathered this long before it is sent (fewer, larger messages during a flood). */
  coalesceMs?: number;
  /** How long the peek shell waits for the supervisor to record the intervention. */
  controlTimeoutMs?: number;
}

/** What a stream reads from: paused and resumed by the flow window, closed at the end. */
interface StreamSource {
  pause(): void;
  resume(): void;
  close(): void;
}

interface LiveStream {
  readonly id: string;
  readonly peerId: string;
  readonly runId: string;
  readonly kind: 'terminal' | 'peek';
  readonly window: FlowWindow;
  source: StreamSource | undefined;
  offset: number;
  /** Output read and not yet sent (UTF-8, whole characters), and its size in bytes. */
  pending: Buffer[];
  pendingLength: number;
  flushTimer: NodeJS.Timeout | undefined;
  endTimer: NodeJS.Timeout | undefined;
  ended: boolean;
  stopWatchingPeer: () => void;
  /** Peek shell only. */
  input?: (data: string) => void;
  resize?: (cols: number, rows: number) => Promise<void>;
}

/** Largest single `live.data` message in bytes: a flood is cut into pieces this big (at character boundaries). */
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Follows the cast from a byte offset until stdin closes (the app closed the channel or the connection dropped):
 * `tail` goes in the background so that EOF on stdin (`cat` returns) stops it too, whatever the shell does with a
 * closed channel. `-F` waits for a cast that does not exist yet.
 */
export function followCastScript(castPath: string, fromOffset: number): string {
  return `tail -c +${fromOffset + 1} -F -- ${shellQuote(castPath)} 2>/dev/null & t=$!; cat >/dev/null; kill $t 2>/dev/null; wait`;
}

/** The cast's size (or -1) and state.json, for "has the run ended and has everything been read". */
/** The cast's size (-1 if there is none yet), then state.json (nothing if there is none yet); always exits 0. */
function endCheckScript(castPath: string, statePath: string): string {
  return `stat -c %s -- ${shellQuote(castPath)} 2>/dev/null || echo -1; cat -- ${shellQuote(statePath)} 2>/dev/null; true`;
}

export class LiveStreamService {
  private readonly streams = new Map<string, LiveStream>();
  private readonly flow: FlowWindowOptions;
  private disposed = false;

  constructor(private readonly options: LiveStreamServiceOptions) {
    this.flow = options.flow ?? defaultFlowWindow;
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
    input: { id: string; fromOffset?: number | undefined; source?: 'host' | 'mirror' | undefined },
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
    const command = await session.stream(followCastScript(castPath, fromOffset));
    const stream = this.register(peerId, input.id, 'terminal');
    this.startHostSource(stream, command, fromOffset, secrets, { session, castPath, statePath: paths.state });
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
    };
  }

  private startHostSource(
    stream: LiveStream,
    command: HostCommandStream,
    fromOffset: number,
    secrets: readonly NamedSecret[],
    where: { session: HostSession; castPath: string; statePath: string },
  ): void {
    const reader = new CastLineReader(fromOffset, 'terminal.cast', noticeLine);
    const redactor = new ByteStreamRedactor(secrets);
    stream.offset = fromOffset;
    stream.source = {
      pause: () => command.stdout.pause(),
      resume: () => command.stdout.resume(),
      close: () => command.close(),
    };
    command.stderr.resume();
    command.stdout.on('data', (chunk: Buffer) => {
      if (stream.ended) return;
      const read = reader.push(chunk);
      stream.offset = read.offset;
      this.queue(stream, redactor.push(read.data));
    });
    void command.exited.then(() => {
      if (stream.ended) return;
      this.queue(stream, redactor.flush());
      this.end(stream, 'disconnected', 'The stream from the host ended (connection lost?); reopen to continue.');
    });
    // How far behind the host's recording this viewer is, and whether the run has ended and everything in its cast
    // was sent (twice in a row, so the last flush is in too). Checked while paused too: that is when a viewer lags.
    let quietChecks = 0;
    let reportedBehind = 0;
    const check = async (): Promise<void> => {
      if (stream.ended || this.disposed) return;
      const answer = await where.session
        .exec(endCheckScript(where.castPath, where.statePath), { timeoutMs: 20_000 })
        .catch(() => undefined);
      if (answer && answer.code === 0 && !stream.ended) {
        const [sizeLine = '-1', ...rest] = answer.stdout.split('\n');
        const size = Number(sizeLine.trim());
        const behind = Number.isInteger(size) ? Math.max(0, size - reader.offset - reader.heldBack) : 0;
        if (behind >= LIVE_BEHIND_REPORT_BYTES || reportedBehind > 0) {
          reportedBehind = behind >= LIVE_BEHIND_REPORT_BYTES ? behind : 0;
          this.options.events.emitTo(stream.peerId, 'live.behind', { streamId: stream.id, bytes: reportedBehind });
        }
        if (!stream.window.paused && runHasEnded(rest.join('\n')) && reader.offset >= size && reader.heldBack === 0) {
          quietChecks += 1;
        } else quietChecks = 0;
        if (quietChecks >= 2) {
          this.queue(stream, redactor.flush());
          this.end(stream, 'run-ended');
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
    stream.source = { pause: () => file.pause(), resume: () => file.resume(), close: () => file.destroy() };
    file.on('data', (chunk) => {
      if (stream.ended) return;
      const read = reader.push(chunk as Buffer);
      stream.offset = read.offset;
      this.queue(stream, redactor.push(read.data));
    });
    file.on('end', () => {
      if (stream.ended) return;
      this.queue(stream, redactor.flush());
      this.end(stream, 'run-ended');
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
    await this.options.syncRun(input.id).catch(() => undefined);
    const sync = await mirror.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No run ${input.id} here (ptw run ls lists runs on your hosts).`);
    requireRunHost(input.id, sync);
    const state = await mirror.readState();
    const runJson = await mirror.readRunJson();
    if (!state || state.status !== 'running' || state.stoppedAt !== null) {
      throw new AppError(
        'CONFLICT',
        `Run ${input.id} is ${state?.status ?? 'not started'}: the peek shell needs the agent's sandbox running.`,
      );
    }
    const containerId = state.agentContainerId ?? runJson?.supervisor.agentContainerId ?? null;
    if (!containerId) throw new AppError('CONFLICT', `Run ${input.id} has no agent container recorded.`);
    const session = await this.options.session(sync.host);
    const docker = await session.docker();
    const container = docker.getContainer(containerId);
    const inspected = await container.inspect().catch((err: unknown) => {
      throw new AppError(
        'CONFLICT',
        `The agent container ${containerId.slice(0, 12)} of run ${input.id} is gone: ${
          err instanceof Error ? err.message : String(err)
        }`,
      );
    });
    if (!inspected.State.Running) {
      throw new AppError(
        'CONFLICT',
        `The agent container of run ${input.id} is not running (${inspected.State.Status}).`,
      );
    }
    const request = await this.recordPeekShell(input.id, session, sync.hostRunDir, mirror);
    const shell = 'if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi';
    const exec = await container.exec({
      Cmd: ['/bin/sh', '-c', shell],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: ['TERM=xterm-256color'],
    });
    const duplex = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
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

  /** Writes a `peek-shell` control request and waits for the supervisor's `intervention` event for it. */
  private async recordPeekShell(
    id: string,
    session: HostSession,
    hostRunDir: string,
    mirror: RunMirror,
  ): Promise<string> {
    const paths = hostRunPaths(hostRunDir);
    const name = `peek-shell-${Date.now()}-${randomBytes(3).toString('hex')}.json`;
    const tmp = path.posix.join(paths.control, `.${name}.tmp`);
    await session.writeFile(tmp, `${JSON.stringify({ action: 'peek-shell', by: this.options.by })}\n`, { mode: 0o644 });
    const placed = await session.exec(placeControlScript(tmp, path.posix.join(paths.control, name)));
    if (placed.code !== 0) {
      throw new AppError('INTERNAL', `Recording the peek shell on the host failed: ${placed.stderr.trim()}`);
    }
    const timeoutMs = this.options.controlTimeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.options.syncRun(id).catch(() => undefined);
      const text = await readFile(mirror.file('events.jsonl'), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.includes(name)) continue;
        const event = parseObject(line);
        if (event?.request !== name) continue;
        if (event.type === 'intervention') return name;
        if (event.type === 'supervisor-error') {
          throw new AppError('CONFLICT', `The supervisor refused the peek shell: ${String(event.message)}`);
        }
      }
      if (Date.now() >= deadline) {
        throw new AppError(
          'TIMEOUT',
          `The host's supervisor did not record the peek shell within ${Math.round(timeoutMs / 1000)} s; the shell ` +
            'was not opened (every peek into a sandbox is recorded first).',
          { retryable: true },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
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
    if (stream.window.acked(bytes) === 'resume') stream.source?.resume();
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
    // Counted when read, not when sent: the source must stop while output waits out the coalescing too.
    if (stream.window.sent(data.length) === 'pause') stream.source?.pause();
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

  private end(stream: LiveStream, reason: LiveEndReason, message?: string): void {
    if (stream.ended) return;
    if (reason !== 'closed') this.flush(stream);
    stream.ended = true;
    if (stream.flushTimer) clearTimeout(stream.flushTimer);
    if (stream.endTimer) clearTimeout(stream.endTimer);
    stream.stopWatchingPeer();
    stream.source?.close();
    this.streams.delete(stream.id);
    this.options.events.emitTo(stream.peerId, 'live.end', {
      streamId: stream.id,
      reason,
      ...(message ? { message } : {}),
    });
  }

  /** The values to redact: every key the run's agent could have been given (as `RunService` does for the mirror). */
  private async redactionSecrets(mirror: RunMirror): Promise<NamedSecret[]> {
    const agentId = (await mirror.readRunJson())?.spec.agent.id;
    if (!agentId || !isAgentId(agentId)) return [];
    const secrets: NamedSecret[] = [];
    for (const credential of getAgent(agentId).credentials) {
      for (const name of credential.secretNames) {
        const found = await this.options.secrets.get(name).catch(() => undefined);
        if (found) secrets.push({ name: credential.env, value: found.value });
      }
    }
    return secrets;
  }
}

function noticeLine(problem: string): string {
  // The problem quotes the damaged line: its control characters must not drive the viewer's terminal.
  const plain = [...problem].map((c) => (c < ' ' || c === '\x7f' ? ' ' : c)).join('');
  return `\r\n\x1b[33m[ptw] ${plain}\x1b[0m\r\n`;
}

function parseObject(line: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(line) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** state.json says the agent has stopped (or the run is over): no more terminal output will come. */
function runHasEnded(stateText: string): boolean {
  const state = parseObject(stateText.trim());
  if (!state) return false;
  if (typeof state.stoppedAt === 'number') return true;
  const status = state.status;
  return typeof status === 'string' && isFinalRunStatus(status as Parameters<typeof isFinalRunStatus>[0]);
}

async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
  } finally {
    await handle.close();
  }
}
