import { describe, expect, it } from 'vitest';
import { CastLineReader, parseCastHeader } from '../../../../src/main/live/cast-line-reader';

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
        expect(out.map((o) => o.data).join('')).toBe('hello wörld 漢\r\n\x1b[31mred\x1b[0m');
        expect(out.at(-1)!.offset).toBe(bytes.length);
        expect(out.flatMap((o) => o.problems)).toEqual([]);
      }
    }
  });

  it('holds back a line until its newline arrives, and counts offsets from where it started', () => {
    const start = 1_000;
    const reader = new CastLineReader(start);
    const first = reader.push(Buffer.from('[1.0, "o", "ab'));
    expect(first).toEqual({ data: '', offset: start, problems: [] });
    expect(reader.heldBack).toBe(14);
    const second = reader.push(Buffer.from('c"]\n[1.1, "o", "d"]\n[1.2'));
    expect(second.data).toBe('abcd');
    expect(second.offset).toBe(start + '[1.0, "o", "abc"]\n[1.1, "o", "d"]\n'.length);
    expect(reader.heldBack).toBe(4);
  });

  it('reports a malformed line with its byte offset and goes on with the rest', () => {
    const text = '{"version": 2}\n[0.1, "o", "a"]\n{not json\n[0.2, "o", 5]\n[0.3, "o", "b"]\n';
    const reader = new CastLineReader(0, 'runs/r1/terminal.cast');
    const out = reader.push(Buffer.from(text));
    expect(out.data).toBe('ab');
    expect(out.problems).toHaveLength(2);
    expect(out.problems[0]).toMatch(/^runs\/r1\/terminal\.cast: byte 31: not JSON/);
    expect(out.problems[1]).toContain('byte 41: output event without text');
  });

  it('treats an object after the first line as a problem, not a header', () => {
    const reader = new CastLineReader(10);
    expect(reader.push(Buffer.from('{"version": 2}\n')).problems[0]).toContain('byte 10: not an asciicast event');
  });
});

describe('parseCastHeader', () => {
  it('reads the size, and nothing from a missing or damaged header', () => {
    expect(parseCastHeader('{"version": 2, "width": 120, "height": 40}')).toEqual({ width: 120, height: 40 });
    expect(parseCastHeader('')).toEqual({ width: null, height: null });
    expect(parseCastHeader('{"version": 2, "width": "x"}')).toEqual({ width: null, height: null });
  });
});
