import { Worker } from 'node:worker_threads';
import { LIVE_MAX_TERMINAL_SIZE } from '../../shared/contract-live';

/**
 * The screens of followed runs (issue 19): one `@xterm/headless` terminal per catch-up stream, fed every byte the
 * stream reads at parser speed, in a worker thread so that main's event loop stays free during a flood (xterm parses
 * each write whole). A viewer that falls behind gets `snapshot()`: the screen and recent scrollback serialized at
 * exactly the point of the stream written so far (messages to the worker are handled in order), from which it goes
 * on with live bytes. The worker starts with the first screen and is unref'd, so it never holds the process open.
 */

export interface ScreenSnapshot {
  /** The serialized terminal (the serialize addon's output, modes and the alternate screen included). */
  readonly data: string;
  readonly cols: number;
  readonly rows: number;
}

export interface ScreenOptions {
  readonly cols: number;
  readonly rows: number;
  /** Called with true when more than `highBytes` wait in the worker (pause the source), false once below `lowBytes`. */
  readonly onPressure: (paused: boolean) => void;
}

export interface ScreenTrackerOptions {
  /** Lines of scrollback each screen keeps, and the most a snapshot carries. */
  readonly scrollback?: number;
  readonly highBytes?: number;
  readonly lowBytes?: number;
}

/** Lines of scrollback each screen keeps: what a viewer that joins a run's follow late gets (the rest is in Replay). */
export const SCREEN_SCROLLBACK = 1000;

/**
 * Recent scrollback in a catch-up snapshot during a flood: enough to scroll back a dozen screens; the rest is in
 * Replay. It is serialized on the worker that must also parse the flood, and rendered by a page that is behind, several
 * times a second: 300 lines serialize in about a third of the time 1000 take (~70 KB).
 */
export const SNAPSHOT_SCROLLBACK = 300;

type FromWorker =
  | { op: 'ready' }
  | { op: 'written'; id: number; bytes: number }
  | { op: 'snapshot'; id: number; seq: number; data: string; cols: number; rows: number }
  | { op: 'error'; error: string };

