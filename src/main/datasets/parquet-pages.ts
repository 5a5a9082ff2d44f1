import type { AsyncBuffer, ColumnChunk, FileMetaData } from 'hyparquet';
import { AppError } from '../../shared/errors';
import type { DatasetRow } from '../../shared/contract-datasets';
import type { HostSession } from '../hosts/host-exec-types';

/**
 * Pages of a Parquet file on the host, read with hyparquet through an AsyncBuffer whose slices are SFTP byte-range
 * reads: the footer first, then only the column chunks of the row groups a page touches. No whole-file download.
 */

interface OpenFile {
  size: number;
  file: AsyncBuffer;
  metadata: FileMetaData;
  /** Bytes read over SFTP for this file so far (the benchmark reports it). */
  bytesRead: number;
  /** Page locations found by walking the page headers of column chunks without an offset index. */
  walked: Map<string, WalkedChunk>;
  /** The file without the caches (for reading ahead). */
  raw: AsyncBuffer;
  /** Row groups whose column chunks were read whole after a walked page (pages then come from memory). */
  fetched: FetchedGroups;
}

/** A file's row groups read whole after a page of them was shown, kept in memory for its next pages. */
interface FetchedGroups {
  ranges: Array<{ group: number; start: number; end: number; data: ArrayBuffer }>;
  /** Read-aheads started (settled once the group is in `ranges`, or failed). */
  started: Map<number, Promise<void>>;
}
/** The largest row group read ahead, and all of them kept, over every open file (the oldest dropped first). */
const MAX_FETCHED_GROUP_BYTES = 64 * 1024 * 1024;
/** How long a page waits for its row group's read-ahead to finish before reading its own pages beside it. */
const READ_AHEAD_WAIT_MS = 300;
const FETCHED_BUDGET = 256 * 1024 * 1024;
const fetchedOrder: Array<{ owner: FetchedGroups; group: number; bytes: number }> = [];

/** As hyparquet's PageLocation (an offset index entry: the page's header included in its size). */
interface PageLocation {
  offset: bigint;
  compressed_page_size: number;
  first_row_index: bigint;
}

/** A column chunk's data pages found so far, from its start: where the next header is, rows before it. */
interface WalkedChunk {
  pages: PageLocation[];
  next: number;
  rows: number;
  end: number;
  /** The walk under way (one at a time per chunk). */
  busy: Promise<unknown>;
}

const open = new Map<string, Promise<OpenFile>>();
/** Files kept open (footer parsed, small slices cached); the oldest is forgotten first. */
const MAX_OPEN = 16;

// hyparquet is an ES module; a dynamic import keeps the CommonJS bundle loading it lazily.
let loaded: Promise<typeof import('hyparquet')> | undefined;
const hyparquet = (): Promise<typeof import('hyparquet')> => (loaded ??= import('hyparquet'));
// The page header reader, which the package exports under src/ only (its `./src/*.js` export).
let headerReader: Promise<typeof import('hyparquet/src/column.js')> | undefined;
const hyparquetColumn = (): Promise<typeof import('hyparquet/src/column.js')> =>
  (headerReader ??= import('hyparquet/src/column.js'));

/** Loads the Parquet reader ahead of the first Parquet page (tens of ms), e.g. while the host connects. */
export function warmParquetReader(): void {
  hyparquet().catch(() => (loaded = undefined));
}

export function sftpAsyncBuffer(
  session: HostSession,
  file: string,
  size: number,
  onRead?: (bytes: number) => void,
): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      if (stop <= start) return new ArrayBuffer(0);
      const bytes = await session.readFile(file, { offset: start, maxBytes: stop - start });
      onRead?.(bytes.length);
      const copy = new ArrayBuffer(bytes.length);
      new Uint8Array(copy).set(bytes);
      return copy;
    },
  };
}

