import { createHash } from 'node:crypto';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import { parseJsonExact } from '../../shared/datasets/exact-json';
import {
  MAX_ROW_TEXT,
  type DatasetFormat,
  type DatasetList,
  type DatasetOverlap,
  type DatasetPage,
  type DatasetProblem,
  type DatasetRow,
  type DatasetSearch,
  type DatasetStats,
} from '../../shared/contract-datasets';
import { csvRow, parseCsvRecords } from '../../shared/datasets/dataset-rows';
import { AppError } from '../../shared/errors';
import type { EventPayload } from '../../shared/contract';
import type { HostSession } from '../hosts/host-exec-types';
import { HostDataHelper, inspectDir } from './host-data-helper';
import { parquetAsJsonl, parquetShape, readParquetPage } from './parquet-pages';
import { shellQuote } from '../../shared/runs/agent-catalog';

/**
 * The curated-dataset inspector (issue 7): datasets the agent wrote in its workspace, opened where they live.
 * The host helper (`ptw-data.py`) lists them, builds a line index for JSONL and CSV (a byte offset every K rows,
 * cached in `<runDir>/inspect/index/`), and computes stats, duplicates, search and test-set overlap; pages of
 * JSONL/CSV rows are then read here as SFTP byte ranges from the nearest indexed offset, and Parquet pages through
 * hyparquet over SFTP byte ranges. Nothing reads a whole file across the network.
 */

export interface DatasetRunContext {
  host: string;
  /** The run folder on the host (absolute). */
  runDir: string;
  /** The run's task, for finding the benchmark's test set. */
  task: { kind: string; benchmark?: string };
}

export interface DatasetServiceOptions {
  run(id: string): Promise<DatasetRunContext>;
  session(host: string): Promise<HostSession>;
  /** The host profile's run root and PostTrainBench checkout. */
  hostDirs(host: string): Promise<{ runRoot: string; ptbCheckout?: string | undefined }>;
  resourcesDir(): string;
  onProgress?: (event: EventPayload<'datasets.progress'>) => void;
  /** How long an index fetched from the host is trusted before it is checked again (a live run may append). */
  indexTtlMs?: number;
}

interface LineIndex {
  rows: number;
  checkpoints: Array<[number, number]>;
  problems: DatasetProblem[];
  problemCount: number;
  header: string[] | null;
  every: number;
  size: number;
  format: 'jsonl' | 'csv';
  realPath: string;
  builtMs: number;
  cached: boolean;
}

interface Target {
  id: string;
  ctx: DatasetRunContext;
  session: HostSession;
  key: string;
  runDir: string;
  workspace: string;
}

const FORMAT_BY_EXT: Record<string, DatasetFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.parquet': 'parquet',
};

export function datasetFormatOf(file: string): DatasetFormat | undefined {
  return FORMAT_BY_EXT[path.posix.extname(file).toLowerCase()];
}

const FIRST_CHUNK_MAX = 8 * 1024 * 1024;
const NEXT_CHUNK = 4 * 1024 * 1024;
const CSV_RANGE_MAX = 64 * 1024 * 1024;
/** Footers read per listing; more Parquet files than this are listed without row counts. */
const MAX_PARQUET_SHAPES = 20;
const BENCHMARK_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

export class DatasetService {
  private readonly helper: HostDataHelper;
  private readonly indexes = new Map<string, { index: LineIndex; at: number }>();
  private readonly runs = new Map<string, DatasetRunContext>();

  constructor(private readonly options: DatasetServiceOptions) {
    this.helper = new HostDataHelper(options.resourcesDir);
  }

  private async target(id: string): Promise<Target> {
    // Where a run lives never changes once it has a run folder.
    let ctx = this.runs.get(id);
    if (!ctx) {
      ctx = await this.options.run(id);
      if (ctx.runDir.startsWith('/')) this.runs.set(id, ctx);
    }
    if (!ctx.runDir.startsWith('/')) {
      throw new AppError(
        'NOT_FOUND',
        `Run ${id} has no run folder on a host recorded yet (its launch did not finish).`,
      );
    }
    const session = await this.options.session(ctx.host);
    return {
      id,
      ctx,
      session,
      key: `${ctx.host}\0${ctx.runDir}`,
      runDir: ctx.runDir,
      workspace: path.posix.join(ctx.runDir, 'workspace'),
    };
  }

