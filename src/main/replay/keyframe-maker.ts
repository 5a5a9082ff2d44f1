import { Worker } from 'node:worker_threads';
import { SerializeAddon } from '@xterm/addon-serialize';
import { Terminal } from '@xterm/headless';

/**
 * Keyframes for the replay index: a headless terminal fed the cast's output in order, serialized at each segment
 * start. The terminal runs in a worker thread so that indexing a large cast neither blocks the main process's event
 * loop (xterm parses each write whole) nor waits for it: the main thread parses lines while the worker emulates.
 * Where a worker cannot start, the same work runs in this thread.
 */

/** One step for the terminal: output, a resize, or a snapshot to take (its id comes back with the data). */
export type KeyframeOp = string | { cols: number; rows: number } | { snapshot: number };

export interface KeyframeMaker {
  readonly inWorker: boolean;
  /** Queues ops; snapshots come back through `onSnapshot`, in order. */
  post(ops: KeyframeOp[]): void;
  /** Resolves once at most `batches` posted batches are still being worked on (backpressure). */
  waitBelow(batches: number): Promise<void>;
  dispose(): Promise<void>;
}

export interface KeyframeMakerOptions {
  cols: number;
  rows: number;
  scrollback: number;
  onSnapshot(id: number, data: string): void;
}

/**
 * The worker's code. Plain CommonJS evaluated by the worker (`eval: true`), because the app ships as one bundle
 * with no separate worker file; the xterm packages are required by the absolute paths the main thread resolved.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Terminal } = require(workerData.headless);
const { SerializeAddon } = require(workerData.serialize);
const term = new Terminal({ cols: workerData.cols, rows: workerData.rows, scrollback: workerData.scrollback, allowProposedApi: true, logLevel: 'off' });
const serializer = new SerializeAddon();
term.loadAddon(serializer);
let queue = Promise.resolve();
// This thread does nothing else, so it parses each batch at once (writeSync) instead of through xterm's write
// buffer, which yields with a setTimeout every ~12 ms: that idle time was a third of indexing. The keyframes are
// the same (the default handlers are synchronous); where the method is missing, the public write.
const core = term._core;
const write = core && typeof core.writeSync === 'function'
  ? async (data) => core.writeSync(data)
  : (data) => new Promise((resolve) => term.write(data, resolve));
parentPort.on('message', (ops) => {
  queue = queue.then(async () => {
    let run = [];
    const flush = async () => { if (run.length) { const d = run.join(''); run = []; await write(d); } };
    for (const op of ops) {
      if (typeof op === 'string') run.push(op);
      else if ('snapshot' in op) { await flush(); parentPort.postMessage({ snapshot: op.snapshot, data: serializer.serialize({ scrollback: workerData.scrollback }) }); }
      else { await flush(); term.resize(op.cols, op.rows); }
    }
    await flush();
    parentPort.postMessage({ done: true });
  }).catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
});
parentPort.postMessage({ ready: true });
`;

/** Cut for in-thread writes: xterm yields to the event loop only between writes, never inside one. */
const WRITE_SLICE = 32 * 1024;

/**
 * Runs of output joined into one string each: a message of a few strings crosses to the worker far faster than
 * one of thousands of event-sized ones (each is cloned on its own).
 */
export function coalesceOutput(ops: readonly KeyframeOp[]): KeyframeOp[] {
  const out: KeyframeOp[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) out.push(run.length === 1 ? run[0]! : run.join(''));
    run = [];
  };
  for (const op of ops) {
    if (typeof op === 'string') run.push(op);
    else {
      flush();
      out.push(op);
    }
  }
  flush();
  return out;
}

/** A worker where asked (and where one starts), else this thread. */
export async function createKeyframeMaker(options: KeyframeMakerOptions, worker: boolean): Promise<KeyframeMaker> {
  if (worker) {
    try {
      return await WorkerKeyframeMaker.start(options);
    } catch {
      // e.g. a packaging that cannot load xterm in a worker: index in this thread instead.
    }
  }
  return new InThreadKeyframeMaker(options);
}

class WorkerKeyframeMaker implements KeyframeMaker {
  readonly inWorker = true;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly options: KeyframeMakerOptions,
  ) {
    worker.on('message', (m: { snapshot?: number; data?: string; done?: boolean; error?: string }) => {
      if (m.snapshot !== undefined) options.onSnapshot(m.snapshot, m.data ?? '');
      else if (m.done) {
        this.pending--;
        this.wake();
      } else if (m.error) this.fail(new Error(`the replay indexing worker failed: ${m.error}`));
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.pending > 0) this.fail(new Error(`the replay indexing worker exited (${code})`));
    });
  }

  static start(options: KeyframeMakerOptions): Promise<WorkerKeyframeMaker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          headless: require.resolve('@xterm/headless'),
          serialize: require.resolve('@xterm/addon-serialize'),
          cols: options.cols,
          rows: options.rows,
          scrollback: options.scrollback,
        },
      });
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error('the replay indexing worker did not start'));
      }, 20_000);
      const onError = (err: Error) => {
        clearTimeout(timer);
        void worker.terminate();
        reject(err);
      };
      worker.once('error', onError);
      worker.once('message', () => {
        clearTimeout(timer);
        worker.off('error', onError);
        resolve(new WorkerKeyframeMaker(worker, options));
      });
    });
  }

  post(ops: KeyframeOp[]): void {
    if (this.failure) throw this.failure;
    this.pending++;
    this.worker.postMessage(coalesceOutput(ops));
  }

  async waitBelow(batches: number): Promise<void> {
    while (this.pending > batches) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  async dispose(): Promise<void> {
    await this.worker.terminate();
  }
}

class InThreadKeyframeMaker implements KeyframeMaker {
  readonly inWorker = false;
  private readonly term: Terminal;
  private readonly serializer = new SerializeAddon();
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private failure: unknown = null;

  constructor(private readonly options: KeyframeMakerOptions) {
    this.term = new Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollback,
      allowProposedApi: true,
    });
    this.term.loadAddon(this.serializer);
  }

  post(ops: KeyframeOp[]): void {
    this.pending++;
    this.queue = this.queue
      .then(() => this.run(ops))
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.pending--);
  }

  private async run(ops: KeyframeOp[]): Promise<void> {
    let parts: string[] = [];
    const flush = async () => {
      if (parts.length === 0) return;
      const data = parts.join('');
      parts = [];
      for (let i = 0; i < data.length; i += WRITE_SLICE) {
        const piece = data.slice(i, i + WRITE_SLICE);
        if (i + WRITE_SLICE >= data.length) await new Promise<void>((resolve) => this.term.write(piece, resolve));
        else this.term.write(piece);
      }
    };
    for (const op of ops) {
      if (typeof op === 'string') parts.push(op);
      else if ('snapshot' in op) {
        await flush();
        this.options.onSnapshot(op.snapshot, this.serializer.serialize({ scrollback: this.options.scrollback }));
      } else {
        await flush();
        this.term.resize(op.cols, op.rows);
      }
    }
    await flush();
  }

  async waitBelow(batches: number): Promise<void> {
    while (this.pending > batches) await this.queue;
    if (this.failure) throw this.failure;
  }

  async dispose(): Promise<void> {
    this.term.dispose();
  }
}
