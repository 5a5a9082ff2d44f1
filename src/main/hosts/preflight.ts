import type { PreflightCheck, PreflightReport } from '../../shared/hosts';
import type { ExecResult, HostSession } from './host-exec-types';
import {
  checkAgentClis,
  checkDisk,
  checkDocker,
  checkGpuBusy,
  checkGpuContainer,
  checkGpus,
  checkImages,
  checkNvidiaRuntime,
  checkSsh,
  errorMessage,
  type Facts,
} from './preflight-checks';
import { type CheckOutcome, DEFAULT_DISK_THRESHOLDS, type DiskThresholds, worstStatus } from './preflight-judges';

/**
 * Preflight: can this host run a post-training job right now? Nine checks in a fixed order, each reported as
 * `running` and then with its result, so the UI fills in row by row. A failing check never stops the later ones;
 * checks that need something an earlier one could not provide (a Docker connection, the GPU list) skip with why.
 * This file is the runner (order, progress, cancellation); the checks are in preflight-checks.ts, the pure
 * judgements of what they found in preflight-judges.ts.
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
  { id: 'agent-clis', title: 'Agent CLIs in the run image' },
] as const;
export type PreflightCheckId = (typeof PREFLIGHT_CHECKS)[number]['id'];

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
  await run('images', () => checkImages(input, timeouts, facts.docker));
  await run('agent-clis', () => checkAgentClis(input, timeouts, facts.docker));

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
