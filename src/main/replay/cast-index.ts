import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ReplayHit, ReplayIndex, ReplaySegment } from '../../shared/contract-replay';
import { replayHeaderSchema } from '../../shared/contract-replay';
import { AppError } from '../../shared/errors';
import {
  CastEventReader,
  CastHeaderError,
  parseCastHeader,
  parseResize,
  type CastHeader,
} from '../../shared/replay/asciicast';
import { TerminalTextSearch, TerminalTextStripper } from '../../shared/replay/terminal-text-search';
import { scanLines } from './cast-lines';
import { createKeyframeMaker, type KeyframeMaker, type KeyframeOp } from './keyframe-maker';

/**
 * The replay index of one cast: segments of about {@link SEGMENT_BYTES} with byte offsets and times, a keyframe
 * (the terminal at each segment's start, made by feeding the output to `@xterm/headless` and serializing it),
 * markers, resizes and the lines that could not be read. Cached in `cacheDir` (index.json + keyframes.bin) and
 * rebuilt when the cast's size or mtime changes. The cast itself is only ever read.
 */

/**
 * A seek writes one keyframe and up to a segment of events, all of which first cross from main to the page: half a
 * MiB keeps the worst seek's work half what 1 MiB did, for ~8% more indexing work (twice the keyframes).
 */
export const SEGMENT_BYTES = 512 * 1024;
/** Rows of scrollback each keyframe carries, so a seek still lets a person scroll up a little. */
export const KEYFRAME_SCROLLBACK = 200;
const MAX_PROBLEMS = 100;
/** Bytes read per step while indexing: each step's lines are parsed synchronously. */
const INDEX_READ_BYTES = 1024 * 1024;
const INDEX_SCHEMA = 3;
/** Bytes at the end of the indexed part whose hash tells, when the cast has grown, that it only grew. */
const TAIL_CHECK_BYTES = 64 * 1024;

const segmentEntrySchema = z.object({
  n: z.number(),
  tStart: z.number(),
  tEnd: z.number(),
  byteStart: z.number(),
  byteEnd: z.number(),
  firstLine: z.number(),
  cols: z.number(),
  rows: z.number(),
  keyframeOffset: z.number(),
  keyframeBytes: z.number(),
});
type SegmentEntry = z.infer<typeof segmentEntrySchema>;

const storedIndexSchema = z.object({
  schema: z.literal(INDEX_SCHEMA),
  castBytes: z.number(),
  castMtimeMs: z.number(),
  segmentBytes: z.number(),
  keyframesBytes: z.number(),
  header: replayHeaderSchema,
  duration: z.number(),
  eventCount: z.number(),
  segments: z.array(segmentEntrySchema),
  markers: z.array(z.object({ t: z.number(), label: z.string(), byteOffset: z.number() })),
  resizes: z.array(z.object({ t: z.number(), cols: z.number(), rows: z.number() })),
  exit: z.object({ t: z.number(), status: z.string() }).nullable(),
  problems: z.array(z.object({ line: z.number(), message: z.string() })),
  problemCount: z.number(),
  buildMs: z.number(),
  /** Where reading stopped, to index only what a growing cast (a live run's) adds. */
  end: z.object({
    clock: z.number(),
    nextLine: z.number(),
    cols: z.number(),
    rows: z.number(),
    tailSha256: z.string(),
  }),
});
export type StoredCastIndex = z.infer<typeof storedIndexSchema>;

export interface BuildOptions {
  segmentBytes?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Run the terminal in a worker thread; default: for casts over {@link WORKER_MIN_BYTES} (starting one costs ~0.1 s). */
  worker?: boolean;
  /** Told where the terminal runs once indexing starts (a worker may fail to start: then this thread). */
  onStart?: (where: { worker: boolean }) => void;
  /**
   * Index only up to the last complete line: for a cast another writer is appending to (a run's mirror, while it
   * syncs), whose last line may be half written. A standalone file is indexed whole (its last line may lack `\n`).
   */
  completeLinesOnly?: boolean;
  /** Stops a build (the app closing): the cache is left as it was and the build rejects. */
  signal?: AbortSignal;
}

export const WORKER_MIN_BYTES = 2 * 1024 * 1024;

/** A cast and where its index lives. */
export class CastIndex {
  private constructor(
    readonly castFile: string,
    readonly cacheDir: string,
    readonly stored: StoredCastIndex,
  ) {}