  private async job<T>(
    t: Target,
    file: string,
    job: EventPayload<'datasets.progress'>['job'],
    work: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    this.options.onProgress?.({ runId: t.id, path: file, job, phase: 'started' });
    try {
      const result = await work();
      this.options.onProgress?.({ runId: t.id, path: file, job, phase: 'finished', elapsedMs: Date.now() - started });
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.onProgress?.({
        runId: t.id,
        path: file,
        job,
        phase: 'failed',
        elapsedMs: Date.now() - started,
        message,
      });
      throw err;
    }
  }

  async list(id: string): Promise<DatasetList> {
    const t = await this.target(id);
    const result = await this.helper.run<{ workspace: string; datasets: DatasetList['datasets']; truncated: boolean }>(
      t.session,
      t,
      ['list', '--workspace', t.workspace, '--cache-dir', inspectDir(t.runDir)],
      120_000,
    );
    // Parquet row counts come from each footer (the host cannot read them); a file that is not Parquet says so.
    const parquet = result.datasets.filter((d) => d.format === 'parquet').slice(0, MAX_PARQUET_SHAPES);
    await Promise.all(
      parquet.map(async (d) => {
        const real = path.posix.join(result.workspace, d.path);
        try {
          const shape = await parquetShape(t.session, `${t.key}\0${real}`, real, d.size);
          d.rows = shape.rows;
          d.columns = shape.columns;
        } catch (err) {
          d.problem = err instanceof Error ? err.message : String(err);
        }
      }),
    );
    return {
      runId: id,
      host: t.ctx.host,
      workspace: result.workspace,
      datasets: result.datasets,
      truncated: result.truncated,
    };
  }

  /**
   * The line index of a JSONL/CSV file: built on the host the first time (and again when the file changes), kept
   * there in `<runDir>/inspect/index/`, and here in memory for a few seconds. A process that has not seen the file
   * yet reads the host's cached index straight over SFTP (no exec: the first page comes back in one or two reads)
   * and has the helper check it against the file in the background; a page read with it is checked to start on a
   * line boundary, and a stale index falls back to the helper.
   */
  private async index(t: Target, file: string, fresh = false): Promise<LineIndex & { optimistic?: boolean }> {
    const key = `${t.key}\0${file}`;
    const known = this.indexes.get(key);
    if (!fresh && known && Date.now() - known.at < (this.options.indexTtlMs ?? 10_000)) return known.index;
    if (!fresh && !known) {
      const cached = await this.readCachedIndex(t, file).catch(() => undefined);
      if (cached) {
        this.indexes.set(key, { index: cached, at: Date.now() });
        void this.index(t, file, true).catch(() => this.indexes.delete(key));
        return { ...cached, optimistic: true };
      }
    }
    const index = await this.job(t, file, 'index', () =>
      this.helper.run<LineIndex>(t.session, t, [
        'index',
        '--workspace',
        t.workspace,
        '--file',
        file,
        '--cache-dir',
        inspectDir(t.runDir),
      ]),
    );
    this.indexes.set(key, { index, at: Date.now() });
    return index;
  }

  private async readCachedIndex(t: Target, file: string): Promise<LineIndex | undefined> {
    const digest = createHash('sha1')
      .update(`${t.workspace.replace(/\/+$/, '')}/${file}`)
      .digest('hex')
      .slice(0, 20);
    const bytes = await t.session.readFile(path.posix.join(inspectDir(t.runDir), 'index', `${digest}.json`));
    const raw = JSON.parse(bytes.toString('utf8')) as LineIndex & { version?: number; file?: string };
    if (raw.version !== 1 || typeof raw.file !== 'string' || !Array.isArray(raw.checkpoints)) return undefined;
    return { ...raw, realPath: raw.file, cached: true };
  }

