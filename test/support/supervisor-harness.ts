import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { HOST_PACKAGE_DIR, HOST_PACKAGE_FILE, loadHostPackage } from '../../src/main/host-package/host-package';
import { agentContainerLabels, buildAgentContainerConfig } from '../../src/main/runs/agent-container';
import { TIMER_SCRIPT } from '../../src/main/runs/launch-plan';
import { sandboxUserFor } from '../../src/main/runs/sandbox-policy';
import { isProcessAlive, terminateChild, waitForChildExit } from './process-tree';

/**
 * Test-side stand-in for what the app does before and around the host supervisor (docs/run-folder.md): lay out a
 * run folder with run.json, create the agent container the way the launcher will (TTY, open stdin, labels, bind
 * mounts, no network, no capabilities, no new privileges, a PID limit), start the supervisor (`ptw-host.pyz
 * supervise`, the zipapp the app ships) detached, and
 * read back what it wrote. The agent container comes from the launcher's own builder
 * (src/main/runs/agent-container.ts), so the supervisor is tested against the sandbox runs really get.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RESOURCES_DIR = path.join(repoRoot, 'resources');
/** The host package's sources (resources/host/ptw_host/), which the zipapp is built from. */
export const HOST_PACKAGE_SOURCE = path.join(RESOURCES_DIR, 'host', HOST_PACKAGE_DIR);

/** `run.json` `supervisor.evaluation`. */
export interface EvaluationPlan {
  image: string;
  workdir: string;
  command: string[];
  attempts: { extraArgs: string[]; timeoutSeconds: number }[];
  deviceRequests?: unknown[];
  networkMode?: string;
  labels?: Record<string, string>;
  shmSizeBytes?: number;
}

/** `run.json` `supervisor`, less the container id (known once the container exists). */
export interface SupervisorPlan {
  budgetSeconds: number;
  graceSeconds: number;
  warnSecondsBefore: number[];
  gpuIndices: number[];
  sampleGpus: boolean;
  tty?: { cols: number; rows: number };
  evaluation?: EvaluationPlan;
}

export interface RunFolderPaths {
  dir: string;
  runJson: string;
  task: string;
  workspace: string;
  finalModel: string;
  ptw: string;
  deadline: string;
  record: string;
  cast: string;
  agentStream: string;
  gpuCsv: string;
  events: string;
  supervisorLog: string;
  control: string;
  eval: string;
  state: string;
  supervisorDir: string;
  /** The host package as the launcher uploads it (`.supervisor/ptw-host.pyz`). */
  supervisorPackage: string;
  pidFile: string;
}

export function runFolderPaths(dir: string): RunFolderPaths {
  const p = (...parts: string[]): string => path.join(dir, ...parts);
  return {
    dir,
    runJson: p('run.json'),
    task: p('task'),
    workspace: p('workspace'),
    finalModel: p('workspace', 'final_model'),
    ptw: p('ptw'),
    deadline: p('ptw', 'deadline'),
    record: p('record'),
    cast: p('record', 'terminal.cast'),
    agentStream: p('record', 'agent-stream.jsonl'),
    gpuCsv: p('record', 'gpu.csv'),
    events: p('record', 'events.jsonl'),
    supervisorLog: p('record', 'supervisor.log'),
    control: p('control'),
    eval: p('eval'),
    state: p('state.json'),
    supervisorDir: p('.supervisor'),
    supervisorPackage: p('.supervisor', HOST_PACKAGE_FILE),
    pidFile: p('.supervisor', 'supervisor.pid'),
  };
}

export interface RunFolder {
  id: string;
  paths: RunFolderPaths;
  spec: Record<string, unknown>;
  specHash: string;
  supervisor: SupervisorPlan;
  /** Task files the rules protect: bind-mounted read-only over their workspace copies. */
  protectedTaskFiles: string[];
}

export interface PrepareRunFolderOptions {
  /** The host's run root; the folder is `<runRoot>/<runId>`. */
  runRoot: string;
  runId?: string;
  supervisor: Partial<SupervisorPlan> & { budgetSeconds: number };
  /** The run spec as the app validated it (no secrets); a small placeholder by default. */
  spec?: Record<string, unknown>;
  /** Written to task/ and copied into workspace/. */
  taskFiles?: Record<string, string>;
  /** Names from taskFiles mounted read-only over their copies in the agent's workspace. */
  protectedTaskFiles?: string[];
  prompt?: string;
  /** Files the agent "already wrote" into workspace/final_model (e.g. `{ 'config.json': '{}' }`). */
  finalModel?: Record<string, string>;
}

