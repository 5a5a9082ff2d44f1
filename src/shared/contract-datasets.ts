import { z } from 'zod';

/**
 * Datasets the agent wrote, opened over SSH with random access (issue 7).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 *
 * Everything about a dataset is computed where it lives (the GPU host, by `ptw-host.pyz data`:
 * resources/host/ptw_host/datasets/) or read in pages over SFTP byte ranges; only summaries and pages travel. Rows
 * are untrusted: the renderer shows them as text.
 */

export const datasetFormatSchema = z.enum(['jsonl', 'csv', 'json', 'parquet', 'hf-dataset']);
export type DatasetFormat = z.infer<typeof datasetFormatSchema>;

/** A problem with the data itself (a broken line, a short CSV record): named by line and row, never fatal. */
export const datasetProblemSchema = z.object({
  /** 1-based line in the file (null where the format has no lines, e.g. a JSON array). */
  line: z.number().int().nullable(),
  /** 0-based row index. */
  row: z.number().int().nullable(),
  message: z.string(),
});
export type DatasetProblem = z.infer<typeof datasetProblemSchema>;

export const datasetEntrySchema = z.object({
  /** Relative to the run's workspace (POSIX). */
  path: z.string(),
  format: datasetFormatSchema,
  size: z.number(),
  /** Epoch ms. */
  mtime: z.number(),
  /** Known once the file was indexed (JSONL, CSV), from its metadata (Parquet, HF dataset_info.json), else null. */
  rows: z.number().int().nullable(),
  /** Broken rows found when it was indexed. */
  problems: z.number().int().optional(),
  /** For `hf-dataset` folders: the Arrow files (their rows are not read here: listed only). */
  arrowFiles: z.array(z.object({ name: z.string(), size: z.number() })).optional(),
  columns: z.array(z.string()).optional(),
  /** Why the entry is incomplete (unreadable metadata…). */
  problem: z.string().nullable().optional(),
});
export type DatasetEntry = z.infer<typeof datasetEntrySchema>;

export const datasetListSchema = z.object({
  runId: z.string(),
  host: z.string(),
  /** The workspace on the host (absolute, symlinks resolved). */
  workspace: z.string(),
  datasets: z.array(datasetEntrySchema),
  /** The walk stopped early (a huge workspace): what is listed is a part. */
  truncated: z.boolean(),
});
export type DatasetList = z.infer<typeof datasetListSchema>;

export const datasetRowSchema = z.object({
  /** 0-based row index; null for a row reached by byte offset past the part of the file counted so far. */
  row: z.number().int().nullable(),
  /** 1-based line where the row starts (JSONL, CSV), null otherwise. */
  line: z.number().int().nullable(),
  /** The parsed row; absent when it does not parse (see `error`) or is too large to send. */
  value: z.unknown().optional(),
  /** The row's text as stored, cut at {@link MAX_ROW_TEXT} characters. */
  raw: z.string().optional(),
  /** Why the row has no value: the parse error, or that it is too large. */
  error: z.string().optional(),
  /** The row's size in bytes on disk, where known. */
  bytes: z.number().int().optional(),
  /** Byte offset of the row's line in the file (JSONL, CSV). */
  byte: z.number().int().optional(),
});
export type DatasetRow = z.infer<typeof datasetRowSchema>;

/** Rows longer than this are shown cut (with their size), never parsed in full on the way to the screen. */
export const MAX_ROW_TEXT = 256 * 1024;
export const MAX_PAGE_ROWS = 500;

/**
 * How far the host's line index of a JSONL/CSV file has got: built in the background (issue 21), so pages come back
 * while it counts; `rows` is a lower bound until `complete`. Rows are then parsed (`checked`) to find broken ones.
 */
export const datasetIndexSchema = z.object({
  complete: z.boolean(),
  /** Rows counted so far (every row once `complete`). */
  rows: z.number().int(),
  /** Bytes of the file counted so far, and its size as last seen. */
  indexedBytes: z.number().int(),
  size: z.number().int(),
  /** Every row parsed for problems (JSONL); `checkedBytes` so far. */
  checked: z.boolean(),
  checkedBytes: z.number().int(),
  /** The counting rate of the last (re)build on the host, MB/s; null until it has one. */
  indexMBps: z.number().nullable(),
  /** Why the index stopped, when it did. */
  error: z.string().nullable(),
});
export type DatasetIndex = z.infer<typeof datasetIndexSchema>;

