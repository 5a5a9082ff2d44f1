import { readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MonitorService } from '../../../../src/main/monitor/monitor-service';
import type { RunMonitor } from '../../../../src/shared/contract-monitor';
import { GPU_SAMPLE_FIELDS } from '../../../../src/shared/parsers/nvidia-smi';
import { projectQueryCsv } from '../../../support/fake-nvidia-smi';

// A run mirror as the syncer leaves it (PTW_HOME/runs/<id>/), with gpu.csv lines built from what a real H100
// printed (load: 100 %, 19818 MiB, 631.95 W, 59 °C), read incrementally as lines are appended.
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/nvidia-smi/extracted');
const h100 = (state: 'idle' | 'load'): string =>
  projectQueryCsv(
    readFileSync(path.join(fixtures, `h100-80gb-hbm3__${state}__query-gpu-all-fields.csv.txt`), 'utf8'),
    GPU_SAMPLE_FIELDS,
    { header: false, units: false },
  ).trim();

const ID = 'r-20261123-120000-ab12';

describe('MonitorService', () => {
  let home: string;
  let dir: string;
  let started: number;
  let emitted: RunMonitor[][];
  let service: MonitorService;

  const writeState = (state: Record<string, unknown>) =>
    writeFile(path.join(dir, 'state.json'), JSON.stringify({ heartbeatAt: Date.now(), ...state }));
  const gpuLines = (from: number, count: number, state: 'idle' | 'load') =>
    Array.from({ length: count }, (_, i) => `${from + i * 1000}, ${h100(state)}\n`).join('');

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-monitor-'));
    dir = path.join(home, 'runs', ID);
    await mkdir(dir, { recursive: true });
    started = Date.now() - 60_000;
    await writeFile(
      path.join(dir, 'run.json'),
      JSON.stringify({
        schema: 1,
        id: ID,
        createdAt: new Date(started - 5_000).toISOString(),
        spec: { task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' } },
        supervisor: { budgetSeconds: 600, gpuIndices: [0] },
      }),
    );
    await writeFile(
      path.join(dir, 'sync.json'),
      JSON.stringify({ schema: 1, runId: ID, host: 'gpu1', hostRunDir: '/runs/x', hostClockOffsetMs: 1234 }),
    );
    await writeState({ status: 'running', startedAt: started, deadline: started + 600_000 });
    await writeFile(
      path.join(dir, 'events.jsonl'),
      `${JSON.stringify({ t: started, type: 'agent-started', deadline: started + 600_000 })}\n`,
    );
    await writeFile(path.join(dir, 'gpu.csv'), gpuLines(started, 50, 'load'));
    emitted = [];
    service = new MonitorService({
      home,
      session: () => Promise.reject(new Error('no host in this test')),
      watching: () => true,
      emit: (list) => emitted.push(list),
      emitSettings: () => undefined,
      intervalMs: 20,
    });
  });

  afterEach(async () => {
    await service.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('sums up a live run: latest sample, sparkline, clock offset, events', async () => {
    const [monitor] = await service.overview();
    expect(monitor).toMatchObject({
      id: ID,
      hostClockOffsetMs: 1234,
      eventCount: 1,
      lastEventAt: started,
      warnings: [],
      gpuSampling: 'available',
      latest: {
        t: started + 49_000,
        gpus: [
          {
            index: 0,
            utilizationPct: 100,
            memoryUsedMiB: 19818,
            memoryTotalMiB: 81559,
            powerW: 631.95,
            temperatureC: 59,
          },
        ],
      },
      idle: { idle: false, since: null, quietMs: 0 },
    });
    expect(monitor!.spark.filter((v) => v !== null).every((v) => v === 100)).toBe(true);
  });

  it('reads what is appended, and starts over when the mirror cut a file back', async () => {
    await service.overview();
    await appendFile(path.join(dir, 'gpu.csv'), gpuLines(started + 50_000, 5, 'idle'));
    await appendFile(
      path.join(dir, 'events.jsonl'),
      `${JSON.stringify({ t: started + 51_000, type: 'warning', secondsLeft: 300, deadline: started + 600_000 })}\n` +
        '{"t": 1, "type": "cut sh', // no newline yet: not counted
    );
    let [monitor] = await service.overview();
    expect(monitor?.latest?.gpus[0]?.utilizationPct).toBe(0);
    expect(monitor?.eventCount).toBe(2);
    expect(monitor?.warnings).toEqual([{ t: started + 51_000, secondsLeft: 300 }]);
    const series = await service.gpu(ID, 1_000, 120);
    expect(series.sampleCount).toBe(55);
    expect(series.gpus[0]?.whole.utilizationPct.slice(-6)).toEqual([100, 0, 0, 0, 0, 0]);

    // A sync that died mid-append is cut back by the mirror: the monitor must not keep counting the old bytes.
    await truncate(path.join(dir, 'gpu.csv'), 0);
    await writeFile(path.join(dir, 'gpu.csv'), gpuLines(started, 3, 'load'));
    [monitor] = await service.overview();
    expect((await service.gpu(ID, 1_000, 120)).sampleCount).toBe(3);
    expect(monitor?.latest?.t).toBe(started + 2_000);
  });

  it('gives the chart the whole run downsampled and the last seconds at 1 Hz, and reports bad lines', async () => {
    await appendFile(path.join(dir, 'gpu.csv'), 'not a sample\n');
    const series = await service.gpu(ID, 20, 10);
    expect(series.gpus).toHaveLength(1);
    expect(series.gpus[0]!.whole.t.length).toBeLessThanOrEqual(20);
    expect(series.gpus[0]!.whole.memoryUsedMiB.every((v) => v === 19818)).toBe(true);
    expect(series.gpus[0]!.tail.t).toHaveLength(11);
    expect(series.problems).toEqual([{ line: 51, message: expect.stringContaining('epoch milliseconds') }]);
  });

  it('raises the idle alert after the preferred quiet minutes, only while the budget runs', async () => {
    const now = Date.now() + 1234;
    const startedLong = now - 20 * 60_000;
    await writeState({ status: 'running', startedAt: startedLong, deadline: startedLong + 3_600_000 });
    // 5 busy minutes, then quiet up to now, one line every 10 s.
    const lines = Array.from({ length: 120 }, (_, i) => {
      const t = startedLong + i * 10_000;
      return `${t}, ${h100(t < startedLong + 5 * 60_000 ? 'load' : 'idle')}\n`;
    });
    await writeFile(path.join(dir, 'gpu.csv'), lines.join(''));
    let [monitor] = await service.overview();
    expect(monitor?.idle.idle).toBe(true);
    expect(monitor?.idle.since).toBe(startedLong + 5 * 60_000);

    expect(await service.setSettings({ idleMinutes: 30 })).toEqual({ idleMinutes: 30, idleThresholdPct: 5 });
    [monitor] = await service.overview();
    expect(monitor?.idle.idle).toBe(false);
    expect(await service.settings()).toEqual({ idleMinutes: 30, idleThresholdPct: 5 });

    await service.setSettings({ idleMinutes: 10 });
    await writeState({ status: 'stopping', startedAt: startedLong, stoppedAt: now, stopReason: 'user-stop' });
    [monitor] = await service.overview();
    expect(monitor?.idle.idle).toBe(false);
  });

  it('pushes the overview while someone watches, and only when it changed', async () => {
    service.start();
    await expect.poll(() => emitted.length).toBeGreaterThan(0);
    const count = emitted.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(emitted.length).toBe(count);
    await appendFile(path.join(dir, 'gpu.csv'), gpuLines(started + 50_000, 1, 'idle'));
    await expect.poll(() => emitted.length).toBe(count + 1);
    expect(emitted.at(-1)?.[0]?.latest?.gpus[0]?.utilizationPct).toBe(0);
  });

  it('names the run when it is not there', async () => {
    await expect(service.gpu('r-20261123-120000-zzzz', 100, 10)).rejects.toThrow(/No run r-20261123-120000-zzzz/);
  });
});