  static indexFile(cacheDir: string): string {
    return path.join(cacheDir, 'index.json');
  }

  static keyframesFile(cacheDir: string): string {
    return path.join(cacheDir, 'keyframes.bin');
  }

  /** The cached index when it still matches the cast, else a fresh one (written to the cache). */
  static async open(castFile: string, cacheDir: string, options: BuildOptions = {}): Promise<CastIndex> {
    const info = await statCast(castFile);
    if (options.completeLinesOnly) info.size = await completeLinesEnd(castFile, info.size);
    const cached = await readCached(cacheDir);
    if (
      cached &&
      cached.castBytes === info.size &&
      cached.castMtimeMs === info.mtimeMs &&
      cached.segmentBytes === (options.segmentBytes ?? SEGMENT_BYTES)
    ) {
      const kf = await stat(CastIndex.keyframesFile(cacheDir)).catch(() => null);
      // Longer is fine: an extension that stopped before its index.json was written appended unused keyframes.
      if (kf && kf.size >= cached.keyframesBytes) return new CastIndex(castFile, cacheDir, { ...cached, buildMs: 0 });
    }
    const resume = cached && (await canResume(castFile, cacheDir, cached, info, options)) ? cached : undefined;
    const built = await buildIndex(castFile, cacheDir, info, options, resume);
    return new CastIndex(castFile, cacheDir, built);
  }

  /** This index as an open that found it made sees it (no build time). */
  reused(): CastIndex {
    return this.stored.buildMs === 0
      ? this
      : new CastIndex(this.castFile, this.cacheDir, { ...this.stored, buildMs: 0 });
  }

  /** Whether the cast changed since this index was made. */
  async stale(): Promise<boolean> {
    const info = await stat(this.castFile).catch(() => null);
    return !info || info.size !== this.stored.castBytes || info.mtimeMs !== this.stored.castMtimeMs;
  }

  toContract(id: string): ReplayIndex {
    const s = this.stored;
    return {
      id,
      file: this.castFile,
      bytes: s.castBytes,
      header: s.header,
      duration: s.duration,
      eventCount: s.eventCount,
      segments: s.segments.map(({ n, tStart, tEnd, byteStart, byteEnd }) => ({ n, tStart, tEnd, byteStart, byteEnd })),
      markers: s.markers,
      resizes: s.resizes,
      exit: s.exit,
      problems: s.problems,
      problemCount: s.problemCount,
      buildMs: s.buildMs,
    };
  }

  /** A segment's keyframe and its events (input events left out), read from the cast on disk. */
  async segment(n: number): Promise<ReplaySegment> {
    const entry = this.stored.segments[n];
    if (!entry) {
      throw new AppError(
        'NOT_FOUND',
        `${this.castFile} has ${this.stored.segments.length} replay segments, not ${n + 1}`,
      );
    }
    const keyframe = await readRange(CastIndex.keyframesFile(this.cacheDir), entry.keyframeOffset, entry.keyframeBytes);
    const reader = new CastEventReader(this.stored.header.version);
    reader.resetClock(entry.tStart);
    const times: number[] = [];
    const ends: number[] = [];
    let codes = '';
    const parts: string[] = [];
    let length = 0;
    await scanLines(
      this.castFile,
      {
        line: (text) => {
          const r = reader.read(text);
          if (r.kind !== 'event' || r.event.code === 'i') return;
          times.push(r.event.time);
          codes += r.event.code;
          parts.push(r.event.data);
          length += r.event.data.length;
          ends.push(length);
        },
      },
      { start: entry.byteStart, end: entry.byteEnd, firstLine: entry.firstLine, chunkBytes: INDEX_READ_BYTES },
    );
    return {
      n,
      tStart: entry.tStart,
      cols: entry.cols,
      rows: entry.rows,
      keyframe: keyframe.toString('utf8'),
      times,
      codes,
      ends,
      data: parts.join(''),
    };
  }

