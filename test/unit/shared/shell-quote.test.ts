import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { shellQuote } from '../../../src/shared/shell-quote';

const run = promisify(execFile);

describe('shellQuote', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(shellQuote('plain-word_1.2/x')).toBe('plain-word_1.2/x');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('~/x')).toBe(`'~/x'`);
  });

  it('reads back unchanged in a real sh, whatever the word holds', async () => {
    const words = ['', 'plain', "it's", 'a b', '$(rm -rf /)', '`x`', 'line\nbreak', '*', '~', '\\', '"q"', 'ä→✓'];
    const { stdout } = await run('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]);
    expect(stdout.split('\0').slice(0, -1)).toEqual(words);
  });
});
