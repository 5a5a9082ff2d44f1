import { AppError } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import { COMPUTE_APPS_QUERY, GPU_INVENTORY_QUERY } from '../../shared/parsers/nvidia-smi';
import { HOST_PACKAGE_FILE } from '../host-package/host-package';
import { hostModuleProgram } from '../host-package/host-module-program';

/**
 * The commands the run services send to a host, each one exec (one SSH round trip), and the parsers for what they
 * print. Scripts are POSIX sh (busybox has all they use) or, where JSON is easier, a module of the host package
 * (resources/host/ptw_host, Python 3 standard library): the host has python3 anyway, since the supervisor needs it.
 * Paths from the user are always quoted by {@link shellQuote}.
 */

function field(line: string): [string, string] {
  const tab = line.indexOf('\t');
  return tab < 0 ? [line, ''] : [line.slice(0, tab), line.slice(tab + 1)];
}

function decode64(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}

// --- launch probe -------------------------------------------------------------------------------------------

/** The oldest Python the supervisor supports. */
export const MIN_PYTHON: readonly [number, number] = [3, 8];

/** HOME (to place `~/…` run roots), python3's version, and nvidia-smi's GPU list and processes when it exists. */
export function probeScript(): string {
  return [
    `printf 'HOME\\t%s\\n' "$HOME"`,
    `printf 'USER\\t%s\\n' "$(id -un 2>/dev/null || echo "$USER")"`,
    `printf 'IDS\\t%s\\t%s\\n' "$(id -u 2>/dev/null)" "$(id -g 2>/dev/null)"`,
    `printf 'MEMKIB\\t%s\\n' "$(awk '/^MemTotal:/ {print $2; exit}' /proc/meminfo 2>/dev/null)"`,
    `if command -v python3 >/dev/null 2>&1; then printf 'PYTHON\\t%s\\n' "$(python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>&1 | head -n 1)"; else printf 'PYTHON\\t\\n'; fi`,
    `if command -v nvidia-smi >/dev/null 2>&1; then`,
    `  out=$(${GPU_INVENTORY_QUERY} 2>&1); printf 'GPUS\\t%s\\t' "$?"; printf '%s' "$out" | base64 | tr -d '\\n'; echo`,
    `  out=$(${COMPUTE_APPS_QUERY} 2>&1); printf 'APPS\\t%s\\t' "$?"; printf '%s' "$out" | base64 | tr -d '\\n'; echo`,
    `else printf 'NOSMI\\n'; fi`,
  ].join('\n');
}

export interface NvidiaSmiOutput {
  code: number;
  text: string;
}

export interface HostProbe {
  home: string;
  user: string;
  /** The SSH user's uid and gid (`id -u`, `id -g`), null when `id` said nothing usable. */
  uid: number | null;
  gid: number | null;
  /** MemTotal from /proc/meminfo, bytes; null when unknown. */
  memTotalBytes: number | null;
  /** `3.11.2`, or null when there is no python3. */
  python: string | null;
  /** Null when the host has no nvidia-smi. */
  gpus: NvidiaSmiOutput | null;
  apps: NvidiaSmiOutput | null;
}

export function parseProbe(stdout: string): HostProbe {
  const probe: HostProbe = {
    home: '',
    user: '',
    uid: null,
    gid: null,
    memTotalBytes: null,
    python: null,
    gpus: null,
    apps: null,
  };
  const whole = (text: string | undefined): number | null => (text && /^\d{1,10}$/.test(text) ? Number(text) : null);
  for (const line of stdout.split('\n')) {
    const [key, rest] = field(line);
    if (key === 'HOME') probe.home = rest;
    else if (key === 'USER') probe.user = rest;
    else if (key === 'IDS') {
      const [uid, gid] = field(rest);
      probe.uid = whole(uid.trim());
      probe.gid = whole(gid.trim());
    } else if (key === 'MEMKIB') {
      const kib = whole(rest.trim());
      probe.memTotalBytes = kib === null ? null : kib * 1024;
    } else if (key === 'PYTHON') probe.python = rest.trim() || null;
    else if (key === 'GPUS' || key === 'APPS') {
      const [code, data] = field(rest);
      const value = { code: Number(code), text: decode64(data) };
      if (key === 'GPUS') probe.gpus = value;
      else probe.apps = value;
    }
  }
  return probe;
}

