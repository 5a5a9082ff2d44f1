import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { LIVE_MAX_TERMINAL_SIZE } from '../../shared/contract-live';
import { pickRenderer, type RendererKind } from '../common/gl-detect';
import { quietScrollbar } from '../common/quiet-scrollbar';
import { RenderCap } from './render-cap';
import { dropSheets, routeStyleAttributesThroughCssom, withConstructedStyles } from '../common/xterm-csp';

/**
 * One xterm.js terminal in a container: fit, search, Unicode 11 widths, and the WebGL renderer where the GL is a
 * real GPU. A software GL (SwiftShader, llvmpipe) renders ~20× slower than the DOM renderer, so there, and after
 * a WebGL context loss, the DOM renderer is used. Nothing here touches React: callers write bytes straight in.
 */

export interface TerminalSurfaceOptions {
  /** Read-only terminals ignore keystrokes (no stdin); the peek shell takes them. */
  readonly writable: boolean;
  /** Fixed width (the agent's TTY), or fit to the container. */
  readonly cols?: number | null;
  readonly scrollback?: number;
  /** Force a renderer (tests, the benchmark); default: detect. */
  readonly renderer?: RendererKind;
}

export class TerminalSurface {
  readonly terminal: Terminal;
  readonly search = new SearchAddon();
  /** Where output goes: the terminal, with repaints capped during floods (render-cap.ts). */
  readonly output: RenderCap;
  private readonly fitAddon = new FitAddon();
  private webgl: WebglAddon | undefined;
  private readonly sheets = new Set<CSSStyleSheet>();
  private readonly resizeObserver: ResizeObserver;
  private disposed = false;
  private fixedCols: number | null;
  private fixedRows: number | null = null;
  renderer: RendererKind = 'dom';
  rendererWhy = '';
  /** Whether the scrollbar no longer flashes on every scrolled line (see quietScrollbar). */
  readonly scrollbarQuiet: boolean;

  constructor(
    private readonly container: HTMLElement,
    private readonly options: TerminalSurfaceOptions,
  ) {
    this.fixedCols = options.cols ?? null;
    const doc = container.ownerDocument;
    const win = doc.defaultView as (Window & typeof globalThis) | null;
    this.terminal = new Terminal({
      allowProposedApi: true,
      disableStdin: !options.writable,
      cursorBlink: options.writable,
      cursorInactiveStyle: options.writable ? 'outline' : 'none',
      scrollback: options.scrollback ?? 50_000,
      convertEol: false,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      theme: { background: '#111318', foreground: '#e5e7eb', selectionBackground: '#3a4a6b' },
      ...(options.cols ? { cols: options.cols } : {}),
    });
    this.output = new RenderCap(this.terminal);
    this.terminal.loadAddon(this.fitAddon);
    this.terminal.loadAddon(this.search);
    this.terminal.loadAddon(new Unicode11Addon());
    this.terminal.unicode.activeVersion = '11';

    const choice = options.renderer ? { kind: options.renderer, why: 'asked for' } : pickRenderer(doc);
    if (win) routeStyleAttributesThroughCssom(win);
    withConstructedStyles(doc, this.sheets, () => this.terminal.open(container));
    if (choice.kind === 'webgl') this.loadWebgl(choice.why);
    else this.useDom(choice.why);
    this.scrollbarQuiet = quietScrollbar(this.terminal);

    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(container);
    this.fit();
  }

  private loadWebgl(why: string): void {
    try {
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        // The GPU process crashed or reclaimed the context: go on with the DOM renderer.
        this.dropWebgl();
        this.useDom('WebGL context lost');
      });
      this.terminal.loadAddon(webgl);
      this.webgl = webgl;
      this.renderer = 'webgl';
      this.rendererWhy = why;
    } catch (err) {
      this.dropWebgl();
      this.useDom(`WebGL failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private dropWebgl(): void {
    const webgl = this.webgl;
    this.webgl = undefined;
    // Disposing it switches xterm back to its DOM renderer, which creates its style elements now.
    if (webgl) withConstructedStyles(this.container.ownerDocument, this.sheets, () => webgl.dispose());
  }

  private useDom(why: string): void {
    this.renderer = 'dom';
    this.rendererWhy = why;
    this.container.dataset.renderer = 'dom';
  }

  /** Rows to the container's height; columns too unless fixed to the agent's TTY width. */
  fit(): void {
    if (this.disposed) return;
    const proposed = this.fitAddon.proposeDimensions();
    if (!proposed || !Number.isFinite(proposed.rows) || proposed.rows < 1) return;
    const cols = this.fixedCols ?? Math.max(2, proposed.cols);
    const rows = this.fixedRows ?? proposed.rows;
    if (cols !== this.terminal.cols || rows !== this.terminal.rows) this.terminal.resize(cols, rows);
  }

  /** Fixes the width (the agent's TTY columns) and fits the rows again. */
  setCols(cols: number): void {
    this.fixedCols = cols;
    this.fit();
  }

  /**
   * Fixes both sides to the agent's TTY (the cast header, its resize events, a catch-up snapshot), so that its
   * cursor moves land where they landed for the agent and the screen matches main's headless one. Clamped as main
   * clamps ({@link LIVE_MAX_TERMINAL_SIZE}).
   */
  setSize(cols: number, rows: number): void {
    this.fixedCols = Math.max(1, Math.min(LIVE_MAX_TERMINAL_SIZE, Math.floor(cols)));
    this.fixedRows = Math.max(1, Math.min(LIVE_MAX_TERMINAL_SIZE, Math.floor(rows)));
    this.fit();
    if (this.terminal.cols !== this.fixedCols || this.terminal.rows !== this.fixedRows) {
      this.terminal.resize(this.fixedCols, this.fixedRows);
    }
  }

  /** The buffer as plain text, wrapped lines joined (the test driver reads it); `lastRows`: only the last rows. */
  text(lastRows?: number): string {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let i = lastRows === undefined ? 0 : Math.max(0, buffer.length - lastRows); i < buffer.length; i++) {
      const line = buffer.getLine(i);
      if (!line) continue;
      const text = line.translateToString(true);
      if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
      else lines.push(text);
    }
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.resizeObserver.disconnect();
    this.output.dispose();
    this.webgl = undefined;
    this.terminal.dispose();
    dropSheets(this.container.ownerDocument, this.sheets);
  }
}
