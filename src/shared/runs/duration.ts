/**
 * Durations, byte sizes and countdowns as researchers type and read them: `10h`, `1h30m`, `64g`, `9:59:58`.
 * Pure, so the CLI, the launch form and the run view agree on what `90m` means.
 */

export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: string };

const DURATION_UNITS: Record<string, number> = {
  d: 86_400,
  day: 86_400,
  days: 86_400,
  h: 3_600,
  hr: 3_600,
  hrs: 3_600,
  hour: 3_600,
  hours: 3_600,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
};

const DURATION_HINT = 'write it like 10h, 90m, 20s or 1h30m';

/**
 * `10h`, `90m`, `20s`, `1h30m`, `1h 30m`, `1.5h`, `2 hours`, or `HH:MM:SS` (PostTrainBench's time_taken.txt) → whole
 * seconds. A bare number is refused: `10` could mean seconds or hours, and a 10-second budget is an expensive typo.
 */
export function parseDuration(text: string): ParseResult<number> {
  const input = text.trim();
  if (input === '') return { ok: false, message: `the duration is empty; ${DURATION_HINT}` };
  const clock = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(input);
  if (clock) {
    const seconds = Number(clock[1]) * 3_600 + Number(clock[2]) * 60 + Number(clock[3]);
    return { ok: true, value: seconds };
  }
  if (/^\d+(?:\.\d+)?$/.test(input)) {
    return { ok: false, message: `"${input}" has no unit; ${DURATION_HINT}` };
  }
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/giy;
  let total = 0;
  let consumed = 0;
  let match: RegExpExecArray | null;
  while ((match = part.exec(input)) !== null) {
    const unit = DURATION_UNITS[(match[2] ?? '').toLowerCase()];
    if (unit === undefined) {
      return { ok: false, message: `"${match[2]}" in "${input}" is not a unit (d, h, m, s); ${DURATION_HINT}` };
    }
    total += Number(match[1]) * unit;
    consumed = part.lastIndex;
  }
  if (consumed !== input.length) return { ok: false, message: `could not read "${input}"; ${DURATION_HINT}` };
  return { ok: true, value: Math.round(total) };
}

/** Seconds → the compact form {@link parseDuration} reads back: 36000 → `10h`, 5400 → `1h30m`, 0 → `0s`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole === 0) return '0s';
  // Hours, never days: `36h` reads better than `1d12h` for a training budget.
  const h = Math.floor(whole / 3_600);
  const m = Math.floor((whole % 3_600) / 60);
  const s = whole % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

const BYTES_HINT = 'write it like 64g, 512m or 1.5t (binary units, as docker --memory reads them)';

/**
 * `64g`, `64G`, `64GB`, `64GiB`, `512m`, `1.5t`, or a plain byte count → bytes. Units are binary throughout, as
 * `docker run --memory` reads them (docker/go-units RAMInBytes), so `64g` here is exactly what Docker enforces.
 */
export function parseByteSize(text: string): ParseResult<number> {
  const input = text.trim();
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(input);
  if (!match) return { ok: false, message: `could not read "${input}" as a size; ${BYTES_HINT}` };
  const unit = BYTE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1;
  return { ok: true, value: Math.floor(Number(match[1]) * unit) };
}

/** Bytes for people: 68719476736 → `64 GiB`, 1610612736 → `1.5 GiB`. */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${shown} ${units[unit]}`;
}

/** Milliseconds left until `deadline` (epoch ms) at `now`; never negative. */
export function remainingMs(deadline: number, now: number): number {
  return Math.max(0, deadline - now);
}

/** A countdown for the run view: 35998000 → `9:59:58`; whole seconds, rounded up so 0:00:00 means done. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
