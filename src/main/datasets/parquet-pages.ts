import type { AsyncBuffer, FileMetaData } from 'hyparquet';
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
}

const open = new Map<string, Promise<OpenFile>>();
/** Files kept open (footer parsed, small slices cached); the oldest is forgotten first. */
const MAX_OPEN = 16;

// hyparquet is an ES module; a dynamic import keeps the CommonJS bundle loading it lazily.
let loaded: Promise<typeof import('hyparquet')> | undefined;
const hyparquet = (): Promise<typeof import('hyparquet')> => (loaded ??= import('hyparquet'));

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
      const file$ = cachedAsyncBuffer(sftpAsyncBuffer(session, file, size, (n) => (state.bytesRead += n)));
      try {
        const metadata = await parquetMetadataAsync(file$);
        return {
          size,
          file: file$,
          metadata,
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
    objects = await parquetReadObjects({
      file: parquet.file,
      metadata: parquet.metadata,
      rowStart: offset,
      rowEnd,
      useOffsetIndex: true,
    });
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
  for (const group of parquet.metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    // With an offset index a slice reads and decodes only its pages; without one, every slice would decode the
    // row group from its start: it is read whole, once.
    const indexed = group.columns.every((c) => c.offset_index_offset !== undefined && c.offset_index_length);
    const step = indexed ? 10_000 : Math.max(1, groupEnd - groupStart);
    for (let start = groupStart; start < groupEnd; start += step) {
      const rows = await parquetReadObjects({
        file: parquet.file,
        metadata: parquet.metadata,
        rowStart: start,
        rowEnd: Math.min(groupEnd, start + step),
        useOffsetIndex: true,
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
