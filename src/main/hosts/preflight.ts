import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { CheckStatus, GpuInfo, PreflightCheck, PreflightReport } from '../../shared/hosts';
import { shellQuote } from '../../shared/shell-quote';
import {
  type ComputeApp,
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_QUERY,
  type ListedGpu,
  parseComputeApps,
  parseGpuInventory,
  parseNvidiaSmiList,
  parseNvidiaSmiTable,
} from '../../shared/parsers/nvidia-smi';
import type { ExecResult, HostSession } from './host-exec-types';

/**
 * Preflight: can this host run a post-training job right now? Eight checks in a fixed order, each reported as
 * `running` and then with its result, so the UI fills in row by row. A failing check never stops the later ones;
 * checks that need something an earlier one could not provide (a Docker connection, the GPU list) skip with why.
 */

export const PREFLIGHT_CHECKS = [
  { id: 'ssh', title: 'SSH connection' },
  { id: 'docker', title: 'Docker' },
  { id: 'nvidia-runtime', title: 'NVIDIA container runtime' },
  { id: 'gpus', title: 'GPUs and driver' },
  { id: 'gpu-container', title: 'GPUs inside a container' },
  { id: 'gpu-busy', title: 'Free GPUs' },
  { id: 'disk', title: 'Disk space at the run root' },
  { id: 'images', title: 'Container images' },
] as const;
export type PreflightCheckId = (typeof PREFLIGHT_CHECKS)[number]['id'];

const KiB = 1024;
const GiB = 1024 ** 3;

export interface PreflightTimeouts {
  /** Each command run on the host over SSH. */
  execMs: number;
  /** Each Docker API call (and connecting to Docker). */
  dockerMs: number;
  /** The whole GPU probe container: create, start, run, logs. */
  gpuContainerMs: number;
}

export const DEFAULT_PREFLIGHT_TIMEOUTS: PreflightTimeouts = {
  execMs: 20_000,
  dockerMs: 20_000,
  gpuContainerMs: 90_000,
};

export interface DiskThresholds {
  warnBelowBytes: number;
  failBelowBytes: number;
}

/** PostTrainBench gives each run 400 GB; below 100 GiB a run can plausibly fill the disk, below 20 GiB it will. */
export const DEFAULT_DISK_THRESHOLDS: DiskThresholds = { warnBelowBytes: 100 * GiB, failBelowBytes: 20 * GiB };

/** Round trips above this make the terminal feel sluggish; worth a warning, not a failure. */
export const DEFAULT_SLOW_LATENCY_MS = 500;

export interface PreflightInput {
  /** The host profile's name, copied into the report. */
  host: string;
  session: Pick<HostSession, 'exec' | 'docker' | 'ping'>;
  /** The Docker socket the session talks to; named in messages. */
  dockerSocket: string;
  /** Where run folders go on the host; `~` and `~/…` are expanded by the host's shell. Nothing is created. */
  runRoot: string;
  requiredImages: string[];
  onProgress(check: PreflightCheck): void;
  signal?: AbortSignal;
  timeouts?: Partial<PreflightTimeouts>;
  /** Image for the GPU probe container; defaults to the first of `requiredImages`. */
  gpuProbeImage?: string;
  disk?: Partial<DiskThresholds>;
  slowLatencyMs?: number;
  /** How to get an image that `docker pull` cannot (a locally built one), by image name. */
  imageFixes?: Record<string, string>;
  /** A `local` host has no SSH: its first check is titled for this machine's shell. Default `ssh`. */
  hostKind?: 'ssh' | 'local';
}

/** A check's title for this kind of host. */
function checkTitle(id: PreflightCheckId, hostKind: 'ssh' | 'local'): string {
  if (id === 'ssh' && hostKind === 'local') return 'This machine';
  return PREFLIGHT_CHECKS.find((c) => c.id === id)?.title ?? id;
}

/** What a check found; the runner adds id, title and duration. */
export interface CheckOutcome {
  status: Exclude<CheckStatus, 'pending' | 'running'>;
  summary: string;
  details?: string[];
  fix?: string;
}

// --- fixes, written once so every path that needs one says the same thing -----------------------------------

export const DOCKER_UNAVAILABLE_FIX =
  'Is dockerd running (`sudo systemctl start docker`)? Is the SSH user in the docker group (`sudo usermod -aG docker $USER`, then reconnect)? Is the socket path in the host settings right?';

export const NVIDIA_TOOLKIT_FIX =
  'Install the NVIDIA Container Toolkit (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html), then run `sudo nvidia-ctk runtime configure --runtime=docker` and `sudo systemctl restart docker`.';