export const datasetIndexStatusSchema = z.object({
  path: z.string(),
  index: datasetIndexSchema,
  /** Broken rows found so far. */
  problems: z.array(datasetProblemSchema),
  problemCount: z.number().int(),
});
export type DatasetIndexStatus = z.infer<typeof datasetIndexStatusSchema>;

export const datasetPageSchema = z.object({
  path: z.string(),
  format: datasetFormatSchema,
  offset: z.number().int(),
  /** Rows in the file (as of the index used). */
  total: z.number().int(),
  rows: z.array(datasetRowSchema),
  /** CSV header / Parquet columns. */
  columns: z.array(z.string()).optional(),
  /** Broken rows in the whole file (from the index), with their lines; the rest is shown regardless. */
  problems: z.array(datasetProblemSchema),
  problemCount: z.number().int(),
  /** How the page was read: index build time on the host when it was built for this request. */
  indexBuiltMs: z.number().nullable().optional(),
  /** JSONL/CSV: the line index's progress (`total` is "at least" until it is complete). */
  index: datasetIndexSchema.optional(),
  /** JSONL/CSV: the bytes the page's rows span (the next byte-offset page starts at `byteEnd`). */
  byteStart: z.number().int().optional(),
  byteEnd: z.number().int().optional(),
});
export type DatasetPage = z.infer<typeof datasetPageSchema>;

const histogramSchema = z.object({ edges: z.array(z.number()), counts: z.array(z.number().int()) });

