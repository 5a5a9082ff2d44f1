import type { GpuInfo } from '../hosts';

/**
 * Parsers for what `nvidia-smi` prints: the CSV query modes (`--query-gpu`, `--query-compute-apps`), the GPU list
 * (`-L`), `--version` and the default table. Pure string code, so main, the CLI and tests share it; every format
 * here is checked against real captures in test/fixtures/nvidia-smi/.
 */

/** Malformed nvidia-smi output; `line` is 1-based within the text that was parsed. */
export class NvidiaSmiParseError extends Error {
  readonly line: number;
  readonly text: string;

  constructor(line: number, text: string, problem: string) {
    const shown = text.length > 160 ? `${text.slice(0, 160)}…` : text;
    super(`nvidia-smi output, line ${line}: ${problem}: "${shown}"`);
    this.name = 'NvidiaSmiParseError';
    this.line = line;
    this.text = text;
  }
}

export const GPU_INVENTORY_FIELDS = ['index', 'name', 'uuid', 'memory.total', 'driver_version'] as const;
/** What preflight asks for: one line per GPU. */
export const GPU_INVENTORY_QUERY = `nvidia-smi --query-gpu=${GPU_INVENTORY_FIELDS.join(',')} --format=csv,noheader,nounits`;

export const GPU_SAMPLE_FIELDS = [
  'index',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'power.draw',
  'temperature.gpu',
] as const;
/** The 1 Hz sample of the run view. */
export const GPU_SAMPLE_QUERY = `nvidia-smi --query-gpu=${GPU_SAMPLE_FIELDS.join(',')} --format=csv,noheader,nounits`;

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;
/** Processes holding a compute context, to tell busy GPUs from free ones. */
export const COMPUTE_APPS_QUERY = `nvidia-smi --query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')} --format=csv,noheader,nounits`;

/**
 * Field names nvidia-smi accepts under two spellings (`--help-query-*` lists them as `"a" or "b"`); the header it
 * prints uses the first. Keyed by query kind because `name` means the GPU in one and the process in the other.
 */
const FIELD_ALIASES = {
  gpu: { gpu_name: 'name', gpu_uuid: 'uuid', gpu_bus_id: 'pci.bus_id' },
  apps: { name: 'process_name', used_memory: 'used_gpu_memory' },
} as const satisfies Record<string, Record<string, string>>;

type QueryKind = keyof typeof FIELD_ALIASES;

function canonicalField(kind: QueryKind, field: string): string {
  return (FIELD_ALIASES[kind] as Record<string, string>)[field] ?? field;
}

/** `memory.total [MiB]` → `memory.total` and `MiB`. */
function splitHeaderCell(cell: string): { name: string; unit: string | undefined } {
  const match = /^(.*?)\s*\[([^\]]*)\]$/.exec(cell.trim());
  return match ? { name: match[1] ?? '', unit: match[2] } : { name: cell.trim(), unit: undefined };
}

export interface CsvRow {
  /** 1-based line number in the parsed text. */
  line: number;
  text: string;
  /** Trimmed cells keyed by the requested field names (as requested, aliases not resolved). */
  cells: Record<string, string>;
  /** Unit per requested field from the header (`MiB` for `memory.total [MiB]`), when there was a header. */
  units: Record<string, string | undefined>;
}

/**
 * Splits `--format=csv` output into rows keyed by `fields`. A header line is recognised (and may list the fields in
 * any order, or more of them, e.g. a full `--query-gpu` capture); without one, cells are taken in `fields` order.
 * `freeTextField` may itself contain commas: extra cells are folded back into it.
 */