export const NVIDIA_DRIVER_FIX =
  'Install the NVIDIA driver on the host (it ships nvidia-smi), e.g. `sudo apt install nvidia-driver-570-server` or NVIDIA’s installer, reboot, and check that `nvidia-smi` lists the GPUs.';

// --- pure helpers ----------------------------------------------------------------------------------------------

/** Severity order, least to most: a finished report's overall is the worst of its checks. */
const STATUS_SEVERITY: Record<CheckStatus, number> = { skip: 0, pass: 1, pending: 2, running: 3, warn: 4, fail: 5 };

/** Negative when `a` is less severe than `b`. */
export function compareStatus(a: CheckStatus, b: CheckStatus): number {
  return STATUS_SEVERITY[a] - STATUS_SEVERITY[b];
}

/** The worst status of `statuses` (skip counts as the mildest, so skipped checks never hide a pass). */
export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((worst, s) => (compareStatus(s, worst) > 0 ? s : worst), 'skip');
}

/** Binary units, as df -h and nvidia-smi (MiB) count: `1.9 MiB`, `79.6 GiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? '-' : '';
  const shown = unit === 0 || value >= 100 || Number.isInteger(value) ? Math.round(value).toString() : value.toFixed(1);
  return `${sign}${shown} ${units[unit]}`;
}

/** A coarse age for humans: `less than a minute`, `5 minutes`, `3 hours`, `12 days`, `2 years`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 60) return 'less than a minute';
  if (s < 3600) return plural(Math.floor(s / 60), 'minute');
  if (s < 86_400) return plural(Math.floor(s / 3600), 'hour');
  if (s < 365 * 86_400) return plural(Math.floor(s / 86_400), 'day');
  return plural(Math.floor(s / (365 * 86_400)), 'year');
}

export function judgeDiskSpace(
  availableBytes: number,
  thresholds: DiskThresholds = DEFAULT_DISK_THRESHOLDS,
): 'pass' | 'warn' | 'fail' {
  if (availableBytes < thresholds.failBelowBytes) return 'fail';
  if (availableBytes < thresholds.warnBelowBytes) return 'warn';
  return 'pass';
}

export interface GpuUsage {
  gpu: GpuInfo;
  apps: ComputeApp[];
}

export interface GpuOccupancy {
  busy: GpuUsage[];
  /** Indices of GPUs with no compute process, ascending. */
  free: number[];
  /** Processes on a GPU the inventory does not list (a GPU that appeared since, or a MIG quirk). */
  unmatched: ComputeApp[];
}

/** Joins `--query-compute-apps` rows to the GPU inventory by UUID. */
export function mapComputeAppsToGpus(gpus: readonly GpuInfo[], apps: readonly ComputeApp[]): GpuOccupancy {
  const byUuid = new Map(gpus.map((gpu) => [gpu.uuid, { gpu, apps: [] as ComputeApp[] }]));
  const unmatched: ComputeApp[] = [];
  for (const app of apps) {
    const usage = byUuid.get(app.gpuUuid);
    if (usage) usage.apps.push(app);
    else unmatched.push(app);
  }
  const all = [...byUuid.values()].sort((a, b) => a.gpu.index - b.gpu.index);
  return {
    busy: all.filter((u) => u.apps.length > 0),
    free: all.filter((u) => u.apps.length === 0).map((u) => u.gpu.index),
    unmatched,
  };
}

/** The gpu-busy verdict: warn only when no GPU is free (a run would have to share). */
export function judgeGpuOccupancy(gpus: readonly GpuInfo[], occupancy: GpuOccupancy): CheckOutcome {
  const describeApp = (app: ComputeApp): string =>
    `pid ${app.pid} ${app.processName || '(unnamed)'}${app.usedMemoryMiB === null ? '' : ` (${app.usedMemoryMiB} MiB)`}`;
  const details = [
    ...occupancy.busy.map(({ gpu, apps }) => `GPU ${gpu.index} busy: ${apps.map(describeApp).join(', ')}`),
    ...occupancy.unmatched.map((app) => `${describeApp(app)} on a GPU not in the list (${app.gpuUuid})`),
  ];
  const total = gpus.length;
  if (occupancy.free.length === 0 && total > 0) {
    return {
      status: 'warn',
      summary: `All ${total} GPU${total === 1 ? ' is' : 's are'} busy`,
      details,
      fix: 'Wait for those processes to finish or stop them; a run sharing a GPU gets less memory and time than PostTrainBench’s idle H100.',
    };
  }
  if (occupancy.busy.length === 0) {
    return { status: 'pass', summary: `All ${total} GPU${total === 1 ? ' is' : 's are'} free`, details };
  }
  return {
    status: 'pass',
    summary: `${occupancy.free.length} of ${total} GPUs free (GPU ${occupancy.free.join(', ')}); ${occupancy.busy.length} busy`,
    details,
  };
}