  async page(id: string, file: string, offset: number, limit: number): Promise<DatasetPage> {
    const format = datasetFormatOf(file);
    if (!format) {
      throw new AppError(
        'INVALID_INPUT',
        `${file} is not a dataset file that can be paged (JSONL, JSON, CSV or Parquet); Hugging Face save_to_disk folders are listed only.`,
      );
    }
    const t = await this.target(id);
    if (format === 'json') {
      const result = await this.helper.run<{ total: number; rows: Array<{ row: number; value: unknown }> }>(
        t.session,
        t,
        ['page', '--workspace', t.workspace, '--file', file, '--offset', String(offset), '--limit', String(limit)],
      );
      return {
        path: file,
        format,
        offset,
        total: result.total,
        rows: result.rows.map((r) => ({ row: r.row, line: null, value: r.value })),
        problems: [],
        problemCount: 0,
      };
    }
    if (format === 'parquet') {
      const stat = await this.helper.run<{ realPath: string; size: number }>(t.session, t, [
        'stat',
        '--workspace',
        t.workspace,
        '--file',
        file,
      ]);
      const page = await this.job(t, file, 'parquet', () =>
        readParquetPage(t.session, `${t.key}\0${stat.realPath}`, stat.realPath, stat.size, offset, limit),
      );
      return { path: file, format, offset, ...page, problems: [], problemCount: 0 };
    }
    let index = await this.index(t, file);
    // Rows past the indexed end: the agent may have appended since; look again before saying there are none.
    if (offset + limit > index.rows) index = await this.index(t, file, true);
    const read = (i: LineIndex): Promise<DatasetRow[]> =>
      format === 'jsonl' ? readJsonlRows(t.session, i, offset, limit) : readCsvRows(t.session, i, offset, limit);
    let rows: DatasetRow[] | undefined;
    if (index.optimistic) {
      rows = (await indexFits(t.session, index, offset)) ? await read(index) : undefined;
      if (rows && rows.length < Math.min(limit, Math.max(0, index.rows - offset))) rows = undefined;
      if (!rows) index = await this.index(t, file, true);
    }
    rows ??= await read(index);
    return {
      path: file,
      format,
      offset,
      total: index.rows,
      rows,
      ...(index.header ? { columns: index.header } : {}),
      problems: index.problems,
      problemCount: index.problemCount,
      indexBuiltMs: index.cached ? null : index.builtMs,
    };
  }

  /**
   * The file the host helper reads for stats, search and overlap: the dataset itself, or for Parquet (which
   * Python's standard library cannot read) its rows as JSONL, converted here once per file version and kept in
   * `<runDir>/inspect/converted/`. Rows keep their indices; lines are not meaningful there.
   */
  private async hostFile(t: Target, file: string): Promise<{ workspace: string; file: string; converted: boolean }> {
    const format = datasetFormatOf(file);
    if (!format) throw new AppError('INVALID_INPUT', `${file} is not a dataset file (JSONL, JSON, CSV or Parquet).`);
    if (format !== 'parquet') return { workspace: t.workspace, file, converted: false };
    const stat = await this.helper.run<{ realPath: string; size: number; mtimeNs: number }>(t.session, t, [
      'stat',
      '--workspace',
      t.workspace,
      '--file',
      file,
    ]);
    const dir = path.posix.join(inspectDir(t.runDir), 'converted');
    const name = `${createHash('sha1').update(`${stat.realPath}\0${stat.size}\0${stat.mtimeNs}`).digest('hex').slice(0, 20)}.jsonl`;
    const target = path.posix.join(dir, name);
    const exists = await t.session
      .readFile(target, { maxBytes: 1 })
      .then(() => true)
      .catch(() => false);
    if (!exists) {
      const jsonl = await this.job(t, file, 'parquet', () =>
        parquetAsJsonl(t.session, `${t.key}\0${stat.realPath}`, stat.realPath, stat.size),
      );
      const made = await t.session.exec(`mkdir -p ${shellQuote(dir)}`, { timeoutMs: 30_000 });
      if (made.code !== 0) throw new AppError('INTERNAL', `Could not create ${dir} on the host: ${made.stderr.trim()}`);
      // Written under a temporary name and renamed, so a cut transfer never leaves a partial file to be reused.
      await t.session.writeFile(`${target}.tmp`, jsonl, { mode: 0o600 });
      const moved = await t.session.exec(`mv -f ${shellQuote(`${target}.tmp`)} ${shellQuote(target)}`, {
        timeoutMs: 30_000,
      });
      if (moved.code !== 0)
        throw new AppError('INTERNAL', `Could not write ${target} on the host: ${moved.stderr.trim()}`);
    }
    return { workspace: dir, file: name, converted: true };
  }

