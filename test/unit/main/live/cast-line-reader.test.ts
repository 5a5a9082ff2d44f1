import { describe, expect, it } from 'vitest';
import { CastLineReader, parseCastHeader, unescapeOutputLine } from '../../../../src/main/live/cast-line-reader';

const cast =
  '{"version": 2, "width": 120, "height": 40, "timestamp": 1763899200}\n' +
  '[0.1, "o", "hello "]\n' +
  '[0.2, "r", "100x30"]\n' +
  '[0.3, "o", "w\\u00f6rld \\u6f22\\r\\n"]\n' +
  '[0.4, "m", "resumed"]\n' +
  '[0.5, "o", "\\u001b[31mred\\u001b[0m"]\n';

describe('CastLineReader', () => {
  it('gives the output events in order, skipping the header and other events, at every chunk split', () => {
    const bytes = Buffer.from(cast, 'utf8');
    for (let a = 1; a < bytes.length; a += 3) {
      for (const b of [a + 1, a + 17, bytes.length - 1]) {
        if (b <= a || b >= bytes.length) continue;
        const reader = new CastLineReader(0);
        const out = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].map((c) => reader.push(c));
        expect(Buffer.concat(out.map((o) => o.data)).toString('utf8')).toBe('hello wörld 漢\r\n\x1b[31mred\x1b[0m');
        expect(out.at(-1)!.offset).toBe(bytes.length);
        expect(out.flatMap((o) => o.problems)).toEqual([]);
      }
    }
  });

  it('holds back a line until its newline arrives, and counts offsets from where it started', () => {
    const start = 1_000;
    const reader = new CastLineReader(start);
    const first = reader.push(Buffer.from('[1.0, "o", "ab'));
    expect(first.data.length).toBe(0);
    expect(first.offset).toBe(start);
    expect(first.problems).toEqual([]);
    expect(reader.heldBack).toBe(14);
    const second = reader.push(Buffer.from('c"]\n[1.1, "o", "d"]\n[1.2'));
    expect(second.data.toString()).toBe('abcd');
    expect(second.offset).toBe(start + '[1.0, "o", "abc"]\n[1.1, "o", "d"]\n'.length);
    expect(reader.heldBack).toBe(4);
  });

  it('reports a malformed line with its byte offset and goes on with the rest', () => {
    const text = '{"version": 2}\n[0.1, "o", "a"]\n{not json\n[0.2, "o", 5]\n[0.3, "o", "b"]\n';
    const reader = new CastLineReader(0, 'runs/r1/terminal.cast');
    const out = reader.push(Buffer.from(text));
    expect(out.data.toString()).toBe('ab');
    expect(out.problems).toHaveLength(2);
    expect(out.problems[0]).toMatch(/^runs\/r1\/terminal\.cast: byte 31: not JSON/);
    expect(out.problems[1]).toContain('byte 41: output event without text');
  });

  it('treats an object after the first line as a problem, not a header', () => {
    const reader = new CastLineReader(10);
    expect(reader.push(Buffer.from('{"version": 2}\n')).problems[0]).toContain('byte 10: not an asciicast event');
  });
});

/** What `JSON.parse` makes of a line: the output event's text as UTF-8, or null for anything else. */
function reference(line: Buffer): Buffer | null {
  try {
    const value = JSON.parse(line.toString('utf8')) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && value[1] === 'o' && typeof value[2] === 'string') {
      return Buffer.from(value[2], 'utf8');
    }
  } catch {
    // not JSON
  }
  return null;
}

