import { createHash } from 'node:crypto';
import { mkdir, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReplayHit, ReplayIndex, ReplaySegment } from '../../shared/contract-replay';
import { AppError } from '../../shared/errors';
import { isRunId } from '../runs/run-layout';
import { CastIndex } from './cast-index';

/**
 * Replay of runs' terminal recordings: `PTW_HOME/runs/<id>/terminal.cast`, indexed once into
 * `PTW_HOME/runs/<id>/.replay/` (rebuilt when the cast grows or changes). One index build per cast at a time;
 * concurrent opens share it. Other casts (an import, a bundle) can be opened by path with {@link openFile}.
 */
/**
 * A live run syncs every few seconds; each pass re-reads up to a segment to rebuild the terminal where it stopped,
 * so passes are spaced out: an open finds at most this much output not yet indexed.
 */
export const PREPARE_INTERVAL_MS = 10_000;

export class ReplayService {
  private readonly open = new Map<string, Promise<CastIndex>>();
  /** Casts opened by path (`replay.openFile`): their key, the file and where its index is cached. */
  private readonly files = new Map<string, { castFile: string; cacheDir: string }>();
  /** Runs whose index is being brought up to their mirrored cast in the background, and those to do once more. */
  private readonly preparing = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** Runs whose next pass waits for the interval since their last one, and when that last one ended. */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private readonly lastPass = new Map<string, number>();
  /** Background passes, one after another. */
  private backgroundQueue: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(
    private readonly options: {
      home: string;
      onProgress?: (progress: { id: string; bytesDone: number; bytesTotal: number; done: boolean }) => void;
      /** Least time between two background passes of one run (default {@link PREPARE_INTERVAL_MS}). */
      prepareIntervalMs?: number;
    },
  ) {}

  /**
   * Any asciicast file on this machine, without a run (asciinema, Terminal-Bench, Harbor trials): indexed into
   * `PTW_HOME/replay-files/<key>/`, where the key is named from the file's real path. Later `replay.*` calls use
   * the key as a run id.
   */
  async openPath(file: string): Promise<ReplayIndex> {
    const absolute = path.resolve(file);
    const real = await realpath(absolute).catch((err: NodeJS.ErrnoException) => {
      throw new AppError(
        err.code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_INPUT',
        err.code === 'ENOENT' ? `${absolute} does not exist` : `${absolute} cannot be read: ${err.message}`,
      );
    });
    const info = await stat(real);
    if (!info.isFile()) throw new AppError('INVALID_INPUT', `${absolute} is not a file (give an asciicast .cast file)`);
    const key = `file-${createHash('sha256').update(real).digest('hex').slice(0, 16)}`;
    const entry = { castFile: real, cacheDir: path.join(this.options.home, 'replay-files', key) };
    this.files.set(key, entry);
    return (await this.index(key, entry.castFile, entry.cacheDir)).toContract(key);
  }

