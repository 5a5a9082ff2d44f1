import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { pickRenderer } from '../common/gl-detect';
import { quietScrollbar } from '../common/quiet-scrollbar';
import { testDriverEnabled } from '../common/test-driver-flag';
import { dropSheets, routeStyleAttributesThroughCssom, withConstructedStyles } from '../common/xterm-csp';

/**
 * The replay's read-only xterm, at exactly the recording's size (a replay must not reflow: the cast's cursor
 * moves assume its columns and rows). Uses the live terminal's CSP-safe style handling and renderer choice.
 */
export class ReplayTerminal {
  readonly terminal: Terminal;
  private readonly sheets = new Set<CSSStyleSheet>();
  private webgl: WebglAddon | undefined;

  constructor(
    private readonly container: HTMLElement,
    size: { cols: number; rows: number },
  ) {
    const doc = container.ownerDocument;
    const win = doc.defaultView as (Window & typeof globalThis) | null;
    this.terminal = new Terminal({
      allowProposedApi: true,
      disableStdin: true,
      cursorBlink: false,
      cursorInactiveStyle: 'none',
      cols: size.cols,
      rows: size.rows,
      scrollback: 1000,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      theme: { background: '#111318', foreground: '#e5e7eb', selectionBackground: '#3a4a6b' },
    });
    if (win) routeStyleAttributesThroughCssom(win);
    withConstructedStyles(doc, this.sheets, () => this.terminal.open(container));
    // Seeking writes thousands of lines at once: no scrollbar flash per line.
    quietScrollbar(this.terminal);
    const choice = pickRenderer(doc);
    container.dataset.renderer = choice.kind;
    if (choice.kind === 'webgl') {
      try {
        const webgl = new WebglAddon();
        webgl.onContextLoss(() => this.dropWebgl());
        this.terminal.loadAddon(webgl);
        this.webgl = webgl;
      } catch {
        this.dropWebgl();
      }
    }
  }

  private dropWebgl(): void {
    const webgl = this.webgl;
    this.webgl = undefined;
    this.container.dataset.renderer = 'dom';
    if (webgl) withConstructedStyles(this.container.ownerDocument, this.sheets, () => webgl.dispose());
  }

  /** The visible rows as text (the e2e tests read the screen through this). */
  screenText(): string {
    const buffer = this.terminal.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < this.terminal.rows; y++) {
      rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    }
    return rows.join('\n');
  }

  dispose(): void {
    this.webgl = undefined;
    this.terminal.dispose();
    dropSheets(this.container.ownerDocument, this.sheets);
  }
}

export interface ReplayTestDriver {
  screen(): string;
  timeMs(): number;
  seek(ms: number): Promise<void>;
  /** The first moment (the start, or the shared run position) has been written to the terminal. */
  shown(): boolean;
}

/** `window.__ptwReplayDriver` for the e2e tests, only with `?testDriver=1`. */
export function registerReplayDriver(win: Window, driver: ReplayTestDriver): () => void {
  if (!testDriverEnabled(win)) return () => undefined;
  Reflect.set(win, '__ptwReplayDriver', driver);
  return () => {
    if (Reflect.get(win, '__ptwReplayDriver') === driver) Reflect.deleteProperty(win, '__ptwReplayDriver');
  };
}
