// `npm run bench:replay`: indexed terminal replay on a generated 1 GB, 10-hour agent session (issue 6).
// Prints and writes bench/results/replay.json: index build time and MB/s, time to first frame, seek p50/p99 over
// 100 random seeks, the longest main-thread (event-loop) freeze, peak memory; then checks seek correctness on a
// 200 MB cast (screen after a seek == screen after a full replay to that time, at 30 random times).
//
// Seeks run the renderer's ReplayController against @xterm/headless in this process, each segment passing
// through a JSON round trip and the contract's zod schema twice (router and client), as over the WebSocket.
// Options: --mb N (default 1024), --check-mb N (default 200, 0 to skip), --seeks N (default 100), --keep DIR.
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CastIndex, KEYFRAME_SCROLLBACK, SEGMENT_BYTES } from '../src/main/replay/cast-index';
import { ReplayController } from '../src/renderer/replay/replay-controller';
import { replaySegmentSchema } from '../src/shared/contract-replay';
import { fullReplayScreens, ScreenTerminal, seekScreen } from '../test/support/replay-screen';
import { writeSyntheticCast } from '../test/support/synthetic-cast';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const keepIndex = process.argv.indexOf('--keep');
const keepDir = keepIndex >= 0 ? process.argv[keepIndex + 1] : undefined;

const MB = 1024 * 1024;

/** The longest gap between timer ticks that should come every 5 ms: how long the event loop was blocked. */
function freezeMeter() {
  let last = performance.now();
  let worst = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop() {
      clearInterval(timer);
      histogram.disable();
      return { worstMs: Math.round(worst), p99DelayMs: Math.round(histogram.percentile(99) / 1e6) };
    },
  };
}

