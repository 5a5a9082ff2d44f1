import type { DatasetIndex, DatasetProblem } from '../../shared/contract-datasets';

/**
 * The host's line index of a JSONL/CSV file as this process holds it (issue 21). `ptw-host.pyz data index
 * --background` builds it on the host while pages are read: a small state file (rows and bytes counted so far,
 * problems) replaced several times a second, and a checkpoint file of fixed-size records (byte offset of a line
 * start, its line, the row that starts there or next) that only grows, read here from where this process stopped.
 * The frontier (where the count has got to) is a checkpoint too, so a page just past it is read from there.
 */

export interface HostIndexState {
  version: number;
  /** The file's real path on the host (symlinks resolved, inside the workspace). */
  file: string;
  format: 'jsonl' | 'csv';
  /** Changes when the index is started over (the file was rewritten): checkpoints read before are dropped. */
  generation: string;
  size: number;
  indexedBytes: number;
  rows: number;
  lines: number;
  checkpoints: number;
  complete: boolean;
  checked: boolean;
  validatedBytes: number;
  problems: DatasetProblem[];
  problemCount: number;
  totalRows: number;
  header: string[] | null;
  dataStart: number | null;
  dataLine: number | null;
  indexMs: number;
  indexBytes: number;
  error: string | null;
  /** SHA-1 of the file's first `headLen` bytes and of the 4 KiB before `indexedBytes`, as the helper last saw them. */
  headLen?: number;
  headHash?: string;
  tailHash?: string;
  /** From the helper's answer only: whether a builder holds the lock, and the file as it is now. */
  building?: boolean;
  fileSize?: number;
  /** With generation '': the generation of the index this one will replace (its saved state is stale). */
  replaces?: string | null;
  realPath?: string;
}

/** Where reading starts: a line start with its line and row numbers (null past what the index counted). */
export interface ReadPoint {
  start: number;
  line: number | null;
  row: number | null;
}

export const CHECKPOINT_RECORD = 24;

export class CheckpointTable {
  readonly offsets: number[] = [];
  readonly lines: number[] = [];
  readonly rows: number[] = [];

  constructor(readonly generation: string) {}

  get count(): number {
    return this.offsets.length;
  }

  /** Appends records as the helper writes them: three little-endian u64 each. */
  append(bytes: Buffer): void {
    for (let at = 0; at + CHECKPOINT_RECORD <= bytes.length; at += CHECKPOINT_RECORD) {
      this.offsets.push(Number(bytes.readBigUInt64LE(at)));
      this.lines.push(Number(bytes.readBigUInt64LE(at + 8)));
      this.rows.push(Number(bytes.readBigUInt64LE(at + 16)));
    }
  }

  /** Index of the last entry of `values` (sorted) that is <= `x`, or -1. */
  private static last(values: readonly number[], x: number): number {
    let lo = 0;
    let hi = values.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid]! <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  point(i: number): ReadPoint {
    return { start: this.offsets[i]!, line: this.lines[i]!, row: this.rows[i]! };
  }

  /** The last checkpoint at or before row `row`. */
  atRow(row: number): ReadPoint | undefined {
    const i = CheckpointTable.last(this.rows, row);
    return i < 0 ? undefined : this.point(i);
  }

  /** The last checkpoint at or before byte `byte`. */
  atByte(byte: number): ReadPoint | undefined {
    const i = CheckpointTable.last(this.offsets, byte);
    return i < 0 ? undefined : this.point(i);
  }

  /** The first checkpoint after byte `byte` (where a line too long to read through ends, at the latest). */
  after(byte: number): ReadPoint | undefined {
    const i = CheckpointTable.last(this.offsets, byte) + 1;
    return i < this.count ? this.point(i) : undefined;
  }
}

export interface LineIndex {
  state: HostIndexState;
  table: CheckpointTable;
  /** When this process last looked at the host's state, and when it last saw it move. */
  at: number;
  movedAt: number;
}

/** The frontier: the first line not counted yet (a line start), with its numbers. */
export function frontier(index: LineIndex): { start: number; line: number; row: number } {
  return { start: index.state.indexedBytes, line: index.state.lines + 1, row: index.state.rows };
}

/** Where to start reading for row `row`: the nearest checkpoint at or before it, the frontier included. */
export function pointForRow(index: LineIndex, row: number): ReadPoint {
  const edge = frontier(index);
  // Every checkpoint is at or before the frontier: past its row, it is the nearest.
  if (row >= edge.row && edge.start > 0) return edge;
  const found = index.table.atRow(row);
  if (found) return found;
  if (index.state.format === 'csv') {
    // No checkpoint yet: the first record after the header, when the header is known.
    return index.state.dataStart !== null
      ? { start: index.state.dataStart, line: index.state.dataLine, row: 0 }
      : { start: 0, line: 1, row: 0 };
  }
  return { start: 0, line: 1, row: 0 };
}

/**
 * Where to start reading for the first line at or after byte `byte`: a counted line start before it when the index
 * has got that far (so rows keep their numbers), else the byte itself, numbers unknown.
 */
export function pointForByte(index: LineIndex, byte: number): ReadPoint & { numbered: boolean } {
  const edge = frontier(index);
  if (byte === edge.start) return { ...edge, numbered: true };
  if (byte < edge.start) {
    const found = index.table.atByte(byte);
    return { ...(found ?? { start: 0, line: 1, row: 0 }), numbered: true };
  }
  if (index.state.complete && byte >= index.state.size) return { ...edge, numbered: true };
  return { start: byte, line: null, row: null, numbered: false };
}

/** The next checkpoint strictly after byte `byte`, the frontier included. */
export function checkpointAfter(index: LineIndex, byte: number): ReadPoint | undefined {
  const found = index.table.after(byte);
  if (found) return found;
  const edge = frontier(index);
  return edge.start > byte ? edge : undefined;
}

export function indexSummary(state: HostIndexState): DatasetIndex {
  return {
    complete: state.complete,
    rows: state.complete ? state.totalRows : state.rows,
    indexedBytes: state.indexedBytes,
    size: Math.max(state.size, state.fileSize ?? 0),
    checked: state.checked,
    checkedBytes: state.format === 'jsonl' ? state.validatedBytes : state.indexedBytes,
    indexMBps: state.indexMs > 0 ? Math.round(state.indexBytes / state.indexMs / 1000) : null,
    error: state.error,
  };
}