async function openParquet(session: HostSession, key: string, file: string, size: number): Promise<OpenFile> {
  const cacheKey = `${key}\0${size}`;
  let opened = open.get(cacheKey);
  if (!opened) {
    opened = (async () => {
      const { cachedAsyncBuffer, parquetMetadataAsync } = await hyparquet();
      const state = { bytesRead: 0 };
      const raw = sftpAsyncBuffer(session, file, size, (n) => (state.bytesRead += n));
      const cached = cachedAsyncBuffer(raw);
      const fetched: FetchedGroups = { ranges: [], started: new Map() };
      // Slices inside a row group read ahead come from memory; the rest as before (footer and small slices cached).
      const file$: AsyncBuffer = {
        byteLength: size,
        slice(start: number, end?: number) {
          const stop = end ?? size;
          const hit = fetched.ranges.find((r) => r.start <= start && stop <= r.end);
          return hit ? hit.data.slice(start - hit.start, stop - hit.start) : cached.slice(start, end);
        },
      };
      try {
        const metadata = await parquetMetadataAsync(file$);
        return {
          size,
          file: file$,
          metadata,
          walked: new Map<string, WalkedChunk>(),
          fetched,
          raw,
          get bytesRead() {
            return state.bytesRead;
          },
        };
      } catch (err) {
        throw new AppError('INVALID_INPUT', `${file} is not a readable Parquet file: ${(err as Error).message}`);
      }
    })();
    open.set(cacheKey, opened);
    opened.catch(() => open.delete(cacheKey));
    while (open.size > MAX_OPEN) open.delete(open.keys().next().value!);
  }
  return opened;
}

export async function readParquetPage(
  session: HostSession,
  key: string,
  file: string,
  size: number,
  offset: number,
  limit: number,
): Promise<{ total: number; rows: DatasetRow[]; columns: string[] }> {
  const parquet = await openParquet(session, key, file, size);
  const { parquetReadObjects, parquetSchema, toJson } = await hyparquet();
  const total = Number(parquet.metadata.num_rows);
  const columns = parquetSchema(parquet.metadata).children.map((c) => c.element.name);
  const rowEnd = Math.min(total, offset + limit);
  if (offset >= rowEnd) return { total, rows: [], columns };
  let objects: Record<string, unknown>[];
  try {
    // Only the row groups the page touches (the first one for a first look), and within them only the pages the
    // rows are on when the file has an offset index (issue 21).
    // Row groups without an offset index (pyarrow's default): the pages the rows are on, found by walking page
    // headers from the chunk's start, instead of the whole column chunk (megabytes for a first look).
    const pageLocationsByGroup = await walkedPageLocations(parquet, offset, rowEnd);
    objects = await parquetReadObjects({
      file: parquet.file,
      metadata: parquet.metadata,
      rowStart: offset,
      rowEnd,
      useOffsetIndex: true,
      // Not in hyparquet's option types: the page locations its planner takes from an offset index (plan.js).
      ...({ pageLocationsByGroup } as object),
    });
    // Answered: the row groups the page is in are read whole now, so the next pages (scrolling, a jump) come from
    // memory.
    touchedGroups(parquet, offset, rowEnd).forEach((g) => readAhead(parquet, g));
  } catch (err) {
    throw new AppError(
      'INVALID_INPUT',
      `Reading rows ${offset}–${rowEnd} of ${file} failed: ${(err as Error).message}`,
    );
  }
  return {
    total,
    columns,
    rows: objects.map((value, i) => ({ row: offset + i, line: null, value: toJson(value) as unknown })),
  };
}

/** A page header is read in a slice this long (statistics make some longer: then the rest of the chunk, capped). */
const HEADER_READ = 2 * 1024;
const MAX_HEADER_READ = 1024 * 1024;
/** More pages than this to walk for one page of rows: the column chunk is read whole instead. */
const MAX_WALK = 64;

/**
 * For each row group that rows [rowStart, rowEnd) touch and that has no offset index, the locations of the data
 * pages holding them per column (from the chunk's start, the page after them included to bound the last), as
 * hyparquet's planner takes them from an offset index; undefined for the rest. Only flat columns (a value per row):
 * a nested column's page counts values, not rows.
 */
async function walkedPageLocations(
  parquet: OpenFile,
  rowStart: number,
  rowEnd: number,
): Promise<(Record<string, PageLocation[]> | undefined)[]> {
  const { metadata } = parquet;
  const flat = metadata.schema.slice(1).every((e) => !e.num_children && e.repetition_type !== 'REPEATED');
  let groupStart = 0;
  return Promise.all(
    metadata.row_groups.map(async (group, g) => {
      const start = groupStart;
      groupStart += Number(group.num_rows);
      const indexed = group.columns.every((c) => c.offset_index_offset !== undefined && c.offset_index_length);
      if (groupStart <= rowStart || start >= rowEnd) return undefined;
      // Read whole already or being read: hyparquet's own reads of the chunks then come from memory.
      const ahead = parquet.fetched.started.get(g);
      if (ahead) await Promise.race([ahead, new Promise((resolve) => setTimeout(resolve, READ_AHEAD_WAIT_MS))]);
      if (!flat || indexed || parquet.fetched.ranges.some((r) => r.group === g)) return undefined;
      return groupPageLocations(parquet, g, Math.min(rowEnd, groupStart) - start);
    }),
  );
}

