// `npm run bench:replay` (issue 19, "Replay, measured the same way"): the Replay tab in Chromium with painting,
// through the real `ptw serve`, beside asciinema-player (a dev dependency) on the same files in the same run.
//
// For each size (default 10, 100, 500 and 1024 MB) a deterministic agent session is generated
// (test/support/synthetic-cast.ts: training logs with colour, `\r` progress bars, pip output, an editor on the
// alternate screen, markers, resizes) and placed as the terminal.cast of two runs in a fresh PTW_HOME:
//   - "mirrored": indexed beforehand the way the app does while it mirrors a run (ReplayService.prepareRun, the
//     pass each sync triggers), timed here: index ms and MB/s;
//   - "cold": the same file (a hard link) with no index, as a recording seen for the first time.
// Then, in one Chromium page each, measured in the page (performance.now, from the action to the frame after it,
// a requestAnimationFrame then a task, the paint happening between the two):
//   - openMs: the mirrored run's Replay tab clicked until its first frame is painted (serve has not opened it
//     before: the index comes from disk); reopenMs: another tab, then Replay again; coldOpenMs: the cold run's tab
//     (indexing on open, with progress);
//   - seekMs: random moments (seeded, the same for both players) from seek to the frame painted after xterm's
//     write callback; p50, p99, max;
//   - asciinema-player on a plain page served from here, the same file: openMs (create, load, the first frame) and
//     seekMs the same way; not at 1 GB (a JS string cannot hold the file). Its seeks replay from the start, so
//     they stop after --player-seek-budget seconds (the count done is recorded).
// Writes bench/results/replay.json with the numbers, same-run ratios (player ÷ ours) and the load average.
//
//   npm run bench:replay -- [--sizes 10,100,500,1024] [--seeks 100] [--player-seek-budget 120] [--keep DIR]
import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import type { ReplayService as ReplayServiceType } from '../src/main/replay/replay-service';
import { launchChromium } from '../test/support/chromium';
import { startServeProcess } from '../test/support/serve-process';
import { writeSyntheticCast } from '../test/support/synthetic-cast';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SIZES = (arg('sizes') ?? '10,100,500,1024').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--sizes: "${s}" is not a size in MB (e.g. --sizes 10,100)`);
  return n;
});
const SEEKS = Number(arg('seeks') ?? 100);
const PLAYER_SEEK_BUDGET_MS = Number(arg('player-seek-budget') ?? 120) * 1000;
/** asciinema-player reads the whole file into one string: past ~512 MiB, V8 cannot make it. */
const PLAYER_MAX_MB = 500;
const keepDir = arg('keep');
const MB = 1024 * 1024;
const SEED = 19;
const TARGETS = { indexMBps: 50, seekP99Ms: 100 };

/**
 * The app's ReplayService, bundled for node as the app is (vite-node, which runs this file, cannot load
 * @xterm/headless, whose package names no entry vite resolves).
 */
async function loadReplayService(): Promise<typeof ReplayServiceType> {
  // Inside node_modules, so that its own imports (zod, xterm) resolve.
  const outfile = path.resolve('node_modules', '.cache', 'ptw-bench-replay', 'replay-service.cjs');
  await build({
    entryPoints: [path.resolve('src/main/replay/replay-service.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'warning',
    nodePaths: [path.resolve('node_modules')],
  });
  const required = createRequire(path.resolve('package.json'))(outfile) as { ReplayService: typeof ReplayServiceType };
  return required.ReplayService;
}

/** Run ids for size `mb`: the mirrored run and the cold one (same file). */
function runIds(mb: number): { mirrored: string; cold: string } {
  const n = String(mb).padStart(4, '0');
  return {
    mirrored: `r-20261207-12${n.slice(0, 2)}${n.slice(2)}-aaaa`,
    cold: `r-20261207-12${n.slice(0, 2)}${n.slice(2)}-cccc`,
  };
}

async function writeRun(home: string, id: string, label: string, cast: string): Promise<void> {
  const dir = path.join(home, 'runs', id);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'run.json'),
    JSON.stringify({
      schema: 1,
      id,
      createdAt: '2026-12-07T12:00:00Z',
      spec: { host: 'bench', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label },
      supervisor: { budgetSeconds: 36_000 },
    }),
  );
  await writeFile(path.join(dir, 'state.json'), JSON.stringify({ status: 'failed', heartbeatAt: 1 }));
  await link(cast, path.join(dir, 'terminal.cast'));
}

/** In the page: the ms from running `act` until `done` holds and the frame after it is painted. */
const PAINTED = `await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))`;
async function timed(page: Page, act: string, done: string, timeoutMs = 600_000): Promise<number> {
  return page.evaluate(`(async () => {
    const start = performance.now();
    ${act}
    while (!(${done})) {
      if (performance.now() - start > ${timeoutMs}) throw new Error('timed out waiting for: ' + ${JSON.stringify(done)});
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    ${PAINTED};
    return performance.now() - start;
  })()`);
}

const click = (testId: string) => `document.querySelector('[data-testid="${testId}"]').click();`;
const DRIVER = `window.__ptwReplayDriver`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}
function summary(values: number[]): { p50: number; p99: number; max: number; n: number } {
  const r = (v: number) => Math.round(v * 10) / 10;
  return {
    p50: r(percentile(values, 50)),
    p99: r(percentile(values, 99)),
    max: r(Math.max(...values)),
    n: values.length,
  };
}

/** Past this, the player's page is given up on (it is closed, and the error recorded). */
const PLAYER_TIMEOUT_MS = PLAYER_SEEK_BUDGET_MS + 300_000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** Seek moments spread over the recording, seeded (mulberry32): the same list for both players. */
function seekTimes(durationSeconds: number, count: number, seed: number): number[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => Math.round(random() * durationSeconds * 1000) / 1000);
}

/** A plain page with asciinema-player, and the casts, served from here. */
async function startPlayerServer(casts: Map<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const dist = path.resolve('node_modules', 'asciinema-player', 'dist', 'bundle');
  const files: Record<string, [string, string]> = {
    '/player.js': [path.join(dist, 'asciinema-player.min.js'), 'text/javascript'],
    '/player.css': [path.join(dist, 'asciinema-player.css'), 'text/css'],
  };
  const page = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/player.css">
<style>body { margin: 0; background: #111318; } #player { width: 1200px; }</style></head>
<body><div id="player"></div><script src="/player.js"></script></body></html>`;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const cast = casts.get(url);
    const file = files[url];
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    } else if (file || cast) {
      res.writeHead(200, { 'content-type': file ? file[1] : 'application/x-asciicast' });
      createReadStream(file ? file[0] : cast!).pipe(res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface SizeResult {
  sizeMB: number;
  bytes: number;
  events: number;
  durationSeconds: number;
  index: { ms: number; MBps: number };
  openMs: number;
  reopenMs: number;
  coldOpenMs: number;
  seekMs: ReturnType<typeof summary>;
  player: { openMs: number; seekMs: ReturnType<typeof summary> } | { skipped: string } | { error: string };
  /** asciinema-player's time ÷ ours, in this run (above 1: ours is faster). */
  ratio: { openMs: number; seekP50: number; seekP99: number } | null;
}

async function measureOurs(
  page: Page,
  home: string,
  serveUrl: string,
  ids: { mirrored: string; cold: string },
  times: number[],
): Promise<Pick<SizeResult, 'openMs' | 'reopenMs' | 'coldOpenMs' | 'seekMs'>> {
  const openRun = async (id: string) => {
    await page.goto(serveUrl);
    await page.waitForFunction(
      () => document.querySelector('[data-testid="connection-footer"]')?.getAttribute('data-connection') === 'online',
    );
    await page.getByTestId('nav-runs').click();
    await page.getByText(`bench ${id}`, { exact: true }).first().click();
    await page.getByTestId('run-tab-replay').waitFor();
  };
  const opened = `(${DRIVER}?.shown() === true)`;
  await openRun(ids.mirrored);
  const indexJson = path.join(home, 'runs', ids.mirrored, '.replay', 'index.json');
  const before = (await stat(indexJson)).mtimeMs;
  const openMs = await timed(page, click('run-tab-replay'), opened);
  if ((await stat(indexJson)).mtimeMs !== before) {
    throw new Error(
      'ptw serve indexed the mirrored run again instead of reading its index: is dist/ built from this checkout? ' +
        '(npm run bench:replay builds it first)',
    );
  }
  const seeks: number[] = [];
  for (const t of times) {
    seeks.push(
      await page.evaluate(`(async () => {
      const start = performance.now();
      await ${DRIVER}.seek(${t * 1000});
      ${PAINTED};
      return performance.now() - start;
    })()`),
    );
  }
  await page.getByTestId('run-tab-overview').click();
  await page.waitForFunction(`!${DRIVER}`);
  const reopenMs = await timed(page, click('run-tab-replay'), opened);
  await openRun(ids.cold);
  const coldOpenMs = await timed(page, click('run-tab-replay'), opened);
  return { openMs, reopenMs, coldOpenMs, seekMs: summary(seeks) };
}

async function measurePlayer(
  page: Page,
  url: string,
  times: number[],
): Promise<{ openMs: number; seekMs: ReturnType<typeof summary> }> {
  const openMs: number = await page.evaluate(`(async () => {
    const start = performance.now();
    window.__player = AsciinemaPlayer.create(${JSON.stringify(url)}, document.getElementById('player'), { preload: true, idleTimeLimit: 2 });
    await window.__player.seek(0);
    ${PAINTED};
    return performance.now() - start;
  })()`);
  const seeks: number[] = [];
  const started = performance.now();
  for (const t of times) {
    if (seeks.length > 0 && performance.now() - started > PLAYER_SEEK_BUDGET_MS) break;
    seeks.push(
      await page.evaluate(`(async () => {
      const start = performance.now();
      await window.__player.seek(${t});
      ${PAINTED};
      return performance.now() - start;
    })()`),
    );
  }
  return { openMs, seekMs: summary(seeks) };
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const loadAtStart = os.loadavg();
  const work = keepDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-replay-')));
  const home = path.join(work, 'home');
  await mkdir(path.join(work, 'casts'), { recursive: true });
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${loadAtStart.map((l) => l.toFixed(1)).join(' ')}`,
  );

  const generated = new Map<number, { file: string; events: number; duration: number; bytes: number }>();
  for (const mb of SIZES) {
    const file = path.join(work, 'casts', `session-${mb}mb.cast`);
    const t = performance.now();
    const made = writeSyntheticCast({ file, bytes: mb * MB, seed: SEED, durationSeconds: Math.max(600, mb * 36) });
    console.log(`${mb} MB cast generated in ${Math.round(performance.now() - t)} ms (${made.events} events)`);
    const ids = runIds(mb);
    await writeRun(home, ids.mirrored, `bench ${ids.mirrored}`, file);
    await writeRun(home, ids.cold, `bench ${ids.cold}`, file);
    generated.set(mb, { file, events: made.events, duration: made.duration, bytes: (await stat(file)).size });
  }

  // The pass the app runs after each sync of a mirrored run, over the whole cast at once: its indexing speed.
  const indexing = new Map<number, { ms: number; MBps: number }>();
  const ReplayService = await loadReplayService();
  const replay = new ReplayService({ home });
  for (const mb of SIZES) {
    const id = runIds(mb).mirrored;
    const t = performance.now();
    replay.prepareRun(id);
    await replay.prepared(id);
    const ms = performance.now() - t;
    const bytes = generated.get(mb)!.bytes;
    indexing.set(mb, { ms: Math.round(ms), MBps: Math.round((bytes / MB / (ms / 1000)) * 10) / 10 });
    console.log(`${mb} MB indexed in ${Math.round(ms)} ms: ${indexing.get(mb)!.MBps} MB/s`);
  }
  await replay.dispose();

  const casts = new Map([...generated].map(([mb, g]) => [`/cast/${mb}.cast`, g.file]));
  const playerServer = await startPlayerServer(casts);
  const serve = await startServeProcess({ home, env: { HOME: work } });
  const chrome = await launchChromium();
  const results: SizeResult[] = [];
  const pageErrors: string[] = [];
  /** asciinema-player's page errors: reported, not a failure of this bench. */
  const playerErrors: string[] = [];
  try {
    for (const mb of SIZES) {
      const g = generated.get(mb)!;
      const times = seekTimes(g.duration, SEEKS, SEED + mb);
      const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('pageerror', (e) => pageErrors.push(`ours ${mb} MB: ${e.message}`));
      const ours = await measureOurs(page, home, serve.pageUrl('testDriver=1'), runIds(mb), times);
      await page.close();
      console.log(
        `${mb} MB ours: open ${Math.round(ours.openMs)} ms, reopen ${Math.round(ours.reopenMs)} ms, cold open ${Math.round(ours.coldOpenMs)} ms, seek p50 ${ours.seekMs.p50} p99 ${ours.seekMs.p99} ms`,
      );
      let player: SizeResult['player'];
      if (mb > PLAYER_MAX_MB) {
        player = {
          skipped: `asciinema-player reads the whole file into one string; ${mb} MB is past what V8 can hold`,
        };
      } else {
        const playerPage = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
        playerPage.on('pageerror', (e) => playerErrors.push(`${mb} MB: ${e.message}`));
        playerPage.on('crash', () => playerErrors.push(`${mb} MB: the page crashed`));
        try {
          await playerPage.goto(playerServer.url);
          player = await withTimeout(
            measurePlayer(playerPage, `${playerServer.url}/cast/${mb}.cast`, times),
            PLAYER_TIMEOUT_MS,
            `asciinema-player took over ${PLAYER_TIMEOUT_MS / 1000} s on ${mb} MB (open and seeks)`,
          );
          console.log(
            `${mb} MB asciinema-player: open ${Math.round(player.openMs)} ms, seek p50 ${player.seekMs.p50} p99 ${player.seekMs.p99} ms (${player.seekMs.n} seeks)`,
          );
        } catch (err) {
          player = { error: (err as Error).message.split('\n')[0]! };
          console.log(`${mb} MB asciinema-player failed: ${player.error}`);
        } finally {
          await playerPage.close().catch(() => undefined);
        }
      }
      const round = (v: number) => Math.round(v);
      const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
      results.push({
        sizeMB: mb,
        bytes: g.bytes,
        events: g.events,
        durationSeconds: Math.round(g.duration),
        index: indexing.get(mb)!,
        openMs: round(ours.openMs),
        reopenMs: round(ours.reopenMs),
        coldOpenMs: round(ours.coldOpenMs),
        seekMs: ours.seekMs,
        player: 'openMs' in player ? { openMs: round(player.openMs), seekMs: player.seekMs } : player,
        ratio:
          'openMs' in player
            ? {
                openMs: ratio(player.openMs, ours.openMs),
                seekP50: ratio(player.seekMs.p50, ours.seekMs.p50),
                seekP99: ratio(player.seekMs.p99, ours.seekMs.p99),
              }
            : null,
      });
    }
  } finally {
    await chrome.stop();
    await serve.stop();
    await playerServer.close();
    if (!keepDir) await rm(work, { recursive: true, force: true });
  }

  const biggest = results.at(-1)!;
  const met = {
    indexMBps: biggest.index.MBps >= TARGETS.indexMBps,
    seekP99Ms: results.every((r) => r.seekMs.p99 < TARGETS.seekP99Ms),
    // "The first open is as fast as a reopen": within 100 ms or 1.5× of it.
    firstOpenLikeReopen: results.every((r) => r.openMs <= Math.max(r.reopenMs * 1.5, r.reopenMs + 100)),
  };
  const out = {
    date: new Date().toISOString(),
    command: `npm run bench:replay -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? '',
      memoryGB: Math.round(os.totalmem() / 1024 ** 3),
      node: process.versions.node,
      loadAverage: { start: loadAtStart, end: os.loadavg() },
    },
    settings: {
      seeks: SEEKS,
      seed: SEED,
      playerSeekBudgetSeconds: PLAYER_SEEK_BUDGET_MS / 1000,
      viewport: '1400×1000',
    },
    notes: [
      'Times are measured in the page, from the action to the frame after it (requestAnimationFrame, then a task).',
      'openMs: the Replay tab of a run whose index was made while it was mirrored (the pass each sync runs); coldOpenMs: the same file with no index (indexed on open).',
      'asciinema-player: openMs from create() to the first frame after seek(0) (it fetches and parses the whole file); its seeks stop after playerSeekBudgetSeconds.',
      'ratio: asciinema-player ÷ ours in this run (above 1: ours is faster).',
    ],
    sizes: results,
    targets: { ...TARGETS, firstOpenLikeReopen: 'openMs <= max(1.5 × reopenMs, reopenMs + 100)' },
    met,
    pageErrors,
    playerErrors,
    wallSeconds: Math.round((performance.now() - startedAt) / 1000),
  };
  console.table(
    Object.fromEntries(
      results.map((r) => [
        `${r.sizeMB} MB`,
        {
          'index MB/s': r.index.MBps,
          open: r.openMs,
          reopen: r.reopenMs,
          cold: r.coldOpenMs,
          'seek p50': r.seekMs.p50,
          'seek p99': r.seekMs.p99,
          'player open': 'openMs' in r.player ? r.player.openMs : '-',
          'player p50': 'openMs' in r.player ? r.player.seekMs.p50 : '-',
          'player p99': 'openMs' in r.player ? r.player.seekMs.p99 : '-',
        },
      ]),
    ),
  );
  const file = path.resolve('bench', 'results', 'replay.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(out, null, 2) + '\n');
  const ok = Object.values(met).every(Boolean) && pageErrors.length === 0;
  console.log(`${ok ? 'All targets met' : 'A target was missed'} (${out.wallSeconds} s); written ${file}`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
