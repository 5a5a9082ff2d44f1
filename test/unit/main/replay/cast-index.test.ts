import { appendFile, copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CastIndex } from '../../../../src/main/replay/cast-index';
import { scanLines } from '../../../../src/main/replay/cast-lines';
import { AppError } from '../../../../src/shared/errors';
import { fullReplayScreens, seekScreen } from '../../../support/replay-screen';
import { writeSyntheticCast } from '../../../support/synthetic-cast';

const fixtures = path.resolve('test/fixtures/asciinema');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Times worth checking: every keyframe's moment, each segment's end, a few in between, past the end. */
function probeTimes(index: CastIndex, extra: number[] = []): number[] {
  const s = index.stored;
  const times = [
    0,
    ...s.segments.flatMap((g) => [g.tStart, g.tEnd, (g.tStart + g.tEnd) / 2]),
    s.duration + 1,
    ...extra,
  ];
  return [...new Set(times)].sort((a, b) => a - b);
}

describe('cast index on the fixture casts', () => {
  it('indexes every fixture, and a seek anywhere shows what a full replay shows', async () => {
    const files = (await readdir(fixtures)).filter((f) => f.endsWith('.cast'));
    expect(files).toHaveLength(17);
    let most = 0;
    for (const file of files) {
      // Tiny segments so that these small casts still have several keyframes.
      const index = await CastIndex.open(path.join(fixtures, file), path.join(tmp, file), { segmentBytes: 64 });
      expect(index.stored.problems, file).toEqual([]);
      most = Math.max(most, index.stored.segments.length);
      const times = probeTimes(index);
      const full = await fullReplayScreens(path.join(fixtures, file), times);
      for (let i = 0; i < times.length; i++) {
        expect(await seekScreen(index, times[i]!), `${file} at ${times[i]}`).toBe(full[i]);
      }
    }
    expect(most).toBeGreaterThan(20);
  }, 60_000);

  it('gives the same screen for the v2 and v3 versions of the same recording', async () => {
    const pairs = [
      ['asciinema-cli__minimal-v2.cast', 'asciinema-cli__minimal-v3.cast'],
      ['asciinema-cli__full-v2.cast', 'asciinema-cli__full-v3.cast'],
      ['asciinema-server__v2-full.cast', 'asciinema-server__v3-full.cast'],
    ];
    for (const [v2, v3] of pairs) {
      const [a] = await fullReplayScreens(path.join(fixtures, v2!), [1e9]);
      const [b] = await fullReplayScreens(path.join(fixtures, v3!), [1e9]);
      expect(a, `${v2} vs ${v3}`).toBe(b);
      expect(a).not.toBe('');
    }
  });

  it('reads markers, resizes and the exit status into the index', async () => {
    const markers = await CastIndex.open(
      path.join(fixtures, 'asciinema-player__markers-input.cast'),
      path.join(tmp, 'm'),
    );
    expect(markers.stored.markers.map((m) => [m.t, m.label])).toEqual([
      [0.5, 'first'],
      [1.1, 'second'],
    ]);
    const resizing = await CastIndex.open(path.join(fixtures, 'asciinema-player__resizing.cast'), path.join(tmp, 'r'));
    expect(resizing.stored.resizes).toEqual([
      { t: 1, cols: 100, rows: 30 },
      { t: 2, cols: 50, rows: 10 },
    ]);
    expect(resizing.stored.exit).toEqual({ t: 2.1, status: '0' });
    expect(resizing.toContract('x').duration).toBeCloseTo(2.1);
  });
});

