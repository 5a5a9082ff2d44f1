import { Terminal } from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { RenderCap, type CappableTerminal } from '../../../../src/renderer/live/render-cap';

const BEGIN = '\x1b[?2026h';
const END = '\x1b[?2026l';

/**
 * A headless xterm (the real parser and buffer, no screen) standing in for the browser terminal, with the repaint
 * event the DOM renderer fires driven by the test; a manual clock and timers.
 */
function setup(options: { sync?: boolean } = {}) {
  const xterm = new Terminal({ allowProposedApi: true, cols: 40, rows: 5, scrollback: 1000 });
  const writes: string[] = [];
  const renderListeners = new Set<() => void>();
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextTimer = 1;
  const terminal: CappableTerminal = {
    write(data, callback) {
      writes.push(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
      xterm.write(data, callback);
    },
    get modes() {
      return { synchronizedOutputMode: options.sync ?? xterm.modes.synchronizedOutputMode };
    },
    onRender(listener) {
      renderListeners.add(listener);
      return { dispose: () => renderListeners.delete(listener) };
    },
  };
  const cap = new RenderCap(terminal, {
    frameMs: 100,
    floodChars: 1000,
    windowMs: 50,
    now: () => now,
    setTimer: (fn, ms) => {
      const id = nextTimer++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer: (id) => timers.delete(id as number),
  });
  const advance = (ms: number): void => {
    now += ms;
    for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at <= now && timers.has(id)) {
        timers.delete(id);
        timer.fn();
      }
    }
  };
  const paint = (): void => {
    for (const listener of renderListeners) listener();
  };
  const flushed = (): Promise<void> => new Promise((resolve) => xterm.write('', resolve));
  const screen = (): string => {
    const lines: string[] = [];
    const buffer = xterm.buffer.active;
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)!.translateToString(true));
    return lines.join('\n').trimEnd();
  };
  return { xterm, cap, writes, advance, paint, flushed, screen, renderListeners };
}

describe('RenderCap (repaints held during floods with DEC mode 2026)', () => {
  it('leaves quiet output alone: a lone line is written as it is, no mode sequences', () => {
    const t = setup();
    t.cap.write('hello\r\n');
    t.advance(500);
    t.cap.write('world\r\n');
    expect(t.writes).toEqual(['hello\r\n', 'world\r\n']);
    expect(t.cap.capping).toBe(false);
    expect(t.cap.frames).toBe(0);
  });

  it('holds repaints once a flood arrives, repaints every frame, and goes quiet when the flood stops', async () => {
    const t = setup();
    const chunk = 'x'.repeat(600);
    t.cap.write(chunk);
    expect(t.cap.capping).toBe(false);
    t.cap.write(chunk); // 1200 characters within 50 ms: a flood
    expect(t.writes).toEqual([chunk, BEGIN, chunk]);
    expect(t.cap.capping).toBe(true);
    await t.flushed();
    expect(t.xterm.modes.synchronizedOutputMode).toBe(true);

    t.advance(100); // the frame is over: xterm repaints
    expect(t.writes.at(-1)).toBe(END);
    await t.flushed();
    expect(t.xterm.modes.synchronizedOutputMode).toBe(false);

    // Until xterm has repainted, the next frame does not open (it would cancel the queued repaint).
    t.cap.write('y'.repeat(1500));
    expect(t.writes.at(-1)).toBe('y'.repeat(1500));
    expect(t.cap.capping).toBe(false);
    t.paint();
    t.advance(10);
    t.cap.write('z'.repeat(1500));
    expect(t.writes.slice(-2)).toEqual([BEGIN, 'z'.repeat(1500)]);
    expect(t.cap.frames).toBe(2);

    // The flood stops: the held frame still ends on time.
    t.advance(100);
    expect(t.writes.at(-1)).toBe(END);
    expect(t.cap.capping).toBe(false);
  });

  it('reopens after a frame even if xterm had nothing to repaint', () => {
    const t = setup();
    t.cap.write('a'.repeat(2000));
    t.advance(100);
    expect(t.writes.at(-1)).toBe(END);
    t.advance(100); // no repaint event came: give up waiting
    t.cap.write('b'.repeat(2000));
    expect(t.writes.slice(-2)).toEqual([BEGIN, 'b'.repeat(2000)]);
  });

  it('never opens the mode over a program that holds it itself', () => {
    const t = setup({ sync: true });
    t.cap.write('c'.repeat(5000));
    expect(t.writes).toEqual(['c'.repeat(5000)]);
    expect(t.cap.frames).toBe(0);
  });

  it('prints nothing of its own: the buffer holds exactly the output, callbacks run in order', async () => {
    const t = setup();
    const done: number[] = [];
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i} ${'-'.repeat(140)}\r\n`);
    lines.forEach((line, i) => {
      t.cap.write(line, () => done.push(i));
      if (i % 10 === 9) t.advance(100);
      if (i % 10 === 0) t.paint();
    });
    t.cap.dispose();
    await t.flushed();
    expect(done).toEqual(lines.map((_l, i) => i));
    expect(t.cap.frames).toBeGreaterThan(0);
    expect(t.xterm.modes.synchronizedOutputMode).toBe(false);
    expect(t.screen()).not.toContain('2026');
    expect(t.screen()).toContain('line 39');
    expect(
      t
        .screen()
        .split('\n')
        .filter((l) => l.startsWith('line ')).length,
    ).toBeGreaterThan(0);
  });

  it('on dispose repaints what it held and stops listening', () => {
    const t = setup();
    t.cap.write('d'.repeat(2000));
    expect(t.cap.capping).toBe(true);
    t.cap.dispose();
    expect(t.writes.at(-1)).toBe(END);
    expect(t.renderListeners.size).toBe(0);
    t.cap.write('e'.repeat(5000));
    expect(t.writes.at(-1)).toBe('e'.repeat(5000));
  });
});
