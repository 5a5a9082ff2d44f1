import { describe, expect, it } from 'vitest';
import {
  cellFor,
  PAGE_ROWS,
  pagesToFetch,
  runBenchmark,
  tableColumns,
} from '../../../../src/renderer/datasets/dataset-view-model';

describe('dataset view model', () => {
  it('asks for the pages a scroll window needs, once', () => {
    expect(pagesToFetch(0, 10, new Set())).toEqual([0]);
    expect(pagesToFetch(PAGE_ROWS - 5, PAGE_ROWS * 2 + 1, new Set([1]))).toEqual([0, 2]);
    expect(pagesToFetch(5, 4, new Set())).toEqual([]);
  });

  it('takes columns from the CSV header or the first rows’ keys', () => {
    expect(tableColumns([], ['a', 'b'])).toEqual(['a', 'b']);
    expect(
      tableColumns([
        { row: 0, line: 1, value: { q: 1 } },
        { row: 1, line: 2, value: { q: 2, a: 3 } },
      ]),
    ).toEqual(['q', 'a']);
    expect(tableColumns([{ row: 0, line: 1, value: 5 }])).toEqual(['value']);
  });

  it('shows a conversation as role: content, and a broken row’s raw text in the first column', () => {
    const chat = {
      row: 0,
      line: 1,
      value: {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      },
    };
    expect(cellFor(chat, 'messages', 0)).toBe('user: hi · assistant: yo');
    const broken = { row: 1, line: 2, raw: '{"a": ', error: 'Unexpected end' };
    expect(cellFor(broken, 'a', 0)).toBe('{"a": ');
    expect(cellFor(broken, 'b', 1)).toBe('');
  });

  it('defaults the overlap benchmark to the run’s task', () => {
    expect(runBenchmark({ task: { kind: 'ptb', benchmark: 'gsm8k' } })).toBe('gsm8k');
    expect(runBenchmark({ task: { kind: 'rehearsal' } })).toBe('rehearsal');
    expect(runBenchmark(null)).toBe('');
  });
});
