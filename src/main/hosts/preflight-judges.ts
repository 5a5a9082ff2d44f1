import type { CheckStatus, GpuInfo } from '../../shared/hosts';
import { type ComputeApp, type ListedGpu } from '../../shared/parsers/nvidia-smi';
import { shellQuote } from '../../shared/shell-quote';

/**
 * Preflight's judges: pure functions from what a probe found (command output, Docker's answers, the GPU lists) to
 * a check's outcome, and the fixes they suggest. Nothing here runs anything on a host (preflight-checks.ts does).
 */

const KiB = 1024;
const GiB = 1024 ** 3;

export interface DiskThresholds {
  warnBelowBytes: number;
  failBelowBytes: number;
}

/** PostTrainBench gives each run 400 GB; below 100 GiB a run can plausibly fill the disk, below 20 GiB it will. */
export const DEFAULT_DISK_THRESHOLDS: DiskThresholds = { warnBelowBytes: 100 * GiB, failBelowBytes: 20 * GiB };

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

export interface DockerInfoLike {
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

// --- agent CLIs in the run image ----------------------------------------------------------------------------

/** One agent CLI preflight asks the run image for: the agent's id, its command and what installs it. */
export interface AgentCliProbe {
  id: string;
  binary: string;
  install: string;
}

/**
 * Run in the image as `sh -c SCRIPT ptw-agent-clis BINARY…`: one `binary<TAB>exit<TAB>first line` per binary, the
 * line being what `BINARY --version` printed on stdout, or on stderr when stdout had nothing (as the launcher reads
 * it before a scripted run: Codex warns on stderr with HOME=/tmp); exit 127 when the binary is not on the PATH.
 */
export const AGENT_CLI_PROBE_SCRIPT = [
  'e=/tmp/ptw-version-stderr;',
  'for b in "$@"; do',
  'if command -v "$b" >/dev/null 2>&1; then',
  'v=$("$b" --version </dev/null 2>"$e"); c=$?; [ -n "$v" ] || v=$(cat "$e");',
  'printf "%s\\t%s\\t%s\\n" "$b" "$c" "$(printf "%s" "$v" | head -n 1)";',
  'else printf "%s\\t127\\t\\n" "$b"; fi;',
  'done',
].join(' ');

/**
 * What the probe found, as an information check: never a failure (a host runs the agents its run image has; a
 * scripted rehearsal of a missing one is refused at launch with the same install line). One detail per CLI:
 * `claude-code 2.1.337 (Claude Code)`, `codex: not installed (npm install -g @openai/codex)`.
 */
export function judgeAgentClis(image: string, clis: readonly AgentCliProbe[], stdout: string): CheckOutcome {
  const answers = new Map<string, { code: string; said: string }>();
  for (const line of stdout.split('\n')) {
    const [binary = '', code = '', ...rest] = line.split('\t');
    if (binary && /^\d+$/.test(code)) answers.set(binary, { code, said: rest.join('\t').trim().slice(0, 200) });
  }
  let found = 0;
  const details = clis.map((cli) => {
    const answer = answers.get(cli.binary);
    if (!answer || answer.code === '127') return `${cli.id}: not installed (${cli.install})`;
    found += 1;
    if (answer.code !== '0') return `${cli.id}: ${cli.binary} --version failed (exit ${answer.code}): ${answer.said}`;
    return answer.said ? `${cli.id} ${answer.said}` : `${cli.id}: installed (printed no version)`;
  });
  return { status: 'pass', summary: `${found} of ${clis.length} agent CLIs in ${image}`, details };
}
