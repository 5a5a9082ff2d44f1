import type { GpuProcesses } from '../../shared/contract-monitor';
import {
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_QUERY,
  isNvidiaSmiPlaceholder,
  NvidiaSmiParseError,
  parseComputeApps,
  parseGpuInventory,
} from '../../shared/parsers/nvidia-smi';
import type { ExecResult } from '../hosts/host-exec-types';

/**
 * Per-process GPU memory on a run's host: `nvidia-smi --query-compute-apps` (the same query preflight runs), with
 * the GPU list to name each process's GPU by index. One exec, both answers separated by markers with their exit
 * codes, so "no nvidia-smi", "not supported" and "no processes" are told apart.
 */

const MARK = '---ptw-gpu-processes';

export function gpuProcessesScript(): string {
  return [
    `if ! command -v nvidia-smi >/dev/null 2>&1; then echo '${MARK}-none'; exit 0; fi`,
    `echo '${MARK}-gpus'`,
    `${GPU_INVENTORY_QUERY} 2>&1; echo "${MARK}-rc $?"`,
    `echo '${MARK}-apps'`,
    `${COMPUTE_APPS_QUERY} 2>&1; echo "${MARK}-rc $?"`,
  ].join('\n');
}

function section(stdout: string, name: string): { text: string; rc: number | null } | null {
  const start = stdout.indexOf(`${MARK}-${name}\n`);
  if (start < 0) return null;
  const body = stdout.slice(start + MARK.length + name.length + 2);
  const rcAt = body.indexOf(`${MARK}-rc `);
  if (rcAt < 0) return { text: body, rc: null };
  const rc = Number.parseInt(body.slice(rcAt + MARK.length + 4), 10);
  return { text: body.slice(0, rcAt), rc: Number.isFinite(rc) ? rc : null };
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

/** The answer for the run's GPUs (`gpuIndices`; empty: every GPU, as for a CPU-only run). Never throws. */
export function parseGpuProcessesOutput(
  result: ExecResult,
  context: { host: string; gpuIndices: readonly number[]; at: number },
): GpuProcesses {
  const unavailable = (reason: string): GpuProcesses => ({ available: false, reason, at: context.at, processes: [] });
  if (result.stdout.includes(`${MARK}-none`)) return unavailable(`${context.host} has no nvidia-smi on its PATH.`);
  const gpus = section(result.stdout, 'gpus');
  const apps = section(result.stdout, 'apps');
  if (!gpus || !apps) {
    return unavailable(
      `nvidia-smi on ${context.host} could not be asked (exit ${result.code ?? result.signal ?? '?'}: ${firstLine(result.stderr) || 'no output'}).`,
    );
  }
  if (apps.rc !== 0) {
    const said = firstLine(apps.text);
    return unavailable(`nvidia-smi on ${context.host} cannot list processes (exit ${apps.rc ?? '?'}: ${said}).`);
  }
  if (/^no running (compute )?processes found/i.test(apps.text.trim())) {
    return { available: true, reason: null, at: context.at, processes: [] };
  }
  if (apps.text.trim() !== '' && apps.text.split('\n').every((l) => l.trim() === '' || isNvidiaSmiPlaceholder(l))) {
    return unavailable(`nvidia-smi on ${context.host} does not report processes (${firstLine(apps.text)}).`);
  }
  try {
    const indexByUuid = new Map<string, number>();
    if (gpus.rc === 0) for (const gpu of parseGpuInventory(gpus.text)) indexByUuid.set(gpu.uuid, gpu.index);
    const wanted = new Set(context.gpuIndices);
    const processes = parseComputeApps(apps.text)
      .map((app) => ({
        gpuIndex: indexByUuid.get(app.gpuUuid) ?? null,
        gpuUuid: app.gpuUuid,
        pid: app.pid,
        name: app.processName,
        usedMemoryMiB: app.usedMemoryMiB,
      }))
      .filter((p) => wanted.size === 0 || p.gpuIndex === null || wanted.has(p.gpuIndex))
      .sort((a, b) => (b.usedMemoryMiB ?? -1) - (a.usedMemoryMiB ?? -1));
    return { available: true, reason: null, at: context.at, processes };
  } catch (err) {
    if (err instanceof NvidiaSmiParseError) {
      return unavailable(`nvidia-smi on ${context.host} printed what this version cannot read: ${err.message}`);
    }
    throw err;
  }
}
