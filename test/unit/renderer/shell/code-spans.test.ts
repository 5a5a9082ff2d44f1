import { describe, expect, it } from 'vitest';
import { splitCodeSpans } from '../../../../src/renderer/shell/code-spans';

describe('splitCodeSpans', () => {
  it('marks backticked spans as code', () => {
    expect(splitCodeSpans('Open the URL printed by `ptw serve`, then `reload`.')).toEqual([
      { text: 'Open the URL printed by ', code: false },
      { text: 'ptw serve', code: true },
      { text: ', then ', code: false },
      { text: 'reload', code: true },
      { text: '.', code: false },
    ]);
  });

  it('returns plain text unchanged and keeps an unpaired backtick', () => {
    expect(splitCodeSpans('plain')).toEqual([{ text: 'plain', code: false }]);
    expect(splitCodeSpans('a ` b')).toEqual([{ text: 'a ` b', code: false }]);
    expect(splitCodeSpans('')).toEqual([]);
  });

  it('keeps markup as literal text', () => {
    expect(splitCodeSpans('<img src=x onerror=alert(1)>')).toEqual([
      { text: '<img src=x onerror=alert(1)>', code: false },
    ]);
  });
});