  /** Case-insensitive search of the output as plain text; streams the cast, stops at `limit` hits. */
  async search(
    query: string,
    limit: number,
  ): Promise<{ hits: ReplayHit[]; truncated: boolean; searchedBytes: number }> {
    const header = this.stored.segments[0];
    const reader = new CastEventReader(this.stored.header.version);
    const stripper = new TerminalTextStripper();
    const search = new TerminalTextSearch<{ t: number; byteOffset: number; line: number }>(query, limit);
    let pendingAfterFull = 0;
    const searchedBytes = await scanLines(
      this.castFile,
      {
        line: (text, lineNo, offset) => {
          const r = reader.read(text);
          if (r.kind !== 'event' || r.event.code !== 'o') return;
          search.push(stripper.push(r.event.data), { t: r.event.time, byteOffset: offset, line: lineNo });
          if (search.full) pendingAfterFull++;
        },
        // Once full, read a little further so the last excerpts get their tails.
        stop: () => search.full && pendingAfterFull > 50,
      },
      { start: header?.byteStart ?? 0, firstLine: header?.firstLine ?? 1, chunkBytes: INDEX_READ_BYTES },
    );
    const hits = search.finish().map((h) => ({
      t: h.at.t,
      byteOffset: h.at.byteOffset,
      line: h.at.line,
      excerpt: h.excerpt,
      matchStart: h.matchStart,
      matchLength: Math.min(query.length, h.excerpt.length - h.matchStart),
    }));
    return { hits, truncated: search.full, searchedBytes };
  }
}

async function statCast(castFile: string): Promise<{ size: number; mtimeMs: number }> {
  try {
    const info = await stat(castFile);
    if (!info.isFile()) throw new AppError('NOT_FOUND', `${castFile} is not a file`);
    return { size: info.size, mtimeMs: info.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('NOT_FOUND', `No terminal recording at ${castFile}`);
    }
    throw err;
  }
}

/** Where the last complete line of the first `size` bytes ends (`size` when none is found in the last MiB). */
async function completeLinesEnd(castFile: string, size: number): Promise<number> {
  const start = Math.max(0, size - 1024 * 1024);
  const tail = await readRange(castFile, start, size - start);
  const nl = tail.lastIndexOf(0x0a);
  return nl < 0 ? size : start + nl + 1;
}

