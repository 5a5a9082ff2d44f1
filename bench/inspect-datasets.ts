// `npm run bench:inspect`, dataset half (issues 7 and 21): datasets the agent wrote in a run's workspace on the
// test host (a real sshd on this machine), opened through the app's own services as the Datasets tab and
// `ptw data show` do, the way a person watching a live run meets them: never opened before.
//
// Per file: the cold first page (a fresh app process, connected, the file never indexed: target < 500 ms), warm
// random pages once the index is built (p50/p99, target < 50 ms), the host's index rate beside `wc -l` over the same
// file on the same host (both timed on the host, the file in the page cache for both), and the first hit of a
// streaming search for a row planted in the first GB (target < 1 s). A generated JSONL (2 GB by default; `--gb 10`
// for the 10 GB) and a Parquet file (1 M rows by default; `--parquet-rows 10000000`), each written with an
// offset index (hyparquet-writer's default) and once without one (as pyarrow writes by default). Generated files
// are deleted at the end. Writes bench/results/inspect-datasets.json.
//
//   node bench/run-ts.mjs bench/inspect-datasets.ts [--gb 2] [--parquet-rows 1000000] [--pages 50]
import { createWriteStream, existsSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createAppServices, type AppServices } from '../src/main/app-services';
import { RunMirror } from '../src/main/runs/run-mirror';
import type { DatasetIndex } from '../src/shared/contract-datasets';
import { startTestSshd, type TestSshd } from '../test/support/test-sshd';

const repo = path.resolve(__dirname, '..');
// run-ts.mjs bundles into a temp dir: find the repo from the working directory instead.
const root = repo.includes(os.tmpdir()) ? process.cwd() : repo;
// The Parquet reader is an ES module imported at run time, which node resolves from the bundle's folder (NODE_PATH
// does not apply to import()): a link to the repo's node_modules next to the bundle, removed with its folder.
if (repo.includes(os.tmpdir()) && !existsSync(path.join(__dirname, 'node_modules'))) {
  symlinkSync(path.join(root, 'node_modules'), path.join(__dirname, 'node_modules'), 'dir');
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const GB = Number(option('gb', '2'));
const PARQUET_ROWS = Number(option('parquet-rows', '1000000'));
const PAGES = Number(option('pages', '50'));
const LIMIT = 100;
const RUN_ID = 'r-20261123-160000-bench';
const NEEDLE = 'zebra-needle-in-the-first-gigabyte';
const ctx = { peerId: 'bench', transport: 'cli' } as const;

/** Chat rows of varied length (about 1 KB on average), a few broken lines, the needle at about 512 MB. */
async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file, { highWaterMark: 4 * 1024 * 1024 });
  let written = 0;
  let rows = 0;
  let planted = false;
  const words = ['the', 'model', 'learns', 'to', 'solve', 'math', 'problems', 'step', 'by', 'with', 'careful'];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const texts = Array.from({ length: 997 }, () =>
    Array.from({ length: 40 + rand(300) }, () => words[rand(words.length)]).join(' '),
  );
  let batch = '';
  while (written < bytes) {
    const text = texts[rows % texts.length]!;
    let line: string;
    if (rows % 100_003 === 99_999) line = '{"messages": [ broken line\n';
    else {
      const needle: boolean = !planted && written > Math.min(512 * 1024 * 1024, bytes / 2);
      planted ||= needle;
      line =
        JSON.stringify({
          id: rows,
          messages: [
            { role: 'user', content: `Question ${rows}: ${needle ? NEEDLE : text.slice(0, 200)}` },
            { role: 'assistant', content: text },
          ],
        }) + '\n';
    }
    batch += line;
    written += Buffer.byteLength(line);
    rows++;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = '';
    }
  }
  out.write(batch);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return rows;
}

