import { SerializeAddon } from '@xterm/addon-serialize';
import type { StreamBinding, StreamStatus } from './live-stream-binding';
import { RenderProbe, type ProbeResults } from './render-probe';
import type { TerminalSurface } from './terminal-surface';
import { testDriverEnabled } from '../common/test-driver-flag';

/**
 * The e2e tests' view into the terminals (issue 5): `window.__ptwTestDriver`, installed only when the page URL
 * has `?testDriver=1`. It reads the xterm buffer (which the DOM does not show whole: xterm renders only the
 * visible rows, and not as text at all with WebGL) and drives the search.
 */

export interface DriverTerminal {
  readonly surface: TerminalSurface;
  readonly binding: StreamBinding;
  status: StreamStatus;
  /** Output catch-up skipped so far (terminal streams). */
  skippedBytes?: number;
}

export interface PtwTestDriver {
  /** Names of the terminals on the page (`terminal`, `peek`). */
  terminals(): string[];
  /** The terminal's buffer as text (scrollback included), wrapped lines joined. */
  terminalText(name?: string): string;
  /** Only the last `rows` rows of the buffer (cheap: the benchmark polls it while measuring). */
  terminalTail(rows: number, name?: string): string;
  /**
   * The screen as main's headless terminal would serialize it: size, active buffer, cursor, then the visible rows
   * with their attributes and modes (the serialize addon, no scrollback). The catch-up tests compare it with a
   * headless terminal fed the whole recording.
   */
  screen(name?: string): string;
  /** Bytes of output catch-up skipped (what the Terminal tab says), 0 when none. */
  skippedBytes(name?: string): number;
  /** Frames the render cap has held repaints for (render-cap.ts). */
  cappedFrames(name?: string): number;
  /** Runs the terminal's search; true when `term` was found (and selected). */
  search(term: string, options?: { previous?: boolean; name?: string }): boolean;
  /** The selected text (what a search found). */
  selection(name?: string): string;
  /** Characters written into xterm and acknowledged by its write callback. */
  written(name?: string): number;
  renderer(name?: string): string;
  status(name?: string): StreamStatus | null;
  /** Starts measuring what the terminal renders (marker latencies, rate, long tasks); see render-probe.ts. */
  startProbe(name?: string): void;
  probeResults(name?: string): ProbeResults | null;
}

const probes = new Map<string, { probe: RenderProbe; stop: () => void }>();

const terminals = new Map<string, DriverTerminal>();

/**
 * A test driver page's choice for the live terminal (`?testDriver=1&catchUp=0`: every byte, as `bench:live`
 * measures against its bare page); null without the driver or the parameter.
 */
export function testDriverCatchUp(win: Window): boolean | null {
  if (!testDriverEnabled(win)) return null;
  const value = new URL(win.location.href).searchParams.get('catchUp');
  return value === null ? null : value !== '0';
}

function entry(name = 'terminal'): DriverTerminal {
  const found = terminals.get(name);
  if (!found) throw new Error(`No terminal named ${name} on the page (open: ${[...terminals.keys()].join(', ')})`);
  return found;
}

const driver: PtwTestDriver = {
  terminals: () => [...terminals.keys()],
  terminalText: (name) => entry(name).surface.text(),
  terminalTail: (rows, name) => entry(name).surface.text(rows),
  screen(name) {
    const { terminal } = entry(name).surface;
    const serializer = new SerializeAddon();
    terminal.loadAddon(serializer);
    try {
      const b = terminal.buffer.active;
      const head = `${terminal.cols}x${terminal.rows} ${b.type} cursor ${b.cursorX},${b.cursorY}`;
      return `${head}\n${serializer.serialize({ scrollback: 0 })}`;
    } finally {
      serializer.dispose();
    }
  },
  skippedBytes: (name) => entry(name).skippedBytes ?? 0,
  cappedFrames: (name) => entry(name).surface.output.frames,
  search(term, options = {}) {
    const { search } = entry(options.name).surface;
    return options.previous ? search.findPrevious(term) : search.findNext(term);
  },
  selection: (name) => entry(name).surface.terminal.getSelection(),
  written: (name) => entry(name).binding.written,
  renderer: (name) => {
    const { surface } = entry(name);
    return `${surface.renderer} (${surface.rendererWhy})${surface.scrollbarQuiet ? ', quiet scrollbar' : ''}`;
  },
  status: (name) => terminals.get(name ?? 'terminal')?.status ?? null,
  startProbe(name = 'terminal') {
    probes.get(name)?.stop();
    const probe = new RenderProbe();
    const off = entry(name).binding.onRendered((data) => probe.rendered(data));
    probes.set(name, {
      probe,
      stop: () => {
        off();
        probe.dispose();
      },
    });
  },
  probeResults: (name = 'terminal') => probes.get(name)?.probe.snapshot() ?? null,
};

/** Makes a terminal visible to the driver while it is mounted; does nothing without the flag. */
export function registerForTestDriver(win: Window, name: string, terminal: DriverTerminal): () => void {
  if (!testDriverEnabled(win)) return () => undefined;
  Reflect.set(win, '__ptwTestDriver', driver);
  terminals.set(name, terminal);
  return () => {
    if (terminals.get(name) === terminal) terminals.delete(name);
  };
}
