import { createHash } from 'node:crypto';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import { parseJsonExact } from '../../shared/datasets/exact-json';
import {
  MAX_ROW_TEXT,
  type DatasetFormat,
  type DatasetIndexStatus,
  type DatasetList,
  type DatasetOverlap,
  type DatasetPage,
  type DatasetProblem,
  type DatasetRow,
  type DatasetSearch,
  type DatasetStats,
} from '../../shared/contract-datasets';
import { csvRow, parseCsvRecords } from '../../shared/datasets/dataset-rows';
import { AppError, errorCodeSchema } from '../../shared/errors';
import type { EventPayload } from '../../shared/contract';
import type { HostSession } from '../hosts/host-exec-types';
import { HELPER_NAME, HostDataHelper, inspectDir } from './host-data-helper';
import {
  CHECKPOINT_RECORD,
  CheckpointTable,
  checkpointAfter,
  frontier,
  indexSummary,
  pointForByte,
  pointForRow,
  type HostIndexState,
  type LineIndex,
  type ReadPoint,
} from './line-index';
import { parquetAsJsonl, parquetShape, readParquetPage, scanParquet, warmParquetReader } from './parquet-pages';
import { shellQuote } from '../../shared/shell-quote';

/**
 * The curated-dataset inspector (issue 7): datasets the agent wrote in its workspace, opened where they live.
 * The host helper (`ptw-host.pyz data`) lists them, builds a line index for JSONL and CSV (a byte offset every K rows,
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
  /** A streaming search's hits and progress, for the peer that started it. */
  onSearchProgress?: (peerId: string, event: EventPayload<'datasets.searchProgress'>) => void;
  /** How long a complete index is trusted before the host is asked again (a live run may append). */
  indexTtlMs?: number;
  /** How long a page of rows not counted yet waits for the index. */
  indexWaitMs?: number;
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
/** What a first look reads when nothing about the file's rows is known yet (the head of a cold file). */
const COLD_CHUNK = 1024 * 1024;
/** Files up to this size are counted before their first page is answered (it takes milliseconds). */
const SMALL_FILE = 16 * 1024 * 1024;
/** A line longer than this is not read through for a page: shown cut, the page going on after it. */
const MAX_LINE_SCAN = 16 * 1024 * 1024;
const CSV_RANGE_MAX = 64 * 1024 * 1024;
/** Footers read per listing; more Parquet files than this are listed without row counts. */
const MAX_PARQUET_SHAPES = 20;
const BENCHMARK_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

export class DatasetService {
  private readonly helper: HostDataHelper;
  private readonly lineIndexes = new Map<string, LineIndex>();
  private readonly fileStats = new Map<string, { realPath: string; size: number; at: number }>();
  private readonly indexing = new Map<string, Promise<LineIndex>>();
  private readonly searches = new Map<string, { cancelled: boolean; close: () => void }>();
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
   * The line index of a JSONL/CSV file (issue 21): started on the host in the background the first time
   * (`index --background` answers at once), then followed here: while it grows, its state file and the new
   * checkpoint records are read over SFTP (no exec) a few times a second at most; once complete it is trusted for
   * a few seconds, then asked again (the helper extends it when the file grew, starts over when it was rewritten).
   */
  private async lineIndex(t: Target, file: string, refresh = false): Promise<LineIndex> {
    const key = `${t.key}\0${file}`;
    const known = this.lineIndexes.get(key);
    if (known && !refresh) {
      const done = known.state.complete && known.state.checked;
      const ttl = done ? (this.options.indexTtlMs ?? 10_000) : 250;
      if (Date.now() - known.at < ttl) return known;
      // A finished index is asked again only when the file changed: three small reads, no Python start (a warm
      // page never waits for one).
      if (done && !this.indexing.has(key) && (await this.unchanged(t, known))) {
        known.at = Date.now();
        return known;
      }
    }
    let pending = this.indexing.get(key);
    if (!pending) {
      pending = this.followIndex(t, file, known).finally(() => this.indexing.delete(key));
      this.indexing.set(key, pending);
    }
    return pending;
  }