describe('cast index on bad input', () => {
  it('skips a malformed line with its line number, and the rest still plays', async () => {
    const file = path.join(tmp, 'broken.cast');
    await writeFile(
      file,
      [
        '{"version": 3, "term": {"cols": 40, "rows": 5}}',
        '# comment',
        '[0.5, "o", "one\\r\\n"]',
        '[0.5, "o", "two',
        '',
        '[0.5, "o", "three\\r\\n"]',
      ].join('\n'),
    );
    const index = await CastIndex.open(file, path.join(tmp, 'broken'));
    expect(index.stored.problems).toEqual([{ line: 4, message: expect.stringMatching(/^not JSON/) }]);
    expect(index.stored.duration).toBe(1);
    const [screen] = await fullReplayScreens(file, [10]);
    expect(screen).toContain('one\nthree');
    expect(await seekScreen(index, 10)).toBe(screen);
  });

  it('rejects a file that is not a cast, naming the file and line', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        'notjson.cast',
        'hello world\n[0.1, "o", "x"]\n',
        /notjson\.cast:1: not an asciicast v2\/v3 file: the header is not JSON/,
      ],
      ['v1.cast', '{"version": 1, "width": 80, "height": 24, "stdout": []}\n', /v1\.cast:1: .*v1 .*not supported/],
      ['blank-first.cast', '\n\n{"version": 2}\n', /blank-first\.cast:3: .*needs positive integer width and height/],
      ['empty.cast', '', /empty\.cast is empty: no asciicast header/],
    ];
    for (const [name, text, message] of cases) {
      const file = path.join(tmp, name);
      await writeFile(file, text);
      const err = await CastIndex.open(file, path.join(tmp, `${name}.idx`)).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('INVALID_INPUT');
      expect((err as AppError).message).toMatch(message);
    }
    const missing = await CastIndex.open(path.join(tmp, 'nope.cast'), path.join(tmp, 'nope')).catch((e: unknown) => e);
    expect((missing as AppError).code).toBe('NOT_FOUND');
  });

  it('reports and skips a line over the limit, and reads CRLF files', async () => {
    const file = path.join(tmp, 'long.cast');
    await writeFile(file, `head\r\n${'x'.repeat(5000)}\r\nshort\r\nlast`);
    const seen: Array<[number, string]> = [];
    const long: number[] = [];
    await scanLines(
      file,
      { line: (text, lineNo) => seen.push([lineNo, text]), tooLong: (lineNo) => long.push(lineNo) },
      { chunkBytes: 100, maxLineBytes: 1000 },
    );
    expect(seen).toEqual([
      [1, 'head'],
      [3, 'short'],
      [4, 'last'],
    ]);
    expect(long).toEqual([2]);
  });
});

describe('cast index cache and search', () => {
  it('reuses the cached index and rebuilds it when the cast changes', async () => {
    const file = path.join(tmp, 'grow.cast');
    await copyFile(path.join(fixtures, 'asciinema-player__markers.cast'), file);
    const cache = path.join(tmp, 'grow');
    const first = await CastIndex.open(file, cache);
    expect(first.stored.buildMs).toBeGreaterThanOrEqual(0);
    const again = await CastIndex.open(file, cache);
    expect(again.stored.buildMs).toBe(0);
    expect(again.stored.segments).toEqual(first.stored.segments);
    await appendFile(file, '[3.0, "o", "more\\r\\n"]\n');
    expect(await again.stale()).toBe(true);
    const rebuilt = await CastIndex.open(file, cache);
    expect(rebuilt.stored.duration).toBe(3);
    // The cast itself is never written.
    expect(await readFile(file, 'utf8')).toContain('"more');
  });

  it('searches the whole output, returning each hit’s time, line and byte offset', async () => {
    const file = path.join(tmp, 'search.cast');
    await writeFile(
      file,
      [
        '{"version": 2, "width": 80, "height": 24}',
        '[1.0, "o", "epoch 1 \\u001b[1mLo"]',
        '[2.0, "o", "ss\\u001b[0m=0.9\\r\\n"]',
        '[3.0, "o", "epoch 2 loss=0.5\\r\\n"]',
      ].join('\n'),
    );
    const index = await CastIndex.open(file, path.join(tmp, 'search'), { segmentBytes: 40 });
    expect(index.stored.segments.length).toBeGreaterThan(1);
    const { hits, truncated } = await index.search('loss=', 10);
    expect(truncated).toBe(false);
    expect(hits.map((h) => [h.t, h.line, h.excerpt, h.matchStart, h.matchLength])).toEqual([
      [2, 3, 'epoch 1 Loss=0.9', 8, 5],
      [3, 4, 'epoch 2 loss=0.5', 8, 5],
    ]);
    const bytes = await readFile(file);
    for (const hit of hits) expect(bytes.subarray(hit.byteOffset, hit.byteOffset + 5).toString()).toBe(`[${hit.t}.0,`);
    expect((await index.search('loss', 1)).truncated).toBe(true);
    expect((await index.search('absent', 10)).hits).toEqual([]);
  });
});

