import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GPU_SAMPLE_FIELDS } from '../../../../src/shared/parsers/nvidia-smi';
import { parseGpuCsv } from '../../../../src/shared/runs/gpu-csv';
import { projectQueryCsv } from '../../../support/fake-nvidia-smi';

// What a real H100 printed for the sample query (test/fixtures/PROVENANCE.md), as the supervisor appends it.
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/nvidia-smi/extracted');
const sampleLine = (state: 'idle' | 'load'): string =>
  projectQueryCsv(
    readFileSync(path.join(fixtures, `h100-80gb-hbm3__${state}__query-gpu-all-fields.csv.txt`), 'utf8'),
    GPU_SAMPLE_FIELDS,
    { header: false, units: false },
    {},
  ).trim();

describe('parseGpuCsv', () => {
  it('reads the supervisor lines built from real H100 samples', () => {
    const text = `1763899200000, ${sampleLine('idle')}\n1763899201000, ${sampleLine('load')}\n`;
    const parsed = parseGpuCsv(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.samples).toHaveLength(2);
    expect(parsed.samples[0]).toMatchObject({ t: 1763899200000, index: 0, memoryTotalMiB: 81559 });
    expect(parsed.samples[1]?.t).toBe(1763899201000);
    expect(parsed.samples[1]?.utilizationGpuPct).toBeGreaterThan(0);
  });

  it('turns [N/A] into null and skips a header', () => {
    const parsed = parseGpuCsv(
      'epoch_ms, index, utilization.gpu, memory.used, memory.total, power.draw, temperature.gpu\n' +
        '1000, 0, 45, 1234, 81559, [N/A], 41\n' +
        '1000, 1, [Not Supported], 0, 81559, 69.85, [N/A]\n',
    );
    expect(parsed.problems).toEqual([]);
    expect(parsed.samples).toEqual([
      {
        t: 1000,
        index: 0,
        utilizationGpuPct: 45,
        memoryUsedMiB: 1234,
        memoryTotalMiB: 81559,
        powerDrawW: null,
        temperatureC: 41,
      },
      {
        t: 1000,
        index: 1,
        utilizationGpuPct: null,
        memoryUsedMiB: 0,
        memoryTotalMiB: 81559,
        powerDrawW: 69.85,
        temperatureC: null,
      },
    ]);
  });

  it('reads values with units too', () => {
    const parsed = parseGpuCsv('1000, 0, 100 %, 80000 MiB, 81559 MiB, 690.12 W, 70\n');
    expect(parsed.samples[0]).toMatchObject({ utilizationGpuPct: 100, memoryUsedMiB: 80000, powerDrawW: 690.12 });
  });

  it('reports bad lines with their numbers and keeps the rest', () => {
    const parsed = parseGpuCsv(
      [
        '1000, 0, 1, 2, 3, 4, 5',
        'yesterday, 0, 1, 2, 3, 4, 5',
        '1001, 0, 1, 2',
        '1002, 0, lots, 2, 3, 4, 5',
        '1003, 0, 1, 2, 3, 4, 5',
        '',
      ].join('\n'),
      'record/gpu.csv',
    );
    expect(parsed.samples.map((s) => s.t)).toEqual([1000, 1003]);
    expect(parsed.problems.map((p) => [p.source, p.line])).toEqual([
      ['record/gpu.csv', 2],
      ['record/gpu.csv', 3],
      ['record/gpu.csv', 4],
    ]);
    expect(parsed.problems[0]?.message).toBe('expected epoch milliseconds first, found "yesterday"');
    expect(parsed.problems[1]?.message).toMatch(/^expected 6 comma-separated values/);
    expect(parsed.problems[2]?.message).toMatch(/^utilization.gpu is not a number/);
  });

  it('holds back an unterminated last line, which may be cut mid-number', () => {
    const parsed = parseGpuCsv('1000, 0, 1, 2, 3, 4, 5\n1001, 0, 1, 2, 3, 4, 4');
    expect(parsed.samples).toHaveLength(1);
    expect(parsed.partialTail).toBe('1001, 0, 1, 2, 3, 4, 4');
    expect(parsed.problems).toEqual([]);
  });
});