export interface DfEntry {
  filesystem: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  mountPoint: string;
}

/** `df -Pk PATH`: POSIX format, one line per filesystem after the header, sizes in KiB. */
export function parseDfOutput(text: string): DfEntry {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const row = lines.find((line, i) => i > 0 || !/^Filesystem\s/.test(line));
  // The filesystem name and mount point may hold spaces; the four numbers between them cannot.
  const match = row === undefined ? null : /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s+(.+)$/.exec(row);
  if (!match) throw new Error(`unexpected df output: ${JSON.stringify(text.slice(0, 300))}`);
  return {
    filesystem: match[1] ?? '',
    sizeBytes: Number(match[2]) * KiB,
    usedBytes: Number(match[3]) * KiB,
    availableBytes: Number(match[4]) * KiB,
    mountPoint: match[5] ?? '',
  };
}

/** `/etc/os-release` (shell-style `KEY=value`, values optionally quoted). */
export function parseOsRelease(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match?.[1]) continue;
    let value = match[2] ?? '';
    const quoted = /^(["'])(.*)\1$/.exec(value);
    if (quoted) value = (quoted[2] ?? '').replace(/\\(["\\$`])/g, '$1');
    values[match[1]] = value;
  }
  return values;
}

/** A shell word for `path` that expands a leading `~` / `~/` to the remote user's $HOME, and nothing else. */
export function remotePathExpression(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return path.length === 2 ? '"$HOME"' : `"$HOME"/${shellQuote(path.slice(2))}`;
  return shellQuote(path);
}

interface DockerInfoLike {
  Runtimes?: Record<string, unknown>;
  DefaultRuntime?: string;
  /** Docker 25+ with CDI enabled. */
  CDISpecDirs?: string[];
  /** Docker 28.2+: devices the daemon discovered, e.g. `{ Source: 'cdi', ID: 'nvidia.com/gpu=0' }`. */
  DiscoveredDevices?: { Source?: string; ID?: string }[];
}

/** Whether Docker can hand GPUs to containers: the `nvidia` runtime, or NVIDIA CDI devices. */
export function judgeNvidiaRuntime(info: DockerInfoLike): CheckOutcome {
  const runtimes = Object.keys(info.Runtimes ?? {}).sort();
  const defaultRuntime = info.DefaultRuntime ?? 'runc';
  const details = [`Runtimes: ${runtimes.join(', ') || '(none listed)'}; default: ${defaultRuntime}`];
  const cdiDirs = info.CDISpecDirs ?? [];
  if (cdiDirs.length > 0) details.push(`CDI spec dirs: ${cdiDirs.join(', ')}`);
  const cdiGpus = (info.DiscoveredDevices ?? []).filter((d) => d.ID?.startsWith('nvidia.com/gpu')).map((d) => d.ID);
  if (cdiGpus.length > 0) details.push(`CDI devices: ${cdiGpus.join(', ')}`);

  if (runtimes.includes('nvidia') || defaultRuntime === 'nvidia') {
    return {
      status: 'pass',
      summary: `nvidia runtime registered${defaultRuntime === 'nvidia' ? ' (the default)' : ` (default: ${defaultRuntime})`}`,
      details,
    };
  }
  if (cdiGpus.length > 0) {
    return { status: 'pass', summary: `NVIDIA GPUs available through CDI (${cdiGpus.length} devices)`, details };
  }
  if (cdiDirs.length > 0) {
    return {
      status: 'warn',
      summary: 'No nvidia runtime registered; CDI is on but Docker lists no nvidia.com/gpu devices',
      details,
      fix: `Generate the CDI spec with \`sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml\`, or register the runtime: ${NVIDIA_TOOLKIT_FIX}`,
    };
  }
  return {
    status: 'fail',
    summary: `Docker has no nvidia runtime (runtimes: ${runtimes.join(', ') || 'none'})`,
    details,
    fix: NVIDIA_TOOLKIT_FIX,
  };
}

/** Compares the GPUs a probe container saw (`nvidia-smi -L`) with the host's inventory. */
export function compareContainerGpus(host: readonly GpuInfo[] | undefined, seen: readonly ListedGpu[]): CheckOutcome {
  const details = seen.map((gpu) => `GPU ${gpu.index}: ${gpu.name} (${gpu.uuid})`);
  if (seen.length === 0) {
    return {
      status: 'fail',
      summary: 'The probe container sees no GPUs',
      details,
      fix: `Check that the driver works on the host (\`nvidia-smi\`), then restart Docker. ${NVIDIA_TOOLKIT_FIX}`,
    };
  }
  if (!host || host.length === 0) {
    return {
      status: 'pass',
      summary: `The probe container sees ${seen.length} GPU${seen.length === 1 ? '' : 's'}`,
      details,
    };
  }
  const seenUuids = new Set(seen.map((gpu) => gpu.uuid));
  const hostUuids = new Set(host.map((gpu) => gpu.uuid));
  const missing = host.filter((gpu) => !seenUuids.has(gpu.uuid));
  const extra = seen.filter((gpu) => !hostUuids.has(gpu.uuid));
  if (missing.length > 0 || extra.length > 0 || seen.length !== host.length) {
    return {
      status: 'warn',
      summary: `The probe container sees ${seen.length} of the host's ${host.length} GPUs`,
      details: [
        ...details,
        ...missing.map((gpu) => `missing in the container: GPU ${gpu.index} (${gpu.uuid})`),
        ...extra.map((gpu) => `not on the host list: ${gpu.uuid}`),
      ],
      fix: 'Check NVIDIA_VISIBLE_DEVICES in the image and the daemon’s default device settings; a run expects all the GPUs it is given.',
    };
  }
  return {
    status: 'pass',
    summary: `The probe container sees all ${host.length} GPU${host.length === 1 ? '' : 's'}; UUIDs match the host`,
    details,
  };
}

/** Why Docker refused the GPU probe, as a verdict with the fix; `message` is the daemon's. */
export function describeGpuContainerError(message: string): CheckOutcome {
  if (/could not select device driver/i.test(message)) {
    return { status: 'fail', summary: `Docker cannot give containers GPUs: ${message}`, fix: NVIDIA_TOOLKIT_FIX };
  }
  if (/executable file not found|no such file or directory/i.test(message) && /nvidia-smi/.test(message)) {
    return {
      status: 'fail',
      summary: 'The probe container has no nvidia-smi: the NVIDIA hook did not mount the driver utilities',
      details: [message],
      fix: `Reinstall or reconfigure the NVIDIA Container Toolkit so it injects the driver (\`NVIDIA_DRIVER_CAPABILITIES\` must include utility). ${NVIDIA_TOOLKIT_FIX}`,
    };
  }
  if (/Failed to initialize NVML: Unknown Error/i.test(message)) {
    // The container got the devices but may not open them: cgroup device rules (see NVIDIA's notice,
    // https://github.com/NVIDIA/nvidia-docker/issues/1730).
    return {
      status: 'fail',
      summary: `nvidia-smi inside the container cannot open the GPUs: ${message}`,
      fix: 'Run `sudo nvidia-ctk system create-dev-char-symlinks --create-all` and `sudo systemctl restart docker` (NVIDIA’s workaround for cgroup device rules, https://github.com/NVIDIA/nvidia-docker/issues/1730).',
    };
  }
  if (/nvidia-container-cli|nvml|driver/i.test(message)) {
    return {
      status: 'fail',
      summary: `The NVIDIA container hook failed: ${message}`,
      fix: 'Check the driver on the host (`nvidia-smi`); after a driver update, reboot or reload the modules, then `sudo systemctl restart docker`.',
    };
  }
  return { status: 'fail', summary: `The GPU probe container failed: ${message}`, fix: NVIDIA_TOOLKIT_FIX };
}

/**
 * Splits a non-TTY container log (Docker's multiplexed stream: 8-byte header of stream id and big-endian length,
 * then the payload) into stdout and stderr.
 */
export function demuxDockerLog(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + size);
    (stream === 2 ? err : out).push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** The message a Docker API error carries: the daemon's JSON `message` when there is one. */
export function dockerErrorMessage(err: unknown): string {
  const json = (err as { json?: unknown }).json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message.trim();
  }
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return err instanceof Error ? err.message : String(err);
}

function statusCodeOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The first non-empty lines of a command's output, for a summary. */
function firstLines(result: ExecResult, count = 2): string {
  return `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, count)
    .join(' ');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError('TIMEOUT', `${what} did not answer within ${Math.round(ms / 1000)} s`, { retryable: true }),
          ),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

class PreflightCancelled extends Error {
  constructor() {
    super('Preflight was cancelled');
  }
}

function whenAborted(signal: AbortSignal | undefined): Promise<never> | undefined {
  if (!signal) return undefined;
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(new PreflightCancelled());
    else signal.addEventListener('abort', () => reject(new PreflightCancelled()), { once: true });
  });
}

// --- the run ------------------------------------------------------------------------------------------------------

/** Facts earlier checks hand to later ones. */
interface Facts {
  docker?: Dockerode;
  runtime?: CheckStatus;
  /** Undefined when the GPU list could not be read; `[]` never reaches later checks (gpus fails instead). */
  gpus?: GpuInfo[];
  freeGpus: number[];
}

export async function runPreflight(input: PreflightInput): Promise<PreflightReport> {
  const { session, signal } = input;
  const timeouts = { ...DEFAULT_PREFLIGHT_TIMEOUTS, ...input.timeouts };
  const disk = { ...DEFAULT_DISK_THRESHOLDS, ...input.disk };
  const startedAt = new Date().toISOString();
  const checks: PreflightCheck[] = [];
  const facts: Facts = { freeGpus: [] };
  const aborted = whenAborted(signal);
  // Keep a rejection listener so an abort between checks is not an unhandled rejection.
  aborted?.catch(() => undefined);

  const emit = (check: PreflightCheck): void => {
    try {
      input.onProgress(check);
    } catch {
      // A listener's failure must not end the preflight.
    }
  };

  // Announce the whole checklist first, so a UI can show "n of N" from the start.
  const hostKind = input.hostKind ?? 'ssh';
  for (const c of PREFLIGHT_CHECKS) {
    emit({ id: c.id, title: checkTitle(c.id, hostKind), status: 'pending', summary: '', details: [] });
  }

  const exec = (command: string): Promise<ExecResult> => session.exec(command, { timeoutMs: timeouts.execMs });

  const run = async (id: PreflightCheckId, body: () => Promise<CheckOutcome>): Promise<PreflightCheck> => {
    const title = checkTitle(id, hostKind);
    const started = performance.now();
    let outcome: CheckOutcome;
    if (signal?.aborted) {
      outcome = { status: 'skip', summary: 'Preflight was cancelled' };
    } else {
      emit({ id, title, status: 'running', summary: '', details: [] });
      try {
        outcome = await (aborted ? Promise.race([body(), aborted]) : body());
      } catch (err) {
        outcome =
          err instanceof PreflightCancelled
            ? { status: 'skip', summary: err.message }
            : { status: 'fail', summary: errorMessage(err) };
      }
    }
    const check: PreflightCheck = {
      id,
      title,
      status: outcome.status,
      summary: outcome.summary,
      details: outcome.details ?? [],
      ...(outcome.fix === undefined ? {} : { fix: outcome.fix }),
      durationMs: Math.round(performance.now() - started),
    };
    checks.push(check);
    emit(check);
    return check;
  };

  await run('ssh', () => checkSsh(session, exec, input.slowLatencyMs ?? DEFAULT_SLOW_LATENCY_MS, hostKind));
  await run('docker', () => checkDocker(input, timeouts, facts));
  const runtimeCheck = await run('nvidia-runtime', () => checkNvidiaRuntime(timeouts, facts));
  facts.runtime = runtimeCheck.status;
  await run('gpus', () => checkGpus(exec, facts));
  const containerCheck = await run('gpu-container', () => checkGpuContainer(input, timeouts, facts));
  if (containerCheck.status === 'pass' && runtimeCheck.status === 'fail') {
    // Docker's --gpus path only needs the NVIDIA hook, not a registered runtime: the probe proved GPUs work, so
    // the missing runtime is worth a note, not a failure.
    const amended: PreflightCheck = {
      ...runtimeCheck,
      status: 'warn',
      summary: `${runtimeCheck.summary}, but GPU containers work (Docker's --gpus uses the NVIDIA hook directly)`,
      fix: 'Optional: `sudo nvidia-ctk runtime configure --runtime=docker` and `sudo systemctl restart docker` register the runtime for tools that ask for `--runtime=nvidia`.',
    };
    checks[checks.indexOf(runtimeCheck)] = amended;
    emit(amended);
  }
  await run('gpu-busy', () => checkGpuBusy(exec, facts));
  await run('disk', () => checkDisk(exec, input.runRoot, disk));
  await run('images', () => checkImages(input, timeouts, facts));

  return {
    host: input.host,
    startedAt,
    finishedAt: new Date().toISOString(),
    checks,
    gpus: facts.gpus ?? [],
    freeGpus: facts.freeGpus,
    overall: worstStatus(checks.map((c) => c.status)),
  };
}

async function checkSsh(
  session: Pick<HostSession, 'exec' | 'docker' | 'ping'>,
  exec: (command: string) => Promise<ExecResult>,
  slowLatencyMs: number,
  hostKind: 'ssh' | 'local',
): Promise<CheckOutcome> {
  let latencyMs: number;
  try {
    latencyMs = await session.ping();
  } catch (err) {
    return hostKind === 'local'
      ? {
          status: 'fail',
          summary: `This machine's shell does not answer: ${errorMessage(err)}`,
          fix: 'Check that /bin/sh runs for this user.',
        }
      : {
          status: 'fail',
          summary: `The SSH connection does not answer: ${errorMessage(err)}`,
          fix: 'Reconnect to the host; if it keeps failing, check the network and that sshd is running.',
        };
  }
  // `user=`/`kernel=` are lowercase so they cannot collide with os-release's uppercase keys.
  const result = await exec(
    `printf 'user=%s\\nkernel=%s\\n' "$(id -un)" "$(uname -r)"; cat /etc/os-release 2>/dev/null`,
  );
  const values = parseOsRelease(result.stdout);
  const user = values.user || '(unknown user)';
  const os = values.PRETTY_NAME || [values.NAME, values.VERSION].filter(Boolean).join(' ') || 'unknown OS';
  const kernel = values.kernel || 'unknown kernel';
  const ms = Math.round(latencyMs);
  const summary = `${user} · ${ms} ms round trip · ${os} · kernel ${kernel}`;
  const details = [`User: ${user}`, `Round trip: ${ms} ms`, `OS: ${os}`, `Kernel: ${kernel}`];
  if (latencyMs > slowLatencyMs) {
    return {
      status: 'warn',
      summary,
      details,
      fix: `Round trips above ${slowLatencyMs} ms make the live terminal lag; a closer jump host or a wired network helps.`,
    };
  }
  return { status: 'pass', summary, details };
}

async function checkDocker(input: PreflightInput, timeouts: PreflightTimeouts, facts: Facts): Promise<CheckOutcome> {
  let docker: Dockerode;
  try {
    docker = await withTimeout(input.session.docker(), timeouts.dockerMs, `Docker at ${input.dockerSocket}`);
  } catch (err) {
    const unsupported = err instanceof AppError && err.code === 'DOCKER_UNSUPPORTED';
    return {
      status: 'fail',
      summary: unsupported
        ? errorMessage(err)
        : `Docker is not reachable at ${input.dockerSocket}: ${errorMessage(err)}`,
      fix: unsupported ? 'Upgrade Docker on the host to 20.10 or newer.' : DOCKER_UNAVAILABLE_FIX,
    };
  }
  let version: Dockerode.DockerVersion;
  try {
    version = await withTimeout(docker.version(), timeouts.dockerMs, 'docker version');
  } catch (err) {
    return {
      status: 'fail',
      summary: `Docker at ${input.dockerSocket} does not answer: ${dockerErrorMessage(err)}`,
      fix: DOCKER_UNAVAILABLE_FIX,
    };
  }
  facts.docker = docker;
  return {
    status: 'pass',
    summary: `Docker ${version.Version}, API ${version.ApiVersion}`,
    details: [
      `Socket: ${input.dockerSocket}`,
      `Engine ${version.Version} (${version.Os}/${version.Arch}), API ${version.ApiVersion}, minimum API ${version.MinAPIVersion}`,
    ],
  };
}

async function checkNvidiaRuntime(timeouts: PreflightTimeouts, facts: Facts): Promise<CheckOutcome> {
  if (!facts.docker) return { status: 'skip', summary: 'Docker is not reachable (see the Docker check)' };
  const info = (await withTimeout(facts.docker.info(), timeouts.dockerMs, 'docker info')) as DockerInfoLike;
  return judgeNvidiaRuntime(info);
}

async function checkGpus(exec: (command: string) => Promise<ExecResult>, facts: Facts): Promise<CheckOutcome> {
  const result = await exec(GPU_INVENTORY_QUERY);
  if (result.code === 127 || /nvidia-smi: (command )?not found/.test(result.stderr)) {
    return { status: 'fail', summary: 'nvidia-smi not found on the host', fix: NVIDIA_DRIVER_FIX };
  }
  if (result.code !== 0) {
    return {
      status: 'fail',
      summary: `nvidia-smi failed (exit ${result.code ?? result.signal}): ${firstLines(result) || 'no output'}`,
      fix: 'Check that the NVIDIA driver is loaded (`lsmod | grep nvidia`, `sudo dmesg | grep -i nvidia`); after a driver update a reboot usually fixes it.',
    };
  }
  let gpus: GpuInfo[];
  try {
    gpus = parseGpuInventory(result.stdout);
  } catch (err) {
    return { status: 'fail', summary: `Could not read nvidia-smi's GPU list: ${errorMessage(err)}` };
  }
  if (gpus.length === 0) {
    return { status: 'fail', summary: 'nvidia-smi lists no GPUs', fix: NVIDIA_DRIVER_FIX };
  }
  facts.gpus = gpus;
  // The CUDA version the driver supports is only in the table (and in --version on newer drivers); nice to have.
  let cuda: string | null = null;
  const table = await exec('nvidia-smi').catch(() => undefined);
  if (table?.code === 0) {
    try {
      cuda = parseNvidiaSmiTable(table.stdout).cudaVersion;
    } catch {
      cuda = null;
    }
  }
  const byName = new Map<string, number>();
  for (const gpu of gpus) byName.set(gpu.name, (byName.get(gpu.name) ?? 0) + 1);
  const models = [...byName].map(([name, count]) => `${count} × ${name}`).join(', ');
  const drivers = [...new Set(gpus.map((gpu) => gpu.driverVersion))].join(', ');
  return {
    status: 'pass',
    summary: `${models}; driver ${drivers}${cuda ? `, CUDA ${cuda}` : ''}`,
    details: gpus.map(
      (gpu) =>
        `GPU ${gpu.index}: ${gpu.name}, ${formatBytes(gpu.memoryTotalMiB * 1024 * 1024)} (${gpu.memoryTotalMiB} MiB), ${gpu.uuid}`,
    ),
  };
}

async function checkGpuContainer(
  input: PreflightInput,
  timeouts: PreflightTimeouts,
  facts: Facts,
): Promise<CheckOutcome> {
  const docker = facts.docker;
  if (!docker) return { status: 'skip', summary: 'Docker is not reachable (see the Docker check)' };
  // A failed runtime check alone does not skip the probe: Docker's --gpus works through the NVIDIA hook without a
  // registered runtime, and only the probe can tell. With no runtime and no driver there is nothing to learn.
  if (facts.runtime === 'fail' && !facts.gpus) {
    return {
      status: 'skip',
      summary: 'No NVIDIA runtime in Docker and no working driver on the host: fix those first (see above)',
    };
  }
  const image = input.gpuProbeImage ?? input.requiredImages[0];
  if (!image) {
    return { status: 'skip', summary: 'No image to probe with: add a required image or set a GPU probe image' };
  }
  try {
    await withTimeout(docker.getImage(image).inspect(), timeouts.dockerMs, `docker image inspect ${image}`);
  } catch (err) {
    if (statusCodeOf(err) === 404) {
      return { status: 'skip', summary: `The probe image ${image} is not on the host (see the images check)` };
    }
    throw err;
  }
  // The deadline kills the container (so nothing is left running); the outer timeout only guards a daemon that
  // stops answering altogether.
  const deadline = AbortSignal.timeout(timeouts.gpuContainerMs);
  const probeSignal = input.signal ? AbortSignal.any([input.signal, deadline]) : deadline;
  return withTimeout(
    probeGpuContainer(docker, image, facts.gpus, probeSignal, timeouts.gpuContainerMs),
    timeouts.gpuContainerMs + timeouts.dockerMs,
    'The GPU probe container',
  );
}

/**
 * Runs `nvidia-smi -L` in a throwaway container with every GPU requested (`docker run --gpus all`), no network, and
 * removes it whatever happens. Entrypoint is overridden so an image's own entrypoint script cannot get in the way.
 */
async function probeGpuContainer(
  docker: Dockerode,
  image: string,
  hostGpus: GpuInfo[] | undefined,
  signal: AbortSignal,
  limitMs: number,
): Promise<CheckOutcome> {
  let container: Dockerode.Container;
  try {
    container = await docker.createContainer({
      name: `ptw-preflight-gpu-${randomBytes(4).toString('hex')}`,
      Image: image,
      Entrypoint: ['nvidia-smi'],
      Cmd: ['-L'],
      Labels: { 'ptw.preflight': 'gpu-probe' },
      HostConfig: {
        NetworkMode: 'none',
        AutoRemove: false,
        DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }],
      },
    });
  } catch (err) {
    return describeGpuContainerError(dockerErrorMessage(err));
  }
  const onAbort = (): void => {
    container.kill().catch(() => undefined);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      await container.start();
    } catch (err) {
      // Docker refuses GPUs it cannot provide at start, e.g. `could not select device driver "nvidia"`.
      return describeGpuContainerError(dockerErrorMessage(err));
    }
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (signal.aborted) {
      return {
        status: 'fail',
        summary: `The GPU probe container did not finish within ${Math.round(limitMs / 1000)} s`,
        fix: 'Check the host with `nvidia-smi` (a hung driver makes it hang too) and `docker ps` for stuck containers.',
      };
    }
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    const { stdout, stderr } = demuxDockerLog(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs)));
    if (StatusCode !== 0) {
      return describeGpuContainerError(
        `nvidia-smi -L exited with ${StatusCode}: ${`${stdout}\n${stderr}`.trim().split('\n').slice(0, 3).join(' ')}`,
      );
    }
    let listed: ListedGpu[];
    try {
      listed = parseNvidiaSmiList(stdout);
    } catch (err) {
      return { status: 'fail', summary: `Could not read nvidia-smi -L from the container: ${errorMessage(err)}` };
    }
    return compareContainerGpus(hostGpus, listed);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await container.remove({ force: true }).catch(() => undefined);
  }
}