  private async followIndex(t: Target, file: string, known: LineIndex | undefined): Promise<LineIndex> {
    const key = `${t.key}\0${file}`;
    const now = Date.now();
    let state: HostIndexState | undefined;
    // A builder that has not moved for a while may have died (the host rebooted): the helper restarts it.
    if (known && !(known.state.complete && known.state.checked) && now - known.movedAt < 5_000) {
      state = await this.readIndexState(t, file).catch(() => undefined);
      // The state file may still be the one saved before the file changed, until the builder saves its own:
      // the one a rewrite replaces, or one that counted fewer bytes than the file had when the helper looked.
      const seen = known.state.fileSize ?? 0;
      if (
        state &&
        ((known.state.replaces && state.generation === known.state.replaces) ||
          (state.complete && state.size < seen) ||
          (state.generation === '' && known.state.generation !== ''))
      ) {
        state = undefined;
      }
      if (state) {
        state.fileSize = Math.max(seen, state.size);
        if (state.generation === '' && known.state.replaces) state.replaces = known.state.replaces;
      }
    }
    state ??= await this.helper.run<HostIndexState>(
      t.session,
      t,
      ['index', '--background', '--workspace', t.workspace, '--file', file, '--cache-dir', inspectDir(t.runDir)],
      60_000,
    );
    const table =
      known && known.table.generation === state.generation ? known.table : new CheckpointTable(state.generation);
    if (state.generation !== '' && state.checkpoints > table.count) {
      const bytes = await t.session.readFile(this.indexPath(t, file, '.ckpt'), {
        offset: table.count * CHECKPOINT_RECORD,
        maxBytes: (state.checkpoints - table.count) * CHECKPOINT_RECORD,
      });
      table.append(bytes);
    }
    const moved =
      !known ||
      known.state.indexedBytes !== state.indexedBytes ||
      known.state.validatedBytes !== state.validatedBytes ||
      known.state.generation !== state.generation;
    const index: LineIndex = { state, table, at: Date.now(), movedAt: moved ? Date.now() : known.movedAt };
    this.lineIndexes.set(key, index);
    return index;
  }

  /**
   * Whether the file still is what its finished index describes, as the helper judges it when it resumes: nothing
   * past its size, the same first bytes and the same bytes before where the count stopped.
   */
  private async unchanged(t: Target, index: LineIndex): Promise<boolean> {
    const { file, size, indexedBytes, headLen, headHash, tailHash } = index.state;
    if (headLen === undefined || !headHash || !tailHash) return false;
    const back = Math.min(4096, indexedBytes);
    const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');
    // A read of 0 bytes would be a read to the end of the file.
    const read = async (offset: number, maxBytes: number): Promise<Buffer> =>
      maxBytes > 0 ? t.session.readFile(file, { offset, maxBytes }) : Buffer.alloc(0);
    try {
      const [past, head, tail] = await Promise.all([read(size, 1), read(0, headLen), read(indexedBytes - back, back)]);
      return past.length === 0 && head.length === headLen && sha1(head) === headHash && sha1(tail) === tailHash;
    } catch {
      return false;
    }
  }

  private indexPath(t: Target, file: string, ext: '.json' | '.ckpt'): string {
    const digest = createHash('sha1')
      .update(`${t.workspace.replace(/\/+$/, '')}/${file}`)
      .digest('hex')
      .slice(0, 20);
    return path.posix.join(inspectDir(t.runDir), 'index', `${digest}${ext}`);
  }

  private async readIndexState(t: Target, file: string): Promise<HostIndexState | undefined> {
    const raw = JSON.parse((await t.session.readFile(this.indexPath(t, file, '.json'))).toString('utf8')) as Omit<
      HostIndexState,
      'totalRows'
    > & { tail?: { row?: boolean; problem?: DatasetProblem | null } | null };
    if (raw.version !== 2 || typeof raw.file !== 'string') return undefined;
    // The helper's public state adds the tail row (a last line without a newline) and its problem.
    const tail = raw.tail ?? null;
    const problems = [...raw.problems];
    if (tail?.problem) problems.push(tail.problem);
    return {
      ...raw,
      totalRows: raw.rows + (tail?.row ? 1 : 0),
      problems,
      problemCount: raw.problemCount + (tail?.problem ? 1 : 0),
    };
  }

  /**
   * A Parquet file's real path and size for its pages: `realpath`/`stat` in one quick exec (no Python start),
   * checked inside the workspace, kept for a few seconds (a page of a file just read costs no exec); the helper's
   * `stat` where coreutils cannot answer, or the path leaves the workspace (it refuses with why).
   */
  private async parquetStat(t: Target, file: string): Promise<{ realPath: string; size: number }> {
    const key = `${t.key}\0${file}`;
    const known = this.fileStats.get(key);
    if (known && Date.now() - known.at < 3_000) return known;
    const direct = path.posix.join(t.workspace, file);
    const probe = await t.session.exec(
      `realpath -e -- ${shellQuote(t.workspace)} ${shellQuote(direct)} && stat -L -c %s -- ${shellQuote(direct)}`,
      { timeoutMs: 30_000 },
    );
    const [workspace, real, sizeText, ...rest] = probe.stdout.split('\n');
    const size = Number(sizeText);
    let stat: { realPath: string; size: number };
    if (
      probe.code === 0 &&
      !rest.some((l) => l !== '') &&
      workspace &&
      real?.startsWith(`${workspace}/`) &&
      Number.isInteger(size)
    ) {
      stat = { realPath: real, size };
    } else {
      stat = await this.helper.run<{ realPath: string; size: number }>(t.session, t, [
        'stat',
        '--workspace',
        t.workspace,
        '--file',
        file,
      ]);
    }
    this.fileStats.set(key, { ...stat, at: Date.now() });
    return stat;
  }

