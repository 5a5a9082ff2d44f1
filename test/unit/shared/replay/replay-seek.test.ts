import { describe, expect, it } from 'vitest';
import {
  advancePlayClock,
  markerTicks,
  segmentForTime,
  segmentOpsUntil,
} from '../../../../src/shared/replay/replay-seek';

describe('replay seek helpers', () => {
  it('picks the last segment starting at or before a time', () => {
    const segments = [{ tStart: 0 }, { tStart: 10 }, { tStart: 10 }, { tStart: 25 }];
    expect(segmentForTime(segments, 0)).toBe(0);
    expect(segmentForTime(segments, 9.9)).toBe(0);
    expect(segmentForTime(segments, 10)).toBe(2);
    expect(segmentForTime(segments, 100)).toBe(3);
  });

  it('joins output up to a time and keeps resizes in order', () => {
    const segment = { times: [1, 2, 3, 4, 5], codes: 'oormo', ends: [2, 4, 9, 13, 15], data: 'aabb90x30markcc' };
    expect(segmentOpsUntil(segment, 0, 3.5)).toEqual({
      ops: [
        { kind: 'output', data: 'aabb' },
        { kind: 'resize', cols: 90, rows: 30 },
      ],
      next: 3,
    });
    expect(segmentOpsUntil(segment, 3, 10)).toEqual({ ops: [{ kind: 'output', data: 'cc' }], next: 5 });
    expect(segmentOpsUntil(segment, 0, 0.5)).toEqual({ ops: [], next: 0 });
  });

  it('draws one marker tick per stretch of the scrubber, however many markers fall in it', () => {
    const markers = Array.from({ length: 10_000 }, (_, i) => ({ t: i * 3.6, label: `checkpoint ${i}` }));
    const ticks = markerTicks(markers, 36_000, 400);
    expect(ticks).toHaveLength(400);
    expect(ticks.reduce((n, tick) => n + tick.count, 0)).toBe(10_000);
    expect(ticks[0]).toEqual({ percent: 0, marker: markers[0], count: 25 });
    expect(ticks[1]!.percent).toBeCloseTo(0.25);
    // A few markers: each its own tick, where it is; a marker past the end (a cast still growing) at the end.
    expect(markerTicks([{ t: 5 }, { t: 50 }, { t: 200 }], 100)).toEqual([
      { percent: 5, marker: { t: 5 }, count: 1 },
      { percent: 50, marker: { t: 50 }, count: 1 },
      { percent: 100, marker: { t: 200 }, count: 1 },
    ]);
    expect(markerTicks([{ t: 0 }], 0)).toEqual([{ percent: 0, marker: { t: 0 }, count: 1 }]);
  });

  it('cuts idle gaps longer than the limit while playing', () => {
    // Normal play.
    expect(advancePlayClock(10, 0.5, 10, 11, 2)).toBe(10.5);
    // A 100 s gap with a 2 s limit: after idling 2 s the clock jumps to the next event.
    expect(advancePlayClock(11.5, 1, 10, 110, 2)).toBe(110.5);
    expect(advancePlayClock(11, 0.5, 10, 110, 2)).toBe(11.5);
    // No limit: the gap plays in full.
    expect(advancePlayClock(11.5, 1, 10, 110, null)).toBe(12.5);
    // At the end.
    expect(advancePlayClock(11.5, 1, 10, null, 2)).toBe(12.5);
  });
});