export const datasetStatsSchema = z.object({
  path: z.string(),
  format: datasetFormatSchema,
  rows: z.number().int(),
  objectRows: z.number().int(),
  problems: z.array(datasetProblemSchema),
  problemCount: z.number().int(),
  fields: z.array(
    z.object({
      name: z.string(),
      present: z.number().int(),
      missing: z.number().int(),
      /** JSON type name → rows. */
      types: z.record(z.string(), z.number().int()),
      /** Characters (strings) or items (arrays). */
      lengths: z.object({ min: z.number(), max: z.number(), mean: z.number() }).nullable(),
    }),
  ),
  chat: z.object({ rows: z.number().int(), roles: z.record(z.string(), z.number().int()) }),
  /** Characters of text per row (every string in it). */
  lengths: z.object({
    unit: z.string(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    mean: z.number().nullable(),
    p50: z.number().nullable(),
    p90: z.number().nullable(),
    p99: z.number().nullable(),
    histogram: histogramSchema,
  }),
  exactDuplicates: z.object({
    /** Rows (0-based) with the same normalized content; the first of each group is the original. */
    groups: z.array(z.array(z.number().int())),
    groupCount: z.number().int(),
    duplicateRows: z.number().int(),
  }),
  nearDuplicates: z.object({
    groups: z.array(z.object({ rows: z.array(z.number().int()), similarity: z.number() })),
    groupCount: z.number().int(),
    rowsConsidered: z.number().int(),
    rowsTotal: z.number().int(),
    threshold: z.number(),
    method: z.string(),
  }),
  elapsedMs: z.number(),
});
export type DatasetStats = z.infer<typeof datasetStatsSchema>;

export const datasetSearchSchema = z.object({
  query: z.string(),
  total: z.number().int(),
  hits: z.array(
    z.object({
      row: z.number().int(),
      line: z.number().int().nullable(),
      snippet: z.string(),
      matchStart: z.number().int(),
      matchEnd: z.number().int(),
    }),
  ),
  /** The search was cancelled (`datasets.searchCancel`): `total` and `hits` are what it had found. */
  cancelled: z.boolean().optional(),
  /** Bytes of the file searched, of `size`. */
  scannedBytes: z.number().int().optional(),
  size: z.number().int().optional(),
  elapsedMs: z.number().optional(),
  /** When the first hit was found on the host (ms after the search started there), null when none was. */
  firstHitMs: z.number().nullable().optional(),
});
export type DatasetSearch = z.infer<typeof datasetSearchSchema>;

/** A run of matched text in one string of a row: `field` is its dotted path (`messages.0.content`). */
export const overlapSpanSchema = z.object({ field: z.string(), start: z.number().int(), end: z.number().int() });
export type OverlapSpan = z.infer<typeof overlapSpanSchema>;

export const overlapHitSchema = z.object({
  row: z.number().int(),
  line: z.number().int().nullable(),
  matchedNgrams: z.number().int(),
  totalNgrams: z.number().int(),
  spans: z.array(overlapSpanSchema),
  /** The texts of the fields the spans are in (by path), so a hit can be shown without fetching its row. */
  fields: z.record(z.string(), z.string()),
  testItems: z.array(
    z.object({ index: z.number().int(), file: z.string(), ngrams: z.number().int(), preview: z.string() }),
  ),
});
export type OverlapHit = z.infer<typeof overlapHitSchema>;

export const datasetOverlapSchema = z.object({
  path: z.string(),
  benchmark: z.string(),
  n: z.number().int(),
  /** The test-set files used, on the host. */
  testFiles: z.array(z.string()),
  testRows: z.number().int(),
  testNgrams: z.number().int(),
  rowsScanned: z.number().int(),
  rowsWithOverlap: z.number().int(),
  testItemsMatched: z.number().int(),
  hits: z.array(overlapHitSchema),
  /** More rows overlapped than are listed in `hits`. */
  truncated: z.boolean(),
  elapsedMs: z.number(),
});
export type DatasetOverlap = z.infer<typeof datasetOverlapSchema>;

const relPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a path relative to the workspace, without ..');
const datasetRef = { id: z.string().min(1), path: relPath };

export const datasetsCommands = {
  /** Datasets in the run's workspace on the host (JSONL, JSON arrays, CSV, Parquet, HF save_to_disk folders). */
  'datasets.list': { input: z.object({ id: z.string().min(1) }).strict(), output: datasetListSchema },
  /** A page of rows by offset (random access through a line index built on the host, or Parquet row groups). */
  'datasets.page': {
    input: z
      .object({
        ...datasetRef,
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(MAX_PAGE_ROWS),
        /**
         * JSONL: rows from the first line that starts at or after this byte (`offset` ignored), for the part of a
         * file not counted yet; rows there have `row: null` until the index reaches them.
         */
        byteOffset: z.number().int().min(0).optional(),
      })
      .strict(),
    output: datasetPageSchema,
  },
  /** Field stats, length histogram, exact and near duplicates, computed on the host. */
  'datasets.stats': { input: z.object(datasetRef).strict(), output: datasetStatsSchema },
  /** The line index's progress for a JSONL/CSV file (started on the host if it is not built or running). */
  'datasets.indexStatus': { input: z.object(datasetRef).strict(), output: datasetIndexStatusSchema },
  /**
   * Rows whose text contains `query` (case-insensitive), searched on the host. With a `searchId`, hits and progress
   * also stream to the asking peer as `datasets.searchProgress`, and `datasets.searchCancel` stops it.
   */
  'datasets.search': {
    input: z
      .object({
        ...datasetRef,
        query: z.string().min(1).max(1000),
        limit: z.number().int().min(1).max(1000).optional(),
        searchId: z.string().min(1).max(100).optional(),
      })
      .strict(),
    output: datasetSearchSchema,
  },
  /** Stops a streaming search; `cancelled` is false when none with that id is running. */
  'datasets.searchCancel': {
    input: z.object({ searchId: z.string().min(1).max(100) }).strict(),
    output: z.object({ cancelled: z.boolean() }),
  },
  /**
   * Rows sharing n-grams (13 words by default) with the benchmark's test set: a benchmark name (its test files are
   * looked for in the run's task/, the host's PostTrainBench checkout and `<runRoot>/benchmarks/<name>/`) or a
   * path to a test file on the host.
   */
  'datasets.overlap': {
    input: z
      .object({ ...datasetRef, benchmark: z.string().min(1).max(4096), n: z.number().int().min(3).max(50).optional() })
      .strict(),
    output: datasetOverlapSchema,
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const datasetsEvents = {
  /** A host-side job on a dataset started or finished (index, stats, search, overlap). */
  'datasets.progress': z.object({
    runId: z.string(),
    path: z.string(),
    job: z.enum(['index', 'stats', 'search', 'overlap', 'parquet']),
    phase: z.enum(['started', 'finished', 'failed']),
    elapsedMs: z.number().optional(),
    message: z.string().optional(),
  }),
  /** A streaming search's new hits and progress (to the peer that started it); `done` on the last one. */
  'datasets.searchProgress': z.object({
    runId: z.string(),
    path: z.string(),
    searchId: z.string(),
    hits: datasetSearchSchema.shape.hits,
    total: z.number().int(),
    scannedBytes: z.number().int(),
    size: z.number().int(),
    done: z.boolean(),
  }),
} as const satisfies Record<string, z.ZodType>;