  /**
   * The first page of a large JSONL file never looked at: its real path and size from `realpath`/`stat` (checked
   * inside the workspace here, as the helper would), its head read directly, the index started on the host and
   * not waited for. Undefined when this does not apply (a small file, a path through a symlink, no coreutils): the
   * page is then read through the helper.
   */
  private async coldPage(
    t: Target,
    file: string,
    direct: string,
    limit: number,
    head: Promise<Buffer | undefined>,
  ): Promise<DatasetPage | undefined> {
    const probe = await t.session.exec(
      `realpath -e -- ${shellQuote(t.workspace)} ${shellQuote(direct)} && stat -L -c %s -- ${shellQuote(direct)}`,
      { timeoutMs: 30_000 },
    );
    const [workspace, real, sizeText, ...rest] = probe.stdout.split('\n');
    const size = Number(sizeText);
    if (probe.code !== 0 || rest.some((l) => l !== '') || real !== direct || !workspace || !Number.isInteger(size)) {
      return undefined;
    }
    if (!real.startsWith(`${workspace}/`) || size <= SMALL_FILE) return undefined;
    const bytes = await head;
    if (!bytes) return undefined;
    // The index starts on the host meanwhile (its progress comes with the next pages and datasets.indexStatus).
    void this.lineIndex(t, file).catch(() => undefined);
    const state: HostIndexState = {
      version: 2,
      file: real,
      format: 'jsonl',
      generation: '',
      size,
      indexedBytes: 0,
      rows: 0,
      lines: 0,
      checkpoints: 0,
      complete: false,
      checked: false,
      validatedBytes: 0,
      problems: [],
      problemCount: 0,
      totalRows: 0,
      header: null,
      dataStart: null,
      dataLine: null,
      indexMs: 0,
      indexBytes: 0,
      error: null,
    };
    const index: LineIndex = { state, table: new CheckpointTable(''), at: 0, movedAt: 0 };
    const read = await readJsonlRows(t.session, index, { start: 0, line: 1, row: 0 }, { row: 0 }, limit, false, bytes);
    return {
      path: file,
      format: 'jsonl',
      offset: 0,
      total: read.rows.length,
      rows: read.rows,
      problems: [],
      problemCount: 0,
      indexBuiltMs: null,
      index: indexSummary(state),
      ...(read.byteStart !== undefined ? { byteStart: read.byteStart } : {}),
      byteEnd: read.byteEnd,
    };
  }

  /**
   * A small file is counted and checked in milliseconds: its first answer waits for that (exact count and
   * problems); a large one is answered at once while the host counts.
   */
  private async settled(t: Target, file: string, index: LineIndex): Promise<LineIndex> {
    const deadline = Date.now() + 1_000;
    while (
      !(index.state.complete && index.state.checked) &&
      !index.state.error &&
      Math.max(index.state.size, index.state.fileSize ?? 0) <= SMALL_FILE &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      index = await this.lineIndex(t, file, true);
    }
    return index;
  }