async function checkGpuBusy(exec: (command: string) => Promise<ExecResult>, facts: Facts): Promise<CheckOutcome> {
  const gpus = facts.gpus;
  if (!gpus) return { status: 'skip', summary: 'No GPU list to check (see the GPUs check)' };
  const result = await exec(COMPUTE_APPS_QUERY);
  if (result.code !== 0) {
    facts.freeGpus = gpus.map((gpu) => gpu.index);
    return {
      status: 'warn',
      summary: `Could not list GPU processes (exit ${result.code ?? result.signal}): ${firstLines(result) || 'no output'}`,
      fix: 'Run the same query on the host to see why: `' + COMPUTE_APPS_QUERY + '`',
    };
  }
  const occupancy = mapComputeAppsToGpus(gpus, parseComputeApps(result.stdout));
  facts.freeGpus = occupancy.free;
  return judgeGpuOccupancy(gpus, occupancy);
}

async function checkDisk(
  exec: (command: string) => Promise<ExecResult>,
  runRoot: string,
  thresholds: DiskThresholds,
): Promise<CheckOutcome> {
  // Measure the run root, or its nearest existing parent when it does not exist yet; create nothing.
  const script = [
    `r=${remotePathExpression(runRoot)}`,
    'p=$r',
    'while [ ! -e "$p" ]; do q=$(dirname -- "$p"); [ "$q" = "$p" ] && break; p=$q; done',
    `printf '%s\\n%s\\n' "$r" "$p"`,
    'df -Pk -- "$p"',
  ].join('; ');
  const result = await exec(script);
  const [expanded = runRoot, measured = '', ...dfLines] = result.stdout.split('\n');
  if (result.code !== 0) {
    return {
      status: 'fail',
      summary: `Could not measure free space at ${expanded}: ${firstLines(result) || `exit ${result.code}`}`,
      fix: 'Check that the run root in the host settings is a path the SSH user can reach.',
    };
  }
  const df = parseDfOutput(dfLines.join('\n'));
  const status = judgeDiskSpace(df.availableBytes, thresholds);
  const where = measured === expanded ? expanded : `${measured} (${expanded} does not exist yet)`;
  const summary = `${formatBytes(df.availableBytes)} free at ${where}`;
  const details = [
    `Filesystem ${df.filesystem} on ${df.mountPoint}: ${formatBytes(df.availableBytes)} free of ${formatBytes(df.sizeBytes)}`,
    `Thresholds: warn below ${formatBytes(thresholds.warnBelowBytes)}, fail below ${formatBytes(thresholds.failBelowBytes)}`,
  ];
  if (status === 'pass') return { status, summary, details };
  return {
    status,
    summary,
    details,
    fix: `Free space on ${df.mountPoint} or point the run root at a bigger disk. PostTrainBench gives each run 400 GB: checkpoints, datasets and the pip/HF caches add up fast.`,
  };
}