/** Stable key order, so equal specs hash equally (the app uses RFC 8785 canonical JSON; the same for these). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

let runCounter = 0;

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  runCounter += 1;
  return `r-${stamp}-${process.pid.toString(36)}${runCounter.toString(36)}`;
}

export { TIMER_SCRIPT };

export function buildRunJson(run: RunFolder, agentContainerId: string | null): Record<string, unknown> {
  return {
    schema: 1,
    id: run.id,
    createdAt: new Date().toISOString(),
    spec: run.spec,
    specHash: run.specHash,
    supervisor: { agentContainerId, ...run.supervisor },
  };
}

/** Lays out `<runRoot>/<runId>/` with run.json, task/, workspace/, ptw/, record/, control/, eval/, .supervisor/. */
export async function prepareRunFolder(opts: PrepareRunFolderOptions): Promise<RunFolder> {
  const id = opts.runId ?? newRunId();
  const paths = runFolderPaths(path.join(opts.runRoot, id));
  for (const dir of [
    paths.task,
    paths.workspace,
    path.join(paths.dir, 'home'),
    paths.ptw,
    paths.record,
    paths.control,
    paths.eval,
    paths.supervisorDir,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  const taskFiles = opts.taskFiles ?? {};
  for (const [name, content] of Object.entries(taskFiles)) {
    await writeFile(path.join(paths.task, name), content);
    await writeFile(path.join(paths.workspace, name), content);
  }
  if (opts.finalModel) {
    await mkdir(paths.finalModel, { recursive: true });
    for (const [name, content] of Object.entries(opts.finalModel)) {
      await writeFile(path.join(paths.finalModel, name), content);
    }
  }
  await writeFile(path.join(paths.ptw, 'prompt.txt'), opts.prompt ?? 'Post-train the base model.\n');
  await writeFile(path.join(paths.ptw, 'timer'), TIMER_SCRIPT);
  await chmod(path.join(paths.ptw, 'timer'), 0o755);
  await writeFile(paths.supervisorPackage, (await loadHostPackage(RESOURCES_DIR)).bytes);

  const spec = opts.spec ?? { task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label: 'supervisor test' };
  const supervisor: SupervisorPlan = {
    graceSeconds: 30,
    warnSecondsBefore: [],
    gpuIndices: [],
    sampleGpus: false,
    ...opts.supervisor,
  };
  const run: RunFolder = {
    id,
    paths,
    spec,
    specHash: createHash('sha256').update(canonical(spec)).digest('hex'),
    supervisor,
    protectedTaskFiles: opts.protectedTaskFiles ?? [],
  };
  await writeFile(paths.runJson, `${JSON.stringify(buildRunJson(run, null), null, 2)}\n`);
  return run;
}

export interface AgentContainerOptions {
  image: string;
  /** The agent's command line (PID 1's child when `init` is on). */
  cmd: string[];
  /** The agent's environment: its API key goes here and nowhere else. */
  env?: Record<string, string>;
  /** `uid:gid`; default the launcher's choice for this process's user (sandbox-policy.ts): never root. */
  user?: string;
  /** Default 1024. */
  pidsLimit?: number;
  /** Docker's tini as PID 1 (default true, as for every run). */
  init?: boolean;
  /** Default `none` (the test dockerd has no bridge network). */
  networkMode?: 'none' | 'bridge';
  gpus?: number[];
}

/** The create body for the agent container (POST /containers/create): the launcher's, for this test run folder. */
export function agentContainerSpec(run: RunFolder, opts: AgentContainerOptions): Dockerode.ContainerCreateOptions {
  return buildAgentContainerConfig({
    runId: run.id,
    runDir: run.paths.dir,
    image: opts.image,
    command: opts.cmd,
    env: {},
    secretEnv: opts.env ?? {},
    gpus: opts.gpus ?? [],
    protectedFiles: run.protectedTaskFiles,
    network: opts.networkMode === 'bridge',
    limits: { pidsLimit: opts.pidsLimit ?? 1024 },
    labels: agentContainerLabels({
      runId: run.id,
      runDir: run.paths.dir,
      specHash: run.specHash,
      budgetSeconds: run.supervisor.budgetSeconds,
    }),
    user: sandboxUserOf(opts).user,
    init: opts.init ?? true,
  });
}

function sandboxUserOf(opts: AgentContainerOptions): { user: string; uid: number; gid: number } {
  if (opts.user !== undefined) {
    const [uid, gid] = opts.user.split(':').map(Number);
    return { user: opts.user, uid: uid!, gid: gid ?? uid! };
  }
  return sandboxUserFor({ uid: process.getuid?.() ?? null, gid: process.getgid?.() ?? null });
}

/** What the launcher's handOverScript does: workspace/ and home/ owned by the sandbox's user, closed to others. */
async function handOver(run: RunFolder, uid: number, gid: number): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    await chown(dir, uid, gid);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (!entry.isSymbolicLink()) await chown(full, uid, gid);
    }
  };
  for (const dir of [run.paths.workspace, path.join(run.paths.dir, 'home')]) {
    if (process.getuid?.() === 0) await walk(dir);
    await chmod(dir, 0o700);
  }
  await chmod(run.paths.dir, 0o700);
}