  async stats(id: string, file: string): Promise<DatasetStats> {
    const t = await this.target(id);
    const source = await this.hostFile(t, file);
    const result = await this.job(t, file, 'stats', () =>
      this.helper.run<Omit<DatasetStats, 'path'>>(t.session, t, [
        'stats',
        '--workspace',
        source.workspace,
        '--file',
        source.file,
      ]),
    );
    const format = datasetFormatOf(file)!;
    if (!source.converted) return { ...result, path: file };
    return { ...result, path: file, format, problems: result.problems.map((p) => ({ ...p, line: null })) };
  }

  async search(id: string, file: string, query: string, limit = 200): Promise<DatasetSearch> {
    const t = await this.target(id);
    const source = await this.hostFile(t, file);
    const result = await this.job(t, file, 'search', () =>
      this.helper.run<DatasetSearch>(t.session, t, [
        'search',
        '--workspace',
        source.workspace,
        '--file',
        source.file,
        '--query',
        query,
        '--limit',
        String(limit),
      ]),
    );
    return source.converted ? { ...result, hits: result.hits.map((h) => ({ ...h, line: null })) } : result;
  }

  /** Where the benchmark's test set is on the host (see the contract's `datasets.overlap`). */
  async testFiles(t: Target, benchmark: string): Promise<string[]> {
    if (benchmark.startsWith('/')) return [benchmark];
    if (!BENCHMARK_NAME.test(benchmark)) {
      throw new AppError(
        'INVALID_INPUT',
        `"${benchmark}" is neither a benchmark name (such as gsm8k) nor an absolute path to a test file on the host.`,
      );
    }
    const dirs = await this.options.hostDirs(t.ctx.host);
    const candidates = [path.posix.join(dirs.runRoot, 'benchmarks', benchmark)];
    const own = t.ctx.task.kind === 'rehearsal' ? 'rehearsal' : t.ctx.task.benchmark;
    if (own === benchmark) candidates.push(path.posix.join(t.runDir, 'task'));
    if (dirs.ptbCheckout) candidates.push(path.posix.join(dirs.ptbCheckout, 'src', 'eval', 'tasks', benchmark));
    const args = ['find-test'];
    for (const dir of candidates) args.push('--dir', dir);
    // `~/…` in a profile is the remote HOME: the helper expands it.
    const found = await this.helper.run<{ files: string[] }>(t.session, t, args, 60_000);
    if (found.files.length === 0) {
      throw new AppError(
        'NOT_FOUND',
        `No test set for ${benchmark} on ${t.ctx.host}: looked for *test*.jsonl|json|csv in ${candidates.join(', ')}. Put the benchmark's test file in the first, or pass its path.`,
      );
    }
    return found.files;
  }

  async overlap(id: string, file: string, benchmark: string, n = 13): Promise<DatasetOverlap> {
    const t = await this.target(id);
    const tests = await this.testFiles(t, benchmark);
    const source = await this.hostFile(t, file);
    const args = ['overlap', '--workspace', source.workspace, '--file', source.file, '--n', String(n)];
    for (const test of tests) args.push('--test', test);
    const result = await this.job(t, file, 'overlap', () =>
      this.helper.run<Omit<DatasetOverlap, 'path' | 'benchmark'>>(t.session, t, args),
    );
    const hits = source.converted ? result.hits.map((h) => ({ ...h, line: null })) : result.hits;
    return { ...result, hits, path: file, benchmark };
  }
}

// --- reading pages of text rows ---------------------------------------------------------------------------------

/**
 * Whether a cached index still fits the file, without an exec: the file ends where the index says (one byte at its
 * end, none after) and the checkpoint the page starts from is still at the start of a line.
 */
async function indexFits(session: HostSession, index: LineIndex, offset: number): Promise<boolean> {
  const { start } = range(index, offset, 1);
  const [tail, before] = await Promise.all([
    index.size === 0
      ? Promise.resolve(Buffer.alloc(0))
      : session.readFile(index.realPath, { offset: index.size - 1, maxBytes: 2 }),
    start === 0
      ? Promise.resolve(Buffer.from('\n'))
      : session.readFile(index.realPath, { offset: start - 1, maxBytes: 1 }),
  ]);
  return tail.length === Math.min(1, index.size) && before[0] === 10;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 32 && (b < 9 || b > 13)) return false;
  return true;
}

