import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GpuInfo } from '../../src/shared/hosts';
import { COMPUTE_APPS_FIELDS, GPU_INVENTORY_FIELDS } from '../../src/shared/parsers/nvidia-smi';
import { COMPUTE_APPS_ALIASES, NVIDIA_SMI_FIXTURES, projectQueryCsv } from './fake-nvidia-smi';

/** Preflight's tests: what an H100 host's nvidia-smi prints, as the preflight's queries ask for it. */

// Real nvidia-smi output of an H100 host (test/fixtures/PROVENANCE.md).
const read = (name: string): string => readFileSync(path.join(NVIDIA_SMI_FIXTURES, 'extracted', name), 'utf8');
export const inventoryText = projectQueryCsv(
  read('h100-80gb-hbm3__idle__query-gpu-all-fields.csv.txt'),
  GPU_INVENTORY_FIELDS,
  {
    header: false,
    units: false,
  },
);
export const loadApps = read('h100-80gb-hbm3__load__query-compute-apps.csv.txt');
export const loadAppsText = projectQueryCsv(
  loadApps,
  COMPUTE_APPS_FIELDS,
  { header: false, units: false },
  COMPUTE_APPS_ALIASES,
);
export const listText = read('h100-80gb-hbm3__list-L.txt');
export const tableText = read('h100-80gb-hbm3__idle__default-table.txt');
export const GiB = 1024 ** 3;

export const H100: GpuInfo = {
  index: 0,
  name: 'NVIDIA H100 80GB HBM3',
  uuid: 'GPU-00000000-0000-0000-0000-000000000000',
  memoryTotalMiB: 81559,
  driverVersion: '590.48.01',
};