/** Row group `g`'s data pages per column up to the one holding row `until` of the group (walked as needed). */
async function groupPageLocations(
  parquet: OpenFile,
  g: number,
  until: number,
): Promise<Record<string, PageLocation[]> | undefined> {
  const flat = parquet.metadata.schema.slice(1).every((e) => !e.num_children && e.repetition_type !== 'REPEATED');
  const { columns } = parquet.metadata.row_groups[g]!;
  if (!flat) return undefined;
  const found = await Promise.all(columns.map((c) => walkChunk(parquet, g, c, until)));
  if (found.some((pages) => !pages)) return undefined;
  return Object.fromEntries(columns.map((c, i) => [c.meta_data!.path_in_schema.join('.'), found[i]!]));
}

/** The row groups rows [rowStart, rowEnd) are in. */
function touchedGroups(parquet: OpenFile, rowStart: number, rowEnd: number): number[] {
  const out: number[] = [];
  let groupStart = 0;
  parquet.metadata.row_groups.forEach((group, g) => {
    const start = groupStart;
    groupStart += Number(group.num_rows);
    if (groupStart > rowStart && start < rowEnd) out.push(g);
  });
  return out;
}

/** Reads row group `g`'s column chunks whole in the background (once, when not too large), kept for its pages. */
function readAhead(parquet: OpenFile, g: number): void {
  const { fetched } = parquet;
  if (fetched.started.has(g)) return;
  const chunks = parquet.metadata.row_groups[g]!.columns.map((c) => {
    const meta = c.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    return { start, end: start + Number(meta.total_compressed_size) };
  });
  const start = Math.min(...chunks.map((c) => c.start));
  const end = Math.max(...chunks.map((c) => c.end));
  if (end - start > MAX_FETCHED_GROUP_BYTES) return;
  const done = Promise.resolve(parquet.raw.slice(start, end)).then(
    (data) => {
      fetched.ranges.push({ group: g, start, end, data });
      fetchedOrder.push({ owner: fetched, group: g, bytes: end - start });
      let total = fetchedOrder.reduce((n, f) => n + f.bytes, 0);
      while (total > FETCHED_BUDGET && fetchedOrder.length > 1) {
        const old = fetchedOrder.shift()!;
        old.owner.ranges = old.owner.ranges.filter((r) => r.group !== old.group);
        old.owner.started.delete(old.group);
        total -= old.bytes;
      }
    },
    () => {
      fetched.started.delete(g);
    },
  );
  fetched.started.set(g, done);
}

/** The data pages of a column chunk from its start until one starting at or past row `until` (or the last). */
async function walkChunk(
  parquet: OpenFile,
  group: number,
  column: ColumnChunk,
  until: number,
): Promise<PageLocation[] | undefined> {
  const meta = column.meta_data;
  if (!meta || column.file_path || meta.path_in_schema.length !== 1) return undefined;
  const key = `${group}\0${meta.path_in_schema.join('.')}`;
  let walk = parquet.walked.get(key);
  if (!walk) {
    const first = Number(meta.dictionary_page_offset || meta.data_page_offset);
    walk = {
      pages: [],
      next: first,
      rows: 0,
      end: first + Number(meta.total_compressed_size),
      busy: Promise.resolve(),
    };
    parquet.walked.set(key, walk);
  }
  const current = walk;
  const result = current.busy.then(() => walkFurther(parquet, current, until));
  current.busy = result.catch(() => undefined);
  return result;
}

async function walkFurther(parquet: OpenFile, walk: WalkedChunk, until: number): Promise<PageLocation[] | undefined> {
  const { parquetHeader } = await hyparquetColumn();
  let steps = 0;
  while (walk.next < walk.end && (walk.pages.length === 0 || walk.rows <= until)) {
    if (++steps > MAX_WALK) return undefined;
    let length = Math.min(HEADER_READ, walk.end - walk.next);
    let header: ReturnType<typeof parquetHeader> | undefined;
    let headerLength = 0;
    while (!header) {
      const reader = { view: new DataView(await parquet.file.slice(walk.next, walk.next + length)), offset: 0 };
      try {
        header = parquetHeader(reader);
        headerLength = reader.offset;
      } catch (err) {
        if (!(err instanceof RangeError) || length >= Math.min(MAX_HEADER_READ, walk.end - walk.next)) throw err;
        length = Math.min(MAX_HEADER_READ, walk.end - walk.next);
      }
    }
    const rows =
      header.type === 'DATA_PAGE'
        ? header.data_page_header?.num_values
        : header.type === 'DATA_PAGE_V2'
          ? header.data_page_header_v2?.num_rows
          : undefined;
    if (rows !== undefined) {
      walk.pages.push({
        offset: BigInt(walk.next),
        compressed_page_size: headerLength + header.compressed_page_size,
        first_row_index: BigInt(walk.rows),
      });
      walk.rows += Number(rows);
    }
    walk.next += headerLength + header.compressed_page_size;
  }
  // The walked pages up to the first one starting at or past `until` (which bounds the one before it).
  const stop = walk.pages.findIndex((p) => Number(p.first_row_index) >= until);
  return stop < 0 ? walk.pages : walk.pages.slice(0, stop + 1);
}

