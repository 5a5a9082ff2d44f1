import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  COMPUTE_APPS_FIELDS,
  GPU_INVENTORY_FIELDS,
  GPU_INVENTORY_QUERY,
  GPU_SAMPLE_FIELDS,
  GPU_SAMPLE_QUERY,
  NvidiaSmiParseError,
  parseComputeApps,
  parseGpuInventory,
  parseGpuSamples,
  parseNvidiaSmiList,
  parseNvidiaSmiTable,
} from '../../../../src/shared/parsers/nvidia-smi';
import { COMPUTE_APPS_ALIASES, projectQueryCsv } from '../../../support/fake-nvidia-smi';

// Real output of an H100 80GB HBM3 host, driver 590.48.01 (test/fixtures/PROVENANCE.md, commands in INDEX.md).
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/nvidia-smi/extracted');
const read = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8');

const H100 = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  uuid: 'GPU-00000000-0000-0000-0000-000000000000',
  memoryTotalMiB: 81559,
  driverVersion: '590.48.01',
};

/** The query's output, cut from the capture's CSV as the fake nvidia-smi cuts it (see projectQueryCsv). */
function project(csv: string, fields: readonly string[], format: { header: boolean; units: boolean }): string {
  const apps = fields.includes('pid');
  return projectQueryCsv(csv, fields, format, apps ? COMPUTE_APPS_ALIASES : {});
}

const idleAll = read('h100-80gb-hbm3__idle__query-gpu-all-fields.csv.txt');
const loadAll = read('h100-80gb-hbm3__load__query-gpu-all-fields.csv.txt');
const loadApps = read('h100-80gb-hbm3__load__query-compute-apps.csv.txt');

describe('query commands', () => {
  it('asks for exactly the fields the parsers read', () => {
    expect(GPU_INVENTORY_QUERY).toBe(
      'nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version --format=csv,noheader,nounits',
    );
    expect(GPU_SAMPLE_QUERY).toBe(
      'nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu --format=csv,noheader,nounits',
    );
  });
});

describe('parseGpuInventory', () => {
  it('reads the preflight query (noheader, nounits)', () => {
    const text = project(loadAll, GPU_INVENTORY_FIELDS, { header: false, units: false });
    expect(text).toBe('0, NVIDIA H100 80GB HBM3, GPU-00000000-0000-0000-0000-000000000000, 81559, 590.48.01\n');
    expect(parseGpuInventory(text)).toEqual([H100]);
  });

  it('reads the same fields with a header and units, in any column order, among others', () => {
    expect(parseGpuInventory(project(idleAll, GPU_INVENTORY_FIELDS, { header: true, units: true }))).toEqual([H100]);
    // The capture's own 212-column CSV: the header says where each field is.
    expect(parseGpuInventory(idleAll)).toEqual([H100]);
  });

  it('returns nothing for empty output', () => {
    expect(parseGpuInventory('')).toEqual([]);
    expect(parseGpuInventory('\n')).toEqual([]);
  });

  it('names the line of a malformed row', () => {
    const good = project(loadAll, GPU_INVENTORY_FIELDS, { header: false, units: false });
    const bad = `${good}1, NVIDIA H100 80GB HBM3, GPU-1\n`;
    expect(() => parseGpuInventory(bad)).toThrow(NvidiaSmiParseError);
    expect(() => parseGpuInventory(bad)).toThrow(/line 2: expected 5 comma-separated values.*found 3/);
    const err = (() => {
      try {
        parseGpuInventory(bad);
      } catch (e) {
        return e as NvidiaSmiParseError;
      }
    })();
    expect(err?.line).toBe(2);
    expect(err?.text).toBe('1, NVIDIA H100 80GB HBM3, GPU-1');
  });

  it('refuses a memory value that is not MiB, and a non-numeric index', () => {
    expect(() => parseGpuInventory('0, NVIDIA H100 80GB HBM3, GPU-0, 80 GiB, 590.48.01')).toThrow(
      /line 1: memory.total is not a number in MiB: 80 GiB/,
    );
    expect(() => parseGpuInventory('x, NVIDIA H100 80GB HBM3, GPU-0, 81559, 590.48.01')).toThrow(
      /line 1: index is not an integer/,
    );
  });

  it('refuses text that is not the query output, such as a driver error', () => {
    const driverDown =
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";
    expect(() => parseGpuInventory(driverDown)).toThrow(/line 1: expected 5 comma-separated values/);
  });
});

