// The curated-dataset inspector end to end with the built CLI against a real sshd + dockerd: a rehearsal run, then
// datasets written into its workspace on the host (JSONL with broken lines, a Parquet file written here with
// hyparquet-writer, CSV with quoted newlines, an HF save_to_disk folder) are listed, paged, searched, checked for
// duplicates and for n-gram overlap with GSM8K test items (the fixture) planted among clean rows.
import {
  appendFileSync,
  createWriteStream,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DatasetList, DatasetOverlap, DatasetPage } from '../../src/shared/contract-datasets';
import { createAppServices } from '../../src/main/app-services';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

const gsm8k = readFileSync(path.resolve(__dirname, '..', 'fixtures', 'benchmarks', 'gsm8k__test.head20.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { question: string; answer: string });

/** Clean rows: arithmetic word problems written for this test, none from GSM8K. */
function cleanRow(i: number): Record<string, unknown> {
  const a = 3 + (i % 17);
  const b = 5 + ((i * 7) % 23);
  return {
    messages: [
      { role: 'system', content: 'You are a careful math tutor.' },
      {
        role: 'user',
        content: `Row ${i}: a gardener plants ${a} rows of tulips with ${b} bulbs in each row and gives away ${i % 5} bulbs to a neighbour. How many bulbs are planted in the garden now?`,
      },
      { role: 'assistant', content: `${a} * ${b} = ${a * b} bulbs are planted. #### ${a * b}` },
    ],
  };
}

/** Where row i of the generated rows ends up: the broken lines 6 and 31 are rows too (shown with their error). */
function rowOf(i: number): number {
  return i < 5 ? i : i < 29 ? i + 1 : i + 2;
}

describeWithTestHost('datasets in a run workspace, read on a real host through the ptw CLI', () => {
  let t: RunTestHost;
  let id: string;
  let ws: string;
  const planted = [3, 40, 77];

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    id = await t.startRun({ budget: '2m', env: { PTW_REHEARSAL_SECONDS: '1' } });
    ws = path.join(t.runDir(id), 'workspace', 'curated');
    mkdirSync(ws, { recursive: true });

    // 120 rows: clean ones, three GSM8K test items planted (question in the user turn, answer from the assistant),
    // an exact duplicate of row 10 and a near duplicate of row 20 (one word changed), and two broken lines.
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) {
      if (planted.includes(i)) {
        const item = gsm8k[planted.indexOf(i) * 5]!;
        lines.push(
          JSON.stringify({
            messages: [
              { role: 'user', content: `Please solve this: ${item.question}` },
              { role: 'assistant', content: item.answer },
            ],
          }),
        );
      } else if (i === 50) lines.push(JSON.stringify(cleanRow(10)));
      else if (i === 60) {
        const near = cleanRow(20);
        (near.messages as Array<{ content: string }>)[1]!.content = (
          near.messages as Array<{ content: string }>
        )[1]!.content.replace('neighbour', 'friend');
        lines.push(JSON.stringify(near));
      } else lines.push(JSON.stringify(cleanRow(i)));
    }
    lines.splice(5, 0, '{"messages": [{"role": "user", "content": "cut off');
    lines.splice(30, 0, 'not json at all');
    lines.splice(31, 0, '');
    writeFileSync(path.join(ws, 'train.jsonl'), lines.join('\n') + '\n');
    writeFileSync(
      path.join(ws, 'clean.jsonl'),
      Array.from({ length: 200 }, (_, i) => JSON.stringify(cleanRow(i + 1000))).join('\n') + '\n',
    );
    // A 9 MB line between two small ones: longer than the first read and than what a row may show.
    writeFileSync(
      path.join(ws, 'huge.jsonl'),
      [
        JSON.stringify({ n: 0 }),
        JSON.stringify({ n: 1, text: 'x'.repeat(9 * 1024 * 1024) }),
        JSON.stringify({ n: 2 }),
      ].join('\r\n') + '\r\n',
    );
    // 2500 rows in row groups of 700, so pages cross row-group boundaries.
    const n = 2500;
    const parquet = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from({ length: n }, (_, i) => i), type: 'INT32' },
        { name: 'prompt', data: Array.from({ length: n }, (_, i) => `prompt number ${i}`), type: 'STRING' },
        { name: 'score', data: Float64Array.from({ length: n }, (_, i) => i / 4), type: 'DOUBLE' },
      ],
      rowGroupSize: 700,
    });
    writeFileSync(path.join(ws, 'scored.parquet'), Buffer.from(parquet));
    writeFileSync(
      path.join(ws, 'table.csv'),
      'question,answer\n"two\nlines, and a comma",4\nplain,5\n"say ""hi""",6\n',
    );
    const hf = path.join(t.runDir(id), 'workspace', 'hf_ds');
    mkdirSync(hf);
    writeFileSync(
      path.join(hf, 'dataset_info.json'),
      JSON.stringify({
        features: { text: { dtype: 'string' } },
        splits: { train: { name: 'train', num_examples: 42 } },
      }),
    );
    writeFileSync(
      path.join(hf, 'state.json'),
      JSON.stringify({ _data_files: [{ filename: 'data-00000-of-00001.arrow' }] }),
    );
    writeFileSync(path.join(hf, 'data-00000-of-00001.arrow'), Buffer.alloc(1024));
    // A link out of the workspace must never be followed.
    symlinkSync(path.join(t.runDir(id), 'run.json'), path.join(ws, 'escape.jsonl'));
    // The benchmark's test set where the host keeps it for overlap checks.
    mkdirSync(path.join(t.runRoot, 'benchmarks', 'gsm8k'), { recursive: true });
    writeFileSync(
      path.join(t.runRoot, 'benchmarks', 'gsm8k', 'test.jsonl'),
      readFileSync(path.resolve(__dirname, '..', 'fixtures', 'benchmarks', 'gsm8k__test.head20.jsonl')),
    );
  }, 300_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  it('lists the datasets of the workspace, with HF save_to_disk rows from its metadata', async () => {
    const ls = await t.ptw(['data', 'ls', id, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const list = JSON.parse(ls.stdout) as DatasetList;
    const byPath = new Map(list.datasets.map((d) => [d.path, d]));
    expect(byPath.get('curated/train.jsonl')?.format).toBe('jsonl');
    expect(byPath.get('curated/scored.parquet')).toMatchObject({
      format: 'parquet',
      rows: 2500,
      columns: ['id', 'prompt', 'score'],
    });
    expect(byPath.get('curated/table.csv')?.format).toBe('csv');
    expect(byPath.get('hf_ds')).toMatchObject({ format: 'hf-dataset', rows: 42, columns: ['text'] });
    expect(byPath.has('curated/escape.jsonl')).toBe(false);
    const text = await t.ptw(['data', 'ls', id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('curated/train.jsonl');
  });

  it('pages a JSONL file with broken lines: reported by line number, the rest shown', async () => {
    const show = await t.ptw(['data', 'show', id, 'curated/train.jsonl', '--offset', '0', '--limit', '40', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const page = JSON.parse(show.stdout) as DatasetPage;
    expect(page.total).toBe(122);
    expect(page.problemCount).toBe(2);
    expect(page.problems.map((p) => p.line)).toEqual([6, 31]);
    expect(page.rows).toHaveLength(40);
    expect(page.rows[5]).toMatchObject({ row: 5, line: 6 });
    expect(page.rows[5]!.error).toBeTruthy();
    expect(page.rows[5]!.raw).toContain('cut off');
    // The blank line 32 is no row: row 31 is on line 33.
    expect(page.rows[31]).toMatchObject({ row: 31, line: 33 });
    expect(page.rows[4]!.value).toEqual(cleanRow(4));
    // The host kept the index outside the workspace the agent sees.
    expect(existsSync(path.join(t.runDir(id), 'inspect', 'index'))).toBe(true);
    expect(readdirSync(path.join(t.runDir(id), 'workspace'))).not.toContain('inspect');

    const tail = await t.ptw(['data', 'show', id, 'curated/train.jsonl', '--offset', '118', '--limit', '10', '--json']);
    const last = JSON.parse(tail.stdout) as DatasetPage;
    expect(last.rows.map((r) => r.row)).toEqual([118, 119, 120, 121]);
    expect(last.rows[3]!.value).toEqual(cleanRow(119));

    const human = await t.ptw(['data', 'show', id, 'curated/train.jsonl', '--limit', '6']);
    expect(human.stdout).toContain('line 6:');
    expect(human.stdout).toContain('[user]');
  });

  it('notices a file that grew or was rewritten since its index was built', async () => {
    const file = path.join(ws, 'grow.jsonl');
    const rows = (from: number, n: number): string =>
      Array.from({ length: n }, (_, i) => JSON.stringify({ n: from + i })).join('\n') + '\n';
    writeFileSync(file, rows(0, 100));
    const first = JSON.parse((await t.ptw(['data', 'show', id, 'curated/grow.jsonl', '--json'])).stdout) as DatasetPage;
    expect(first.total).toBe(100);
    // Appended: a new process has only the host's cached index, which no longer fits.
    appendFileSync(file, rows(100, 100));
    const grown = JSON.parse(
      (await t.ptw(['data', 'show', id, 'curated/grow.jsonl', '--offset', '150', '--limit', '5', '--json'])).stdout,
    ) as DatasetPage;
    expect(grown.total).toBe(200);
    expect(grown.rows.map((r) => r.value)).toEqual([150, 151, 152, 153, 154].map((n) => ({ n })));
    // Rewritten shorter, with other rows.
    writeFileSync(file, rows(1000, 30));
    const rewritten = JSON.parse(
      (await t.ptw(['data', 'show', id, 'curated/grow.jsonl', '--json'])).stdout,
    ) as DatasetPage;
    expect(rewritten.total).toBe(30);
    expect(rewritten.rows[0]!.value).toEqual({ n: 1000 });
  });

  it('shows a row too large to send cut, with its size, and the rows around it whole', async () => {
    const show = await t.ptw(['data', 'show', id, 'curated/huge.jsonl', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const page = JSON.parse(show.stdout) as DatasetPage;
    expect(page.total).toBe(3);
    expect(page.rows[0]).toMatchObject({ row: 0, line: 1, value: { n: 0 } });
    expect(page.rows[1]).toMatchObject({ row: 1, line: 2, bytes: 9 * 1024 * 1024 + 18 });
    expect(page.rows[1]!.value).toBeUndefined();
    expect(page.rows[1]!.error).toContain('too large to show whole');
    expect(page.rows[1]!.raw).toHaveLength(256 * 1024);
    expect(page.rows[2]).toMatchObject({ row: 2, line: 3, value: { n: 2 } });
  });

  it('reads a Parquet file written by the test back page by page, across row groups', async () => {
    for (const offset of [0, 690, 1400, 2450]) {
      const show = await t.ptw([
        'data',
        'show',
        id,
        'curated/scored.parquet',
        '--offset',
        String(offset),
        '--limit',
        '30',
        '--json',
      ]);
      expect(show.code, show.stderr).toBe(0);
      const page = JSON.parse(show.stdout) as DatasetPage;
      expect(page.total).toBe(2500);
      expect(page.columns).toEqual(['id', 'prompt', 'score']);
      const expected = Array.from({ length: Math.min(30, 2500 - offset) }, (_, i) => ({
        id: offset + i,
        prompt: `prompt number ${offset + i}`,
        score: (offset + i) / 4,
      }));
      expect(page.rows.map((r) => r.value)).toEqual(expected);
      expect(page.rows[0]!.row).toBe(offset);
    }
  });

  it('reads CSV records with quoted newlines, commas and quotes', async () => {
    const show = await t.ptw(['data', 'show', id, 'curated/table.csv', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const page = JSON.parse(show.stdout) as DatasetPage;
    expect(page.columns).toEqual(['question', 'answer']);
    expect(page.rows.map((r) => [r.line, r.value])).toEqual([
      [2, { question: 'two\nlines, and a comma', answer: '4' }],
      [4, { question: 'plain', answer: '5' }],
      [5, { question: 'say "hi"', answer: '6' }],
    ]);
  });

  it('finds the planted GSM8K test items, with the matched spans, and nothing in clean rows', async () => {
    const run = await t.ptw(['data', 'overlap', id, 'curated/train.jsonl', '--benchmark', 'gsm8k', '--json']);
    expect(run.code, run.stderr).toBe(1);
    const result = JSON.parse(run.stdout) as DatasetOverlap;
    expect(result.n).toBe(13);
    expect(result.testRows).toBe(20);
    const rows = planted.map(rowOf);
    expect(result.hits.map((h) => h.row)).toEqual(rows);
    for (const [k, hit] of result.hits.entries()) {
      const item = gsm8k[k * 5]!;
      expect(hit.testItems[0]!.index).toBe(k * 5);
      const user = hit.spans.find((s) => s.field === 'messages.0.content')!;
      const text = hit.fields['messages.0.content']!;
      // The question is matched, the "Please solve this:" prefix is not.
      expect(text.slice(user.start, user.end)).toBe(item.question.trim().replace(/[^\w]+$/, ''));
      expect(user.start).toBe('Please solve this: '.length);
    }
    const human = await t.ptw(['data', 'overlap', id, 'curated/train.jsonl', '--benchmark', 'gsm8k']);
    expect(human.stdout).toContain('[[');

    const clean = await t.ptw(['data', 'overlap', id, 'curated/clean.jsonl', '--benchmark', 'gsm8k', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    const none = JSON.parse(clean.stdout) as DatasetOverlap;
    expect(none.rowsScanned).toBe(200);
    expect(none.rowsWithOverlap).toBe(0);
    expect(none.hits).toEqual([]);

    const missing = await t.ptw(['data', 'overlap', id, 'curated/train.jsonl', '--benchmark', 'humaneval']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No test set for humaneval');
  });

  it('computes field stats, a length histogram, exact and near duplicates and search on the host', async () => {
    const services = await createAppServices({
      home: t.env.PTW_HOME!,
      shell: 'cli',
      env: { ...process.env, ...t.env },
    });
    const progress: string[] = [];
    const off = services.events.attach((event, payload) => {
      if (event === 'datasets.progress') {
        const p = payload as { job: string; phase: string };
        progress.push(`${p.job}:${p.phase}`);
      }
    });
    try {
      const ctx = { peerId: 'test', transport: 'cli' } as const;
      const stats = await services.router.call('datasets.stats', { id, path: 'curated/train.jsonl' }, ctx);
      expect(stats.rows).toBe(120);
      expect(stats.problemCount).toBe(2);
      expect(stats.problems.map((p) => p.line)).toEqual([6, 31]);
      expect(stats.fields).toEqual([
        {
          name: 'messages',
          present: 120,
          missing: 0,
          types: { array: 120 },
          lengths: { min: 2, max: 3, mean: expect.any(Number) },
        },
      ]);
      expect(stats.chat.rows).toBe(120);
      expect(stats.lengths.histogram.counts.reduce((a, b) => a + b, 0)).toBe(120);
      // Row 10 and its copy at 50; row 20 and its near copy at 60.
      expect(stats.exactDuplicates.groups).toEqual([[rowOf(10), rowOf(50)]]);
      expect(stats.nearDuplicates.groups.map((g) => g.rows)).toEqual([[rowOf(20), rowOf(60)]]);
      const search = await services.router.call(
        'datasets.search',
        { id, path: 'curated/train.jsonl', query: 'TO A FRIEND' },
        ctx,
      );
      expect(search.total).toBe(1);
      // Row 62 is on line 64: the blank line 32 is no row.
      expect(search.hits[0]).toMatchObject({ row: rowOf(60), line: rowOf(60) + 2 });
      expect(search.hits[0]!.snippet.slice(search.hits[0]!.matchStart, search.hits[0]!.matchEnd)).toBe('to a friend');
      expect(progress).toEqual(['stats:started', 'stats:finished', 'search:started', 'search:finished']);

      // Parquet: the rows are converted to JSONL next to the run (outside the workspace) for the host helper.
      const pq = await services.router.call('datasets.stats', { id, path: 'curated/scored.parquet' }, ctx);
      expect(pq).toMatchObject({ format: 'parquet', rows: 2500, problemCount: 0 });
      expect(pq.fields.map((f) => [f.name, f.types])).toEqual([
        ['id', { number: 2500 }],
        ['prompt', { string: 2500 }],
        ['score', { number: 2500 }],
      ]);
      expect(pq.exactDuplicates.groupCount).toBe(0);
      const found = await services.router.call(
        'datasets.search',
        { id, path: 'curated/scored.parquet', query: 'prompt number 2499' },
        ctx,
      );
      expect(found.hits.map((h) => [h.row, h.line])).toEqual([[2499, null]]);
      expect(readdirSync(path.join(t.runDir(id), 'inspect', 'converted'))).toHaveLength(1);
    } finally {
      off();
      await services.dispose();
    }
  });

  it('answers the first page of a large never-opened file while the host counts, pages by byte, streams and cancels a search over SSH', async () => {
    // ~128 MB: the host counts it in a fraction of a second but checks every row for longer than a page takes.
    const file = path.join(ws, 'cold.jsonl');
    const filler = 'lorem ipsum dolor sit amet '.repeat(36);
    const rows = 128 * 1024;
    const out = createWriteStream(file);
    for (let i = 0; i < rows; i++) {
      const line = i === 100_000 ? { id: i, text: 'the planted needle' } : { id: i, text: `${filler}${i}` };
      if (!out.write(JSON.stringify(line) + '\n'))
        await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    const show = await t.ptw(['data', 'show', id, 'curated/cold.jsonl', '--limit', '5', '--json']);
    expect(show.code, show.stderr).toBe(0);
    const first = JSON.parse(show.stdout) as DatasetPage;
    expect(first.rows.map((r) => (r.value as { id: number }).id)).toEqual([0, 1, 2, 3, 4]);
    expect(first.index?.checked).toBe(false);
    expect(first.total).toBeGreaterThanOrEqual(5);

    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    const start = bytes.indexOf(10, at - 1) + 1;
    const byByte = await t.ptw([
      'data',
      'show',
      id,
      'curated/cold.jsonl',
      '--byte',
      String(at),
      '--limit',
      '2',
      '--json',
    ]);
    expect(byByte.code, byByte.stderr).toBe(0);
    const mid = JSON.parse(byByte.stdout) as DatasetPage;
    const expected = (JSON.parse(bytes.subarray(start, bytes.indexOf(10, start)).toString()) as { id: number }).id;
    expect(mid.rows[0]).toMatchObject({ byte: start, value: { id: expected } });
    expect([null, expected]).toContain(mid.rows[0]!.row);
    const human = await t.ptw(['data', 'show', id, 'curated/cold.jsonl', '--offset', String(rows - 2)]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`rows ${rows - 2}–${rows - 1} of ${rows}`);

    const services = await createAppServices({
      home: t.env.PTW_HOME!,
      shell: 'cli',
      env: { ...process.env, ...t.env },
    });
    const events: Array<{ hits: unknown[]; done: boolean; searchId: string }> = [];
    const off = services.events.attachPeer('peer-1', (event, payload) => {
      if (event === 'datasets.searchProgress') events.push(payload as (typeof events)[number]);
    });
    try {
      const ctx = { peerId: 'peer-1', transport: 'cli' } as const;
      const found = await services.router.call(
        'datasets.search',
        { id, path: 'curated/cold.jsonl', query: 'PLANTED needle', searchId: 'find-1' },
        ctx,
      );
      expect(found.hits.map((h) => [h.row, h.line])).toEqual([[100_000, 100_001]]);
      expect(events.filter((e) => e.hits.length).length).toBe(1);
      expect(events[events.length - 1]).toMatchObject({ done: true, searchId: 'find-1' });

      events.length = 0;
      const running = services.router.call(
        'datasets.search',
        { id, path: 'curated/cold.jsonl', query: 'lorem ipsum dolor', limit: 1000, searchId: 'cancel-1' },
        ctx,
      );
      const deadline = Date.now() + 30_000;
      while (!events.some((e) => e.hits.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await services.router.call('datasets.searchCancel', { searchId: 'cancel-1' }, ctx)).toEqual({
        cancelled: true,
      });
      const cancelled = await running;
      expect(cancelled.cancelled).toBe(true);
      expect(cancelled.hits.length).toBeGreaterThan(0);
      expect(cancelled.scannedBytes ?? 0).toBeLessThan(bytes.length);
      // The helper on the host is gone once its channel is closed (it notices at its next write).
      const alive = (): boolean =>
        readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .some((p) => {
            try {
              const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
              return cmd.includes('ptw-host.pyz') && cmd.includes('lorem ipsum dolor');
            } catch {
              return false;
            }
          });
      const gone = Date.now() + 10_000;
      while (alive() && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toBe(false);
    } finally {
      off();
      await services.dispose();
    }
  }, 240_000);

  it('refuses paths that leave the workspace', async () => {
    const link = await t.ptw(['data', 'show', id, 'curated/escape.jsonl']);
    expect(link.code).toBe(2);
    expect(link.stderr).toContain('outside the workspace');
    const dots = await t.ptw(['data', 'show', id, '../run.json']);
    expect(dots.code).toBe(2);
    expect(dots.stderr).toContain('without ..');
  });
});