/** Converted JSONL larger than this is not made: the rows would all have to cross the network twice. */
export const MAX_CONVERTED_BYTES = 256 * 1024 * 1024;

/**
 * Every row of a Parquet file as JSONL (one row per line, in order), for the host helper's stats, search and
 * overlap, which cannot read Parquet with Python's standard library. Read in slices of row groups over SFTP.
 */
export async function parquetAsJsonl(session: HostSession, key: string, file: string, size: number): Promise<Buffer> {
  const parquet = await openParquet(session, key, file, size);
  const { parquetReadObjects, toJson } = await hyparquet();
  const total = Number(parquet.metadata.num_rows);
  const parts: Buffer[] = [];
  let bytes = 0;
  const step = 2000;
  for (let start = 0; start < total; start += step) {
    const rows = await parquetReadObjects({
      file: parquet.file,
      metadata: parquet.metadata,
      rowStart: start,
      rowEnd: Math.min(total, start + step),
    });
    const chunk = Buffer.from(rows.map((r) => JSON.stringify(toJson(r))).join('\n') + '\n');
    bytes += chunk.length;
    if (bytes > MAX_CONVERTED_BYTES) {
      throw new AppError(
        'INVALID_INPUT',
        `${file}: its rows come to more than ${MAX_CONVERTED_BYTES / 1024 / 1024} MiB of JSON; stats, search and overlap of Parquet files that large are not computed (the host has no Parquet reader).`,
      );
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * Every row of a Parquet file in order, a slice of rows at a time (`onRows(rows, firstRow, totalRows)`; false
 * stops), for a search done here: each slice reads only the pages it covers.
 */
export async function scanParquet(
  session: HostSession,
  key: string,
  file: string,
  size: number,
  onRows: (rows: unknown[], start: number, total: number) => boolean,
): Promise<void> {
  const parquet = await openParquet(session, key, file, size);
  const { parquetReadObjects, toJson } = await hyparquet();
  const total = Number(parquet.metadata.num_rows);
  let groupStart = 0;
  for (const [g, group] of parquet.metadata.row_groups.entries()) {
    const groupEnd = groupStart + Number(group.num_rows);
    // Slices that double from 10 000 rows: the first hits come after a page or two, and pages on a slice's edge are
    // decoded twice at most log(n) times. With an offset index a slice reads only its pages; without one, the
    // group is read whole first (from memory then) and its pages found by walking their headers; where they
    // cannot be (a nested column), every slice would decode the group from its start: it is taken in one slice.
    const indexed = group.columns.every((c) => c.offset_index_offset !== undefined && c.offset_index_length);
    let locations: Record<string, PageLocation[]> | undefined;
    if (!indexed) {
      readAhead(parquet, g);
      await parquet.fetched.started.get(g);
      locations = await groupPageLocations(parquet, g, groupEnd - groupStart);
    }
    const pageLocationsByGroup = parquet.metadata.row_groups.map((_, i) => (i === g ? locations : undefined));
    let step = indexed || locations ? 10_000 : Math.max(1, groupEnd - groupStart);
    for (let start = groupStart; start < groupEnd; start += step, step *= 2) {
      const rows = await parquetReadObjects({
        file: parquet.file,
        metadata: parquet.metadata,
        rowStart: start,
        rowEnd: Math.min(groupEnd, start + step),
        useOffsetIndex: true,
        ...({ pageLocationsByGroup } as object),
      });
      if (
        !onRows(
          rows.map((r) => toJson(r) as unknown),
          start,
          total,
        )
      )
        return;
    }
    groupStart = groupEnd;
  }
}

/** Rows and columns from a Parquet file's footer (two small SFTP reads). */
export async function parquetShape(
  session: HostSession,
  key: string,
  file: string,
  size: number,
): Promise<{ rows: number; columns: string[] }> {
  const parquet = await openParquet(session, key, file, size);
  const { parquetSchema } = await hyparquet();
  return {
    rows: Number(parquet.metadata.num_rows),
    columns: parquetSchema(parquet.metadata).children.map((c) => c.element.name),
  };
}
