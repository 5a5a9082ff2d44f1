import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CastIndex } from '../../../../src/main/replay/cast-index';
import { ReplayController } from '../../../../src/renderer/replay/replay-controller';
import { fullReplayScreens, ScreenTerminal } from '../../../support/replay-screen';
import { writeSyntheticCast } from '../../../support/synthetic-cast';

/** The controller drives a real (headless) xterm from the real index; frames and time come from a manual clock. */
describe('replay controller', () => {
  let dir: string;
  let file: string;
  let index: CastIndex;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-ctl-'));
    file = path.join(dir, 'session.cast');
    writeSyntheticCast({ file, bytes: 3 * 1024 * 1024, seed: 11, durationSeconds: 3600 });
    index = await CastIndex.open(file, path.join(dir, 'idx'), { segmentBytes: 256 * 1024 });
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function setup() {
    const contract = index.toContract('r-1');
    const term = new ScreenTerminal(contract.header.cols, contract.header.rows);
    let now = 0;
    let frames: Array<() => void> = [];
    let requested = 0;
    const ctl = new ReplayController(contract, { segment: (n) => index.segment(n) }, term.term, {
      now: () => now,
      requestFrame: (cb) => {
        frames.push(cb);
        requested++;
        return frames.length;
      },
      cancelFrame: () => {
        frames = [];
      },
    });
    const frame = async (ms: number) => {
      now += ms;
      const run = frames;
      frames = [];
      for (const cb of run) cb();
      // Let the frame's async work (segment reads, xterm writes) finish.
      for (let i = 0; i < 50 && frames.length === 0 && ctl.state.playing; i++)
        await new Promise((r) => setTimeout(r, 5));
    };
    return { ctl, term, frame, requested: () => requested };
  }

  it('seeks forwards, backwards and across segments to the screen a full replay shows', async () => {
    const { ctl, term } = setup();
    const d = index.stored.duration;
    const targets = [0.5, 0.2, 0.21, 0.9, 0.1, 0.95, 0.951, 0.3, 1].map((f) => f * d);
    const times: number[] = [];
    ctl.onTime((ms) => times.push(ms));
    const full = await fullReplayScreens(
      file,
      [...targets].sort((a, b) => a - b),
    );
    const expected = new Map([...targets].sort((a, b) => a - b).map((t, i) => [t, full[i]!]));
    for (const t of targets) {
      await ctl.seek(t * 1000);
      expect(term.screen(), `at ${t}`).toBe(expected.get(t));
    }
    expect(times.at(-1)).toBeCloseTo(d * 1000);
    ctl.dispose();
    term.dispose();
  }, 60_000);

  it('a later seek replaces one still loading', async () => {
    const { ctl, term } = setup();
    const d = index.stored.duration;
    const first = ctl.seek(0.9 * d * 1000);
    const second = ctl.seek(0.4 * d * 1000);
    await Promise.all([first, second]);
    const [expected] = await fullReplayScreens(file, [0.4 * d]);
    expect(term.screen()).toBe(expected);
    expect(ctl.timeMs).toBeCloseTo(0.4 * d * 1000);
    ctl.dispose();
    term.dispose();
  }, 60_000);

  it('plays through segment boundaries at speed, cutting idle gaps, to the same screen', async () => {
    const { ctl, term, frame } = setup();
    const d = index.stored.duration;
    const from = index.stored.segments[1]!.tStart - 5;
    await ctl.seek(from * 1000);
    ctl.setSpeed(16);
    ctl.setIdleLimit(null);
    ctl.play();
    expect(ctl.state.playing).toBe(true);
    // 16× for 60 s of frames: 960 s of recording, past at least one segment boundary.
    for (let i = 0; i < 60; i++) await frame(1000);
    ctl.pause();
    const reached = ctl.timeMs / 1000;
    expect(reached).toBeCloseTo(Math.min(d, from + 960), 3);
    const [expected] = await fullReplayScreens(file, [reached]);
    expect(term.screen()).toBe(expected);

    // With an idle limit the same wall time covers more of the recording (its long gaps are cut).
    const limited = setup();
    await limited.ctl.seek(from * 1000);
    limited.ctl.setSpeed(16);
    limited.ctl.setIdleLimit(1);
    limited.ctl.play();
    for (let i = 0; i < 60; i++) await limited.frame(1000);
    limited.ctl.pause();
    expect(limited.ctl.timeMs / 1000).toBeGreaterThan(reached);
    const [expectedLimited] = await fullReplayScreens(file, [limited.ctl.timeMs / 1000]);
    expect(limited.term.screen()).toBe(expectedLimited);
    for (const x of [ctl, limited.ctl]) x.dispose();
    term.dispose();
    limited.term.dispose();
  }, 120_000);
});
