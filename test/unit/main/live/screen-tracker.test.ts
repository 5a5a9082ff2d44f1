// The screen worker: a snapshot is the screen at exactly the bytes written before it (in a real worker thread with
// @xterm/headless), written into a fresh terminal it gives the same screen, and too much unparsed pauses the source.
import { afterEach, describe, expect, it } from 'vitest';
import { SCREEN_SCROLLBACK, ScreenTracker, SNAPSHOT_SCROLLBACK } from '../../../../src/main/live/screen-tracker';
import { floodText, HeadlessScreen } from '../../../support/live-screens';

describe('ScreenTracker', () => {
  let tracker: ScreenTracker;
  afterEach(async () => {
    await tracker.dispose();
  });

  it('snapshots the screen at the point it was asked, restorable into a fresh terminal', async () => {
    tracker = new ScreenTracker();
    const pressure: boolean[] = [];
    const screen = tracker.open({ cols: 90, rows: 25, onPressure: (p) => pressure.push(p) });
    const first = floodText(0, 3000);
    const second = floodText(3000, 3500);
    tracker.write(screen, Buffer.from(first));
    tracker.resize(screen, 100, 30);
    const at = tracker.snapshot(screen);
    tracker.write(screen, Buffer.from(second));
    const later = tracker.snapshot(screen);

    const reference = new HeadlessScreen(90, 25);
    await reference.write(first);
    await reference.resize(100, 30);
    const expected = await reference.screen();
    await reference.write(second);
    const expectedLater = await reference.screen();
    reference.dispose();

    for (const [snapshot, want] of [
      [await at, expected],
      [await later, expectedLater],
    ] as const) {
      expect(snapshot).toMatchObject({ cols: 100, rows: 30 });
      const restored = new HeadlessScreen(snapshot.cols, snapshot.rows);
      await restored.write('\x1bc' + snapshot.data);
      expect(await restored.screen()).toBe(want);
      restored.dispose();
    }
    expect(pressure).toEqual([]);
    tracker.close(screen);
    expect(tracker.openScreens).toBe(0);
  });

  it('carries as much scrollback as asked, up to what the screen keeps, with the same screen', async () => {
    tracker = new ScreenTracker();
    const screen = tracker.open({ cols: 80, rows: 24, onPressure: () => undefined });
    let lines = '';
    for (let n = 0; n < 2 * SCREEN_SCROLLBACK; n++) lines += `\x1b[3${n % 8}mline ${n}\x1b[0m\r\n`;
    tracker.write(screen, Buffer.from(lines));
    const short = await tracker.snapshot(screen, SNAPSHOT_SCROLLBACK);
    const whole = await tracker.snapshot(screen);
    const restore = async (data: string) => {
      const restored = new HeadlessScreen(80, 24, 5 * SCREEN_SCROLLBACK);
      await restored.write('\x1bc' + data);
      const text = { screen: await restored.screen(), length: restored.term.buffer.active.length };
      restored.dispose();
      return text;
    };
    const [a, b] = [await restore(short.data), await restore(whole.data)];
    expect(a.screen).toBe(b.screen);
    expect(a.length).toBe(24 + SNAPSHOT_SCROLLBACK);
    expect(b.length).toBe(24 + SCREEN_SCROLLBACK);
    expect(short.data.length).toBeLessThan(whole.data.length / 2);
  });

  it('carries what the serializer leaves out: the scroll region, the saved cursor, the pen, origin mode, the alternate screen’s way back', async () => {
    tracker = new ScreenTracker();
    const before = `${floodText(0, 500)}\x1b[r\x1b[5;12H\x1b7\x1b[3;20r\x1b[18;7H\x1b[1;33mpen set `;
    const after = `still yellow\r\n\n\n\n\n\x1b8restored\x1b[?6h\x1b[1;1Horigin\x1b[?6l\x1b8again\x1b[0m`;
    const altBefore = `${floodText(0, 300)}\x1b[10;5H\x1b[1;31mnormal pen\x1b[?1049h\x1b[H\x1b[7m top \x1b[0m\x1b[2;10r\x1b[5;3H\x1b[4m`;
    const altAfter = `under\r\n\n\n\n\n\n\n\n\n\nscrolled\x1b[?1049lback in red`;
    for (const [first, second] of [
      [before, after],
      [altBefore, altAfter],
    ] as const) {
      const screen = tracker.open({ cols: 80, rows: 24, onPressure: () => undefined });
      tracker.write(screen, Buffer.from(first));
      const snapshot = await tracker.snapshot(screen);
      tracker.close(screen);
      const reference = new HeadlessScreen(80, 24);
      await reference.write(first + second);
      const restored = new HeadlessScreen(snapshot.cols, snapshot.rows);
      await restored.write('\x1bc' + snapshot.data + second);
      expect(await restored.screen()).toBe(await reference.screen());
      reference.dispose();
      restored.dispose();
    }
  });

  it('reports pressure above its high mark and relief below its low one', async () => {
    tracker = new ScreenTracker({ highBytes: 200_000, lowBytes: 50_000 });
    const pressure: boolean[] = [];
    const screen = tracker.open({ cols: 80, rows: 24, onPressure: (p) => pressure.push(p) });
    const piece = Buffer.from(floodText(0, 2000));
    for (let i = 0; i < 10; i++) tracker.write(screen, piece);
    expect(pressure).toEqual([true]);
    await tracker.snapshot(screen);
    expect(pressure).toEqual([true, false]);
    expect(tracker.pendingOf(screen)).toBe(0);
  });
});