describe('the byte-level unescaping of output lines', () => {
  // JSON string content as it appears in a line: escapes, raw UTF-8, and malformed bits (bare quotes and backslashes,
  // short or bad \u escapes, lone surrogates, a raw control character).
  const pieces = [
    'plain ',
    'é',
    '漢字',
    '🚀',
    '\\u001b[31m',
    '"',
    '\\\\',
    '/',
    '\\b',
    '\\f',
    '\\n',
    '\\r',
    '\\t',
    '\\u0000',
    '\\u00e9',
    '\\u6f22',
    '\\ud83d\\ude80',
    '\\ud83d',
    '\\ude80',
    '\\ud83dx',
    '\\u12',
    '\\x',
    '\\u00zz',
    '\\',
    '\\"',
    '\\/',
    '\\u2028',
    '\u0001',
    '\\t\\t',
    '\\U00e9',
  ];
  const frames = [
    (t: string, s: string) => `[${t}, "o", "${s}"]`,
    (t: string, s: string) => `[${t},"o","${s}"]`,
    (t: string, s: string) => `[${t}, "o", "${s}", "extra"]`,
    (t: string, s: string) => `[${t}, "i", "${s}"]`,
    (t: string, s: string) => `[${t}, "o", "${s}"] `,
    (t: string, s: string) => ` [${t}, "o", "${s}"]`,
    (t: string, s: string) => `[${t},  "o", "${s}"]`,
  ];
  const times = ['0.1', '12.345678', '1e3', '-0.5', '1.2E-3', '', 'x', '1..2'];

  it('agrees with JSON.parse on every line, or leaves the line to it', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let fast = 0;
    for (let round = 0; round < 5000; round++) {
      const parts = Array.from({ length: 1 + random(8) }, () => pieces[random(pieces.length)]!);
      // Unescaped `"` and `\` in the pieces make malformed lines too, as intended.
      const text = parts.join('');
      const line = Buffer.from(frames[random(frames.length)]!(times[random(times.length)]!, text), 'utf8');
      const out = Buffer.alloc(line.length + 8, 0xaa);
      const end = unescapeOutputLine(line, out, 3);
      const expected = reference(line);
      if (end >= 0) {
        fast += 1;
        expect(expected, line.toString()).not.toBeNull();
        expect(out.subarray(3, end).equals(expected!), line.toString()).toBe(true);
      }
    }
    // Most well-formed lines take the fast path.
    expect(fast).toBeGreaterThan(1000);
  });

  it('leaves invalid UTF-8 to the slow path, which shows it as U+FFFD', () => {
    const line = Buffer.concat([Buffer.from('[0.1, "o", "a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"]')]);
    expect(unescapeOutputLine(line, Buffer.alloc(64), 0)).toBe(-1);
    const reader = new CastLineReader(0);
    expect(reader.push(Buffer.concat([line, Buffer.from('\n')])).data.toString()).toBe('a\ufffd\ufffdb');
  });

  it('keeps the order of fast and slow lines in one chunk', () => {
    const text = '[0.1, "o", "a"]\n[0.2,"o","b"]\n[0.3, "o", "c", 1]\n[0.4, "o", "\\u00e9"]\n{bad\n[0.5, "o", "d"]\n';
    const reader = new CastLineReader(0, 'terminal.cast', (p) => `<${p.length > 0 ? 'problem' : ''}>`);
    expect(reader.push(Buffer.from(text)).data.toString()).toBe('abcé<problem>d');
  });
});

describe('parseCastHeader', () => {
  it('reads the size, and nothing from a missing or damaged header', () => {
    expect(parseCastHeader('{"version": 2, "width": 120, "height": 40}')).toEqual({
      width: 120,
      height: 40,
      timestamp: null,
    });
    expect(parseCastHeader('{"version": 2, "width": 120, "height": 40, "timestamp": 1763899200}')).toMatchObject({
      timestamp: 1763899200,
    });
    expect(parseCastHeader('')).toEqual({ width: null, height: null });
    expect(parseCastHeader('{"version": 2, "width": "x"}')).toEqual({ width: null, height: null, timestamp: null });
  });
});

describe('resize and marker events', () => {
  it('are reported at their place in the output, with the time of the last line', () => {
    const lines = [
      '{"version": 2, "width": 80, "height": 24}',
      '[0.5, "o", "ab"]',
      '[0.75, "r", "100x30"]',
      '[1.0, "o", "cd"]',
      '[1.25, "m", "epoch 1 done"]',
      '[1.5, "r", "bad"]',
      '[2.5, "o", "é"]',
    ];
    const reader = new CastLineReader(0);
    const first = reader.push(Buffer.from(lines.slice(0, 4).join('\n') + '\n'));
    expect(first.data.toString()).toBe('abcd');
    expect(first.events).toEqual([{ at: 2, kind: 'resize', cols: 100, rows: 30 }]);
    expect(first.time).toBe(1);
    const second = reader.push(Buffer.from(lines.slice(4).join('\n') + '\n'));
    expect(second.data.toString()).toBe('é');
    expect(second.events).toEqual([{ at: 0, kind: 'marker', label: 'epoch 1 done', time: 1.25 }]);
    expect(second.problems).toEqual([expect.stringContaining('resize event without COLSxROWS')]);
    expect(second.time).toBe(2.5);
    expect(reader.lastTime).toBe(2.5);
  });
});