async function checkImages(input: PreflightInput, timeouts: PreflightTimeouts, facts: Facts): Promise<CheckOutcome> {
  const docker = facts.docker;
  if (!docker) return { status: 'skip', summary: 'Docker is not reachable (see the Docker check)' };
  const images = [...new Set(input.requiredImages)];
  if (images.length === 0) return { status: 'skip', summary: 'This host profile requires no images' };
  const details: string[] = [];
  const missing: string[] = [];
  const broken: string[] = [];
  const now = Date.now();
  for (const name of images) {
    try {
      const image = await withTimeout(
        docker.getImage(name).inspect(),
        timeouts.dockerMs,
        `docker image inspect ${name}`,
      );
      const created = Date.parse(image.Created);
      const age = Number.isNaN(created) ? 'unknown age' : `built ${formatAge(now - created)} ago`;
      details.push(`${name}: ${formatBytes(image.Size)}, ${age}, ${image.Id.replace(/^sha256:/, '').slice(0, 12)}`);
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        missing.push(name);
        details.push(`${name}: missing`);
      } else {
        broken.push(name);
        details.push(`${name}: ${dockerErrorMessage(err)}`);
      }
    }
  }
  const present = images.length - missing.length - broken.length;
  if (missing.length === 0 && broken.length === 0) {
    return { status: 'pass', summary: `All ${images.length} image${images.length === 1 ? '' : 's'} present`, details };
  }
  const fixes = missing.map((name) => input.imageFixes?.[name] ?? `docker pull ${name}`);
  return {
    status: 'fail',
    summary: `${present} of ${images.length} images present; ${[
      missing.length > 0 ? `missing: ${missing.join(', ')}` : '',
      broken.length > 0 ? `unreadable: ${broken.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ')}`,
    details,
    fix: fixes.length > 0 ? `On the host: ${fixes.join('; ')}` : 'Check the Docker daemon log on the host.',
  };
}