export function parseNvidiaSmiCsv(
  text: string,
  fields: readonly string[],
  options: { kind: QueryKind; freeTextField?: string },
): CsvRow[] {
  const lines = text.split(/\r?\n/);
  const wanted = fields.map((field) => canonicalField(options.kind, field));
  let columnOf: number[] = wanted.map((_, i) => i);
  let columnCount = fields.length;
  let units: (string | undefined)[] = fields.map(() => undefined);
  let firstData = 0;
  const firstIndex = lines.findIndex((line) => line.trim() !== '');
  if (firstIndex >= 0) {
    const header = (lines[firstIndex] ?? '').split(',').map(splitHeaderCell);
    const names = header.map((cell) => canonicalField(options.kind, cell.name));
    if (wanted.every((field) => names.includes(field))) {
      columnOf = wanted.map((field) => names.indexOf(field));
      units = columnOf.map((column) => header[column]?.unit);
      columnCount = header.length;
      firstData = firstIndex + 1;
    }
  }
  const freeColumn =
    options.freeTextField === undefined
      ? -1
      : columnOf[wanted.indexOf(canonicalField(options.kind, options.freeTextField))];
  const rows: CsvRow[] = [];
  for (let i = firstData; i < lines.length; i++) {
    const lineText = lines[i] ?? '';
    if (lineText.trim() === '') continue;
    const raw = lineText.split(',');
    let cells = raw;
    if (raw.length > columnCount && freeColumn !== undefined && freeColumn >= 0) {
      const extra = raw.length - columnCount;
      cells = [
        ...raw.slice(0, freeColumn),
        raw.slice(freeColumn, freeColumn + extra + 1).join(','),
        ...raw.slice(freeColumn + extra + 1),
      ];
    }
    if (cells.length !== columnCount) {
      throw new NvidiaSmiParseError(
        i + 1,
        lineText,
        `expected ${columnCount} comma-separated values (${fields.join(', ')}), found ${raw.length}`,
      );
    }
    const record: Record<string, string> = {};
    const unitRecord: Record<string, string | undefined> = {};
    fields.forEach((field, k) => {
      record[field] = (cells[columnOf[k] ?? k] ?? '').trim();
      unitRecord[field] = units[k];
    });
    rows.push({ line: i + 1, text: lineText, cells: record, units: unitRecord });
  }
  return rows;
}

/**
 * True for the placeholders nvidia-smi prints instead of a value: `[N/A]`, `N/A`, `[Not Supported]`,
 * `[Unknown Error]`, `[Insufficient Permissions]`, `[GPU is lost]`, `[Requested functionality has been deprecated]`.
 */
export function isNvidiaSmiPlaceholder(value: string): boolean {
  const v = value.trim();
  return v === 'N/A' || v === '' || /^\[[^\]]*\]$/.test(v);
}

/**
 * A number, with or without its unit (`81559 MiB`, `69.85 W`, `100 %`, or bare with `nounits`); a placeholder is
 * null. `unit` is the expected one; a different unit is an error, so a format change never passes as a number.
 */
function readNumber(row: CsvRow, field: string, unit: string | undefined): number | null {
  const value = row.cells[field] ?? '';
  if (isNvidiaSmiPlaceholder(value)) return null;
  const match = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z%]+)?$/.exec(value);
  const found = match?.[2];
  const headerUnit = row.units[field];
  if (!match || (found !== undefined && unit !== undefined && found !== unit)) {
    throw new NvidiaSmiParseError(row.line, row.text, `${field} is not a number${unit ? ` in ${unit}` : ''}: ${value}`);
  }
  if (headerUnit !== undefined && unit !== undefined && headerUnit !== unit) {
    throw new NvidiaSmiParseError(row.line, row.text, `${field} is in ${headerUnit}, expected ${unit}`);
  }
  return Number(match[1]);
}

function readInteger(row: CsvRow, field: string): number {
  const value = row.cells[field] ?? '';
  if (!/^\d+$/.test(value)) throw new NvidiaSmiParseError(row.line, row.text, `${field} is not an integer: ${value}`);
  return Number(value);
}

function readText(row: CsvRow, field: string): string {
  const value = row.cells[field] ?? '';
  if (value === '') throw new NvidiaSmiParseError(row.line, row.text, `${field} is empty`);
  return value;
}

/** `--query-gpu=index,name,uuid,memory.total,driver_version`, any of csv / noheader / nounits. */
export function parseGpuInventory(text: string): GpuInfo[] {
  return parseNvidiaSmiCsv(text, GPU_INVENTORY_FIELDS, { kind: 'gpu', freeTextField: 'name' }).map((row) => {
    const memoryTotalMiB = readNumber(row, 'memory.total', 'MiB');
    if (memoryTotalMiB === null) {
      throw new NvidiaSmiParseError(row.line, row.text, `memory.total is not reported (${row.cells['memory.total']})`);
    }
    return {
      index: readInteger(row, 'index'),
      name: readText(row, 'name'),
      uuid: readText(row, 'uuid'),
      memoryTotalMiB,
      driverVersion: readText(row, 'driver_version'),
    };
  });
}

/** One GPU at one moment; null where nvidia-smi reports `[N/A]` / `[Not Supported]`. */
export interface GpuSample {
  index: number;
  utilizationGpuPct: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  powerDrawW: number | null;
  temperatureC: number | null;
}