describe('parseGpuSamples', () => {
  it('reads the 1 Hz sample under load and idle (noheader, nounits)', () => {
    expect(parseGpuSamples(project(loadAll, GPU_SAMPLE_FIELDS, { header: false, units: false }))).toEqual([
      {
        index: 0,
        utilizationGpuPct: 100,
        memoryUsedMiB: 19818,
        memoryTotalMiB: 81559,
        powerDrawW: 631.95,
        temperatureC: 59,
      },
    ]);
    expect(parseGpuSamples(project(idleAll, GPU_SAMPLE_FIELDS, { header: false, units: false }))).toEqual([
      { index: 0, utilizationGpuPct: 0, memoryUsedMiB: 0, memoryTotalMiB: 81559, powerDrawW: 69.85, temperatureC: 41 },
    ]);
  });

  it('reads the same sample with header and units', () => {
    const text = project(loadAll, GPU_SAMPLE_FIELDS, { header: true, units: true });
    expect(text.split('\n')[0]).toBe(
      'index, utilization.gpu [%], memory.used [MiB], memory.total [MiB], power.draw [W], temperature.gpu',
    );
    expect(text.split('\n')[1]).toBe('0, 100 %, 19818 MiB, 81559 MiB, 631.95 W, 59');
    expect(parseGpuSamples(text)[0]).toMatchObject({ utilizationGpuPct: 100, powerDrawW: 631.95 });
    // Header kept, units dropped (nounits alone).
    expect(parseGpuSamples(project(loadAll, GPU_SAMPLE_FIELDS, { header: true, units: false }))[0]).toMatchObject({
      memoryUsedMiB: 19818,
    });
  });

  it('turns [N/A] and [Not Supported] into null', () => {
    // The capture's module.power.draw.average is a real `[N/A]`; read it where power.draw would be.
    const withNa = project(loadAll, ['index', 'utilization.gpu', 'memory.used', 'memory.total'], {
      header: false,
      units: false,
    }).trimEnd();
    const naPower = project(loadAll, ['module.power.draw.average'], { header: false, units: false }).trim();
    expect(naPower).toBe('[N/A]');
    expect(parseGpuSamples(`${withNa}, ${naPower}, 59\n`)[0]).toMatchObject({ powerDrawW: null, temperatureC: 59 });
    // `[Not Supported]` is what consumer GPUs print for some fields (the capture's help text documents the form).
    expect(parseGpuSamples('0, [Not Supported], 512, 8192, [Not Supported], 45\n')).toEqual([
      {
        index: 0,
        utilizationGpuPct: null,
        memoryUsedMiB: 512,
        memoryTotalMiB: 8192,
        powerDrawW: null,
        temperatureC: 45,
      },
    ]);
  });

  it('names the line of a malformed sample', () => {
    const good = project(idleAll, GPU_SAMPLE_FIELDS, { header: false, units: false });
    expect(() => parseGpuSamples(`${good}${good}1, 5, lots, 81559, 70, 40\n`)).toThrow(
      /line 3: memory.used is not a number in MiB: lots/,
    );
  });
});

