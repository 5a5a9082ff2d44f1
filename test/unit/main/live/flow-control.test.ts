import { describe, expect, it } from 'vitest';
import { FlowWindow } from '../../../../src/main/live/flow-control';

describe('FlowWindow', () => {
  const options = { highWatermark: 100, lowWatermark: 20 };

  it('pauses once above the high watermark, and only once', () => {
    const w = new FlowWindow(options);
    expect(w.sent(60)).toBeNull();
    expect(w.sent(40)).toBeNull(); // exactly at the watermark: not above it
    expect(w.paused).toBe(false);
    expect(w.sent(1)).toBe('pause');
    expect(w.paused).toBe(true);
    expect(w.sent(50)).toBeNull(); // already paused: data in flight still counts, no second pause
    expect(w.unacked).toBe(151);
    expect(w.pauses).toBe(1);
  });

  it('resumes only at or below the low watermark (hysteresis)', () => {
    const w = new FlowWindow(options);
    w.sent(150);
    expect(w.acked(100)).toBeNull(); // 50 left: below high, above low: still paused
    expect(w.paused).toBe(true);
    expect(w.acked(30)).toBe('resume'); // 20 left
    expect(w.paused).toBe(false);
    expect(w.acked(20)).toBeNull();
    expect(w.unacked).toBe(0);
    expect(w.resumes).toBe(1);
  });

  it('does not resume a window that was never paused', () => {
    const w = new FlowWindow(options);
    w.sent(50);
    expect(w.acked(50)).toBeNull();
  });

  it('clamps an ack for more than is in flight, so a bad viewer cannot open the window beyond its size', () => {
    const w = new FlowWindow(options);
    w.sent(30);
    w.acked(1_000);
    expect(w.unacked).toBe(0);
    expect(w.ackedTotal).toBe(30);
    // The next 101 still pause: the over-ack bought no credit.
    expect(w.sent(101)).toBe('pause');
  });

  it('ignores empty and negative sizes', () => {
    const w = new FlowWindow(options);
    expect(w.sent(0)).toBeNull();
    expect(w.sent(-5)).toBeNull();
    expect(w.acked(-5)).toBeNull();
    expect(w.unacked).toBe(0);
  });

  it('cycles pause/resume through a long stream acked in small steps', () => {
    const w = new FlowWindow(options);
    let paused = false;
    let pauses = 0;
    let resumes = 0;
    for (let i = 0; i < 1_000; i++) {
      if (!paused) {
        if (w.sent(7) === 'pause') {
          paused = true;
          pauses++;
        }
      } else if (w.acked(9) === 'resume') {
        paused = false;
        resumes++;
      }
      expect(w.unacked).toBeLessThanOrEqual(options.highWatermark + 7);
    }
    expect(pauses).toBeGreaterThan(5);
    expect(resumes).toBeGreaterThanOrEqual(pauses - 1);
    expect(w.sentTotal - w.ackedTotal).toBe(w.unacked);
  });

  it('keeps several viewers independent: a slow one pauses only itself', () => {
    const fast = new FlowWindow(options);
    const slow = new FlowWindow(options);
    for (let i = 0; i < 10; i++) {
      fast.sent(50);
      fast.acked(50);
      slow.sent(50);
    }
    expect(fast.paused).toBe(false);
    expect(fast.unacked).toBe(0);
    expect(slow.paused).toBe(true);
    expect(slow.unacked).toBe(500);
  });

  it('refuses a window whose low watermark is not below its high one', () => {
    expect(() => new FlowWindow({ highWatermark: 10, lowWatermark: 10 })).toThrow(/low < high/);
    expect(() => new FlowWindow({ highWatermark: 0, lowWatermark: 0 })).toThrow(RangeError);
  });
});
