import { describe, expect, it } from 'vitest';
import {
  cellText,
  chatMessages,
  csvRow,
  parseCsvRecords,
  splitMarked,
} from '../../../../src/shared/datasets/dataset-rows';

describe('parseCsvRecords', () => {
  it('reads quoted commas, doubled quotes and newlines inside quotes, with each record’s first line', () => {
    const records = parseCsvRecords('a,"b,c"\n"two\nlines","say ""hi"""\r\n\nlast,\n');
    expect(records).toEqual([
      { fields: ['a', 'b,c'], line: 0 },
      { fields: ['two\nlines', 'say "hi"'], line: 1 },
      { fields: ['last', ''], line: 4 },
    ]);
  });

  it('marks a quoted field left open at the end', () => {
    expect(parseCsvRecords('x,"never closed\nmore')).toEqual([
      { fields: ['x', 'never closed\nmore'], line: 0, unterminated: true },
    ]);
  });

  it('keys fields by the header and names a wrong width', () => {
    expect(csvRow(['a', 'b'], ['1'])).toEqual({ value: { a: '1', b: null }, error: 'has 1 fields, the header has 2' });
    expect(csvRow(['a'], ['1'])).toEqual({ value: { a: '1' } });
  });
});

describe('chatMessages', () => {
  it('reads OpenAI-style messages and ShareGPT conversations, joining text parts', () => {
    expect(
      chatMessages({
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'hi' }, 'there'] },
          { role: 'assistant', content: 'yo' },
        ],
      }),
    ).toEqual([
      { role: 'user', content: 'hi\nthere' },
      { role: 'assistant', content: 'yo' },
    ]);
    expect(chatMessages({ conversations: [{ from: 'human', value: 'q' }] })).toEqual([{ role: 'human', content: 'q' }]);
  });

  it('is null for rows that are not conversations', () => {
    expect(chatMessages({ text: 'x' })).toBeNull();
    expect(chatMessages({ messages: ['not an object'] })).toBeNull();
    expect(chatMessages([1, 2])).toBeNull();
    expect(chatMessages('<script>alert(1)</script>')).toBeNull();
  });
});

describe('splitMarked', () => {
  it('splits text into plain and marked pieces, merging overlapping ranges', () => {
    expect(
      splitMarked('abcdefgh', [
        { start: 5, end: 7 },
        { start: 1, end: 3 },
        { start: 2, end: 4 },
      ]),
    ).toEqual([
      { text: 'a', mark: false },
      { text: 'bc', mark: true },
      { text: 'd', mark: true },
      { text: 'e', mark: false },
      { text: 'fg', mark: true },
      { text: 'h', mark: false },
    ]);
  });

  it('clamps ranges to the text and ignores empty ones', () => {
    expect(
      splitMarked('abc', [
        { start: -5, end: 1 },
        { start: 2, end: 99 },
        { start: 1, end: 1 },
      ]),
    ).toEqual([
      { text: 'a', mark: true },
      { text: 'b', mark: false },
      { text: 'c', mark: true },
    ]);
  });
});

describe('cellText', () => {
  it('makes a one-line preview', () => {
    expect(cellText('a\n\n b')).toBe('a b');
    expect(cellText({ x: 1 })).toBe('{"x":1}');
    expect(cellText('x'.repeat(10), 5)).toBe('xxxx…');
  });
});
