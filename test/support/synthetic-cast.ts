import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A seeded generator of long agent sessions as asciicast, streamed to a file: training logs with
 * carriage-return progress bars, colour, pip output, long JSON lines, a full-screen editor on the alternate
 * screen, markers, resizes and long idle gaps. Same seed, same file. Used by the seek tests and `bench:replay`.
 */

export interface SyntheticCastOptions {
  file: string;
  bytes: number;
  /** Recorded duration, seconds (default 10 hours). */
  durationSeconds?: number;
  seed?: number;
  version?: 2 | 3;
  cols?: number;
  rows?: number;
}

export interface SyntheticCastResult {
  bytes: number;
  events: number;
  duration: number;
  markers: number;
}

/** Output characters per byte of cast file in this mix (JSON escaping and event framing make up the rest). */
const CHARS_PER_BYTE = 0.68;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['loss', 'grad_norm', 'learning_rate', 'epoch', 'eval', 'tokens', 'reward', 'kl', 'entropy', 'accuracy'];
const PACKAGES = ['torch', 'transformers', 'datasets', 'accelerate', 'trl', 'peft', 'vllm', 'numpy', 'safetensors'];

export function writeSyntheticCast(options: SyntheticCastOptions): SyntheticCastResult {
  const random = mulberry32(options.seed ?? 1);
  const version = options.version ?? 3;
  const duration = options.durationSeconds ?? 10 * 3600;
  let cols = options.cols ?? 120;
  let rows = options.rows ?? 32;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

  const fd = openSync(options.file, 'w');
  const pending: string[] = [];
  let pendingBytes = 0;
  let written = 0;
  let events = 0;
  let markers = 0;
  /** Whole microseconds, so that v3's intervals sum to exactly v2's times (both written with 6 decimals). */
  let clockUs = 0;
  let lastUs = 0;
  let clock = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const buf = Buffer.from(pending.join(''), 'utf8');
    writeSync(fd, buf);
    written += buf.length;
    pending.length = 0;
    pendingBytes = 0;
  };
  const line = (text: string) => {
    pending.push(text, '\n');
    pendingBytes += text.length + 1;
    if (pendingBytes > 1 << 20) flush();
  };
  const header =
    version === 3
      ? {
          version: 3,
          term: { cols, rows, type: 'xterm-256color' },
          timestamp: 1763900000,
          title: 'synthetic agent session',
        }
      : { version: 2, width: cols, height: rows, timestamp: 1763900000, title: 'synthetic agent session' };
  line(JSON.stringify(header));
  const event = (dt: number, code: string, data: string) => {
    clockUs += Math.round(dt * 1e6);
    clock = clockUs / 1e6;
    const t = (version === 3 ? clockUs - lastUs : clockUs) / 1e6;
    lastUs = clockUs;
    line(`[${t.toFixed(6)}, ${JSON.stringify(code)}, ${JSON.stringify(data)}]`);
    events++;
  };
  const progressTotal = () => written + pendingBytes;
  /** Idle time added so far; output takes the other four fifths of the recording, in step with the bytes written. */
  let idle = 0;
  // Paced by the output's characters, not the file's bytes, so the v2 and v3 files of one seed have the same times.
  let outChars = 0;
  const expectedChars = options.bytes * CHARS_PER_BYTE;
  const due = () => (duration * 0.8 * outChars) / expectedChars + idle;

  const out = (data: string) => {
    outChars += data.length;
    event(Math.max(0, due() - clock) * (0.5 + random()), 'o', data);
  };

  let step = 0;
  let lastGapAt = 0;
  while (progressTotal() < options.bytes) {
    const kind = random();
    if (kind < 0.45) {
      // A training epoch: a tqdm bar redrawn with \r, then a coloured summary line.
      const total = int(20, 200);
      const epoch = int(1, 50);
      for (let i = 0; i <= total; i += int(1, 7)) {
        const pct = Math.min(100, Math.round((i / total) * 100));
        const filled = Math.round(pct / 4);
        out(
          `\rEpoch ${epoch}: ${String(pct).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(25 - filled)}| ${i}/${total} ` +
            `[00:${String(int(0, 59)).padStart(2, '0')}<00:${String(int(0, 59)).padStart(2, '0')}, ${(random() * 9).toFixed(2)}it/s, ` +
            `loss=${(random() * 3).toFixed(4)}]`,
        );
      }
      step++;
      out(
        `\r\n\x1b[32m[step ${step}]\x1b[0m \x1b[1m${pick(WORDS)}\x1b[22m=${(random() * 2).toFixed(5)} ` +
          `\x1b[33m${pick(WORDS)}\x1b[39m=${random().toExponential(3)} lr=${(random() * 1e-4).toExponential(2)}\r\n`,
      );
    } else if (kind < 0.6) {
      // pip install output.
      const name = pick(PACKAGES);
      out(`$ pip install ${name}\r\n`);
      for (let i = 0; i < int(3, 12); i++) {
        const dep = pick(PACKAGES);
        out(`Collecting ${dep}>=${int(0, 4)}.${int(0, 30)}\r\n`);
        out(`  Downloading ${dep}-${int(0, 4)}.${int(0, 30)}.${int(0, 9)}-py3-none-any.whl (${int(10, 900)} kB)\r\n`);
        out(
          `\x1b[38;5;2m     ${'━'.repeat(40)}\x1b[0m ${int(1, 900)}/${int(1, 900)} kB \x1b[31m${int(1, 99)} MB/s\x1b[0m eta \x1b[36m0:00:00\x1b[0m\r\n`,
        );
      }
      out(`Successfully installed ${name}-${int(1, 4)}.${int(0, 9)}\r\n`);
    } else if (kind < 0.8) {
      // A long JSON line (an agent event or a dataset row), wrapped by the terminal.
      const n = int(5, 120);
      const fields: Record<string, unknown> = { type: 'item.completed', step };
      for (let i = 0; i < n; i++)
        fields[`${pick(WORDS)}_${i}`] = random() < 0.5 ? random() : `text ${int(0, 1e6)} "q" \\ ${pick(WORDS)}`;
      out(`${JSON.stringify(fields)}\r\n`);
    } else if (kind < 0.83) {
      // A full-screen editor on the alternate screen, then back.
      out('\x1b[?1049h\x1b[H\x1b[2J');
      for (let r = 1; r <= rows; r++)
        out(`\x1b[${r};1H\x1b[48;5;235m${String(r).padStart(3)} ${'x = 1'.repeat(int(0, 10))}\x1b[K\x1b[0m`);
      out(`\x1b[${rows};1H:wq`);
      out('\x1b[?1049l');
    } else if (kind < 0.95) {
      out(`$ ls -la /workspace/${pick(PACKAGES)}\r\n`);
      for (let i = 0; i < int(1, 20); i++)
        out(`-rw-r--r-- 1 agent agent ${int(1, 1e9)} Nov 23 ${int(10, 23)}:${int(10, 59)} file-${int(0, 999)}.bin\r\n`);
    } else if (kind < 0.97) {
      // A long idle gap (waiting on a training job), ended by a marker.
      // Gaps take about a fifth of the recording: each is in proportion to the output since the last one.
      const gap = 2 * random() * duration * 0.2 * ((outChars - lastGapAt) / expectedChars);
      clockUs += Math.round(gap * 1e6);
      clock = clockUs / 1e6;
      idle += gap;
      lastGapAt = outChars;
      event(0, 'm', `checkpoint ${step}`);
      markers++;
    } else if (kind < 0.975) {
      cols = int(80, 160);
      rows = int(24, 48);
      event(0.01, 'r', `${cols}x${rows}`);
    } else {
      event(random() * 0.5, 'i', 'y\r');
      out(`\x1b[1;31mERROR\x1b[0m RuntimeError: CUDA out of memory. Tried to allocate ${int(1, 80)} GiB\r\n`);
    }
  }
  flush();
  closeSync(fd);
  return { bytes: written, events, duration: clock, markers };
}