function jsonlRow(row: number, line: number, bytes: Buffer, total: number): DatasetRow {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 13) end--;
  const body = bytes.subarray(0, end);
  if (total > MAX_ROW_TEXT) {
    return {
      row,
      line,
      raw: utf8Lenient.decode(body.subarray(0, MAX_ROW_TEXT)),
      error: `row is ${total} bytes: too large to show whole (first ${MAX_ROW_TEXT} bytes shown)`,
      bytes: total,
    };
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { row, line, raw: utf8Lenient.decode(body), error: 'not valid UTF-8', bytes: total };
  }
  try {
    return { row, line, value: parseJsonExact(text), bytes: total };
  } catch (err) {
    return { row, line, raw: text, error: (err as Error).message, bytes: total };
  }
}

/** The checkpoint at or before `offset` and the byte where the page surely ends (the next checkpoint after it). */
function range(
  index: LineIndex,
  offset: number,
  limit: number,
): { start: number; line: number; row: number; end: number } {
  const k = index.every;
  const ci = Math.min(Math.floor(offset / k), Math.max(0, index.checkpoints.length - 1));
  const [start, line] = index.checkpoints[ci] ?? [0, 1];
  const after = Math.ceil(Math.min(index.rows, offset + limit) / k);
  const end = after < index.checkpoints.length ? index.checkpoints[after]![0] : index.size;
  return { start, line, row: ci * k, end: Math.max(end, start) };
}

async function readJsonlRows(
  session: HostSession,
  index: LineIndex,
  offset: number,
  limit: number,
): Promise<DatasetRow[]> {
  if (offset >= index.rows) return [];
  const r = range(index, offset, limit);
  const rows: DatasetRow[] = [];
  let position = r.start;
  let line = r.line;
  let row = r.row;
  // The current line: its first MAX_ROW_TEXT + 1 bytes and its full length.
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let want = Math.min(Math.max(r.end - r.start, 1), FIRST_CHUNK_MAX);
  const take = (piece: Buffer): void => {
    length += piece.length;
    if (kept <= MAX_ROW_TEXT) {
      const slice = piece.subarray(0, MAX_ROW_TEXT + 1 - kept);
      parts.push(slice);
      kept += slice.length;
    }
  };
  const endLine = (): boolean => {
    const bytes = Buffer.concat(parts);
    const total = length;
    parts = [];
    kept = 0;
    length = 0;
    const lineNo = line++;
    if (isBlank(bytes)) return false;
    if (row >= offset) rows.push(jsonlRow(row, lineNo, bytes, total));
    row++;
    return rows.length >= limit;
  };
  for (;;) {
    const chunk = await session.readFile(index.realPath, { offset: position, maxBytes: want });
    position += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      if (nl < 0) {
        take(chunk.subarray(at));
        break;
      }
      take(chunk.subarray(at, nl));
      at = nl + 1;
      if (endLine()) return rows;
    }
    if (chunk.length < want) {
      if (length > 0 || parts.length > 0) endLine();
      return rows;
    }
    want = NEXT_CHUNK;
  }
}

async function readCsvRows(
  session: HostSession,
  index: LineIndex,
  offset: number,
  limit: number,
): Promise<DatasetRow[]> {
  if (offset >= index.rows) return [];
  const r = range(index, offset, limit);
  if (r.end - r.start > CSV_RANGE_MAX) {
    throw new AppError(
      'INVALID_INPUT',
      `${index.realPath}: rows ${offset}–${offset + limit} span ${r.end - r.start} bytes; pages of CSV over ${CSV_RANGE_MAX} bytes are not read.`,
    );
  }
  const bytes = await session.readFile(index.realPath, { offset: r.start, maxBytes: r.end - r.start });
  const records = parseCsvRecords(utf8Lenient.decode(bytes));
  const header = index.header ?? [];
  const rows: DatasetRow[] = [];
  records.forEach((record, i) => {
    const row = r.row + i;
    if (row < offset || rows.length >= limit) return;
    const { value, error } = csvRow(header, record.fields);
    const out: DatasetRow = { row, line: r.line + record.line, value };
    const problem = record.unterminated ? 'a quoted field is never closed' : error;
    if (problem) out.error = problem;
    rows.push(out);
  });
  return rows;
}