/** `3.11.2` → whether the supervisor runs on it. */
export function pythonSupported(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** `~`, `~/x` and relative paths are the SSH user's home's; absolute paths stay as they are. */
export function resolveHostPath(path: string, home: string): string {
  const trimmed = path.trim().replace(/\/+$/, '') || '/';
  if (trimmed === '~') return home;
  if (trimmed.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${trimmed.slice(2)}`;
  if (trimmed.startsWith('/')) return trimmed;
  return `${home.replace(/\/+$/, '')}/${trimmed}`;
}

// --- preparing the run folder ---------------------------------------------------------------------------------

/** A copy made on the host from a PostTrainBench checkout (relative destinations under the run folder). */
export interface HostCopy {
  from: string;
  /** Relative to the run folder, e.g. `task/evaluate.py`. */
  to: string;
}

/**
 * Creates the run root (if needed) and the run folder (which must not exist, mode 0700: no other host user may enter
 * it, so nothing the agent writes is reachable by them), its subfolders, and the host-side copies. The agent's
 * writable parts (`workspace/`, `home/`) are handed to the sandbox's user by {@link handOverScript} once every file
 * is in place. Exit 73: the run root cannot be created or written (`PTW-ROOT: why`); exit 74: its disk has less than
 * `minFreeBytes` free, or filled up during the copies (`PTW-FULL: <free KiB> <mount point>`).
 */
export function prepareScript(runRoot: string, runDir: string, copies: readonly HostCopy[], minFreeBytes = 0): string {
  const q = shellQuote;
  const full = `{ set -- $(df -Pk -- ${q(runRoot)} 2>/dev/null | awk 'NR==2 {print $4, $6}'); echo "PTW-FULL: \${1:-?} \${2:-?}"; exit 74; }`;
  const lines = [
    'set -e',
    `mkdir -p -- ${q(runRoot)} 2>&1 || { echo "PTW-ROOT: cannot create the run root"; exit 73; }`,
    `if [ ! -w ${q(runRoot)} ]; then echo "PTW-ROOT: $(id -un 2>/dev/null) cannot write to it"; exit 73; fi`,
    `free_kib=$(df -Pk -- ${q(runRoot)} 2>/dev/null | awk 'NR==2 {print $4}') || free_kib=`,
    `if [ -n "$free_kib" ] && [ "$free_kib" -lt ${Math.ceil(minFreeBytes / 1024)} ]; then ${full}; fi`,
    `mkdir -m 0700 -- ${q(runDir)} 2>&1 || { echo "PTW-ROOT: cannot create the run folder"; exit 73; }`,
    `chmod 0700 -- ${q(runDir)}`,
    `cd -- ${q(runDir)}`,
    'mkdir -p task workspace/final_model home ptw record control eval .supervisor',
  ];
  for (const copy of copies) {
    const parent = copy.to.includes('/') ? copy.to.slice(0, copy.to.lastIndexOf('/')) : '.';
    lines.push(
      `mkdir -p -- ${q(parent)}`,
      `out=$(cp -R -- ${q(copy.from)} ${q(copy.to)} 2>&1) || { echo "$out"; case "$out" in *'No space left'*) ${full} ;; esac; exit 1; }`,
    );
  }
  return lines.join('\n');
}

/**
 * Gives the agent's writable folders to the sandbox's unprivileged user (docs/run-folder.md, "The sandbox and the
 * host"): `workspace/` and `home/` owned by it and closed to everyone else. When the SSH user is root the sandbox runs
 * as a uid of its own and everything in them is chowned to it; otherwise the sandbox runs as the SSH user, who owns
 * them already. The task files the agent must not change stay the SSH user's (mounted read-only anyway), readable.
 */
export function handOverScript(runDir: string, sandbox: { uid: number; gid: number; chown: boolean }): string {
  const q = shellQuote;
  return [
    'set -e',
    `cd -- ${q(runDir)}`,
    ...(sandbox.chown ? [`chown -R -h -- ${sandbox.uid}:${sandbox.gid} workspace home`] : []),
    'chmod 0700 workspace home',
    'chmod -R go-w ptw task',
  ].join('\n');
}

/** Removes a run folder the launch gave up on before its supervisor started (it holds no recording yet). */
export function removeRunDirScript(runDir: string): string {
  return `rm -rf -- ${shellQuote(runDir)}`;
}

// --- the supervisor -------------------------------------------------------------------------------------------

/**
 * Starts the supervisor detached (docs/run-folder.md, "The supervisor process"): its own session, stdin from
 * /dev/null and output appended to record/supervisor.log, so the SSH channel closes at once and neither a dropped
 * connection nor the app quitting touches it. Prints its pid.
 *
 * It runs the copy the run folder holds, never this app's: the launcher uploaded `.supervisor/ptw-host.pyz`
 * (`supervise`), and a restarted supervisor is the one that wrote the run's state so far. A run an older app
 * launched has `.supervisor/ptw-supervisor.py` (the single-file supervisor, same flags) and keeps it; one whose copy
 * predates `--secrets-stdin` gets the old start, without keys.
 */
export function startSupervisorScript(input: {
  runDir: string;
  dockerSocket: string;
  containerId: string;
  resume: boolean;
}): string {
  const q = shellQuote;
  const args = [
    '--run-dir',
    q(input.runDir),
    '--docker-socket',
    q(input.dockerSocket),
    '--agent-container',
    q(input.containerId),
    ...(input.resume ? ['--resume'] : []),
  ].join(' ');
  // The agent's key(s) come on stdin (see {@link supervisorSecretsLine}): the supervisor reads them from fd 4 (the
  // exec channel's stdin, saved before `&` replaces it with /dev/null) and says `SECRETS <n>` on fd 3 (the channel's
  // stdout) before closing it, so this exec returns only once they have been read.
  return [
    `cd -- ${q(input.runDir)} || exit 70`,
    'command -v python3 >/dev/null 2>&1 || { echo "python3 is not on the PATH of the SSH session"; exit 69; }',
    'if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi',
    `if [ -f .supervisor/${HOST_PACKAGE_FILE} ]; then set -- .supervisor/${HOST_PACKAGE_FILE} supervise; keys=1`,
    'elif grep -q -e --secrets-stdin .supervisor/ptw-supervisor.py 2>/dev/null; then set -- .supervisor/ptw-supervisor.py; keys=1',
    'else set -- .supervisor/ptw-supervisor.py; keys=0; fi',
    'if [ "$keys" = 1 ]; then',
    '  exec 4<&0',
    `  $detach python3 "$@" ${args} --secrets-stdin --ready-fd 3 0<&4 4<&- 3>&1 >> record/supervisor.log 2>&1 &`,
    '  exec 4<&-',
    'else',
    `  $detach python3 "$@" ${args} < /dev/null >> record/supervisor.log 2>&1 &`,
    'fi',
    'echo "PID $!"',
  ].join('\n');
}

/**
 * What {@link startSupervisorScript} sends on stdin: the agent's key(s), redacted from the recording, and the
 * grader key(s) the evaluator container gets (redacted too). Either may be empty.
 */
export function supervisorSecretsLine(
  secrets: ReadonlyArray<{ name: string; value: string }>,
  evaluationEnv: ReadonlyArray<{ name: string; value: string }> = [],
): string {
  const pairs = (list: ReadonlyArray<{ name: string; value: string }>) =>
    list.map(({ name, value }) => ({ name, value }));
  return `${JSON.stringify({ secrets: pairs(secrets), evaluationEnv: pairs(evaluationEnv) })}\n`;
}

/** Writes a control request into place: it was uploaded under a dot-name the supervisor ignores. */
export function placeControlScript(tmpPath: string, finalPath: string): string {
  return `mv -f -- ${shellQuote(tmpPath)} ${shellQuote(finalPath)}`;
}

// --- syncing --------------------------------------------------------------------------------------------------

/** The files whose size and mtime a sync asks for (relative to the run folder); attempt logs by glob. */
const SYNC_STAT_FILES = [
  'run.json',
  'record/events.jsonl',
  'record/terminal.cast',
  'record/agent-stream.jsonl',
  'record/gpu.csv',
  'record/supervisor.log',
  'eval/eval.json',
  'eval/metrics.json',
  'ptw/prompt.txt',
  'integrity/record.json',
  'integrity/verdict.json',
];

/**
 * One exec per sync: the host's clock, the size and mtime of every record file, whether the supervisor process is
 * alive (its pid file names it; /proc says whether that pid is still a supervisor of this run), and state.json.
 */
export function syncStatScript(runDir: string): string {
  const q = shellQuote;
  return [
    `cd -- ${q(runDir)} 2>/dev/null || { echo GONE; exit 0; }`,
    'echo "NOW $(date +%s)"',
    `stat -c 'FILE %s %Y %n' -- ${SYNC_STAT_FILES.join(' ')} eval/attempt-*.log 2>/dev/null`,
    "pid=$(head -c 32 .supervisor/supervisor.pid 2>/dev/null | tr -dc '0-9')",
    `if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\\0' '\\n' < "/proc/$pid/cmdline" | grep -qxF -- ${q(runDir)}; then echo "SUPERVISOR alive $pid"; else echo "SUPERVISOR dead $pid"; fi`,
    "if [ -f state.json ]; then printf 'STATE '; base64 < state.json | tr -d '\\n'; echo; fi",
  ].join('\n');
}

