import { describe, expect, it } from 'vitest';
import type { RunTimelineData } from '../../../../src/shared/contract-trajectory';
import {
  currentRunPosition,
  publishRunPosition,
  runPositionListenerCount,
  subscribeRunPosition,
} from '../../../../src/renderer/common/run-position';
import {
  formatCount,
  fractionOf,
  offsetLabel,
  stepAtTime,
  stepTimeIndex,
  timelineScale,
  valueAt,
} from '../../../../src/renderer/steps/step-view-model';

const base: RunTimelineData = {
  start: null,
  end: null,
  deadline: null,
  hasTerminal: false,
  steps: [],
  gpu: [],
  events: [],
  warnings: [],
};

describe('step view model', () => {
  it('finds the step in progress at a time', () => {
    const index = stepTimeIndex([
      { index: 0, t: null, kind: 'raw' },
      { index: 1, t: 1000, kind: 'message' },
      { index: 2, t: 3000, kind: 'shell' },
      { index: 3, t: 3000, kind: 'shell' },
      { index: 4, t: 9000, kind: 'usage' },
    ]);
    expect(stepAtTime(index, 500)).toBeNull();
    expect(stepAtTime(index, 1000)).toBe(1);
    expect(stepAtTime(index, 2999)).toBe(1);
    expect(stepAtTime(index, 3000)).toBe(3);
    expect(stepAtTime(index, 1e12)).toBe(4);
  });

  it('scales by time when steps have times, else by step number', () => {
    const timed = timelineScale({
      ...base,
      start: 1000,
      end: 5000,
      deadline: 11_000,
      steps: [{ index: 0, t: 2000, kind: 'message' }],
    });
    expect(timed).toEqual({ mode: 'time', from: 1000, to: 11_000 });
    expect(fractionOf(timed, 6000)).toBe(0.5);
    expect(valueAt(timed, 0.5)).toBe(6000);
    expect(fractionOf(timed, 0)).toBe(0);
    const untimed = timelineScale({
      ...base,
      steps: [0, 1, 2, 3, 4].map((i) => ({ index: i, t: null, kind: 'raw' as const })),
    });
    expect(untimed).toEqual({ mode: 'sequence', from: 0, to: 4 });
    expect(fractionOf(untimed, 2)).toBe(0.5);
  });

  it('formats counts and offsets', () => {
    expect(formatCount(20976581)).toBe('20.98 M');
    expect(formatCount(46993)).toBe('47.0 k');
    expect(formatCount(25)).toBe('25');
    expect(offsetLabel(3_723_000)).toBe('+1:02:03');
  });
});

describe('run position', () => {
  it('keeps the last position per run and tells subscribers until they leave', () => {
    const seen: number[] = [];
    const stop = subscribeRunPosition('r-a', (p) => seen.push(p.t));
    publishRunPosition('r-a', 10, 'steps');
    publishRunPosition('r-b', 20, 'replay', 'play');
    publishRunPosition('r-a', Number.NaN, 'steps');
    expect(seen).toEqual([10]);
    expect(currentRunPosition('r-a')).toMatchObject({ t: 10, source: 'steps', reason: 'seek' });
    expect(currentRunPosition('r-b')).toMatchObject({ t: 20, reason: 'play' });
    expect(runPositionListenerCount('r-a')).toBe(1);
    stop();
    expect(runPositionListenerCount('r-a')).toBe(0);
    publishRunPosition('r-a', 30, 'steps');
    expect(seen).toEqual([10]);
  });
});