/** The worker's code: plain CommonJS evaluated by the worker (the app ships as one bundle; see keyframe-maker.ts). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Terminal } = require(workerData.headless);
const { SerializeAddon } = require(workerData.serialize);
const screens = new Map();
const MAX_SIZE = workerData.maxSize;
const clampSize = (n, max) => Math.max(1, Math.min(max, Math.floor(n)));
// What the serialize addon leaves out and programs rely on: the scroll region (DECSTBM) and the saved cursor
// (DECSC / CSI s: position and pen) of each buffer, read from xterm's core (feature-detected: nothing added if its
// shape changed), and written around the serialized screens (snapshotData).
const CM_MASK = 0x3000000, CM_P16 = 0x1000000, CM_P256 = 0x2000000, CM_RGB = 0x3000000;
const colourSgr = (mode, colour, base) => {
  if (mode === CM_P16) return colour < 8 ? [base + colour] : [base + 60 + colour - 8];
  if (mode === CM_P256) return [base + 8, 5, colour];
  if (mode === CM_RGB) return [base + 8, 2, (colour >> 16) & 255, (colour >> 8) & 255, colour & 255];
  return [];
};
const penSgr = (a) => {
  const p = [0];
  if (a.isBold()) p.push(1);
  if (a.isDim()) p.push(2);
  if (a.isItalic()) p.push(3);
  if (a.isUnderline()) p.push(4);
  if (a.isBlink()) p.push(5);
  if (a.isInverse()) p.push(7);
  if (a.isInvisible()) p.push(8);
  if (a.isStrikethrough()) p.push(9);
  if (a.isOverline && a.isOverline()) p.push(53);
  p.push(...colourSgr(a.getFgColorMode() & CM_MASK, a.getFgColor(), 30), ...colourSgr(a.getBgColorMode() & CM_MASK, a.getBgColor(), 40));
  return '\\x1b[' + p.join(';') + 'm';
};
const plainCup = (y, x) => '\\x1b[' + (y + 1) + ';' + (x + 1) + 'H';
const regionOf = (term, b) =>
  b.scrollTop !== 0 || b.scrollBottom !== term.rows - 1 ? '\\x1b[' + (b.scrollTop + 1) + ';' + (b.scrollBottom + 1) + 'r' : '';
// DECSC keeps an absolute line (ybase + y); DECRC clamps what scrolled away to the top row.
const savedRow = (b) => Math.max(0, b.savedY - b.ybase);
/** After the active buffer's content: its scroll region, saved cursor and pen, then the pen and cursor again. */
const activeExtras = (term, b, pen) => {
  const origin = term.modes.originMode;
  const cup = (y, x) => plainCup(origin ? y - b.scrollTop : y, x);
  let out = regionOf(term, b);
  if (b.savedX !== 0 || savedRow(b) !== 0 || b.savedCurAttrData.fg !== 0 || b.savedCurAttrData.bg !== 0) {
    out += cup(savedRow(b), b.savedX) + penSgr(b.savedCurAttrData) + '\\x1b7' + penSgr(pen);
  }
  return out ? out + cup(b.y, b.x) : '';
};
const ALT_ON = '\\x1b[?1049h\\x1b[H';
const snapshotData = (term, serializer, scrollback) => {
  const full = serializer.serialize({ scrollback: Math.min(scrollback, workerData.scrollback) });
  try {
    const core = term._core;
    const buffers = core.buffers;
    const pen = core._inputHandler._curAttrData;
    const n = buffers._normal, alt = buffers._alt;
    if (!pen || typeof n.savedX !== 'number' || typeof n.scrollTop !== 'number' || typeof n.ybase !== 'number') return full;
    if (term.buffer.active.type !== 'alternate') return full + activeExtras(term, n, pen);
    // In the alternate screen: the normal screen's region, and the cursor and pen that leaving it restores (what
    // ?1049h saved), are set before the serializer's own ?1049h saves them again.
    const at = full.indexOf(ALT_ON);
    if (at < 0) return full;
    const beforeAlt = regionOf(term, n) + plainCup(savedRow(n), n.savedX) + penSgr(n.savedCurAttrData);
    return full.slice(0, at) + beforeAlt + full.slice(at) + activeExtras(term, alt, pen);
  } catch (err) {
    return full;
  }
};
parentPort.on('message', (m) => {
  try {
    if (m.op === 'open') {
      const term = new Terminal({ cols: clampSize(m.cols, MAX_SIZE), rows: clampSize(m.rows, MAX_SIZE), scrollback: workerData.scrollback, allowProposedApi: true });
      const serializer = new SerializeAddon();
      term.loadAddon(serializer);
      screens.set(m.id, { term, serializer });
      return;
    }
    const s = screens.get(m.id);
    if (!s) return;
    // Each op goes through xterm's write queue, so it happens after every byte written before it.
    if (m.op === 'write') s.term.write(m.data, () => parentPort.postMessage({ op: 'written', id: m.id, bytes: m.data.length }));
    else if (m.op === 'resize') s.term.write('', () => s.term.resize(clampSize(m.cols, MAX_SIZE), clampSize(m.rows, MAX_SIZE)));
    else if (m.op === 'snapshot') s.term.write('', () => parentPort.postMessage({ op: 'snapshot', id: m.id, seq: m.seq, data: snapshotData(s.term, s.serializer, m.scrollback), cols: s.term.cols, rows: s.term.rows }));
    else if (m.op === 'close') { screens.delete(m.id); s.term.write('', () => s.term.dispose()); }
  } catch (err) {
    parentPort.postMessage({ op: 'error', error: String((err && err.stack) || err) });
  }
});
parentPort.postMessage({ op: 'ready' });
`;

interface ScreenEntry {
  readonly options: ScreenOptions;
  pending: number;
  paused: boolean;
  snapshots: Map<number, { resolve: (s: ScreenSnapshot) => void; reject: (e: Error) => void }>;
}

export class ScreenTracker {
  private worker: Worker | null = null;
  private failure: Error | null = null;
  private readonly screens = new Map<number, ScreenEntry>();
  private nextId = 1;
  private nextSeq = 1;
  private readonly scrollback: number;
  private readonly highBytes: number;
  private readonly lowBytes: number;

  constructor(options: ScreenTrackerOptions = {}) {
    this.scrollback = options.scrollback ?? SCREEN_SCROLLBACK;
    // A snapshot waits for everything queued before it: 512 KiB is ~15 ms of parsing on a free core.
    this.highBytes = options.highBytes ?? 512 * 1024;
    this.lowBytes = options.lowBytes ?? 128 * 1024;
  }

  /** Screens open now (tests check they are closed with their streams). */
  get openScreens(): number {
    return this.screens.size;
  }

  /** Bytes written to a screen and not parsed yet. */
  pendingOf(screen: number): number {
    return this.screens.get(screen)?.pending ?? 0;
  }

  open(options: ScreenOptions): number {
    const id = this.nextId++;
    this.screens.set(id, { options, pending: 0, paused: false, snapshots: new Map() });
    this.post({ op: 'open', id, cols: options.cols, rows: options.rows });
    return id;
  }

  write(screen: number, data: Uint8Array): void {
    const entry = this.screens.get(screen);
    if (!entry || data.length === 0) return;
    entry.pending += data.length;
    // A copy of just these bytes, moved to the worker (a view would clone its whole backing buffer).
    const copy = new Uint8Array(data);
    this.post({ op: 'write', id: screen, data: copy }, [copy.buffer]);
    if (!entry.paused && entry.pending > this.highBytes) {
      entry.paused = true;
      entry.options.onPressure(true);
    }
  }

  resize(screen: number, cols: number, rows: number): void {
    if (this.screens.has(screen)) this.post({ op: 'resize', id: screen, cols, rows });
  }

  /** The screen once every byte written before this call is parsed, with up to `scrollback` lines above it. */
  snapshot(screen: number, scrollback = this.scrollback): Promise<ScreenSnapshot> {
    const entry = this.screens.get(screen);
    if (!entry) return Promise.reject(new Error('no such screen'));
    if (this.failure) return Promise.reject(this.failure);
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      entry.snapshots.set(seq, { resolve, reject });
      this.post({ op: 'snapshot', id: screen, seq, scrollback });
    });
  }

  close(screen: number): void {
    const entry = this.screens.get(screen);
    if (!entry) return;
    this.screens.delete(screen);
    for (const waiter of entry.snapshots.values()) waiter.reject(new Error('the stream closed'));
    this.post({ op: 'close', id: screen });
  }

  async dispose(): Promise<void> {
    for (const id of [...this.screens.keys()]) this.close(id);
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  private post(message: Record<string, unknown>, transfer?: ArrayBuffer[]): void {
    if (this.failure) return;
    const worker = this.worker ?? this.start();
    worker.postMessage(message, transfer);
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        headless: require.resolve('@xterm/headless'),
        serialize: require.resolve('@xterm/addon-serialize'),
        scrollback: this.scrollback,
        maxSize: LIVE_MAX_TERMINAL_SIZE,
      },
    });
    worker.unref();
    worker.on('message', (m: FromWorker) => this.received(m));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new Error(`the screen worker exited (${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private received(m: FromWorker): void {
    if (m.op === 'written') {
      const entry = this.screens.get(m.id);
      if (!entry) return;
      entry.pending = Math.max(0, entry.pending - m.bytes);
      if (entry.paused && entry.pending <= this.lowBytes) {
        entry.paused = false;
        entry.options.onPressure(false);
      }
    } else if (m.op === 'snapshot') {
      const waiter = this.screens.get(m.id)?.snapshots;
      const found = waiter?.get(m.seq);
      waiter?.delete(m.seq);
      found?.resolve({ data: m.data, cols: m.cols, rows: m.rows });
    } else if (m.op === 'error') this.fail(new Error(`the screen worker failed: ${m.error}`));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.worker = null;
    for (const entry of this.screens.values()) {
      for (const waiter of entry.snapshots.values()) waiter.reject(this.failure);
      entry.snapshots.clear();
      if (entry.paused) {
        entry.paused = false;
        entry.options.onPressure(false);
      }
    }
  }
}