/** The 1 Hz sample query ({@link GPU_SAMPLE_QUERY}), with or without header and units. */
export function parseGpuSamples(text: string): GpuSample[] {
  return parseNvidiaSmiCsv(text, GPU_SAMPLE_FIELDS, { kind: 'gpu' }).map((row) => ({
    index: readInteger(row, 'index'),
    utilizationGpuPct: readNumber(row, 'utilization.gpu', '%'),
    memoryUsedMiB: readNumber(row, 'memory.used', 'MiB'),
    memoryTotalMiB: readNumber(row, 'memory.total', 'MiB'),
    powerDrawW: readNumber(row, 'power.draw', 'W'),
    temperatureC: readNumber(row, 'temperature.gpu', 'C'),
  }));
}

/** A process holding a compute context on a GPU. */
export interface ComputeApp {
  gpuUuid: string;
  pid: number;
  processName: string;
  /** Null where not reported (e.g. Windows WDDM, or no permission). */
  usedMemoryMiB: number | null;
}

/** `--query-compute-apps=gpu_uuid,pid,process_name,used_memory` (also the header-bearing full capture form). */
export function parseComputeApps(text: string): ComputeApp[] {
  return parseNvidiaSmiCsv(text, COMPUTE_APPS_FIELDS, { kind: 'apps', freeTextField: 'process_name' }).map((row) => ({
    gpuUuid: readText(row, 'gpu_uuid'),
    pid: readInteger(row, 'pid'),
    processName: row.cells.process_name ?? '',
    usedMemoryMiB: readNumber(row, 'used_memory', 'MiB'),
  }));
}

export interface ListedGpu {
  index: number;
  name: string;
  uuid: string;
  /** MIG instances listed under the GPU, when MIG is on. */
  migDevices: { profile: string; device: number; uuid: string }[];
}

/** `nvidia-smi -L`: `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-…)`, with indented `MIG …` lines under a GPU. */
export function parseNvidiaSmiList(text: string): ListedGpu[] {
  const gpus: ListedGpu[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const gpu = /^GPU (\d+): (.+?) \(UUID: ([^)]+)\)\s*$/.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2] ?? '', uuid: gpu[3] ?? '', migDevices: [] });
      return;
    }
    const mig = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: ([^)]+)\)\s*$/.exec(line);
    const parent = gpus[gpus.length - 1];
    if (mig && parent) {
      parent.migDevices.push({ profile: mig[1] ?? '', device: Number(mig[2]), uuid: mig[3] ?? '' });
      return;
    }
    throw new NvidiaSmiParseError(i + 1, line, 'not a `GPU n: NAME (UUID: …)` line');
  });
  return gpus;
}

export interface TableGpu {
  index: number;
  /** As printed: long names are cut short with `...`. */
  name: string;
  busId: string;
  temperatureC: number | null;
  performanceState: string | null;
  powerDrawW: number | null;
  powerCapW: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  utilizationGpuPct: number | null;
}

export interface TableProcess {
  gpu: number;
  /** MIG GPU / compute instance ids; null where N/A (MIG off) or not printed (older drivers). */
  gpuInstance: number | null;
  computeInstance: number | null;
  pid: number;
  /** `C` compute, `G` graphics, `C+G`, `M` MPS … */
  type: string;
  /** As printed: long paths are cut short with `...`. */
  processName: string;
  usedMemoryMiB: number | null;
}

export interface NvidiaSmiTable {
  smiVersion: string | null;
  driverVersion: string | null;
  cudaVersion: string | null;
  gpus: TableGpu[];
  processes: TableProcess[];
}

function numberOrNull(value: string | undefined): number | null {
  if (value === undefined || !/^-?\d+(?:\.\d+)?$/.test(value)) return null;
  return Number(value);
}