  /** Waits for the index to count past row `row` (a page asked for rows not counted yet). */
  private async indexPast(t: Target, file: string, row: number): Promise<LineIndex> {
    const deadline = Date.now() + (this.options.indexWaitMs ?? 10 * 60_000);
    let index = await this.lineIndex(t, file);
    while (!index.state.complete && index.state.rows <= row) {
      if (index.state.error)
        throw new AppError('INTERNAL', `Indexing ${file} on the host failed: ${index.state.error}`);
      if (Date.now() > deadline) {
        throw new AppError(
          'INVALID_INPUT',
          `${file}: row ${row} is not counted yet (${index.state.rows} rows so far, ${index.state.indexedBytes} of ${index.state.size} bytes); ask again later, or by byte offset.`,
          { retryable: true },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      index = await this.lineIndex(t, file);
    }
    return index;
  }

  async indexStatus(id: string, file: string): Promise<DatasetIndexStatus> {
    const format = datasetFormatOf(file);
    if (format !== 'jsonl' && format !== 'csv') {
      throw new AppError('INVALID_INPUT', `${file} is not JSONL or CSV: it has no line index.`);
    }
    const t = await this.target(id);
    const index = await this.lineIndex(t, file);
    return {
      path: file,
      index: indexSummary(index.state),
      problems: index.state.problems,
      problemCount: index.state.problemCount,
    };
  }

  async page(id: string, file: string, offset: number, limit: number, byteOffset?: number): Promise<DatasetPage> {
    const format = datasetFormatOf(file);
    if (!format) {
      throw new AppError(
        'INVALID_INPUT',
        `${file} is not a dataset file that can be paged (JSONL, JSON, CSV or Parquet); Hugging Face save_to_disk folders are listed only.`,
      );
    }
    // Loaded while the run and the file are looked up, not after.
    if (format === 'parquet') warmParquetReader();
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
      const stat = await this.parquetStat(t, file);
      const page = await this.job(t, file, 'parquet', () =>
        readParquetPage(t.session, `${t.key}\0${stat.realPath}`, stat.realPath, stat.size, offset, limit),
      );
      return { path: file, format, offset, ...page, problems: [], problemCount: 0 };
    }
    // A first look at a JSONL file: its head is read while its real path and size are checked with one quick
    // exec (no Python start), and the page answered from it while the helper starts the index in the background.
    // Read bytes are used only when the real path is the one read (no symlink on the way).
    const direct = path.posix.join(t.workspace, file);
    const first = format === 'jsonl' && !this.lineIndexes.has(`${t.key}\0${file}`) && !byteOffset && offset === 0;
    const head = first ? t.session.readFile(direct, { maxBytes: COLD_CHUNK }).catch(() => undefined) : undefined;
    if (first) {
      const cold = await this.coldPage(t, file, direct, limit, head!);
      if (cold) return cold;
    }
    let index = await this.settled(t, file, await this.lineIndex(t, file));
    const prefetched = index.state.file === direct ? await head : undefined;
    if (byteOffset === undefined && offset > 0 && !index.state.complete && offset >= index.state.rows) {
      index = await this.indexPast(t, file, offset);
    }
    let read: ReadResult;
    if (format === 'jsonl') {
      if (byteOffset === undefined) {
        const from = pointForRow(index, offset);
        read = await readJsonlRows(t.session, index, from, { row: offset }, limit, false, prefetched);
      } else {
        const target = Math.min(byteOffset, Math.max(index.state.size, index.state.fileSize ?? 0));
        const from = pointForByte(index, target);
        // Past the counted part: from the byte before, so a seek that lands on a line start keeps that line.
        const start = from.numbered || target === 0 ? from : { ...from, start: target - 1 };
        read = await readJsonlRows(t.session, index, start, { byte: target }, limit, !from.numbered && target > 0);
      }
    } else if (byteOffset === undefined) {
      read = await readCsvRows(t.session, index, offset, limit);
    } else {
      read = await readCsvRowsAtByte(t.session, index, byteOffset, limit);
    }
    if (byteOffset === undefined && offset === 0 && read.rows.length === 0 && index.state.error) {
      throw new AppError('INTERNAL', `Indexing ${file} on the host failed: ${index.state.error}`);
    }
    const summary = indexSummary(index.state);
    const lastRow = read.rows.reduce((n, r) => (r.row === null ? n : Math.max(n, r.row + 1)), 0);
    return {
      path: file,
      format,
      offset: read.rows[0]?.row ?? offset,
      total: summary.complete ? summary.rows : Math.max(summary.rows, lastRow),
      rows: read.rows,
      ...(index.state.header ? { columns: index.state.header } : read.header ? { columns: read.header } : {}),
      problems: index.state.problems,
      problemCount: index.state.problemCount,
      indexBuiltMs: null,
      index: summary,
      ...(read.byteStart !== undefined ? { byteStart: read.byteStart } : {}),
      byteEnd: read.byteEnd,
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

  async search(
    id: string,
    file: string,
    query: string,
    limit = 200,
    stream?: { searchId: string; peerId: string },
  ): Promise<DatasetSearch> {
    const t = await this.target(id);
    if (stream && datasetFormatOf(file) === 'parquet') {
      return this.job(t, file, 'search', () => this.searchParquet(t, file, query, limit, stream));
    }
    const source = await this.hostFile(t, file);
    const args = ['search', '--workspace', source.workspace, '--file', source.file, '--query', query];
    args.push('--limit', String(limit));
    // The file's own index (a converted Parquet file has none) numbers the hits' rows once it is finished.
    if (!source.converted) args.push('--cache-dir', inspectDir(t.runDir));
    const run = (): Promise<DatasetSearch> =>
      stream && t.session.stream
        ? this.streamSearch(t, file, args, stream)
        : this.helper.run<DatasetSearch>(t.session, t, args);
    const result = await this.job(t, file, 'search', run);
    return source.converted ? { ...result, hits: result.hits.map((h) => ({ ...h, line: null })) } : result;
  }

  /** Sends a streaming search's hits and counts to the peer that started it (`datasets.searchProgress`). */
  private searchProgress(
    t: Target,
    file: string,
    stream: { searchId: string; peerId: string },
  ): (
    fresh: DatasetSearch['hits'],
    counts: { total: number; scannedBytes: number; size: number },
    done: boolean,
  ) => void {
    return (fresh, counts, done) =>
      this.options.onSearchProgress?.(stream.peerId, {
        runId: t.id,
        path: file,
        searchId: stream.searchId,
        hits: fresh,
        ...counts,
        done,
      });
  }

  /**
   * A streaming search of a Parquet file, done here over its row groups (SFTP range reads, only the pages each
   * step needs): the first hit arrives after the row group it is in, not after the whole file was converted for the
   * host helper. Rows are matched on the same text the helper matches (every string and number, in order).
   */
  private async searchParquet(
    t: Target,
    file: string,
    query: string,
    limit: number,
    stream: { searchId: string; peerId: string },
  ): Promise<DatasetSearch> {
    if (this.searches.has(stream.searchId)) {
      throw new AppError('INVALID_INPUT', `A search with id ${stream.searchId} is already running.`);
    }
    const stat = await this.parquetStat(t, file);
    const state = { cancelled: false, close: () => undefined };
    this.searches.set(stream.searchId, state);
    const needle = query.toLowerCase();
    const hits: DatasetSearch['hits'] = [];
    let total = 0;
    let scanned = 0;
    const started = Date.now();
    let firstHitMs: number | null = null;
    const progress = this.searchProgress(t, file, stream);
    const emit = (fresh: DatasetSearch['hits'], done: boolean): void =>
      progress(fresh, { total, scannedBytes: scanned, size: stat.size }, done);
    try {
      await scanParquet(t.session, `${t.key}\0${stat.realPath}`, stat.realPath, stat.size, (rows, start, of) => {
        const fresh: DatasetSearch['hits'] = [];
        rows.forEach((value, i) => {
          const text = rowText(value);
          const at = text.toLowerCase().indexOf(needle);
          if (at < 0) return;
          total++;
          if (hits.length >= limit) return;
          firstHitMs ??= Date.now() - started;
          const from = Math.max(0, at - 60);
          const hit = {
            row: start + i,
            line: null,
            snippet: text.slice(from, at + needle.length + 60),
            matchStart: at - from,
            matchEnd: at - from + needle.length,
          };
          hits.push(hit);
          fresh.push(hit);
        });
        scanned = Math.round((stat.size * (start + rows.length)) / Math.max(1, of));
        emit(fresh, false);
        return !state.cancelled;
      });
    } finally {
      this.searches.delete(stream.searchId);
    }
    emit([], true);
    return {
      query,
      total,
      hits,
      ...(state.cancelled ? { cancelled: true } : {}),
      scannedBytes: scanned,
      size: stat.size,
      elapsedMs: Date.now() - started,
      firstHitMs,
    };
  }

  /**
   * A search whose hits reach the asking peer as they are found (`datasets.searchProgress`), read line by line
   * from the helper's output on a channel of its own; closing the channel (`datasets.searchCancel`) stops it.
   */
  private async streamSearch(
    t: Target,
    file: string,
    args: string[],
    stream: { searchId: string; peerId: string },
  ): Promise<DatasetSearch> {
    if (this.searches.has(stream.searchId)) {
      throw new AppError('INVALID_INPUT', `A search with id ${stream.searchId} is already running.`);
    }
    const command = await this.helper.command(t.session, t, [...args, '--stream']);
    const running = await t.session.stream!(command);
    const state = { cancelled: false, close: () => running.close() };
    this.searches.set(stream.searchId, state);
    const hits: DatasetSearch['hits'] = [];
    let total = 0;
    let scanned = 0;
    let size = 0;
    let done: DatasetSearch | undefined;
    let failure: AppError | undefined;
    const progress = this.searchProgress(t, file, stream);
    const emit = (fresh: DatasetSearch['hits'], last: boolean): void =>
      progress(fresh, { total, scannedBytes: scanned, size }, last);
    let buffered = '';
    let stderr = '';
    running.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
    const onLine = (text: string): void => {
      if (!text.trim()) return;
      let message: {
        hit?: DatasetSearch['hits'][number];
        total?: number;
        scannedBytes?: number;
        progress?: { scannedBytes: number; size: number; total: number };
        done?: DatasetSearch;
        error?: { code?: unknown; message?: unknown };
      };
      try {
        message = parseJsonExact(text, Number.MAX_SAFE_INTEGER) as typeof message;
      } catch {
        return;
      }
      if (message.hit) {
        hits.push(message.hit);
        total = message.total ?? total;
        scanned = message.scannedBytes ?? scanned;
        emit([message.hit], false);
      } else if (message.progress) {
        ({ total } = message.progress);
        scanned = message.progress.scannedBytes;
        size = message.progress.size;
        emit([], false);
      } else if (message.done) {
        done = message.done;
      } else if (message.error) {
        const code = errorCodeSchema.safeParse(message.error.code);
        failure = new AppError(code.success ? code.data : 'INTERNAL', String(message.error.message));
      }
    };
    running.stdout.on('data', (b: Buffer) => {
      buffered += b.toString('utf8');
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
    });
    try {
      const exit = await running.exited;
      if (buffered) onLine(buffered);
      if (failure) throw failure;
      if (done) {
        ({ total } = done);
        scanned = done.scannedBytes ?? scanned;
        size = done.size ?? size;
        emit([], true);
        return done;
      }
      if (state.cancelled) {
        emit([], true);
        return { query: args[args.indexOf('--query') + 1]!, total, hits, cancelled: true, scannedBytes: scanned, size };
      }
      throw new AppError(
        'INTERNAL',
        `${HELPER_NAME} search ended without an answer (exit ${exit.code ?? exit.signal ?? 'unknown'}): ${stderr.trim().slice(-1000)}`,
      );
    } finally {
      this.searches.delete(stream.searchId);
      running.close();
    }
  }

  /** Stops a streaming search; it answers with what it had found, `cancelled: true`. */
  cancelSearch(searchId: string): { cancelled: boolean } {
    const running = this.searches.get(searchId);
    if (!running) return { cancelled: false };
    running.cancelled = true;
    running.close();
    return { cancelled: true };
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

/** A row's searchable text as the host helper makes it (`row_text`): every string and number in order. */
function rowText(value: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return out.join('\n');
}

// --- reading pages of text rows ---------------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 32 && (b < 9 || b > 13)) return false;
  return true;
}

function jsonlRow(row: number | null, line: number | null, bytes: Buffer, total: number): DatasetRow {
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

interface ReadResult {
  rows: DatasetRow[];
  byteStart?: number;
  /** Where the next page by byte would start: after the last row read (or where reading stopped). */
  byteEnd: number;
  /** CSV read before its index knew the header: the header record read with the rows. */
  header?: string[];
}

/** How many bytes to read first: the rows wanted at the file's average row size so far, within bounds. */
function firstRead(index: LineIndex, rowsAhead: number): number {
  const { rows, indexedBytes } = index.state;
  if (rows === 0) return COLD_CHUNK;
  const perRow = indexedBytes / rows;
  return Math.min(FIRST_CHUNK_MAX, Math.max(64 * 1024, Math.ceil((rowsAhead + 16) * perRow * 1.5) + 64 * 1024));
}

/**
 * Rows of a JSONL file from a read point: by row number (`want.row`), or from the first line starting at or after
 * `want.byte`. `skipPartial`: the point is mid-line (a byte seek past the counted part) and the bytes up to the
 * next newline are passed over. A line that runs on past MAX_LINE_SCAN (a file with no newline for gigabytes) is
 * shown cut, and the page goes on from the checkpoint after it when the index has one.
 */
async function readJsonlRows(
  session: HostSession,
  index: LineIndex,
  from: ReadPoint,
  want: { row: number } | { byte: number },
  limit: number,
  skipPartial: boolean,
  head?: Buffer,
): Promise<ReadResult> {
  const file = index.state.file;
  const rows: DatasetRow[] = [];
  const result: ReadResult = { rows, byteEnd: from.start };
  let position = from.start;
  let lineStart = from.start;
  let line = from.line;
  let row = from.row;
  let skipping = skipPartial;
  let skipped = 0;
  // The current line: its first MAX_ROW_TEXT + 1 bytes and its full length.
  let parts: Buffer[] = [];
  let kept = 0;
  let length = 0;
  let size = firstRead(index, 'row' in want && from.row !== null ? want.row - from.row + limit : limit);
  const take = (piece: Buffer): void => {
    length += piece.length;
    if (kept <= MAX_ROW_TEXT) {
      const slice = piece.subarray(0, MAX_ROW_TEXT + 1 - kept);
      parts.push(slice);
      kept += slice.length;
    }
  };
  const wanted = (start: number): boolean => ('row' in want ? row !== null && row >= want.row : start >= want.byte);
  /** Ends the current line at `end` (its newline, or the end of the file); true when the page is full. */
  const endLine = (end: number, row$: (bytes: Buffer, total: number) => DatasetRow): boolean => {
    const bytes = Buffer.concat(parts);
    const total = length;
    const start = lineStart;
    parts = [];
    kept = 0;
    length = 0;
    lineStart = end + 1;
    if (total === bytes.length && isBlank(bytes)) {
      if (line !== null) line++;
      return false;
    }
    if (wanted(start)) {
      rows.push({ ...row$(bytes, total), byte: start });
      result.byteStart ??= start;
      result.byteEnd = end + 1;
    }
    if (line !== null) line++;
    if (row !== null) row++;
    return rows.length >= limit;
  };
  for (;;) {
    // The file's first bytes, when they were read already and cover this read (or the whole file).
    const early = position === 0 && head && (head.length >= size || head.length < COLD_CHUNK);
    const chunk = early ? head.subarray(0, size) : await session.readFile(file, { offset: position, maxBytes: size });
    const chunkStart = position;
    position += chunk.length;
    let at = 0;
    if (skipping) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        skipped += chunk.length;
        if (chunk.length < size || skipped > MAX_LINE_SCAN) {
          result.byteEnd = position;
          return result;
        }
        size = NEXT_CHUNK;
        continue;
      }
      at = nl + 1;
      lineStart = chunkStart + at;
      result.byteEnd = lineStart;
      skipping = false;
    }
    while (at < chunk.length) {
      const nl = chunk.indexOf(10, at);
      if (nl < 0) {
        take(chunk.subarray(at));
        break;
      }
      take(chunk.subarray(at, nl));
      at = nl + 1;
      const lineNo = line;
      if (endLine(chunkStart + nl, (bytes, total) => jsonlRow(row, lineNo, bytes, total))) return result;
    }
    if (chunk.length < size) {
      const lineNo = line;
      if (length > 0) endLine(position, (bytes, total) => jsonlRow(row, lineNo, bytes, total));
      if (rows.length > 0 || skipping) result.byteEnd = position;
      return result;
    }
    if (length > MAX_LINE_SCAN) {
      // Too long to read through for one page: shown cut; its end (and the rows after it) from the index.
      const after = checkpointAfter(index, lineStart);
      const longStart = lineStart;
      const lineNo = line;
      const seen = length;
      const full = endLine(position, (bytes) =>
        after
          ? jsonlRow(row, lineNo, bytes, after.start - longStart - 1)
          : {
              row,
              line: lineNo,
              raw: utf8Lenient.decode(bytes.subarray(0, MAX_ROW_TEXT)),
              error: `no line end in its first ${MAX_LINE_SCAN / 1024 / 1024} MiB: the row is at least ${seen} bytes (first ${MAX_ROW_TEXT} bytes shown; the rest of the file is reached once the index has counted past it)`,
              bytes: seen,
            },
      );
      if (full || !after || after.row === null) return result;
      position = after.start;
      lineStart = after.start;
      line = after.line;
      row = after.row;
      result.byteEnd = after.start;
    }
    size = NEXT_CHUNK;
  }
}

/** The byte where rows [.., row) surely end: a checkpoint at or after it, the frontier, or the end of the file. */
function endForRow(index: LineIndex, row: number, from: number): number | undefined {
  const at = index.table.atRow(row);
  if (at && at.row === row && at.start > from) return at.start;
  const next = at ? index.table.after(at.start) : index.table.count ? index.table.point(0) : undefined;
  if (next && next.row !== null && next.row >= row && next.start > from) return next.start;
  const edge = frontier(index);
  if (edge.row !== null && edge.row >= row && edge.start > from) return edge.start;
  if (index.state.complete) return Math.max(index.state.size, from);
  return undefined;
}

/** How much of the text after a candidate record start is parsed to judge it. */
const CSV_RESYNC_WINDOW = 64 * 1024;

/**
 * Where records start in bytes read from a seek (the byte before the position asked for), -1 when there is no
 * newline: one of the first line starts after it, the earliest whose next ten records have the header's width and
 * no quoted field left open. A seek can land inside a quoted field that spans lines; read from there, the quotes
 * pair up wrongly and every record after it comes out garbled, so that start is passed over.
 */
function csvResync(bytes: Buffer, width: number): number {
  const starts: number[] = [];
  for (let at = bytes.indexOf(10) + 1; at > 0 && starts.length < 4; at = bytes.indexOf(10, at) + 1) starts.push(at);
  if (starts.length === 0) return -1;
  const fits = (at: number): number =>
    parseCsvRecords(utf8Lenient.decode(bytes.subarray(at, at + CSV_RESYNC_WINDOW)))
      .slice(0, 10)
      .filter((r) => r.fields.length === width && !r.unterminated).length;
  let best = starts[0]!;
  let bestFit = fits(best);
  for (const at of starts.slice(1)) {
    const fit = fits(at);
    if (fit > bestFit) [best, bestFit] = [at, fit];
  }
  return best;
}

/**
 * A page of CSV records from the first line start at or after byte `byte` (issue 21, as JSONL pages by byte): in
 * the counted part read from the nearest checkpoint before it, so the records keep their numbers; past it,
 * unnumbered until the index gets there. A seek can land inside a quoted field that spans lines: the records read
 * from there then show a wrong field count as their problem, and the next page by byte goes on from where they end.
 */
async function readCsvRowsAtByte(
  session: HostSession,
  index: LineIndex,
  byte: number,
  limit: number,
): Promise<ReadResult> {
  const target = Math.min(byte, Math.max(index.state.size, index.state.fileSize ?? 0));
  const from = pointForByte(index, target);
  const file = index.state.file;
  const header =
    index.state.header ??
    parseCsvRecords(utf8Lenient.decode(await session.readFile(file, { maxBytes: COLD_CHUNK })))[0]?.fields ??
    [];
  // Numbered: from the checkpoint. Else from the byte before, so a seek that lands on a line start keeps that line.
  const start = from.numbered ? from.start : Math.max(0, target - 1);
  let bytes = Buffer.alloc(0);
  let atEnd = false;
  let want = COLD_CHUNK;
  for (;;) {
    const more = await session.readFile(file, { offset: start + bytes.length, maxBytes: want });
    bytes = Buffer.concat([bytes, more]);
    atEnd = more.length < want;
    if (atEnd || bytes.length >= CSV_RANGE_MAX) break;
    const from$ = from.numbered ? 0 : csvResync(bytes, header.length);
    if (from$ >= 0 && parseCsvRecords(utf8Lenient.decode(bytes.subarray(from$))).length > limit + 2) break;
    want = NEXT_CHUNK;
  }
  const skip = from.numbered || target === 0 ? 0 : csvResync(bytes, header.length);
  if (skip < 0) return { rows: [], byteStart: start + bytes.length, byteEnd: start + bytes.length };
  const bodyStart = start + skip;
  const body = bytes.subarray(skip);
  const parsed = parseCsvRecords(utf8Lenient.decode(body));
  // Where each relative line of the body starts.
  const lineStarts = [0];
  for (let at = body.indexOf(10); at >= 0; at = body.indexOf(10, at + 1)) lineStarts.push(at + 1);
  const startOf = (record: { line: number }): number => bodyStart + lineStarts[record.line]!;
  // Reading stopped before the end: the last record may be cut, and is left for the next page.
  let records = atEnd ? parsed : parsed.slice(0, -1);
  let end = !atEnd && parsed.length > 0 ? startOf(parsed[parsed.length - 1]!) : bodyStart + body.length;
  // The header, when reading from the start of the file.
  const headerFirst = bodyStart === 0 && records.length > 0;
  if (headerFirst) records = records.slice(1);
  const rows: DatasetRow[] = [];
  records.forEach((record, i) => {
    if (startOf(record) < target) return;
    if (rows.length >= limit) {
      end = Math.min(end, startOf(record));
      return;
    }
    const { value, error } = csvRow(header, record.fields);
    const problem = record.unterminated ? 'a quoted field is never closed' : error;
    const numbered = from.numbered && from.row !== null;
    rows.push({
      row: numbered ? from.row! + i : null,
      line: numbered && from.line !== null ? from.line + record.line : null,
      value,
      ...(problem ? { error: problem } : {}),
    });
  });
  const first = records.find((r) => startOf(r) >= target);
  return { rows, byteStart: first ? startOf(first) : end, byteEnd: end };
}

async function readCsvRows(session: HostSession, index: LineIndex, offset: number, limit: number): Promise<ReadResult> {
  const from = pointForRow(index, offset);
  const known = index.state.header;
  const end = known ? endForRow(index, offset + limit, from.start) : undefined;
  let bytes: Buffer;
  let atEnd: boolean;
  if (end !== undefined) {
    if (end - from.start > CSV_RANGE_MAX) {
      throw new AppError(
        'INVALID_INPUT',
        `${index.state.file}: rows ${offset}–${offset + limit} span ${end - from.start} bytes; pages of CSV over ${CSV_RANGE_MAX} bytes are not read.`,
      );
    }
    bytes = await session.readFile(index.state.file, { offset: from.start, maxBytes: end - from.start });
    atEnd = true;
  } else {
    // Not counted this far yet (a first look): read on until the page is covered, the last record (maybe cut) left.
    bytes = Buffer.alloc(0);
    let want = COLD_CHUNK;
    for (;;) {
      const more = await session.readFile(index.state.file, { offset: from.start + bytes.length, maxBytes: want });
      bytes = Buffer.concat([bytes, more]);
      atEnd = more.length < want;
      if (atEnd || bytes.length >= CSV_RANGE_MAX) break;
      const records = parseCsvRecords(utf8Lenient.decode(bytes)).length;
      if (records > offset - (from.row ?? 0) + limit + (known ? 1 : 2)) break;
      want = NEXT_CHUNK;
    }
  }
  let records = parseCsvRecords(utf8Lenient.decode(bytes));
  if (!atEnd) records = records.slice(0, -1);
  const result: ReadResult = { rows: [], byteEnd: from.start + bytes.length };
  let header = known ?? [];
  if (!known) {
    const first = records.shift();
    header = first ? first.fields.map((h, i) => (i === 0 ? h.replace(/^\ufeff/, '') : h)) : [];
    result.header = header;
  }
  const base = from.line ?? 1;
  records.forEach((record, i) => {
    const row = (from.row ?? 0) + i;
    if (row < offset || result.rows.length >= limit) return;
    const { value, error } = csvRow(header, record.fields);
    const out: DatasetRow = { row, line: base + record.line, value };
    const problem = record.unterminated ? 'a quoted field is never closed' : error;
    if (problem) out.error = problem;
    result.rows.push(out);
  });
  return result;
}
