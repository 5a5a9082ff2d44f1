import { SerializeAddon } from '@xterm/addon-serialize';
import { Terminal } from '@xterm/headless';
import type { LiveDataEvent } from '../../src/shared/contract-live';

/**
 * Screens for the catch-up tests (issue 19): a flood of agent-like output (colours, cursor moves with a saved
 * cursor, the alternate screen, `\r` progress bars, a scroll region, wide characters), a reference terminal fed
 * a whole recording, and a viewer terminal fed `live.data` events as the page's StreamBinding applies them
 * (snapshot: resize first, then the data; resize and marker after the data). `screenOf` is the format of the test
 * driver's `screen()`: size, buffer, cursor, then the visible rows serialized with their attributes and modes.
 */

/** One agent write of the flood, numbered: deterministic, so a test can rebuild the reference. */
export function floodPiece(n: number): string {
  switch (n % 11) {
    case 0:
      return `\x1b[3${n % 8}mline ${n} äöü→✓ 漢字 colour\x1b[0m\r\n`;
    case 1:
      return `\r[${'#'.repeat(n % 40)}${'.'.repeat(40 - (n % 40))}] ${n % 100}%`;
    case 2:
      return `\x1b7\x1b[1;50H\x1b[1;44m clock ${n} \x1b[0m\x1b8`;
    case 3:
      return `\r\n\x1b[1mstep ${n}\x1b[22m loss=${((n * 7919) % 10007) / 10007}\r\n`;
    case 4:
      return n % 77 === 4
        ? `\x1b[?1049h\x1b[H\x1b[2Jtop ${n}\r\n\x1b[7m PID USER \x1b[0m\r\n${'x'.repeat(n % 60)}\x1b[?1049l`
        : `\x1b[38;5;${n % 256}m${String(n).padStart(8, '0')}\x1b[39m `;
    case 5:
      return n % 101 === 5 ? `\x1b[3;20r\x1b[20;1H\r\nscrolled ${n}\x1b[r\x1b[24;1H` : `tok${n} `;
    case 6:
      return `\x1b[2K\rdownloading ${n % 1000}/1000 \x1b[32m${'='.repeat(n % 30)}>\x1b[0m`;
    case 7:
      return `\x1b[48;2;${n % 256};${(n * 3) % 256};${(n * 7) % 256}m \x1b[49m`;
    case 8:
      return `\r\n${'word '.repeat(n % 30)}\r\n`;
    case 9:
      return `\x1b[4m${n}\x1b[24m\x1b[K`;
    default:
      return `\x1b[${(n % 5) + 1}A\x1b[${(n % 5) + 1}B\x1b[${n % 10}C.`;
  }
}

/** Pieces `from`..`to` (exclusive) joined. */
export function floodText(from: number, to: number): string {
  let text = '';
  for (let n = from; n < to; n++) text += floodPiece(n);
  return text;
}

export function screenOf(term: Terminal, serializer: SerializeAddon): string {
  const b = term.buffer.active;
  return `${term.cols}x${term.rows} ${b.type} cursor ${b.cursorX},${b.cursorY}\n${serializer.serialize({ scrollback: 0 })}`;
}

export class HeadlessScreen {
  readonly term: Terminal;
  readonly serializer = new SerializeAddon();

  constructor(cols: number, rows: number, scrollback = 1000) {
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.term.loadAddon(this.serializer);
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => this.term.write(data, resolve));
  }

  /** After every write so far. */
  async resize(cols: number, rows: number): Promise<void> {
    await this.write('');
    this.term.resize(Math.min(cols, 2000), Math.min(rows, 2000));
  }

  async screen(): Promise<string> {
    await this.write('');
    return screenOf(this.term, this.serializer);
  }

  dispose(): void {
    this.term.dispose();
  }
}

/** The reference: a terminal fed every output and resize event of a cast, in order. */
export async function castScreen(castText: string): Promise<string> {
  const lines = castText.split('\n').filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0]!) as { width?: number; height?: number };
  const screen = new HeadlessScreen(header.width ?? 80, header.height ?? 24);
  try {
    let run: string[] = [];
    for (const line of lines.slice(1)) {
      const event = JSON.parse(line) as [number, string, string];
      if (event[1] === 'o') run.push(event[2]);
      else if (event[1] === 'r') {
        await screen.write(run.join(''));
        run = [];
        const [cols, rows] = event[2].split('x').map(Number);
        await screen.resize(cols!, rows!);
      }
    }
    await screen.write(run.join(''));
    return await screen.screen();
  } finally {
    screen.dispose();
  }
}

/** A viewer: `live.data` events applied as the page applies them. */
export class ViewerScreen extends HeadlessScreen {
  snapshots = 0;
  markers: string[] = [];

  async apply(event: LiveDataEvent): Promise<void> {
    if (event.snapshot) {
      this.snapshots += 1;
      await this.resize(event.snapshot.cols, event.snapshot.rows);
    }
    if (event.data.length > 0) await this.write(event.data);
    if (event.resize) await this.resize(event.resize.cols, event.resize.rows);
    if (event.marker) this.markers.push(event.marker.label);
  }
}

/**
 * A Python agent writing `pieces` pieces of what agents write, as fast as it can (200 000: ~10 MB): colours, `\r`
 * progress bars, a clock drawn with a saved cursor, the alternate screen (a `top`), a scroll region, wide characters;
 * then "flood done" and a pause of `pauseSeconds` (so that the run, and a live stream of it, stays on the host).
 */
export function floodAgent(pieces: number, pauseSeconds: number): string {
  return String.raw`
import sys, time
out = sys.stdout
for n in range(${pieces}):
    k = n % 9
    if k == 0: out.write("\033[3%dmline %d äöü→✓ 漢字\033[0m\r\n" % (n % 8, n))
    elif k == 1: out.write("\r[%s%s] %d%%" % ("#" * (n % 40), "." * (40 - n % 40), n % 100))
    elif k == 2: out.write("\0337\033[1;50H\033[1;44m clock %d \033[0m\0338" % n)
    elif k == 3: out.write("\r\n\033[1mstep %d\033[22m loss=%.6f\r\n" % (n, (n * 7919 % 10007) / 10007))
    elif k == 4 and n % 1001 == 4: out.write("\033[?1049h\033[H\033[2Jtop %d\r\n\033[7m PID USER \033[0m\r\n%s\033[?1049l" % (n, "x" * (n % 60)))
    elif k == 4: out.write("\033[38;5;%dm%08d\033[39m " % (n % 256, n))
    elif k == 5 and n % 101 == 5: out.write("\033[3;20r\033[20;1H\r\nscrolled %d\033[r\033[24;1H" % n)
    elif k == 6: out.write("\033[2K\rdownloading %d/1000 \033[32m%s>\033[0m" % (n % 1000, "=" * (n % 30)))
    elif k == 7: out.write("\r\n%s\r\n" % ("word " * (n % 30)))
    else: out.write("\033[4m%d\033[24m\033[K" % n)
out.write("\r\n\033[1;32mflood done\033[0m\r\n")
out.flush()
time.sleep(${pauseSeconds})
`;
}