function memoryMeter() {
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return { peakRssMB: Math.round(peakRss / MB), peakHeapMB: Math.round(peakHeap / MB) };
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const sizeMb = arg('mb', 1024);
  const checkMb = arg('check-mb', 200);
  const seekCount = arg('seeks', 100);
  const dir = keepDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-replay-')));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `session-${sizeMb}mb.cast`);
  try {
    console.log(
      `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
    let t0 = performance.now();
    const existing = await stat(file).catch(() => null);
    const gen = existing
      ? { bytes: existing.size, events: 0, duration: 0, markers: 0 }
      : writeSyntheticCast({ file, bytes: sizeMb * MB, seed: 2026, durationSeconds: 10 * 3600 });
    console.log(
      existing
        ? `cast: ${(gen.bytes / MB).toFixed(0)} MB (generated earlier, in ${dir})`
        : `cast: ${(gen.bytes / MB).toFixed(0)} MB, ${gen.events} events, ${(gen.duration / 3600).toFixed(2)} h (${((performance.now() - t0) / 1000).toFixed(1)} s to generate)`,
    );

    // Index build, from nothing.
    const cacheDir = path.join(dir, 'index');
    await rm(cacheDir, { recursive: true, force: true });
    global.gc?.();
    const mem = memoryMeter();
    let freeze = freezeMeter();
    t0 = performance.now();
    let lastReport = 0;
    let inWorker = false;
    const index = await CastIndex.open(file, cacheDir, {
      onStart: ({ worker }) => (inWorker = worker),
      onProgress: (done, total) => {
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          console.log(`  indexing ${((done / total) * 100).toFixed(0)}%`);
        }
      },
    });
    const indexMs = performance.now() - t0;
    const indexFreeze = freeze.stop();
    const indexMBps = gen.bytes / MB / (indexMs / 1000);
    const keyframesMB = index.stored.keyframesBytes / MB;
    console.log(
      `index: ${(indexMs / 1000).toFixed(1)} s, ${indexMBps.toFixed(1)} MB/s, ${index.stored.segments.length} segments, ` +
        `${keyframesMB.toFixed(1)} MB of keyframes, ${index.stored.markers.length} markers, longest freeze ${indexFreeze.worstMs} ms, ` +
        `terminal in ${inWorker ? 'a worker thread' : 'the main thread'}`,
    );

    // First frame: open the cached index as the app does, fetch segment 0 and show t = 0.
    freeze = freezeMeter();
    t0 = performance.now();
    const reopened = await CastIndex.open(file, cacheDir);
    const contract = reopened.toContract('r-bench');
    // Where a seek's time goes: the main process (read + parse the segment, validate, encode) and the renderer
    // (decode, validate, then the terminal writes, measured as the rest).
    const split = { main: 0, decode: 0, fetches: 0 };
    const wire = async (n: number) => {
      let t = performance.now();
      const seg = await reopened.segment(n);
      const text = JSON.stringify(replaySegmentSchema.parse(seg));
      split.main += performance.now() - t;
      t = performance.now();
      const decoded = replaySegmentSchema.parse(JSON.parse(text));
      split.decode += performance.now() - t;
      split.fetches++;
      return decoded;
    };
    const term = new ScreenTerminal(contract.header.cols, contract.header.rows, 1000);
    const ctl = new ReplayController(contract, { segment: wire }, term.term, {
      now: () => performance.now(),
      requestFrame: (cb) => setTimeout(cb, 16) as unknown as number,
      cancelFrame: (h) => clearTimeout(h),
    });
    await ctl.seek(0);
    const firstFrameMs = performance.now() - t0;
    console.log(`first frame: ${firstFrameMs.toFixed(0)} ms (cached index open + segment 0 + write)`);

    // Random seeks.
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    split.main = 0;
    split.decode = 0;
    split.fetches = 0;
    const seekMs: number[] = [];
    for (let i = 0; i < seekCount; i++) {
      const t = random() * contract.duration * 1000;
      const s = performance.now();
      await ctl.seek(t);
      seekMs.push(performance.now() - s);
    }
    const seekFreeze = freeze.stop();
    const memory = mem.stop();
    ctl.dispose();
    term.dispose();
    seekMs.sort((a, b) => a - b);
    const seek = {
      p50: Math.round(percentile(seekMs, 50)),
      p99: Math.round(percentile(seekMs, 99)),
      max: Math.round(seekMs[seekMs.length - 1]!),
    };
    const perFetch = (ms: number) => Math.round((ms / Math.max(1, split.fetches)) * 10) / 10;
    const seekSplit = {
      segmentsFetched: split.fetches,
      mainMsPerSegment: perFetch(split.main),
      rendererDecodeMsPerSegment: perFetch(split.decode),
    };
    console.log(`seek (${seekCount} random): p50 ${seek.p50} ms, p99 ${seek.p99} ms, worst ${seek.max} ms`);
    console.log(
      `  per segment fetched (${split.fetches}): main process ${seekSplit.mainMsPerSegment} ms (read, parse, validate, ` +
        `encode), renderer ${seekSplit.rendererDecodeMsPerSegment} ms (decode, validate); the rest of a seek is xterm writes`,
    );
    console.log(`longest main-thread freeze: indexing ${indexFreeze.worstMs} ms, seeking ${seekFreeze.worstMs} ms`);
    console.log(`peak memory: RSS ${memory.peakRssMB} MB, JS heap ${memory.peakHeapMB} MB`);

    // Search over the whole output.
    t0 = performance.now();
    const search = await reopened.search('CUDA out of memory', 200);
    const searchMs = performance.now() - t0;
    console.log(
      `search: ${search.hits.length}${search.truncated ? '+' : ''} hits in ${(searchMs / 1000).toFixed(2)} s (${(search.searchedBytes / MB).toFixed(0)} MB read)`,
    );

    // Seek correctness on a 200 MB cast.
    let check: { mb: number; times: number; mismatches: number; ms: number } | null = null;
    if (checkMb > 0) {
      t0 = performance.now();
      const checkFile = path.join(dir, `check-${checkMb}mb.cast`);
      if (!(await stat(checkFile).catch(() => null))) {
        writeSyntheticCast({ file: checkFile, bytes: checkMb * MB, seed: 7, durationSeconds: 10 * 3600 });
      }
      const checkIndex = await CastIndex.open(checkFile, path.join(dir, 'check-index'));
      const times = Array.from({ length: 30 }, () => random() * checkIndex.stored.duration).sort((a, b) => a - b);
      const full = await fullReplayScreens(checkFile, times);
      let mismatches = 0;
      for (let i = 0; i < times.length; i++) if ((await seekScreen(checkIndex, times[i]!)) !== full[i]) mismatches++;
      check = { mb: checkMb, times: times.length, mismatches, ms: Math.round(performance.now() - t0) };
      console.log(
        `seek correctness on ${checkMb} MB: ${times.length - mismatches}/${times.length} screens equal a full replay (${(check.ms / 1000).toFixed(0)} s)`,
      );
    }

    const targets = {
      indexMBps: 50,
      firstFrameMs: 200,
      seekP50Ms: 50,
      seekP99Ms: 100,
      freezeMs: 50,
      memoryMB: 300,
    };
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? null,
        loadAverage: os.loadavg(),
        node: process.versions.node,
      },
      notes: [
        'One node process plays both sides: the main process (index, segment reads) and, for seeks, the renderer ' +
          '(decode, validate, then @xterm/headless writes standing in for the browser xterm, without painting). ' +
          'The seek freeze therefore counts both halves in one thread; in the app they are two processes.',
        'The index runs its terminal in a worker thread (the main thread parses lines); its freeze is the main thread.',
        'Numbers depend heavily on machine load: see machine.loadAverage.',
      ],
      cast: {
        bytes: gen.bytes,
        events: index.stored.eventCount,
        durationSeconds: contract.duration,
        segments: contract.segments.length,
      },
      settings: { segmentBytes: SEGMENT_BYTES, keyframeScrollback: KEYFRAME_SCROLLBACK },
      index: {
        terminalInWorker: inWorker,
        ms: Math.round(indexMs),
        MBps: Number(indexMBps.toFixed(1)),
        keyframesMB: Number(keyframesMB.toFixed(1)),
        longestFreezeMs: indexFreeze.worstMs,
      },
      firstFrameMs: Math.round(firstFrameMs),
      seekMs: { ...seek, split: seekSplit },
      longestFreezeMs: { indexing: indexFreeze.worstMs, seeking: seekFreeze.worstMs },
      memory,
      search: { hits: search.hits.length, ms: Math.round(searchMs) },
      seekCorrectness: check,
      targets,
      met: {
        indexMBps: indexMBps >= targets.indexMBps,
        firstFrameMs: firstFrameMs < targets.firstFrameMs,
        seekP50Ms: seek.p50 < targets.seekP50Ms,
        seekP99Ms: seek.p99 < targets.seekP99Ms,
        freezeMs: Math.max(indexFreeze.worstMs, seekFreeze.worstMs) <= targets.freezeMs,
        memoryMB: memory.peakRssMB < targets.memoryMB,
      },
    };
    const out = path.resolve('bench', 'results', 'replay.json');
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${out}`);
    if (check && check.mismatches > 0) process.exitCode = 1;
  } finally {
    if (!keepDir) await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