/**
 * Creates the agent container (not started: the supervisor attaches first) and records its id in run.json; hands
 * the agent's folders to its user first, as the launcher does.
 */
export async function createAgentContainer(
  docker: Dockerode,
  run: RunFolder,
  opts: AgentContainerOptions,
): Promise<string> {
  const { uid, gid } = sandboxUserOf(opts);
  await handOver(run, uid, gid);
  const container = await docker.createContainer(agentContainerSpec(run, opts));
  await writeFile(run.paths.runJson, `${JSON.stringify(buildRunJson(run, container.id), null, 2)}\n`);
  return container.id;
}

/** Removes every container labelled with the run (agent and evaluators). */
export async function removeRunContainers(docker: Dockerode, runId: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`ptw.run=${runId}`] } });
  await Promise.allSettled(containers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

// --- the supervisor process ---------------------------------------------------------------------------------

export interface StartSupervisorOptions {
  run: RunFolder;
  dockerSocket: string;
  containerId: string;
  resume?: boolean;
  /** The supervisor's environment (PATH decides which nvidia-smi it finds); default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Default `PTW_SUPERVISOR_PYTHON` or `python3`. */
  python?: string;
  /**
   * The keys, as the app sends them (`supervisorSecretsLine`): on stdin, with `--secrets-stdin --ready-fd 3`; what
   * the supervisor says on fd 3 resolves {@link SupervisorProcess.ready}.
   */
  secretsLine?: string;
}

/**
 * The supervisor as the app starts it (`setsid python3 .supervisor/ptw-host.pyz supervise … >> record/supervisor.log
 * 2>&1 &`), but as our child, so tests can wait for it and stop it by PID.
 */
export class SupervisorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** With `secretsLine`: what the supervisor wrote on its ready fd once it had read the keys (`SECRETS n m`). */
  readonly ready: Promise<string>;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const readyPipe = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
    this.ready = new Promise((resolve) => {
      if (!readyPipe) return resolve('');
      let said = '';
      readyPipe.on('data', (chunk: Buffer) => (said += chunk.toString('utf8')));
      readyPipe.on('error', () => resolve(said));
      readyPipe.on('end', () => resolve(said));
    });
  }

  static start(opts: StartSupervisorOptions): SupervisorProcess {
    const paths = opts.run.paths;
    const args = [
      paths.supervisorPackage,
      'supervise',
      '--run-dir',
      paths.dir,
      '--docker-socket',
      opts.dockerSocket,
      '--agent-container',
      opts.containerId,
      ...(opts.resume ? ['--resume'] : []),
      ...(opts.secretsLine !== undefined ? ['--secrets-stdin', '--ready-fd', '3'] : []),
    ];
    const logFd = openSync(paths.supervisorLog, 'a');
    try {
      const python = opts.python ?? process.env.PTW_SUPERVISOR_PYTHON ?? 'python3';
      const child = spawn(python, args, {
        cwd: paths.dir,
        env: opts.env ?? process.env,
        // setsid, as on the host: the supervisor must not share our process group's signals.
        detached: true,
        stdio: opts.secretsLine !== undefined ? ['pipe', logFd, logFd, 'pipe'] : ['ignore', logFd, logFd],
      });
      child.once('error', () => undefined);
      if (opts.secretsLine !== undefined) {
        child.stdin?.on('error', () => undefined);
        child.stdin?.end(opts.secretsLine);
      }
      return new SupervisorProcess(child);
    } finally {
      closeSync(logFd);
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the supervisor did not start');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && isProcessAlive(this.pid);
  }

  /** Resolves with the exit status; rejects after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!(await waitForChildExit(this.child, timeoutMs))) {
      throw new Error(`the supervisor (pid ${this.child.pid}) did not exit within ${timeoutMs} ms`);
    }
    return this.exited;
  }

  /** SIGKILL by PID, as a crash or the OOM killer would, and waits until it is reaped. */
  async killHard(): Promise<void> {
    this.child.kill('SIGKILL');
    await waitForChildExit(this.child, 5_000);
  }

  /** Stops it by PID if it still runs (SIGTERM: it exits without touching the containers). */
  async stop(): Promise<void> {
    await terminateChild(this.child, 5_000);
  }
}

