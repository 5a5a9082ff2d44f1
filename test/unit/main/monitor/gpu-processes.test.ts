import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuProcessesScript, parseGpuProcessesOutput } from '../../../../src/main/monitor/gpu-processes';
import type { ExecResult } from '../../../../src/main/hosts/host-exec-types';
import { writeFakeNvidiaSmi } from '../../../support/fake-nvidia-smi';

// The script runs in a real sh against the fake nvidia-smi that replays a real H100 capture (load: three
// processes hold memory; idle: none), as it would in the host's SSH session.
const run = promisify(execFile);
const basePath = '/usr/local/bin:/usr/bin:/bin';

async function execScript(pathDirs: string): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await run('sh', ['-c', gpuProcessesScript()], { env: { PATH: pathDirs } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? null, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('per-process GPU memory from nvidia-smi', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-gpu-procs-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('lists the processes of the H100 under load, largest first, with their GPU index', async () => {
    const fake = await writeFakeNvidiaSmi({ binDir: path.join(work, 'load'), state: 'load' });
    const result = await execScript(`${fake.binDir}:${basePath}`);
    const answer = parseGpuProcessesOutput(result, { host: 'gpu1', gpuIndices: [0], at: 5 });
    expect(answer).toEqual({
      available: true,
      reason: null,
      at: 5,
      processes: [
        expect.objectContaining({ gpuIndex: 0, pid: 11345, name: './gpu_burn', usedMemoryMiB: 15690 }),
        expect.objectContaining({ gpuIndex: 0, pid: 11327, name: '/root/tools/memhog', usedMemoryMiB: 2566 }),
        expect.objectContaining({ gpuIndex: 0, pid: 11328, name: '/root/tools/memhog', usedMemoryMiB: 1542 }),
      ],
    });
  });

  it('keeps only the run’s GPUs', async () => {
    const fake = await writeFakeNvidiaSmi({ binDir: path.join(work, 'load2'), state: 'load' });
    const result = await execScript(`${fake.binDir}:${basePath}`);
    expect(parseGpuProcessesOutput(result, { host: 'gpu1', gpuIndices: [3], at: 5 }).processes).toEqual([]);
  });

  it('lists none on the idle H100', async () => {
    const fake = await writeFakeNvidiaSmi({ binDir: path.join(work, 'idle'), state: 'idle' });
    const result = await execScript(`${fake.binDir}:${basePath}`);
    expect(parseGpuProcessesOutput(result, { host: 'gpu1', gpuIndices: [], at: 5 })).toEqual({
      available: true,
      reason: null,
      at: 5,
      processes: [],
    });
  });

  it('says so when the host has no nvidia-smi', async () => {
    const empty = path.join(work, 'empty');
    await rm(empty, { recursive: true, force: true });
    const result = await execScript(`${empty}:/bin:/usr/bin`);
    // /usr/bin may hold a real nvidia-smi on a GPU machine; then this case cannot be shown here.
    if (!result.stdout.includes('-none')) return;
    const answer = parseGpuProcessesOutput(result, { host: 'gpu1', gpuIndices: [], at: 5 });
    expect(answer).toMatchObject({ available: false, processes: [] });
    expect(answer.reason).toBe('gpu1 has no nvidia-smi on its PATH.');
  });

  it('reports an nvidia-smi that fails or cannot report processes, without throwing', async () => {
    const bin = path.join(work, 'broken');
    await mkdir(bin, { recursive: true });
    // What nvidia-smi prints when the driver and the library disagree (exit 18 in its man page).
    await writeFile(
      path.join(bin, 'nvidia-smi'),
      '#!/bin/sh\necho "Failed to initialize NVML: Driver/library version mismatch"\nexit 18\n',
    );
    await chmod(path.join(bin, 'nvidia-smi'), 0o755);
    const failed = parseGpuProcessesOutput(await execScript(`${bin}:${basePath}`), {
      host: 'gpu1',
      gpuIndices: [],
      at: 5,
    });
    expect(failed.available).toBe(false);
    expect(failed.reason).toContain('exit 18: Failed to initialize NVML');

    const notSupported = parseGpuProcessesOutput(
      {
        code: 0,
        stderr: '',
        stdout:
          '---ptw-gpu-processes-gpus\n---ptw-gpu-processes-rc 0\n---ptw-gpu-processes-apps\n[Not Supported]\n---ptw-gpu-processes-rc 0\n',
      },
      { host: 'gpu1', gpuIndices: [], at: 5 },
    );
    expect(notSupported).toMatchObject({ available: false, processes: [] });
    expect(notSupported.reason).toContain('does not report processes ([Not Supported])');

    const garbled = parseGpuProcessesOutput(
      {
        code: 0,
        stderr: '',
        stdout:
          '---ptw-gpu-processes-gpus\n---ptw-gpu-processes-rc 0\n---ptw-gpu-processes-apps\nGPU-1, x, y, z\n---ptw-gpu-processes-rc 0\n',
      },
      { host: 'gpu1', gpuIndices: [], at: 5 },
    );
    expect(garbled.available).toBe(false);
    expect(garbled.reason).toContain('cannot read');
  });
});