function instanceId(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

/** Cells of a `| a | b | c |` table line, trimmed. */
function tableCells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

const PROCESS_ROW = /^\|\s*(\d+)\s+(?:(\S+)\s+(\S+)\s+)?(\d+)\s+([A-Z](?:\+[A-Z])*)\s+(.*?)\s+(\d+MiB|N\/A)\s*\|\s*$/;

/**
 * The default `nvidia-smi` table: versions from the banner, one entry per GPU block and the process table. Layouts
 * differ a little across drivers, so GPU blocks are read by their `|`-separated cells rather than by column.
 */
export function parseNvidiaSmiTable(text: string): NvidiaSmiTable {
  const lines = text.split(/\r?\n/);
  const bannerIndex = lines.findIndex((line) => /NVIDIA-SMI\s+\S+/.test(line));
  if (bannerIndex < 0) {
    throw new NvidiaSmiParseError(
      1,
      lines[0] ?? '',
      'no `NVIDIA-SMI … Driver Version: …` banner; not nvidia-smi output',
    );
  }
  const banner = lines[bannerIndex] ?? '';
  const cuda = /CUDA Version:\s*(\S+)/.exec(banner)?.[1];
  const table: NvidiaSmiTable = {
    smiVersion: /NVIDIA-SMI\s+([\w.-]+)/.exec(banner)?.[1] ?? null,
    driverVersion: /Driver Version:\s*([\w.-]+)/.exec(banner)?.[1] ?? null,
    cudaVersion: cuda === undefined || isNvidiaSmiPlaceholder(cuda) ? null : cuda,
    gpus: [],
    processes: [],
  };

  type Section = 'none' | 'gpus' | 'processes' | 'other';
  let section: Section = 'none';
  let inBody = false;
  let pending: { index: number; name: string; busId: string } | undefined;
  for (let i = bannerIndex + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const trimmed = line.trim();
    if (trimmed === '') {
      // A blank line ends the GPU block; the next box (MIG devices, Processes) has its own heading.
      section = 'none';
      inBody = false;
      continue;
    }
    if (/^\|\s*Processes:/.test(trimmed)) {
      section = 'processes';
      inBody = false;
      continue;
    }
    if (/^\|\s*MIG devices:/.test(trimmed)) {
      section = 'other';
      continue;
    }
    if (/^\|=+/.test(trimmed) || /^\|[=+|]+\|$/.test(trimmed)) {
      if (section === 'none') section = 'gpus';
      inBody = true;
      continue;
    }
    if (/^[+|][-+|]+[+|]$/.test(trimmed)) continue;
    if (!inBody || section === 'other' || section === 'none') continue;

    if (section === 'gpus') {
      const cells = tableCells(trimmed);
      if (pending) {
        // Second line of a GPU block: fan, temperature, perf state, power | memory | utilisation, compute mode.
        const [power = '', memory = '', util = ''] = cells;
        const temp = /(\d+)C\b/.exec(power)?.[1];
        const perf = /\bP\d+\b/.exec(power)?.[0] ?? null;
        const watts = /(\S+?)W?\s*\/\s*(\S+?)W?$/.exec(power);
        const mem = /^(\S+?)(?:MiB)?\s*\/\s*(\S+?)(?:MiB)?$/.exec(memory);
        if (!mem) throw new NvidiaSmiParseError(i + 1, line, 'expected `USED MiB / TOTAL MiB` in the GPU block');
        table.gpus.push({
          ...pending,
          temperatureC: numberOrNull(temp),
          performanceState: perf,
          powerDrawW: numberOrNull(watts?.[1]),
          powerCapW: numberOrNull(watts?.[2]),
          memoryUsedMiB: numberOrNull(mem[1]),
          memoryTotalMiB: numberOrNull(mem[2]),
          utilizationGpuPct: numberOrNull(/^(\d+)%/.exec(util)?.[1]),
        });
        pending = undefined;
        continue;
      }
      const first = /^(\d+)\s+(.+?)\s+(\S+)$/.exec(cells[0] ?? '');
      if (first) {
        pending = { index: Number(first[1]), name: first[2] ?? '', busId: (cells[1] ?? '').split(/\s+/)[0] ?? '' };
      }
      // Anything else in a GPU block (the MIG M. line) carries nothing we read.
      continue;
    }

    // Processes.
    if (/No running processes found/i.test(trimmed)) continue;
    const row = PROCESS_ROW.exec(trimmed);
    if (!row) throw new NvidiaSmiParseError(i + 1, line, 'not a process row (GPU, GI, CI, PID, type, name, memory)');
    const memory = row[7] ?? '';
    table.processes.push({
      gpu: Number(row[1]),
      gpuInstance: instanceId(row[2]),
      computeInstance: instanceId(row[3]),
      pid: Number(row[4]),
      type: row[5] ?? '',
      processName: row[6] ?? '',
      usedMemoryMiB: memory === 'N/A' ? null : Number(memory.replace(/MiB$/, '')),
    });
  }
  if (pending) throw new NvidiaSmiParseError(lines.length, '', `GPU ${pending.index} block ends after its first line`);
  return table;
}