// --- reading back what it wrote -----------------------------------------------------------------------------

export interface SupervisorEvent {
  t: number;
  type: string;
  [field: string]: unknown;
}

export interface SupervisorState {
  status: string;
  supervisorPid: number | null;
  heartbeatAt: number;
  agentContainerId: string | null;
  startedAt: number | null;
  deadline: number | null;
  warningsSent: number[];
  stoppedAt: number | null;
  stopReason: string | null;
  exitCode: number | null;
  evaluation: { attempts: number; outcome: string | null; metrics: Record<string, unknown> | null };
  error?: string;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The complete lines of events.jsonl (a line still being written is left out). */
export function readEvents(run: RunFolder): SupervisorEvent[] {
  const text = readText(run.paths.events);
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SupervisorEvent);
}

export function eventsOfType(run: RunFolder, type: string): SupervisorEvent[] {
  return readEvents(run).filter((event) => event.type === type);
}

export function readState(run: RunFolder): SupervisorState | undefined {
  const text = readText(run.paths.state);
  return text ? (JSON.parse(text) as SupervisorState) : undefined;
}

export interface CastHeader {
  version: number;
  width: number;
  height: number;
  timestamp?: number;
  [field: string]: unknown;
}

export type CastEvent = [number, string, string];

export interface ParsedCast {
  header: CastHeader;
  events: CastEvent[];
}

/** Parses terminal.cast strictly as asciicast v2: a header object, then `[t, code, data]` arrays, one per line. */
export function parseCast(text: string): ParsedCast {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const [first, ...rest] = lines;
  if (first === undefined) throw new Error('the cast is empty');
  const header = JSON.parse(first) as CastHeader;
  if (header.version !== 2 || !Number.isInteger(header.width) || !Number.isInteger(header.height)) {
    throw new Error(`not an asciicast v2 header: ${first}`);
  }
  const events = rest.map((line, i) => {
    const event = JSON.parse(line) as unknown;
    if (
      !Array.isArray(event) ||
      event.length !== 3 ||
      typeof event[0] !== 'number' ||
      typeof event[1] !== 'string' ||
      typeof event[2] !== 'string'
    ) {
      throw new Error(`cast line ${i + 2} is not [t, code, data]: ${line.slice(0, 200)}`);
    }
    return event as CastEvent;
  });
  return { header, events };
}

export function readCast(run: RunFolder): ParsedCast {
  return parseCast(readFileSync(run.paths.cast, 'utf8'));
}

/** Everything the terminal showed: the `o` events' data, concatenated. */
export function castOutput(cast: ParsedCast): string {
  return cast.events
    .filter((event) => event[1] === 'o')
    .map((event) => event[2])
    .join('');
}

/** The supervisor's budget warnings as they appear in the terminal (its printf, through the TTY's onlcr). */
export const WARNING_IN_TERMINAL = /\r*\n\[ptw\] [^\r\n]*\r*\n/g;

export async function waitFor<T>(
  probe: () => T | undefined | false | null,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function waitForEvent(
  run: RunFolder,
  type: string,
  timeoutMs: number,
  predicate: (event: SupervisorEvent) => boolean = () => true,
): Promise<SupervisorEvent> {
  return waitFor(
    () => readEvents(run).find((event) => event.type === type && predicate(event)),
    timeoutMs,
    `a ${type} event in ${run.paths.events}`,
  );
}

export type ControlRequest =
  | { action: 'stop'; by?: string }
  | { action: 'kill'; by?: string }
  | { action: 'extend'; seconds: number; by?: string }
  | { action: 'resize'; cols: number; rows: number; by?: string }
  | { action: 'peek-shell'; by?: string };

let controlCounter = 0;

/** Drops a request into control/ atomically (written under a dot-name, then renamed), as the app does. */
export async function writeControlRequest(run: RunFolder, request: ControlRequest): Promise<string> {
  controlCounter += 1;
  const name = `${request.action}-${Date.now()}-${controlCounter}.json`;
  const tmp = path.join(run.paths.control, `.${name}.tmp`);
  await writeFile(tmp, `${JSON.stringify(request)}\n`);
  await rename(tmp, path.join(run.paths.control, name));
  return name;
}

/** The supervisor's own log, for failure messages. */
export async function supervisorLog(run: RunFolder): Promise<string> {
  return existsSync(run.paths.supervisorLog) ? readFile(run.paths.supervisorLog, 'utf8') : '';
}