export interface HostFileStat {
  size: number;
  /** Seconds. */
  mtime: number;
}

export interface SyncStat {
  /** The run folder is gone from the host. */
  gone: boolean;
  /** The host's clock, epoch ms (whole seconds). */
  hostNow: number | null;
  files: Map<string, HostFileStat>;
  supervisorAlive: boolean;
  supervisorPid: number | null;
  /** state.json's text, when there is one. */
  stateText: string | null;
}

export function parseSyncStat(stdout: string): SyncStat {
  const stat: SyncStat = {
    gone: false,
    hostNow: null,
    files: new Map(),
    supervisorAlive: false,
    supervisorPid: null,
    stateText: null,
  };
  for (const line of stdout.split('\n')) {
    if (line === 'GONE') stat.gone = true;
    else if (line.startsWith('NOW ')) {
      const seconds = Number(line.slice(4));
      stat.hostNow = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
    } else if (line.startsWith('FILE ')) {
      const match = /^FILE (\d+) (\d+) (.+)$/.exec(line);
      if (match) stat.files.set(match[3]!, { size: Number(match[1]), mtime: Number(match[2]) });
    } else if (line.startsWith('SUPERVISOR ')) {
      const [, alive, pid] = line.split(' ');
      stat.supervisorAlive = alive === 'alive';
      stat.supervisorPid = pid ? Number(pid) : null;
    } else if (line.startsWith('STATE ')) {
      stat.stateText = decode64(line.slice(6));
    }
  }
  return stat;
}

