// The escape carry hands on only chunks that end with the parser at rest, and loses or reorders nothing.
import { describe, expect, it } from 'vitest';
import { EscapeCarry, MAX_HELD, unfinishedEscapeAt } from '../../../../src/main/live/escape-carry';
import { floodText } from '../../../support/live-screens';

describe('unfinishedEscapeAt', () => {
  it('finds sequences cut before their end, and only those', () => {
    const at = (s: string) => unfinishedEscapeAt(Buffer.from(s));
    expect(at('plain')).toBe(-1);
    expect(at('a\x1b')).toBe(1);
    expect(at('a\x1b[')).toBe(1);
    expect(at('a\x1b[38;5;2')).toBe(1);
    expect(at('a\x1b[38;5;2m')).toBe(-1);
    expect(at('a\x1b[?1049')).toBe(1);
    expect(at('a\x1b[?1049h')).toBe(-1);
    expect(at('a\x1b]0;title')).toBe(1);
    expect(at('a\x1b]0;title\x07')).toBe(-1);
    expect(at('a\x1b]0;title\x1b')).toBe(1);
    expect(at('a\x1b]0;t\x07b\x1b')).toBe(8);
    expect(at('a\x1b]0;title\x1b\\')).toBe(-1);
    expect(at('a\x1bP1$r')).toBe(1);
    expect(at('a\x1b(')).toBe(1);
    expect(at('a\x1b(B')).toBe(-1);
    expect(at('a\x1b7')).toBe(-1);
    expect(at('a\x1b[1;2\r')).toBe(-1);
  });
});

describe('EscapeCarry', () => {
  const text = Buffer.from(floodText(0, 400) + '\x1b]0;a title\x07done\x1b[31');

  it('at every cut of a flood, hands on everything in order, each piece ending at rest', () => {
    for (let cut = 1; cut < 3000; cut += 7) {
      const carry = new EscapeCarry();
      const out: Buffer[] = [];
      for (let at = 0; at < text.length; at += cut) {
        const piece = carry.push(text.subarray(at, at + cut));
        expect(unfinishedEscapeAt(piece), `cut ${cut} at ${at}`).toBe(-1);
        out.push(piece);
      }
      out.push(carry.flush());
      expect(Buffer.concat(out).equals(text), `cut ${cut}`).toBe(true);
    }
  });

  it('lets a sequence longer than it keeps through', () => {
    const carry = new EscapeCarry();
    const huge = Buffer.from(`\x1b]52;c;${'A'.repeat(MAX_HELD)}`);
    expect(carry.push(huge.subarray(0, 100)).length).toBe(0);
    expect(carry.heldBytes).toBe(100);
    expect(carry.push(huge.subarray(100)).length).toBe(huge.length);
    expect(carry.heldBytes).toBe(0);
  });
});