function parquetFile(rows: number, offsetIndex: boolean): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from({ length: rows }, (_, i) => i), type: 'INT32', offsetIndex },
        {
          name: 'prompt',
          data: Array.from({ length: rows }, (_, i) => (i === 1000 ? `prompt ${NEEDLE}` : `prompt number ${i}`)),
          type: 'STRING',
          offsetIndex,
        },
        { name: 'score', data: Float64Array.from({ length: rows }, (_, i) => i / 4), type: 'DOUBLE', offsetIndex },
      ],
      // As pyarrow writes by default (row groups of about a million rows).
      rowGroupSize: 1_000_000,
    }),
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  let sshd: TestSshd | undefined;
  let services: AppServices | undefined;
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-datasets-'));
  try {
    sshd = await startTestSshd();
    const runRoot = path.join(work, 'host-runs');
    const runDir = path.join(runRoot, RUN_ID);
    const data = path.join(runDir, 'workspace', 'data');
    await mkdir(data, { recursive: true });

    const home = path.join(work, 'ptw-home');
    await mkdir(home, { recursive: true });
    await writeFile(
      path.join(home, 'hosts.json'),
      JSON.stringify({
        hosts: [
          {
            name: 'bench',
            kind: 'ssh',
            hostname: sshd.host,
            port: sshd.port,
            user: sshd.username,
            identityFiles: [sshd.privateKeyPath],
            runRoot,
          },
        ],
      }),
    );
    const runJson = JSON.stringify({
      schema: 1,
      id: RUN_ID,
      createdAt: new Date().toISOString(),
      spec: { host: 'bench', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, budgetSeconds: 300 },
      supervisor: { budgetSeconds: 300, agentContainerId: null },
    });
    await writeFile(path.join(runDir, 'run.json'), runJson);
    await RunMirror.create(path.join(home, 'runs'), {
      id: RUN_ID,
      host: 'bench',
      hostRunDir: runDir,
      runJsonText: runJson,
    });

    // The test host's key is new to this PTW_HOME: accepted like `--accept-new-host-key`.
    const accept = { confirmHostKey: async () => 'always' as const, askPassphrase: async () => undefined };
    /** A fresh app process, already connected (what the first page of a never-opened file waits for). */
    const fresh = async (): Promise<AppServices> => {
      await services?.dispose();
      services = await createAppServices({
        home,
        shell: 'cli',
        resourcesDir: path.join(root, 'resources'),
        connectPrompts: accept,
      });
      await services.hosts.session('bench', accept);
      return services;
    };
    const page = (s: AppServices, file: string, offset: number, limit = LIMIT) =>
      s.router.call('datasets.page', { id: RUN_ID, path: file, offset, limit }, ctx);
    const hostTime = async (command: string): Promise<number> => {
      const session = await services!.hosts.session('bench', accept);
      const r = await session.exec(
        `s=$(date +%s%N); ${command} >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))`,
        { timeoutMs: 600_000 },
      );
      return Number(r.stdout.trim());
    };
    const warmPages = async (s: AppServices, file: string, total: number): Promise<{ p50: number; p99: number }> => {
      const times: number[] = [];
      let seed = 12345;
      for (let i = 0; i < PAGES; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const offset = seed % Math.max(1, total - LIMIT);
        const r = await timed(() => page(s, file, offset));
        if (r.value.rows[0]?.row !== offset || r.value.rows.length !== LIMIT) throw new Error(`${file} ${offset}`);
        times.push(r.ms);
      }
      times.sort((a, b) => a - b);
      return { p50: round(quantile(times, 0.5)), p99: round(quantile(times, 0.99)) };
    };
    /** Time to the first streamed hit of a search (then cancelled: the rest of the file is not needed). */
    const firstHit = async (s: AppServices, file: string): Promise<number | null> => {
      const searchId = `bench-${file}`;
      let resolveHit: (ms: number) => void = () => undefined;
      const hit = new Promise<number>((resolve) => (resolveHit = resolve));
      const t0 = performance.now();
      const off = s.events.attachPeer(ctx.peerId, (event, payload) => {
        const p = payload as { searchId?: string; hits?: unknown[] };
        if (event === 'datasets.searchProgress' && p.searchId === searchId && p.hits?.length) {
          resolveHit(performance.now() - t0);
        }
      });
      try {
        const search = s.router.call('datasets.search', { id: RUN_ID, path: file, query: NEEDLE, searchId }, ctx);
        const first = await Promise.race([hit, search.then(() => null)]);
        s.router.call('datasets.searchCancel', { searchId }, ctx).catch(() => undefined);
        const done = await search;
        if (done.total < 1) throw new Error(`${file}: the planted row was not found`);
        return first === null ? null : round(first);
      } finally {
        off();
      }
    };

    // --- JSONL ---------------------------------------------------------------------------------------------------
    const jsonl = path.join(data, 'big.jsonl');
    process.stdout.write(`Generating ${GB} GB of JSONL on the test host… `);
    const gen = await timed(() => generate(jsonl, GB * 1024 * 1024 * 1024));
    const size = (await stat(jsonl)).size;
    process.stdout.write(`${gen.value} rows, ${(size / 1e9).toFixed(2)} GB in ${(gen.ms / 1000).toFixed(1)} s\n`);

    let s = await fresh();
    const cold = await timed(() => page(s, 'data/big.jsonl', 0));
    if (cold.value.rows.length !== LIMIT) throw new Error('cold first page is short');
    const coldIndex = cold.value.index!;
    // The index builds in the background on the host: its progress until every row is counted and checked.
    const t0 = performance.now();
    let status: DatasetIndex = coldIndex;
    let countedMs = 0;
    while (!status.complete || !status.checked) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await s.router.call('datasets.indexStatus', { id: RUN_ID, path: 'data/big.jsonl' }, ctx)).index;
      if (status.complete && !countedMs) countedMs = performance.now() - t0;
    }
    const checkedMs = performance.now() - t0;
    // How the host's python3 starts (a pyenv shim adds a shell and `pyenv exec` to every helper run).
    const which = await (
      await s.hosts.session('bench', accept)
    ).exec('command -v python3; head -c 2 "$(command -v python3)"');
    const pythonNote = which.stdout.includes('#!')
      ? `${which.stdout.split('\n')[0]} (a script: slower to start)`
      : which.stdout.split('\n')[0];

    const wcMs = await hostTime(`wc -l ${jsonl}`);
    const wcMs2 = await hostTime(`wc -l ${jsonl}`);
    const jsonlWarm = await warmPages(s, 'data/big.jsonl', status.rows);
    const jsonlHit = await firstHit(s, 'data/big.jsonl');
    const jsonlResult = {
      bytes: size,
      rows: status.rows,
      coldFirstPageMs: round(cold.ms),
      coldFirstPageIndex: { rowsCountedThen: coldIndex.rows, complete: coldIndex.complete },
      warmPageMs: jsonlWarm,
      indexMBps: status.indexMBps,
      wcMBps: Math.round(size / 1e6 / (Math.min(wcMs, wcMs2) / 1000)),
      countedAfterMs: Math.round(countedMs),
      checkedAfterMs: Math.round(checkedMs),
      firstSearchHitMs: jsonlHit,
      searchHitAtByte: 'about 512 MB',
    };
    await rm(jsonl);
    console.log(`jsonl: ${JSON.stringify(jsonlResult)}`);

    // --- Parquet -------------------------------------------------------------------------------------------------
    const parquet: Record<string, unknown> = {};
    for (const withIndex of [true, false]) {
      const name = withIndex ? 'big.parquet' : 'big-no-offset-index.parquet';
      process.stdout.write(`Writing ${PARQUET_ROWS} rows of Parquet${withIndex ? '' : ' without an offset index'}… `);
      const made = await timed(async () => writeFile(path.join(data, name), parquetFile(PARQUET_ROWS, withIndex)));
      const bytes = (await stat(path.join(data, name))).size;
      process.stdout.write(`${(bytes / 1e6).toFixed(0)} MB in ${(made.ms / 1000).toFixed(1)} s\n`);
      s = await fresh();
      const first = await timed(() => page(s, `data/${name}`, 0));
      if (first.value.rows.length !== LIMIT) throw new Error(`${name}: cold first page is short`);
      const warm = await warmPages(s, `data/${name}`, PARQUET_ROWS);
      let hit: number | null = null;
      let hitNote: string | undefined;
      try {
        hit = await firstHit(s, `data/${name}`);
      } catch (err) {
        hitNote = err instanceof Error ? err.message : String(err);
      }
      parquet[withIndex ? 'parquet' : 'parquetNoOffsetIndex'] = {
        bytes,
        rows: PARQUET_ROWS,
        rowGroupRows: 1_000_000,
        coldFirstPageMs: round(first.ms),
        warmPageMs: warm,
        indexMBps: null,
        wcMBps: null,
        firstSearchHitMs: hit,
        ...(hitNote ? { firstSearchHitNote: hitNote } : {}),
      };
      await rm(path.join(data, name));
      console.log(`${name}: ${JSON.stringify(parquet[withIndex ? 'parquet' : 'parquetNoOffsetIndex'])}`);
    }

    const result = {
      bench: 'inspect-datasets',
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? '',
        node: process.versions.node,
        // Other work on the machine while this ran (1, 5, 15 minutes): timings scale with it.
        loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
        python3: pythonNote,
      },
      sizes: {
        jsonlGB: GB,
        parquetRows: PARQUET_ROWS,
        note:
          GB < 10 || PARQUET_ROWS < 10_000_000
            ? `Smaller than the issue's 10 GB JSONL / 10 M-row Parquet to keep the run short on this machine; ` +
              `run with --gb 10 --parquet-rows 10000000 for those.`
            : "The issue's sizes.",
      },
      pageRows: LIMIT,
      targets: { coldFirstPageMs: 500, warmPageMs: 50, firstSearchHitMs: 1000, indexMBps: 'at least wcMBps' },
      files: { jsonl: jsonlResult, ...parquet },
      notes:
        'Test host = a real sshd on this machine (loopback), the files just written (in the page cache). ' +
        'coldFirstPageMs: a fresh app process, connected, the file never opened (JSONL: the helper starts the index ' +
        'in the background and the head is read at once; Parquet: a stat, the footer, then the first row group). ' +
        'warmPageMs: random pages once the index is complete (JSONL) / the footer is known (Parquet). ' +
        'indexMBps: the host helper counting lines (phase one, its own timing); wcMBps: `wc -l` on the same file on ' +
        'the same host, timed on the host, best of two. firstSearchHitMs: from the call to the first streamed hit ' +
        '(JSONL: a row at about 512 MB; Parquet: row 1000, after converting the file to JSONL for the helper).',
    };
    await mkdir(path.join(root, 'bench', 'results'), { recursive: true });
    await writeFile(
      path.join(root, 'bench', 'results', 'inspect-datasets.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    console.log('-> bench/results/inspect-datasets.json');
  } finally {
    await services?.dispose().catch(() => undefined);
    await sshd?.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