// --- final model manifest -------------------------------------------------------------------------------------

/**
 * Lists workspace/final_model on the host with sizes and SHA-256 (computed there: the weights never travel), never
 * following links (resources/host/ptw_host/manifest.py, run as its source: older run folders hold no ptw-host.pyz).
 */
export function manifestScript(runDir: string): string {
  return `python3 -c ${shellQuote(hostModuleProgram('manifest'))} ${shellQuote(runDir)}`;
}

// --- discovery ------------------------------------------------------------------------------------------------

/**
 * Lists the run folders under the run root (and any extra folders, from container labels): each one's run.json id,
 * state.json status and heartbeat, and whether its supervisor process is alive. JSON on stdout
 * (resources/host/ptw_host/discovery.py, run as its source: the host may hold no ptw-host.pyz yet).
 */
export function discoveryScript(runRoot: string, extraDirs: readonly string[]): string {
  return `python3 -c ${shellQuote(hostModuleProgram('discovery'))} ${[runRoot, ...extraDirs].map(shellQuote).join(' ')}`;
}

export interface DiscoveredFolder {
  dir: string;
  name: string;
  id?: string | null;
  agentContainerId?: string | null;
  stateContainerId?: string | null;
  status?: string | null;
  heartbeatAt?: number | null;
  supervisorPid?: number | null;
  supervisorAlive: boolean;
  error?: string;
  stateError?: string;
}

export interface DiscoveryListing {
  now: number;
  root: string;
  rootExists: boolean;
  runs: DiscoveredFolder[];
  error?: string;
}

export function parseDiscovery(stdout: string, who: string): DiscoveryListing {
  try {
    return JSON.parse(stdout) as DiscoveryListing;
  } catch {
    throw new AppError('INTERNAL', `Listing the runs on ${who} printed something unexpected: ${stdout.slice(0, 300)}`);
  }
}
