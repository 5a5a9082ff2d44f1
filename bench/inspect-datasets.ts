// `npm run bench:inspect`, dataset half (issue 7): a generated 1 GB JSONL in a run's workspace on the test host (a
// real sshd on this machine), opened through the app's own services as the Datasets tab and `ptw data show` do.
//
// Measured: the line index build on the host (first open), the time to the first page once the index exists (a
// fresh app process: the host's cached index read over SFTP, then an SFTP range read), and random pages (the index
// held in memory: one SFTP range read each). Targets: first page < 500 ms, random page < 50 ms.
// Prints a table; writes bench/results/inspect-datasets.json.
//
//   node bench/run-ts.mjs bench/inspect-datasets.ts [--mb 1024] [--pages 50]
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAppServices, type AppServices } from '../src/main/app-services';
import { RunMirror } from '../src/main/runs/run-mirror';
import { startTestSshd, type TestSshd } from '../test/support/test-sshd';

const repo = path.resolve(__dirname, '..');
// run-ts.mjs bundles into a temp dir: find the repo from the working directory instead.
const root = repo.includes(os.tmpdir()) ? process.cwd() : repo;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const MB = Number(option('mb', '1024'));
const PAGES = Number(option('pages', '50'));
const LIMIT = 100;
const RUN_ID = 'r-20261123-160000-bench';
const ctx = { peerId: 'bench', transport: 'cli' } as const;

/** Chat rows of varied length (about 1 KB on average), with a few broken lines. */
async function generate(file: string, bytes: number): Promise<number> {
  const out = createWriteStream(file);
  let written = 0;
  let rows = 0;
  const words = [
    'the',
    'model',
    'learns',
    'to',
    'solve',
    'math',
    'problems',
    'step',
    'by',
    'with',
    'careful',
    'reasoning',
  ];
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  while (written < bytes) {
    const n = 40 + rand(300);
    const text = Array.from({ length: n }, () => words[rand(words.length)]).join(' ');
    const line =
      rows % 100_003 === 99_999
        ? '{"messages": [ broken line\n'
        : JSON.stringify({
            id: rows,
            messages: [
              { role: 'user', content: `Question ${rows}: ${text.slice(0, 200)}` },
              { role: 'assistant', content: text },
            ],
          }) + '\n';
    written += Buffer.byteLength(line);
    rows++;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return rows;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await work();
  return { ms: performance.now() - t0, value };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  let sshd: TestSshd | undefined;
  let services: AppServices | undefined;
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-datasets-'));
  try {
    sshd = await startTestSshd();
    const runRoot = path.join(work, 'host-runs');
    const runDir = path.join(runRoot, RUN_ID);
    await mkdir(path.join(runDir, 'workspace', 'data'), { recursive: true });
    const file = path.join(runDir, 'workspace', 'data', 'big.jsonl');
    process.stdout.write(`Generating ${MB} MB of JSONL on the test host… `);
    const gen = await timed(() => generate(file, MB * 1024 * 1024));
    const size = (await stat(file)).size;
    process.stdout.write(`${gen.value} rows, ${(size / 1e6).toFixed(0)} MB in ${(gen.ms / 1000).toFixed(1)} s\n`);

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
    const open = (): Promise<AppServices> =>
      createAppServices({
        home,
        shell: 'cli',
        resourcesDir: path.join(root, 'resources'),
        connectPrompts: accept,
      });
    const page = (s: AppServices, offset: number) =>
      s.router.call('datasets.page', { id: RUN_ID, path: 'data/big.jsonl', offset, limit: LIMIT }, ctx);

    // 1. First open ever: the host builds the line index (and validates every line).
    services = await open();
    await services.hosts.session('bench', accept);
    const cold = await timed(() => page(services!, 0));
    const total = cold.value.total;
    await services.dispose();
    services = undefined;

    // 2. A fresh app process, connected, index cached on the host: time to the first page.
    const firstPages: number[] = [];
    for (let i = 0; i < 5; i++) {
      services = await open();
      await services.hosts.session('bench', accept);
      const first = await timed(() => page(services!, 0));
      if (first.value.rows.length !== LIMIT) throw new Error(`first page had ${first.value.rows.length} rows`);
      firstPages.push(first.ms);
      if (i < 4) {
        await services.dispose();
        services = undefined;
      }
    }

    // 3. Random pages (index in memory; each is one SFTP range read), once the background check of the host's cached
    // index (started by the first page) is over.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const random: number[] = [];
    let seed = 12345;
    for (let i = 0; i < PAGES; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const offset = seed % (total - LIMIT);
      const r = await timed(() => page(services!, offset));
      if (r.value.rows[0]?.row !== offset || r.value.rows.length !== LIMIT) throw new Error(`page ${offset} is wrong`);
      const id = (r.value.rows.find((x) => x.value !== undefined)?.value as { id?: number } | undefined)?.id;
      if (id === undefined || Math.abs(id - offset) > LIMIT) throw new Error(`page ${offset} starts at id ${id}`);
      random.push(r.ms);
    }
    const sortedFirst = [...firstPages].sort((a, b) => a - b);
    const sortedRandom = [...random].sort((a, b) => a - b);
    const result = {
      bench: 'inspect-datasets',
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', node: process.versions.node },
      file: { bytes: size, rows: total, brokenRows: cold.value.problemCount },
      pageRows: LIMIT,
      indexBuild: { hostMs: cold.value.indexBuiltMs ?? null, firstPageWithBuildMs: Math.round(cold.ms) },
      firstPageMs: {
        median: Math.round(quantile(sortedFirst, 0.5)),
        max: Math.round(sortedFirst[sortedFirst.length - 1]!),
        runs: firstPages.map(Math.round),
        target: 500,
      },
      randomPageMs: {
        median: +quantile(sortedRandom, 0.5).toFixed(1),
        p95: +quantile(sortedRandom, 0.95).toFixed(1),
        max: +sortedRandom[sortedRandom.length - 1]!.toFixed(1),
        pages: PAGES,
        target: 50,
      },
      pass: quantile(sortedFirst, 0.5) < 500 && quantile(sortedRandom, 0.5) < 50,
      notes:
        'Test host = a real sshd on this machine (loopback). First page: a fresh app process, already connected, the ' +
        'index cached on the host (read over SFTP, checked by the helper in the background). Random page: the index in memory (one SFTP range ' +
        'read of the rows from the nearest checkpoint, every 64 rows).',
    };
    await mkdir(path.join(root, 'bench', 'results'), { recursive: true });
    await writeFile(
      path.join(root, 'bench', 'results', 'inspect-datasets.json'),
      JSON.stringify(result, null, 2) + '\n',
    );
    console.log(
      [
        `file              ${(size / 1e6).toFixed(0)} MB, ${total} rows (${cold.value.problemCount} broken)`,
        `index build       ${cold.value.indexBuiltMs} ms on the host (first page with build: ${Math.round(cold.ms)} ms)`,
        `first page        median ${result.firstPageMs.median} ms, max ${result.firstPageMs.max} ms   (target < 500 ms)`,
        `random page       median ${result.randomPageMs.median} ms, p95 ${result.randomPageMs.p95} ms   (target < 50 ms)`,
        `-> bench/results/inspect-datasets.json`,
      ].join('\n'),
    );
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