describe('seek on a generated cast', () => {
  // 200 MB, as the issue asks: about a minute on a 2-core CI machine (index plus a full replay to compare with).
  // PTW_REPLAY_TEST_MB makes it smaller while working on the index; `bench:replay` times 1 GB.
  const mb = Number(process.env.PTW_REPLAY_TEST_MB ?? 200);

  it(`matches a full replay at random times (${mb} MB, v3) and the v2 version shows the same`, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-big-'));
    try {
      const v3 = path.join(dir, 'big-v3.cast');
      const gen = writeSyntheticCast({ file: v3, bytes: mb * 1024 * 1024, seed: 7, version: 3 });
      expect(gen.bytes).toBeGreaterThan(mb * 1024 * 1024);
      const index = await CastIndex.open(v3, path.join(dir, 'idx3'));
      expect(index.stored.problemCount).toBe(0);
      expect(index.stored.segments.length).toBeGreaterThan(mb - 2);
      let seed = 3;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const times = Array.from({ length: 40 }, () => random() * index.stored.duration).sort((a, b) => a - b);
      const full = await fullReplayScreens(v3, times);
      for (let i = 0; i < times.length; i++) expect(await seekScreen(index, times[i]!), `at ${times[i]}`).toBe(full[i]);

      // The same session written as v2 (absolute times) seeks to the same screens.
      const v2 = path.join(dir, 'big-v2.cast');
      writeSyntheticCast({ file: v2, bytes: 8 * 1024 * 1024, seed: 7, version: 2 });
      const small3 = path.join(dir, 'small-v3.cast');
      writeSyntheticCast({ file: small3, bytes: 8 * 1024 * 1024, seed: 7, version: 3 });
      const i2 = await CastIndex.open(v2, path.join(dir, 'idx2'));
      const i3 = await CastIndex.open(small3, path.join(dir, 'idx3s'));
      const some = times.map((t) => (t / index.stored.duration) * i2.stored.duration).slice(0, 15);
      for (const t of some) {
        // Times are written with 6 decimals: v3's summed intervals drift by microseconds, so probe between events.
        expect(await seekScreen(i2, t), `v2 vs v3 at ${t}`).toBe(await seekScreen(i3, t));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('a growing cast (a live run)', () => {
  it('indexes only what was added, to the same index a fresh build makes', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-grow-'));
    try {
      const whole = path.join(dir, 'whole.cast');
      writeSyntheticCast({ file: whole, bytes: 600 * 1024, seed: 5, durationSeconds: 600 });
      const bytes = await readFile(whole);
      // Cut at a line end about two thirds in, then let it grow to the whole.
      const cut = bytes.indexOf(0x0a, Math.floor(bytes.length * 0.66)) + 1;
      const growing = path.join(dir, 'growing.cast');
      await writeFile(growing, bytes.subarray(0, cut));
      const options = { segmentBytes: 64 * 1024 };
      const before = await CastIndex.open(growing, path.join(dir, 'grow-idx'), options);
      await appendFile(growing, bytes.subarray(cut));
      const after = await CastIndex.open(growing, path.join(dir, 'grow-idx'), { ...options, worker: true });
      // In a worker thread or this one, the index is the same.
      const where: boolean[] = [];
      const fresh = await CastIndex.open(whole, path.join(dir, 'fresh-idx'), {
        ...options,
        worker: true,
        onStart: ({ worker }) => where.push(worker),
      });
      expect(where).toEqual([true]);
      const inThread = await CastIndex.open(whole, path.join(dir, 'thread-idx'), { ...options, worker: false });
      expect({ ...inThread.stored, buildMs: 0 }).toEqual({ ...fresh.stored, buildMs: 0 });
      expect(after.stored.segments.length).toBeGreaterThan(before.stored.segments.length);
      const strip = (s: typeof after.stored) => ({ ...s, buildMs: 0, castMtimeMs: 0 });
      expect(strip(after.stored)).toEqual(strip(fresh.stored));
      expect(await readFile(CastIndex.keyframesFile(path.join(dir, 'grow-idx')))).toEqual(
        await readFile(CastIndex.keyframesFile(path.join(dir, 'fresh-idx'))),
      );
      // A cast that changed rather than grew is indexed from the start.
      await writeFile(
        growing,
        Buffer.concat([Buffer.from(bytes.subarray(0, 200)), Buffer.from('x'), bytes.subarray(201)]),
      );
      const changed = await CastIndex.open(growing, path.join(dir, 'grow-idx'), options);
      expect(changed.stored.problemCount).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
