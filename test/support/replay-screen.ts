import { SerializeAddon } from '@xterm/addon-serialize';
import { Terminal } from '@xterm/headless';
import type { ReplaySegment } from '../../src/shared/contract-replay';
import { CastEventReader, parseCastHeader, parseResize } from '../../src/shared/replay/asciicast';
import { segmentForTime, segmentOpsUntil, type TerminalOp } from '../../src/shared/replay/replay-seek';
import { scanLines } from '../../src/main/replay/cast-lines';
import type { CastIndex } from '../../src/main/replay/cast-index';

/**
 * Screens of a cast in `@xterm/headless`, to compare a seek with a full replay: the visible rows with their
 * attributes (serialize addon, no scrollback), the cursor, which buffer is active and the size.
 */

export class ScreenTerminal {
  readonly term: Terminal;
  private readonly serializer = new SerializeAddon();

  constructor(cols: number, rows: number, scrollback = 1000) {
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.term.loadAddon(this.serializer);
  }

  write(data: string): Promise<void> {
    return new Promise((resolve) => this.term.write(data, resolve));
  }

  async apply(ops: readonly TerminalOp[]): Promise<void> {
    for (const op of ops) {
      if (op.kind === 'output') await this.write(op.data);
      else this.term.resize(op.cols, op.rows);
    }
  }

  screen(): string {
    const b = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.term.rows; y++) rows.push(b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
    return [
      `${this.term.cols}x${this.term.rows} ${b.type} cursor ${b.cursorX},${b.cursorY}`,
      ...rows,
      this.serializer.serialize({ scrollback: 0, excludeAltBuffer: true }),
    ].join('\n');
  }

  dispose(): void {
    this.term.dispose();
  }
}

/** Screens after replaying the whole cast from the start up to each time in `times` (ascending), in one pass. */
export async function fullReplayScreens(castFile: string, times: readonly number[]): Promise<string[]> {
  let reader: CastEventReader | null = null;
  let term: ScreenTerminal | null = null;
  const screens: string[] = [];
  let k = 0;
  let batch: Array<{ time: number; code: string; data: string }> = [];
  const drain = async () => {
    // Consecutive output is written at once (the same bytes in one write give the same screen, much faster).
    let run: string[] = [];
    const flush = async () => {
      if (run.length > 0) await term!.write(run.join(''));
      run = [];
    };
    for (const e of batch) {
      if (k < times.length && e.time > times[k]!) {
        await flush();
        while (k < times.length && e.time > times[k]!) {
          screens.push(term!.screen());
          k++;
        }
      }
      if (e.code === 'o') run.push(e.data);
      else if (e.code === 'r') {
        await flush();
        const size = parseResize(e.data)!;
        term!.term.resize(size.cols, size.rows);
      }
    }
    await flush();
    batch = [];
  };
  await scanLines(castFile, {
    line: (text) => {
      if (!reader) {
        const header = parseCastHeader(text);
        reader = new CastEventReader(header.version);
        term = new ScreenTerminal(header.cols, header.rows);
        return;
      }
      const r = reader.read(text);
      if (r.kind === 'event') batch.push(r.event);
    },
    chunk: drain,
  });
  await drain();
  while (k < times.length) {
    screens.push(term!.screen());
    k++;
  }
  (term as ScreenTerminal | null)?.dispose();
  return screens;
}

/** The screen after a seek as the renderer does it: the nearest keyframe, then that segment's events up to `t`. */
export async function seekScreen(index: CastIndex, t: number, cache?: Map<number, ReplaySegment>): Promise<string> {
  const n = segmentForTime(index.stored.segments, t);
  const segment = cache?.get(n) ?? (await index.segment(n));
  cache?.set(n, segment);
  const term = new ScreenTerminal(segment.cols, segment.rows);
  try {
    await term.write(segment.keyframe);
    await term.apply(segmentOpsUntil(segment, 0, t).ops);
    return term.screen();
  } finally {
    term.dispose();
  }
}