describe('parseComputeApps', () => {
  const memhog = { gpuUuid: H100.uuid, processName: '/root/tools/memhog' };
  const expected = [
    { ...memhog, pid: 11327, usedMemoryMiB: 2566 },
    { ...memhog, pid: 11328, usedMemoryMiB: 1542 },
    { gpuUuid: H100.uuid, pid: 11345, processName: './gpu_burn', usedMemoryMiB: 15690 },
  ];

  it('reads the captured query (header, units, more fields, used_gpu_memory for used_memory)', () => {
    expect(parseComputeApps(loadApps)).toEqual(expected);
  });

  it('reads the preflight query (noheader, nounits)', () => {
    const text = project(loadApps, COMPUTE_APPS_FIELDS, { header: false, units: false });
    expect(text.split('\n')[0]).toBe('GPU-00000000-0000-0000-0000-000000000000, 11327, /root/tools/memhog, 2566');
    expect(parseComputeApps(text)).toEqual(expected);
  });

  it('lists nothing for an idle GPU: header only, or no output at all', () => {
    expect(parseComputeApps(loadApps.split('\n')[0] ?? '')).toEqual([]);
    expect(parseComputeApps('')).toEqual([]);
  });

  it('keeps commas inside a process name', () => {
    expect(parseComputeApps(`${H100.uuid}, 42, python train.py --tags a,b, 1000\n`)).toEqual([
      { gpuUuid: H100.uuid, pid: 42, processName: 'python train.py --tags a,b', usedMemoryMiB: 1000 },
    ]);
  });

  it('names the line of a malformed row', () => {
    expect(() => parseComputeApps(`${H100.uuid}, 42\n`)).toThrow(/line 1: expected 4 comma-separated values/);
    expect(() => parseComputeApps(`${H100.uuid}, 1, a, 2\n${H100.uuid}, pid, a, 2\n`)).toThrow(
      /line 2: pid is not an integer/,
    );
  });
});

describe('parseNvidiaSmiList', () => {
  it('reads nvidia-smi -L', () => {
    expect(parseNvidiaSmiList(read('h100-80gb-hbm3__list-L.txt'))).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: H100.uuid, migDevices: [] },
    ]);
  });

  it('names an unexpected line', () => {
    expect(() => parseNvidiaSmiList(`${read('h100-80gb-hbm3__list-L.txt')}No devices were found\n`)).toThrow(
      /line 2: not a `GPU n: NAME \(UUID: …\)` line: "No devices were found"/,
    );
  });
});

describe('parseNvidiaSmiTable', () => {
  it('reads versions and the GPU block of the idle table; no processes', () => {
    expect(parseNvidiaSmiTable(read('h100-80gb-hbm3__idle__default-table.txt'))).toEqual({
      smiVersion: '590.48.01',
      driverVersion: '590.48.01',
      cudaVersion: '13.1',
      gpus: [
        {
          index: 0,
          name: 'NVIDIA H100 80GB HBM3',
          busId: '00000000:00:09.0',
          temperatureC: 41,
          performanceState: 'P0',
          powerDrawW: 69,
          powerCapW: 700,
          memoryUsedMiB: 0,
          memoryTotalMiB: 81559,
          utilizationGpuPct: 0,
        },
      ],
      processes: [],
    });
  });

  it('reads the process table under load', () => {
    const table = parseNvidiaSmiTable(read('h100-80gb-hbm3__load__default-table.txt'));
    expect(table.gpus[0]).toMatchObject({
      temperatureC: 59,
      powerDrawW: 629,
      memoryUsedMiB: 19818,
      utilizationGpuPct: 100,
    });
    expect(table.processes).toEqual([
      {
        gpu: 0,
        gpuInstance: null,
        computeInstance: null,
        pid: 11327,
        type: 'C',
        processName: '/root/tools/memhog',
        usedMemoryMiB: 2566,
      },
      {
        gpu: 0,
        gpuInstance: null,
        computeInstance: null,
        pid: 11328,
        type: 'C',
        processName: '/root/tools/memhog',
        usedMemoryMiB: 1542,
      },
      {
        gpu: 0,
        gpuInstance: null,
        computeInstance: null,
        pid: 11345,
        type: 'C',
        processName: './gpu_burn',
        usedMemoryMiB: 15690,
      },
    ]);
  });

  it('names a process row it cannot read', () => {
    const table = read('h100-80gb-hbm3__load__default-table.txt').split('\n');
    const row = table.findIndex((line) => line.includes('./gpu_burn'));
    table[row] = '|    0   N/A  N/A    garbled row                                                         |';
    expect(() => parseNvidiaSmiTable(table.join('\n'))).toThrow(new RegExp(`line ${row + 1}: not a process row`));
  });

  it('refuses text without the NVIDIA-SMI banner', () => {
    expect(() => parseNvidiaSmiTable('No devices were found\n')).toThrow(/line 1: no `NVIDIA-SMI/);
  });
});