async function readCached(cacheDir: string): Promise<StoredCastIndex | null> {
  try {
    const parsed = storedIndexSchema.safeParse(JSON.parse(await readFile(CastIndex.indexFile(cacheDir), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  if (length === 0) return Buffer.alloc(0);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead !== length) throw new AppError('INTERNAL', `${file} is shorter than its index says`);
    return buffer;
  } finally {
    await handle.close();
  }
}

async function tailSha256(castFile: string, end: number): Promise<string> {
  const start = Math.max(0, end - TAIL_CHECK_BYTES);
  return createHash('sha256')
    .update(await readRange(castFile, start, end - start))
    .digest('hex');
}

/** The cast only grew since `cached` was made (same bytes up to where it stopped, on a line end). */
async function canResume(
  castFile: string,
  cacheDir: string,
  cached: StoredCastIndex,
  info: { size: number },
  options: BuildOptions,
): Promise<boolean> {
  if (cached.segmentBytes !== (options.segmentBytes ?? SEGMENT_BYTES) || cached.castBytes >= info.size) return false;
  if (cached.segments.length === 0 || cached.castBytes === 0) return false;
  const kf = await stat(CastIndex.keyframesFile(cacheDir)).catch(() => null);
  if (!kf || kf.size < cached.keyframesBytes) return false;
  const last = await readRange(castFile, cached.castBytes - 1, 1);
  if (last[0] !== 0x0a) return false;
  return (await tailSha256(castFile, cached.castBytes)) === cached.end.tailSha256;
}

async function buildIndex(
  castFile: string,
  cacheDir: string,
  info: { size: number; mtimeMs: number },
  options: BuildOptions,
  resume?: StoredCastIndex,
): Promise<StoredCastIndex> {
  const started = performance.now();
  const segmentBytes = options.segmentBytes ?? SEGMENT_BYTES;
  await mkdir(cacheDir, { recursive: true, mode: 0o700 });
  // A fresh build writes a new file, renamed into place at the end. Growing (each sync of a live run) appends to
  // the keyframes in place, past the end index.json records: a failure leaves bytes no index refers to, cut off by
  // the next extension, where a copy would cost the whole file (tens of MB at 1 GB) on every sync.
  const keyframesTmp = resume
    ? CastIndex.keyframesFile(cacheDir)
    : `${CastIndex.keyframesFile(cacheDir)}.${process.pid}.tmp`;
  if (resume) await truncate(keyframesTmp, resume.keyframesBytes);
  const keyframesOut = await open(keyframesTmp, resume ? 'a' : 'w', 0o600);

  let header: CastHeader | null = null;
  let headerProblem: string | null = null;
  let reader: CastEventReader | null = null;
  let maker: KeyframeMaker | null = null;
  /** Keyframes are written in the order the terminal makes them (segment order). */
  let keyframeWrites: Promise<unknown> = Promise.resolve();
  let cols = 0;
  let rows = 0;
  let keyframeOffset = 0;
  let eventCount = 0;
  let problemCount = 0;
  const problems: Array<{ line: number; message: string }> = [];
  const segments: SegmentEntry[] = [];
  const markers: StoredCastIndex['markers'] = [];
  const resizes: StoredCastIndex['resizes'] = [];
  let exit: StoredCastIndex['exit'] = null;
  /** The segment being filled. */
  let current: SegmentEntry | null = null;
  let currentBytes = 0;
  /**
   * What the terminal must do, in order, for the lines of the chunk just read: output, resizes, and keyframes at
   * segment starts. Lines are parsed synchronously; the terminal works through the list between chunks.
   */
  let ops: KeyframeOp[] = [];
  let lastProgress = 0;
  let lastLine = 0;

  const problem = (line: number, message: string) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS) problems.push({ line, message });
  };

  const startSegment = (byteStart: number, firstLine: number): SegmentEntry => {
    const time = reader?.time ?? 0;
    const seg: SegmentEntry = {
      n: segments.length,
      tStart: time,
      tEnd: time,
      byteStart,
      byteEnd: byteStart,
      firstLine,
      cols,
      rows,
      keyframeOffset: 0,
      keyframeBytes: 0,
    };
    segments.push(seg);
    current = seg;
    currentBytes = 0;
    return seg;
  };

  const sink = {
    line(text: string, lineNo: number, offset: number, bytes: number) {
      lastLine = lineNo;
      if (!header) {
        if (headerProblem) return;
        if (text.trim() === '') return;
        try {
          header = parseCastHeader(text);
        } catch (err) {
          headerProblem =
            err instanceof CastHeaderError
              ? `${castFile}:${lineNo}: not an asciicast v2/v3 file: ${err.message}`
              : `${castFile}:${lineNo}: ${(err as Error).message}`;
          return;
        }
        reader = new CastEventReader(header.version);
        cols = header.cols;
        rows = header.rows;
        // The first segment's keyframe is the empty terminal of the header's size.
        startSegment(offset + bytes + 1, lineNo + 1);
        return;
      }
      // A new segment starts at a line boundary once the current one is full; its keyframe is the terminal now.
      if (currentBytes >= segmentBytes) ops.push({ snapshot: startSegment(offset, lineNo).n });
      const seg = current!;
      currentBytes += bytes + 1;
      seg.byteEnd = offset + bytes + 1;
      const r = reader!.read(text);
      if (r.kind === 'problem') {
        problem(lineNo, r.message);
        return;
      }
      if (r.kind !== 'event') return;
      eventCount++;
      seg.tEnd = r.event.time;
      const { time, code, data } = r.event;
      if (code === 'o') {
        ops.push(data);
      } else if (code === 'r') {
        const size = parseResize(data)!;
        resizes.push({ t: time, ...size });
        cols = size.cols;
        rows = size.rows;
        ops.push(size);
      } else if (code === 'm') {
        markers.push({ t: time, label: data, byteOffset: offset });
      } else if (code === 'x') {
        exit = { t: time, status: data };
      }
    },
    tooLong(lineNo: number, _offset: number, bytes: number) {
      problem(lineNo, `a line of ${bytes} bytes is longer than a cast event can be; skipped`);
    },
    async chunk(bytesDone: number) {
      options.signal?.throwIfAborted();
      await drain();
      const now = performance.now();
      if (options.onProgress && (now - lastProgress > 200 || bytesDone >= info.size)) {
        lastProgress = now;
        options.onProgress(bytesDone, info.size);
      }
    },
    stop: () => headerProblem !== null,
  };

  const onSnapshot = (n: number, data: string) => {
    const seg = segments[n]!;
    const bytes = Buffer.from(data, 'utf8');
    seg.keyframeOffset = keyframeOffset;
    seg.keyframeBytes = bytes.length;
    keyframeOffset += bytes.length;
    keyframeWrites = keyframeWrites.then(() => keyframesOut.write(bytes));
  };

  const startMaker = async (size: { cols: number; rows: number }): Promise<KeyframeMaker> => {
    const worker = options.worker ?? info.size - (resume?.castBytes ?? 0) > WORKER_MIN_BYTES;
    maker = await createKeyframeMaker({ ...size, scrollback: KEYFRAME_SCROLLBACK, onSnapshot }, worker);
    options.onStart?.({ worker: maker.inWorker });
    return maker;
  };

  /** Hands the chunk's ops to the terminal; waits only when it is more than a few chunks behind. */
  async function drain(): Promise<void> {
    if (!header || ops.length === 0) return;
    const m = maker ?? (await startMaker(header));
    m.post(ops);
    ops = [];
    await m.waitBelow(4);
  }

  let from = 0;
  let firstLine = 1;
  try {
    if (resume) {
      header = resume.header;
      reader = new CastEventReader(resume.header.version);
      cols = resume.end.cols;
      rows = resume.end.rows;
      keyframeOffset = resume.keyframesBytes;
      eventCount = resume.eventCount;
      problemCount = resume.problemCount;
      problems.push(...resume.problems);
      segments.push(...resume.segments.map((g) => ({ ...g })));
      markers.push(...resume.markers);
      resizes.push(...resume.resizes);
      exit = resume.exit;
      // The terminal as it was where reading stopped: the last keyframe, then that segment's events.
      const last = segments[segments.length - 1]!;
      const m = await startMaker(last);
      const keyframe = await readRange(CastIndex.keyframesFile(cacheDir), last.keyframeOffset, last.keyframeBytes);
      m.post([keyframe.toString('utf8')]);
      const replay = new CastEventReader(resume.header.version);
      replay.resetClock(last.tStart);
      let pending: KeyframeOp[] = [];
      await scanLines(
        castFile,
        {
          line: (text) => {
            const r = replay.read(text);
            if (r.kind !== 'event') return;
            if (r.event.code === 'o') pending.push(r.event.data);
            else if (r.event.code === 'r') pending.push(parseResize(r.event.data)!);
          },
          chunk: async () => {
            m.post(pending);
            pending = [];
            await m.waitBelow(4);
          },
        },
        { start: last.byteStart, end: resume.castBytes, firstLine: last.firstLine, chunkBytes: INDEX_READ_BYTES },
      );
      reader.resetClock(resume.end.clock);
      current = last;
      currentBytes = last.byteEnd - last.byteStart;
      from = resume.castBytes;
      firstLine = resume.end.nextLine;
      lastLine = firstLine - 1;
    }
    // Up to the size seen at the start: a live cast grows meanwhile, and the next open indexes the rest.
    await scanLines(castFile, sink, { start: from, end: info.size, firstLine, chunkBytes: INDEX_READ_BYTES });
    await drain();
    await (maker as KeyframeMaker | null)?.waitBelow(0);
    await keyframeWrites;
  } catch (err) {
    if (!resume) await rm(keyframesTmp, { force: true }).catch(() => undefined);
    throw err;
  } finally {
    await keyframeWrites.catch(() => undefined);
    await keyframesOut.close();
    await (maker as KeyframeMaker | null)?.dispose();
  }
  if (headerProblem || !header) {
    if (!resume) await rm(keyframesTmp, { force: true });
    throw new AppError('INVALID_INPUT', headerProblem ?? `${castFile} is empty: no asciicast header`);
  }
  const h: CastHeader = header;
  const last = segments[segments.length - 1];
  const stored: StoredCastIndex = {
    schema: INDEX_SCHEMA,
    castBytes: info.size,
    castMtimeMs: info.mtimeMs,
    segmentBytes,
    keyframesBytes: keyframeOffset,
    header: h,
    duration: last ? last.tEnd : 0,
    eventCount,
    segments,
    markers,
    resizes,
    exit,
    problems,
    problemCount,
    buildMs: Math.round(performance.now() - started),
    end: {
      clock: (reader as CastEventReader | null)?.time ?? 0,
      nextLine: lastLine + 1,
      cols,
      rows,
      tailSha256: await tailSha256(castFile, info.size),
    },
  };
  if (!resume) await rename(keyframesTmp, CastIndex.keyframesFile(cacheDir));
  const indexTmp = `${CastIndex.indexFile(cacheDir)}.${process.pid}.tmp`;
  await writeFile(indexTmp, JSON.stringify(stored), { mode: 0o600 });
  await rename(indexTmp, CastIndex.indexFile(cacheDir));
  return stored;
}
