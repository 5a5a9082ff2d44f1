import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CastIndex } from '../../../../src/main/replay/cast-index';
import { ReplayService } from '../../../../src/main/replay/replay-service';
import { writeSyntheticCast } from '../../../support/synthetic-cast';

const ID = 'r-20261207-120000-abcd';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-service-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A home with one run whose mirrored cast holds `bytes` of a synthetic session; returns the whole session. */
async function runWithCast(home: string, bytes: number): Promise<{ cast: string; whole: Buffer }> {
  const runDir = path.join(home, 'runs', ID);
  await mkdir(runDir, { recursive: true });
  const wholeFile = path.join(home, 'whole.cast');
  writeSyntheticCast({ file: wholeFile, bytes, seed: 9, durationSeconds: 900 });
  return { cast: path.join(runDir, 'terminal.cast'), whole: await readFile(wholeFile) };
}

describe('ReplayService: indexing a run while it is mirrored', () => {
  it('indexes each sync’s new part in the background, whole lines only, so the first open finds it made', async () => {
    const home = path.join(tmp, 'grow');
    const { cast, whole } = await runWithCast(home, 3 * 1024 * 1024);
    const progress: number[] = [];
    const replay = new ReplayService({
      home,
      onProgress: (p) => progress.push(p.bytesDone),
      prepareIntervalMs: 0,
    });
    // A sync that stopped mid-line (the mirror was writing when the pass began): the half line is left for later.
    const lineEnd = whole.indexOf(0x0a, Math.floor(whole.length / 2)) + 1;
    await writeFile(cast, whole.subarray(0, lineEnd + 10));
    replay.prepareRun(ID);
    await replay.prepared(ID);
    const first = JSON.parse(await readFile(CastIndex.indexFile(path.join(home, 'runs', ID, '.replay')), 'utf8')) as {
      castBytes: number;
      problemCount: number;
    };
    expect(first.castBytes).toBe(lineEnd);
    expect(first.problemCount).toBe(0);
    // An extension that stopped after appending keyframes but before writing index.json leaves bytes past its end.
    const cacheDir = path.join(home, 'runs', ID, '.replay');
    await appendFile(CastIndex.keyframesFile(cacheDir), 'left by a pass that stopped');

    // The next sync brings the rest; two syncs in a row fold into one more pass.
    await appendFile(cast, whole.subarray(lineEnd + 10));
    replay.prepareRun(ID);
    replay.prepareRun(ID);
    await replay.prepared(ID);
    progress.length = 0;
    const opened = await replay.openRun(ID);
    expect(opened.buildMs).toBe(0);
    expect(opened.bytes).toBe(whole.length);
    expect(opened.problemCount).toBe(0);
    // Same index as one build of the whole cast.
    const fresh = await CastIndex.open(path.join(home, 'whole.cast'), path.join(home, 'fresh-idx'));
    expect(opened.segments).toEqual(fresh.toContract(ID).segments);
    expect(opened.eventCount).toBe(fresh.stored.eventCount);
    expect(await replay.segment(ID, opened.segments.length - 1)).toEqual(
      await fresh.segment(opened.segments.length - 1),
    );
    // Extended in place: the keyframes are those of one build, the stopped pass's bytes cut off.
    expect(await readFile(CastIndex.keyframesFile(cacheDir))).toEqual(
      await readFile(CastIndex.keyframesFile(path.join(home, 'fresh-idx'))),
    );
    await replay.dispose();
  }, 60_000);

  it('spaces a run’s passes out; an open in between indexes the rest itself', async () => {
    const home = path.join(tmp, 'spaced');
    const { cast, whole } = await runWithCast(home, 2 * 1024 * 1024);
    const replay = new ReplayService({ home, prepareIntervalMs: 60_000 });
    const half = whole.indexOf(0x0a, whole.length >> 1) + 1;
    await writeFile(cast, whole.subarray(0, half));
    replay.prepareRun(ID);
    await replay.prepared(ID);
    const indexFile = CastIndex.indexFile(path.join(home, 'runs', ID, '.replay'));
    const castBytes = async () => (JSON.parse(await readFile(indexFile, 'utf8')) as { castBytes: number }).castBytes;
    expect(await castBytes()).toBe(half);
    // The next sync within the interval: its pass waits.
    await appendFile(cast, whole.subarray(half));
    replay.prepareRun(ID);
    await replay.prepared(ID);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await castBytes()).toBe(half);
    const opened = await replay.openRun(ID);
    expect(opened.bytes).toBe(whole.length);
    expect(await castBytes()).toBe(whole.length);
    await replay.dispose();
  }, 60_000);

  it('leaves a run without a cast alone, and dispose stops a pass leaving the cache as it was', async () => {
    const home = path.join(tmp, 'stop');
    const { cast, whole } = await runWithCast(home, 4 * 1024 * 1024);
    let started: () => void = () => undefined;
    const indexing = new Promise<void>((resolve) => (started = resolve));
    const replay = new ReplayService({ home, prepareIntervalMs: 0, onProgress: () => started() });
    replay.prepareRun(ID);
    await replay.prepared(ID);
    const cacheDir = path.join(home, 'runs', ID, '.replay');
    await expect(readdir(cacheDir)).rejects.toThrow(/ENOENT/);

    // Stopped once it has read its first MiB (of four): nothing is left in the cache.
    await writeFile(cast, whole);
    replay.prepareRun(ID);
    await indexing;
    await replay.dispose();
    expect(await readdir(cacheDir)).toEqual([]);
    // Once disposed, later syncs start nothing.
    replay.prepareRun(ID);
    await replay.prepared(ID);
    expect(await readdir(cacheDir)).toEqual([]);
  }, 60_000);
});
