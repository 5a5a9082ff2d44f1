// Issue 21: datasets open at once at any size. The DatasetService against a `local` host (this machine's shell and
// files, the real host package's `data` subcommand): the first page of a never-opened file comes back while the
// index is built in the background, pages past the counted part by byte offset (JSONL and CSV), a growing file's
// index extended and a rewritten one started over, a file with no newline for tens of MiB and invalid UTF-8 as
// problems on the page, a streaming search with hits as they are found and a cancel, a Parquet file whose footer is
// cut, and one without an offset index read page by page.
import {
  appendFileSync,
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../../src/shared/contract';
import type { DatasetIndexStatus, DatasetPage } from '../../../../src/shared/contract-datasets';
import { DatasetService } from '../../../../src/main/datasets/dataset-service';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';

const resources = path.resolve('resources');

/** Rows `{"id": i, "text": …}` of about 1 KB, written in blocks; returns the row count. */
async function writeRows(file: string, rows: number, plant: Record<number, string> = {}): Promise<void> {
  const out = createWriteStream(file);
  const filler = 'lorem ipsum dolor sit amet '.repeat(36);
  for (let i = 0; i < rows; i++) {
    const line = plant[i] ?? JSON.stringify({ id: i, text: `${filler}row ${i}` });
    if (!out.write(line + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ids = (page: DatasetPage): unknown[] => page.rows.map((r) => (r.value as { id?: unknown } | undefined)?.id);

describe('datasets open at once, whatever their size (local host, real helper)', () => {
  let work: string;
  let runDir: string;
  let ws: string;
  const session = new LocalHostSession('/nonexistent/docker.sock');
  const searchEvents: Array<EventPayload<'datasets.searchProgress'>> = [];
  const service = (indexTtlMs = 0): DatasetService =>
    new DatasetService({
      run: async () => ({ host: 'local', runDir, task: { kind: 'rehearsal' } }),
      session: async () => session,
      hostDirs: async () => ({ runRoot: work }),
      resourcesDir: () => resources,
      indexTtlMs,
      onSearchProgress: (_peer, event) => searchEvents.push(event),
    });
  const ROWS = 150_000;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-cold-open-'));
    runDir = path.join(work, 'r-1');
    ws = path.join(runDir, 'workspace');
    mkdirSync(ws, { recursive: true });
    // ~150 MB: counting takes a moment and checking every row (JSON parse on the host) longer still.
    await writeRows(path.join(ws, 'big.jsonl'), ROWS, {
      3: '{"id": 3, "broken',
      120_000: '{"id": 120000, "text": "needle-in-the-late-part"}',
    });
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('answers the first page of a never-opened file before the index is done, then counts every row', async () => {
    const s = service();
    const started = performance.now();
    const first = await s.page('r-1', 'big.jsonl', 0, 200);
    const ms = performance.now() - started;
    expect(ids(first).slice(0, 3)).toEqual([0, 1, 2]);
    expect(first.rows[3]).toMatchObject({ row: 3, line: 4, error: expect.any(String) });
    expect(ids(first).slice(4, 200)).toEqual(Array.from({ length: 196 }, (_, i) => i + 4));
    expect(first.rows[10]!.byte).toBe(readFileSync(path.join(ws, 'big.jsonl')).indexOf('{"id":10,'));
    // Rows were parsed on the way here, the host has not checked them all yet: the page did not wait for it.
    expect(first.index).toBeDefined();
    expect(first.index!.complete).toBe(false);
    expect(first.index!.checked).toBe(false);
    expect(first.total).toBeGreaterThanOrEqual(200);
    expect(ms).toBeLessThan(5_000);

    const status = await until<DatasetIndexStatus>(
      () => s.indexStatus('r-1', 'big.jsonl'),
      (v) => v.index.complete && v.index.checked,
    );
    expect(status.index.rows).toBe(ROWS);
    expect(status.problems.map((p) => [p.line, p.row])).toEqual([[4, 3]]);
    expect(status.index.indexMBps).toBeGreaterThan(0);

    // Warm: any row by number, from the nearest checkpoint.
    for (const offset of [1, 65_432, 120_000, ROWS - 7]) {
      const page = await s.page('r-1', 'big.jsonl', offset, 20);
      expect(page.total).toBe(ROWS);
      expect(page.rows[0]!.row).toBe(offset);
      const expected = Array.from({ length: Math.min(20, ROWS - offset) }, (_, i) => offset + i);
      expect(ids(page)).toEqual(expected.map((i) => (i === 3 ? undefined : i)));
    }
  }, 120_000);

  it('never reads a large file the workspace links to outside it, first look or not', async () => {
    const outside = path.join(work, 'secret.jsonl');
    await writeRows(outside, 20_000);
    symlinkSync(outside, path.join(ws, 'link.jsonl'));
    const s = service();
    await expect(s.page('r-1', 'link.jsonl', 0, 10)).rejects.toThrow(/outside the workspace/);
    await expect(s.page('r-1', 'link.jsonl', 0, 10, 1000)).rejects.toThrow(/outside the workspace/);
    symlinkSync(outside, path.join(ws, 'link.parquet'));
    await expect(s.page('r-1', 'link.parquet', 0, 10)).rejects.toThrow(/outside the workspace/);
  }, 60_000);

  it('pages by byte offset to the next line start, with row numbers where the index has counted', async () => {
    const s = service();
    const bytes = readFileSync(path.join(ws, 'big.jsonl'));
    const target = Math.floor(bytes.length * 0.6) + 5;
    const lineStart = bytes.indexOf(10, target - 1) + 1;
    const page = await s.page('r-1', 'big.jsonl', 0, 5, target);
    const expectedId = (
      JSON.parse(bytes.subarray(lineStart, bytes.indexOf(10, lineStart)).toString()) as { id: number }
    ).id;
    expect(page.byteStart).toBe(lineStart);
    expect(page.rows[0]).toMatchObject({ byte: lineStart, row: expectedId, value: { id: expectedId } });
    expect(page.byteEnd).toBe(page.rows[4]!.byte! + (page.rows[4]!.bytes ?? 0) + 1);
    // At the very end: nothing past it.
    const end = await s.page('r-1', 'big.jsonl', 0, 5, bytes.length);
    expect(end.rows).toEqual([]);
  }, 60_000);

  it('reads rows past the counted part by byte offset with no row numbers yet', async () => {
    const file = path.join(ws, 'fresh.jsonl');
    await writeRows(file, 100_000);
    const s = service();
    const bytes = readFileSync(file);
    // Asked before anything else: the index has only just started on the host.
    const target = bytes.length - 50_000;
    const page = await s.page('r-1', 'fresh.jsonl', 0, 3, target);
    const lineStart = bytes.indexOf(10, target - 1) + 1;
    expect(page.rows[0]!.byte).toBe(lineStart);
    const id = (page.rows[0]!.value as { id: number }).id;
    expect(ids(page)).toEqual([id, id + 1, id + 2]);
    // Numbered when counted, unnumbered before: either way the row is the one at that byte.
    expect([null, id]).toContain(page.rows[0]!.row);
    await until(
      () => s.indexStatus('r-1', 'fresh.jsonl'),
      (v) => v.index.complete,
    );
    const snapped = await s.page('r-1', 'fresh.jsonl', 0, 3, target);
    expect(snapped.rows[0]).toMatchObject({ row: id, line: id + 1, byte: lineStart });
  }, 60_000);

  it('pages a CSV file by byte offset too, numbered once counted, a seek inside a quoted field resynced', async () => {
    const file = path.join(ws, 'fresh.csv');
    // Quoted fields throughout (counted line by line on the host: a moment for 25 MB), one spanning two lines.
    const lines = ['id,text'];
    for (let i = 0; i < 1_500_000; i++) {
      lines.push(i === 1_400_000 ? `${i},"two\nlines, ${'x'.repeat(60)}"` : `${i},"row ${i}"`);
    }
    writeFileSync(file, lines.join('\n') + '\n');
    const bytes = readFileSync(file);
    const s = service();
    const target = bytes.length - 1_000_000;
    const lineStart = bytes.indexOf(10, target - 1) + 1;
    const id = Number(bytes.subarray(lineStart, bytes.indexOf(44, lineStart)).toString());
    const page = await s.page('r-1', 'fresh.csv', 0, 3, target);
    expect(page.rows.map((r) => r.value)).toEqual(
      [0, 1, 2].map((k) => ({ id: String(id + k), text: `row ${id + k}` })),
    );
    // Numbered when counted already (the nearest checkpoint's rows), else unnumbered: the rows at that byte.
    if (page.rows[0]!.row !== null) expect(page.rows[0]!.row).toBeLessThanOrEqual(id);
    else expect(page.byteStart).toBe(lineStart);
    // The next page by byte goes on from where this one ends.
    if (page.rows[0]!.row === null) {
      const next = await s.page('r-1', 'fresh.csv', 0, 1, page.byteEnd!);
      expect(next.rows[0]!.value).toEqual({ id: String(id + 3), text: `row ${id + 3}` });
    }
    // Inside the quoted field that spans two lines: its second line (which would open a quote never closed) passed
    // over, the records after it read.
    const quoted = bytes.indexOf('lines, ');
    const inside = await s.page('r-1', 'fresh.csv', 0, 2, quoted);
    await until(
      () => s.indexStatus('r-1', 'fresh.csv'),
      (v) => v.index.complete,
    );
    const snapped = await s.page('r-1', 'fresh.csv', 0, 3, target);
    expect(snapped.rows[0]!.row).not.toBeNull();
    expect(snapped.rows[0]!.row).toBeLessThanOrEqual(id);
    const numbered = await s.page('r-1', 'fresh.csv', id, 1);
    expect(numbered.rows[0]).toMatchObject({ row: id, value: { id: String(id), text: `row ${id}` } });
    if (inside.rows[0]!.row === null) {
      expect(inside.rows[0]!.value).toEqual({ id: '1400001', text: 'row 1400001' });
    }
  }, 60_000);

  it('asks the host helper again about a finished index only when the file changed', async () => {
    const file = path.join(ws, 'settled.jsonl');
    const rows = (base: number): string =>
      Array.from({ length: 5000 }, (_, i) => JSON.stringify({ id: base + i })).join('\n') + '\n';
    writeFileSync(file, rows(1000));
    // The real local session, counting commands run (a helper start each).
    let execs = 0;
    const counting = Object.create(session) as LocalHostSession;
    counting.exec = async (command, options) => {
      execs++;
      return session.exec(command, options);
    };
    const s = new DatasetService({
      run: async () => ({ host: 'local', runDir, task: { kind: 'rehearsal' } }),
      session: async () => counting,
      hostDirs: async () => ({ runRoot: work }),
      resourcesDir: () => resources,
      indexTtlMs: 0,
    });
    await until(
      () => s.indexStatus('r-1', 'settled.jsonl'),
      (v) => v.index.complete && v.index.checked,
    );
    const settled = execs;
    for (const offset of [0, 2500, 4990]) {
      const page = await s.page('r-1', 'settled.jsonl', offset, 5);
      expect(ids(page)[0]).toBe(1000 + offset);
    }
    expect(execs).toBe(settled);
    // Rewritten in place, the same size: noticed by its first bytes, the helper asked, the new rows shown.
    writeFileSync(file, rows(2000));
    const page = await s.page('r-1', 'settled.jsonl', 10, 5);
    expect(ids(page)).toEqual([2010, 2011, 2012, 2013, 2014]);
    expect(execs).toBeGreaterThan(settled);
  }, 60_000);

  it('extends the index of a file that grows, and starts over when it is rewritten', async () => {
    const file = path.join(ws, 'grow.jsonl');
    const rows = (from: number, n: number): string =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ id: from + i })).join('\n') + '\n';
    writeFileSync(file, rows(0, 5000));
    const s = service();
    await s.page('r-1', 'grow.jsonl', 0, 10);
    const first = await until(
      () => s.indexStatus('r-1', 'grow.jsonl'),
      (v) => v.index.complete && v.index.checked,
    );
    expect(first.index.rows).toBe(5000);
    const stateFile = (): { generation: string; indexBytes: number } => {
      const dir = path.join(runDir, 'inspect', 'index');
      const states = readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .map(
          (n) =>
            JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as {
              file: string;
              generation: string;
              indexBytes: number;
            },
        );
      return states.find((st) => st.file.endsWith('/grow.jsonl'))!;
    };
    const before = stateFile();
    appendFileSync(file, rows(5000, 3000));
    const grown = await until(
      () => s.indexStatus('r-1', 'grow.jsonl'),
      (v) => v.index.complete && v.index.rows === 8000,
    );
    expect(grown.index.rows).toBe(8000);
    const extended = stateFile();
    expect(extended.generation).toBe(before.generation);
    // Only the appended bytes were counted this time.
    expect(extended.indexBytes).toBe(Buffer.byteLength(rows(5000, 3000)));
    expect(ids(await s.page('r-1', 'grow.jsonl', 7990, 5))).toEqual([7990, 7991, 7992, 7993, 7994]);

    writeFileSync(file, rows(1000, 30));
    const rewritten = await until(
      () => s.indexStatus('r-1', 'grow.jsonl'),
      (v) => v.index.complete && v.index.rows === 30,
    );
    expect(rewritten.index.rows).toBe(30);
    expect(stateFile().generation).not.toBe(before.generation);
    expect(ids(await s.page('r-1', 'grow.jsonl', 0, 3))).toEqual([1000, 1001, 1002]);
  }, 60_000);

  it('shows a line with no newline for 40 MiB and invalid UTF-8 as problems, the rest of the file usable', async () => {
    const file = path.join(ws, 'bad.jsonl');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('x'.repeat(40 * 1024 * 1024) + '\n'),
        Buffer.from('{"id": 1}\n'),
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
        Buffer.from('{"id": 3}\n'),
      ]),
    );
    const s = service();
    const cold = await s.page('r-1', 'bad.jsonl', 0, 10);
    expect(cold.rows[0]).toMatchObject({ row: 0, line: 1 });
    expect(cold.rows[0]!.error).toMatch(/too large to show whole|no line end in its first 16 MiB/);
    expect(cold.rows[0]!.raw!.length).toBe(256 * 1024);
    const status = await until(
      () => s.indexStatus('r-1', 'bad.jsonl'),
      (v) => v.index.complete && v.index.checked,
    );
    expect(status.index.rows).toBe(4);
    expect(status.problems.map((p) => [p.line, p.row])).toEqual([
      [1, 0],
      [3, 2],
    ]);
    const page = await s.page('r-1', 'bad.jsonl', 0, 10);
    expect(page.rows.map((r) => [r.row, r.line])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(page.rows[0]).toMatchObject({ bytes: 40 * 1024 * 1024 });
    expect(page.rows[0]!.error).toContain('too large to show whole');
    expect(page.rows[1]!.value).toEqual({ id: 1 });
    expect(page.rows[2]!.error).toBe('not valid UTF-8');
    expect(page.rows[3]!.value).toEqual({ id: 3 });
  }, 60_000);

  it('streams search hits as they are found, and cancels', async () => {
    const s = service();
    searchEvents.length = 0;
    const found = await s.search('r-1', 'big.jsonl', 'NEEDLE-in-the-LATE', 10, { searchId: 's1', peerId: 'p' });
    expect(found.total).toBe(1);
    expect(found.hits[0]).toMatchObject({ row: 120_000, line: 120_001 });
    expect(found.firstHitMs).toEqual(expect.any(Number));
    const hitEvents = searchEvents.filter((e) => e.hits.length > 0);
    expect(hitEvents.map((e) => e.hits[0]!.row)).toEqual([120_000]);
    expect(searchEvents[searchEvents.length - 1]).toMatchObject({ done: true, total: 1, searchId: 's1' });

    // Every row matches "row": the hits stream in, and a cancel stops the search where it is.
    searchEvents.length = 0;
    const running = s.search('r-1', 'big.jsonl', 'lorem', 1000, { searchId: 's2', peerId: 'p' });
    await until(
      async () => searchEvents.filter((e) => e.hits.length > 0).length,
      (n) => n > 0,
    );
    expect(s.cancelSearch('s2')).toEqual({ cancelled: true });
    const cancelled = await running;
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.hits.length).toBeGreaterThan(0);
    expect(cancelled.scannedBytes ?? 0).toBeLessThan(readFileSync(path.join(ws, 'big.jsonl')).length);
    expect(s.cancelSearch('s2')).toEqual({ cancelled: false });
  }, 60_000);

  it('reads the first row group of a Parquet file from its footer, and says what is wrong with a cut one', async () => {
    const n = 3000;
    const parquet = Buffer.from(
      parquetWriteBuffer({
        columnData: [{ name: 'id', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' }],
        rowGroupSize: 1000,
      }),
    );
    writeFileSync(path.join(ws, 'ok.parquet'), parquet);
    writeFileSync(path.join(ws, 'cut.parquet'), parquet.subarray(0, parquet.length - 20));
    const s = service();
    const page = await s.page('r-1', 'ok.parquet', 0, 5);
    expect(page.total).toBe(n);
    expect(ids(page)).toEqual([0, 1, 2, 3, 4]);
    await expect(s.page('r-1', 'cut.parquet', 0, 5)).rejects.toThrow(/cut\.parquet is not a readable Parquet file/);
    // A streaming search of a Parquet file is done over its row groups, hits as each slice is read.
    searchEvents.length = 0;
    const found = await s.search('r-1', 'ok.parquet', '2345', 10, { searchId: 'pq', peerId: 'p' });
    expect(found).toMatchObject({ total: 1, hits: [{ row: 2345, line: null, snippet: '2345' }] });
    expect(searchEvents.filter((e) => e.hits.length).map((e) => e.hits[0]!.row)).toEqual([2345]);
    expect(searchEvents[searchEvents.length - 1]).toMatchObject({ done: true, scannedBytes: parquet.length });
  }, 60_000);

  it('reads only the pages a page of rows is on from a Parquet file without an offset index', async () => {
    // As pyarrow writes by default: no offset index, so the pages are found by walking their headers.
    const n = 75_000;
    const parquet = Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'id', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32', offsetIndex: false },
          { name: 'text', data: Array.from({ length: n }, (_, i) => `text ${i}`), type: 'STRING', offsetIndex: false },
        ],
        rowGroupSize: 25_000,
        pageSize: 16 * 1024,
      }),
    );
    writeFileSync(path.join(ws, 'no-offset-index.parquet'), parquet);
    // The real local session, noting the size of each read of the file and holding back reads of a whole row
    // group (its column chunks come to about 225 KB; the footer's first read is 512 KB) until the gate opens.
    const whole = (r: number): boolean => r > 150_000 && r < 400_000;
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const reads: number[] = [];
    const counting = Object.create(session) as LocalHostSession;
    counting.readFile = async (file, options) => {
      const bytes = await session.readFile(file, options);
      if (file.endsWith('no-offset-index.parquet')) {
        reads.push(bytes.length);
        if (whole(bytes.length)) await gate;
      }
      return bytes;
    };
    const s = new DatasetService({
      run: async () => ({ host: 'local', runDir, task: { kind: 'rehearsal' } }),
      session: async () => counting,
      hostDirs: async () => ({ runRoot: work }),
      resourcesDir: () => resources,
    });
    const pageAt = async (offset: number): Promise<void> => {
      const page = await Promise.race([
        s.page('r-1', 'no-offset-index.parquet', offset, 20),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`page ${offset} waited for a whole row group`)), 10_000),
        ),
      ]);
      const want = Array.from({ length: Math.min(20, n - offset) }, (_, i) => offset + i);
      expect(page.rows.map((r) => r.value)).toEqual(want.map((i) => ({ id: i, text: `text ${i}` })));
      expect(page.rows.map((r) => r.row)).toEqual(want);
    };
    const sum = (rs: number[]): number => rs.reduce((a, b) => a + b, 0);
    await pageAt(0);
    for (const offset of [40_000, 74_980]) {
      const from = reads.length;
      await pageAt(offset);
      // Its pages and their headers, a few KB each; the row group is read whole in the background.
      expect(sum(reads.slice(from).filter((r) => !whole(r)))).toBeLessThan(parquet.length / 8);
    }
    // Once a row group is read whole, its other pages come from memory.
    openGate();
    await until(
      async () => reads.filter(whole).length,
      (count) => count >= 3,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const settled = reads.length;
    await pageAt(45_000);
    await pageAt(60_000);
    expect(reads.length).toBe(settled);
    // A streaming search over it, slice by slice through the walked pages: every hit, in order.
    const found = await s.search('r-1', 'no-offset-index.parquet', 'text 7499', 100, { searchId: 'nx', peerId: 'p' });
    expect(found.hits.map((h) => h.row)).toEqual([7499, ...Array.from({ length: 10 }, (_, i) => 74_990 + i)]);
  }, 60_000);
});
