import { describe, expect, it } from 'vitest';
import { TerminalTextSearch, TerminalTextStripper } from '../../../../src/shared/replay/terminal-text-search';

describe('terminal text stripper', () => {
  it('removes CSI, OSC and other escapes, across chunk boundaries', () => {
    const s = new TerminalTextStripper();
    const out = [
      '\x1b[1;3',
      '1mred\x1b[0m \x1b]0;title\x07ok \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\',
      ' \x1b(Bdone\r\nnext\tcol\x07',
    ]
      .map((c) => s.push(c))
      .join('');
    expect(out).toBe('red ok link done\n\nnext col');
  });
});

describe('terminal text search', () => {
  it('finds a match split over events and escape codes, case-insensitively, with its line as excerpt', () => {
    const strip = new TerminalTextStripper();
    const search = new TerminalTextSearch<number>('Loss=0.5', 10);
    const events = ['epoch 3 \x1b[1mlo', 'ss\x1b[0m=0.', '5 done\r\nnext line LOSS=0.5', '1\r\n'];
    events.forEach((e, i) => search.push(strip.push(e), i));
    expect(search.finish()).toEqual([
      { at: 2, excerpt: 'epoch 3 loss=0.5 done', matchStart: 8 },
      { at: 2, excerpt: 'next line LOSS=0.51', matchStart: 10 },
    ]);
  });

  it('stops at the limit', () => {
    const search = new TerminalTextSearch<number>('a', 3);
    search.push('aaaaa\n', 0);
    expect(search.full).toBe(true);
    expect(search.finish()).toHaveLength(3);
  });
});