  /** A cast sent as text (dropped on the page): kept by content under `PTW_HOME/replay-files/dropped/`, then opened. */
  async openDropped(name: string, text: string): Promise<ReplayIndex> {
    const sha = createHash('sha256').update(text).digest('hex').slice(0, 16);
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'recording';
    const dir = path.join(this.options.home, 'replay-files', 'dropped');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${sha}-${safe}`);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, file);
    return this.openPath(file);
  }

  /** Where a run's cast (or a cast opened by path) and its index cache are. */
  runCast(id: string): { castFile: string; cacheDir: string } {
    const file = this.files.get(id);
    if (file) return file;
    if (!isRunId(id)) throw new AppError('INVALID_INPUT', `"${id}" is not a run id (r-YYYYMMDD-HHMMSS-xxxx)`);
    const dir = path.join(this.options.home, 'runs', id);
    return { castFile: path.join(dir, 'terminal.cast'), cacheDir: path.join(dir, '.replay') };
  }

  /**
   * Indexes what a sync just added to a run's mirrored cast, in the background (the terminal in a worker thread
   * when there is much to do), so the first open of its Replay tab finds the index made, as a reopen does. At most
   * one pass per run every `prepareIntervalMs` (syncs meanwhile fold into the next) and one pass at a time over all
   * runs, so a hundred live runs cost no more than one. A run without a cast yet is left alone.
   */
  prepareRun(id: string): void {
    if (this.stopping.signal.aborted || !isRunId(id)) return;
    if (this.preparing.has(id)) {
      this.again.add(id);
      return;
    }
    if (this.waiting.has(id)) return;
    const interval = this.options.prepareIntervalMs ?? PREPARE_INTERVAL_MS;
    const wait = (this.lastPass.get(id) ?? -Infinity) + interval - Date.now();
    if (wait > 0) {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        this.prepareRun(id);
      }, wait);
      timer.unref();
      this.waiting.set(id, timer);
      return;
    }
    const { castFile, cacheDir } = this.runCast(id);
    const pass = async (): Promise<void> => {
      const info = await stat(castFile).catch(() => null);
      if (!info?.isFile() || info.size === 0 || this.stopping.signal.aborted) return;
      await this.index(id, castFile, cacheDir, { completeLinesOnly: true }).catch(() => undefined);
    };
    const run = this.backgroundQueue.then(pass);
    this.backgroundQueue = run;
    this.preparing.set(
      id,
      run.finally(() => {
        this.preparing.delete(id);
        this.lastPass.set(id, Date.now());
        if (this.again.delete(id)) this.prepareRun(id);
      }),
    );
  }

  /** Resolves when the run's background indexing has ended (a pass folded in after it included). */
  async prepared(id: string): Promise<void> {
    for (let pass = this.preparing.get(id); pass; pass = this.preparing.get(id)) await pass;
  }

  /** Stops background indexing (the cache stays as it was) and waits for it to end. */
  async dispose(): Promise<void> {
    this.stopping.abort();
    for (const timer of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    await Promise.all([...this.preparing.values()]);
  }

  async openRun(id: string): Promise<ReplayIndex> {
    const { castFile, cacheDir } = this.runCast(id);
    return (await this.index(id, castFile, cacheDir)).toContract(id);
  }

  /** Any cast file; its index is cached in `cacheDir`. `key` names it in progress events and later calls. */
  async openFile(key: string, castFile: string, cacheDir: string): Promise<ReplayIndex> {
    return (await this.index(key, castFile, cacheDir)).toContract(key);
  }

  async segment(id: string, n: number): Promise<ReplaySegment> {
    return (await this.loaded(id)).segment(n);
  }

  async search(
    id: string,
    query: string,
    limit: number,
  ): Promise<{ hits: ReplayHit[]; truncated: boolean; searchedBytes: number }> {
    return (await this.loaded(id)).search(query, limit);
  }

  /**
   * The index already opened for `id`, or the run's (opened now). It is used as it is even when the cast has grown
   * since (a live run): casts only grow, so its byte ranges still hold; `replay.open` indexes the new part.
   */
  private async loaded(id: string): Promise<CastIndex> {
    const existing = this.open.get(id);
    if (existing) return existing;
    const { castFile, cacheDir } = this.runCast(id);
    return this.index(id, castFile, cacheDir);
  }

  private async index(
    id: string,
    castFile: string,
    cacheDir: string,
    background: { completeLinesOnly?: boolean } = {},
  ): Promise<CastIndex> {
    const existing = this.open.get(id);
    if (existing) {
      const index = await existing.catch(() => null);
      if (index && index.castFile === castFile && !(await index.stale())) return index.reused();
      // Another caller may have started the rebuild while this one checked.
      if (this.open.get(id) !== existing) return this.index(id, castFile, cacheDir, background);
    }
    // A background pass may stop at the last whole line; an open indexes the file as it is then (the mirror writes
    // whole lines, so for a run's cast the two agree whenever no sync is writing).
    const building = CastIndex.open(castFile, cacheDir, {
      ...background,
      signal: this.stopping.signal,
      onProgress: (bytesDone, bytesTotal) => this.options.onProgress?.({ id, bytesDone, bytesTotal, done: false }),
    });
    this.open.set(id, building);
    try {
      const index = await building;
      this.options.onProgress?.({
        id,
        bytesDone: index.stored.castBytes,
        bytesTotal: index.stored.castBytes,
        done: true,
      });
      return index;
    } catch (err) {
      if (this.open.get(id) === building) this.open.delete(id);
      throw err;
    }
  }
}
