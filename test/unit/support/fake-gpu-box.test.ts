import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPUTE_APPS_QUERY,
  GPU_INVENTORY_QUERY,
  GPU_SAMPLE_QUERY,
  parseComputeApps,
  parseGpuInventory,
} from '../../../src/shared/parsers/nvidia-smi';
import { writeFakeGpuBox } from '../../support/fake-gpu-box';

const run = promisify(execFile);

/** The benchmark's simulated GPU box: the app's own queries and parser see n idle H100s, each a separate GPU. */
describe('writeFakeGpuBox', () => {
  let work: string;
  let smi: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-gpu-box-'));
    smi = (await writeFakeGpuBox({ binDir: path.join(work, 'bin'), gpus: 8 })).scriptPath;
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  const ask = async (query: string) => (await run(smi, query.split(' ').slice(1))).stdout;

  it('lists the captured H100 eight times, told apart by index, UUID and PCI bus', async () => {
    const gpus = parseGpuInventory(await ask(GPU_INVENTORY_QUERY));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((g) => g.uuid)).size).toBe(8);
    expect(new Set(gpus.map((g) => g.name))).toEqual(new Set(['NVIDIA H100 80GB HBM3']));
    const bus = await ask('nvidia-smi --query-gpu=pci.bus_id,count --format=csv,noheader');
    expect(new Set(bus.trim().split('\n')).size).toBe(8);
    expect(bus).toContain(', 8');
    // The supervisor's 1 Hz sample has a row for every GPU a run may be given.
    expect((await ask(GPU_SAMPLE_QUERY)).trim().split('\n')).toHaveLength(8);
    // Idle: no process on any GPU.
    expect(parseComputeApps(await ask(COMPUTE_APPS_QUERY))).toEqual([]);
  });

  it('refuses a GPU count it cannot mean', async () => {
    await expect(writeFakeGpuBox({ binDir: path.join(work, 'none'), gpus: 0 })).rejects.toThrow(/1 to 64 GPUs, not 0/);
  });
});
