import { randomBytes } from 'node:crypto';
import type Dockerode from 'dockerode';
import { AppError } from '../../shared/errors';
import type { CheckStatus, GpuInfo } from '../../shared/hosts';
import {
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_QUERY,
  type ListedGpu,
  parseComputeApps,
  parseGpuInventory,
  parseNvidiaSmiList,
  parseNvidiaSmiTable,
} from '../../shared/parsers/nvidia-smi';
import { getAgent } from '../../shared/runs/agent-catalog';
import { SCRIPTED_SETUP } from '../../shared/runs/scripted-agents';
import type { ExecResult, HostSession } from './host-exec-types';
import type { PreflightInput, PreflightTimeouts } from './preflight';
import {
  AGENT_CLI_PROBE_SCRIPT,
  type AgentCliProbe,
  compareContainerGpus,
  type CheckOutcome,
  demuxDockerLog,
  describeGpuContainerError,
  type DiskThresholds,
  type DockerInfoLike,
  DOCKER_UNAVAILABLE_FIX,
  dockerErrorMessage,
  formatAge,
  formatBytes,
  judgeDiskSpace,
  judgeAgentClis,
  judgeGpuOccupancy,
  judgeNvidiaRuntime,
  mapComputeAppsToGpus,
  NVIDIA_DRIVER_FIX,
  parseDfOutput,
  parseOsRelease,
  remotePathExpression,
} from './preflight-judges';

/**
 * Preflight's checks: each asks the host (a command over SSH, the Docker API) and hands what it found to a judge
 * (preflight-judges.ts). The runner (preflight.ts) calls them in order and reports their progress.
 */

function statusCodeOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

export function errorMessage(err: unknown): string {
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

/** A Docker-bound check when the Docker check could not connect. */
const NO_DOCKER: CheckOutcome = { status: 'skip', summary: 'Docker is not reachable (see the Docker check)' };

// --- the checks, in the order the runner makes them ----------------------------------------------------------

/** Facts earlier checks hand to later ones. */
export interface Facts {
  docker?: Dockerode;
  runtime?: CheckStatus;
  /** Undefined when the GPU list could not be read; `[]` never reaches later checks (gpus fails instead). */
  gpus?: GpuInfo[];
  freeGpus: number[];
}

export async function checkSsh(
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

export async function checkDocker(
  input: PreflightInput,
  timeouts: PreflightTimeouts,
  facts: Facts,
): Promise<CheckOutcome> {
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

export async function checkNvidiaRuntime(timeouts: PreflightTimeouts, facts: Facts): Promise<CheckOutcome> {
  if (!facts.docker) return NO_DOCKER;
  const info = (await withTimeout(facts.docker.info(), timeouts.dockerMs, 'docker info')) as DockerInfoLike;
  return judgeNvidiaRuntime(info);
}

export async function checkGpus(exec: (command: string) => Promise<ExecResult>, facts: Facts): Promise<CheckOutcome> {
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

export async function checkGpuContainer(
  input: PreflightInput,
  timeouts: PreflightTimeouts,
  facts: Facts,
): Promise<CheckOutcome> {
  const docker = facts.docker;
  if (!docker) return NO_DOCKER;
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

export async function checkGpuBusy(
  exec: (command: string) => Promise<ExecResult>,
  facts: Facts,
): Promise<CheckOutcome> {
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

export async function checkDisk(
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

/** The required images on the host's Docker (`docker`: the Docker check's connection, if it made one). */
export async function checkImages(
  input: PreflightInput,
  timeouts: PreflightTimeouts,
  docker: Dockerode | undefined,
): Promise<CheckOutcome> {
  if (!docker) return NO_DOCKER;
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

/** The agent CLIs preflight looks for: those a scripted rehearsal runs (Claude Code, Codex, Gemini CLI, OpenCode). */
export const AGENT_CLIS: readonly AgentCliProbe[] = Object.entries(SCRIPTED_SETUP).map(([id, setup]) => ({
  id,
  binary: getAgent(id as keyof typeof SCRIPTED_SETUP).binary ?? id,
  install: setup.install,
}));

/**
 * The agent CLIs' versions in the run image (the first required image): one throwaway container, no network, the
 * entrypoint bypassed, removed whatever happens. Information only: anything in the way makes it a skip, never a
 * failure.
 */
export async function checkAgentClis(
  input: PreflightInput,
  timeouts: PreflightTimeouts,
  docker: Dockerode | undefined,
): Promise<CheckOutcome> {
  if (!docker) return NO_DOCKER;
  const image = input.requiredImages[0];
  if (!image) return { status: 'skip', summary: 'This host profile names no run image' };
  let container: Dockerode.Container | undefined;
  try {
    await withTimeout(docker.getImage(image).inspect(), timeouts.dockerMs, `docker image inspect ${image}`);
    container = await docker.createContainer({
      name: `ptw-preflight-clis-${randomBytes(4).toString('hex')}`,
      Image: image,
      Entrypoint: ['/bin/sh', '-c', AGENT_CLI_PROBE_SCRIPT, 'ptw-agent-clis'],
      Cmd: AGENT_CLIS.map((cli) => cli.binary),
      Env: ['HOME=/tmp'],
      Labels: { 'ptw.preflight': 'agent-clis' },
      HostConfig: { NetworkMode: 'none', AutoRemove: false },
    });
    const started = container;
    await withTimeout(
      started.start().then(() => started.wait()),
      timeouts.gpuContainerMs,
      'The agent CLI probe container',
    );
    const logs = await started.logs({ stdout: true, stderr: true, follow: false });
    const { stdout } = demuxDockerLog(Buffer.isBuffer(logs) ? logs : Buffer.from(String(logs)));
    return judgeAgentClis(image, AGENT_CLIS, stdout);
  } catch (err) {
    if (statusCodeOf(err) === 404) return { status: 'skip', summary: `The run image ${image} is not on the host` };
    return { status: 'skip', summary: `Could not ask ${image} for its agent CLIs: ${dockerErrorMessage(err)}` };
  } finally {
    await container?.kill().catch(() => undefined);
    await container?.remove({ force: true }).catch(() => undefined);
  }
}
