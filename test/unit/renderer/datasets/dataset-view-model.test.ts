import { describe, expect, it } from 'vitest';
import {
  cellFor,
  indexMoving,
  PAGE_ROWS,
  pagesToFetch,
  percent,
  rowCountLabel,
  runBenchmark,
  seekRowLabel,
  shortPages,
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

describe('a file still being counted (issue 21)', () => {
  const index = {
    complete: false,
    rows: 12_345,
    indexedBytes: 1_000_000_000,
    size: 4_000_000_000,
    checked: false,
    checkedBytes: 0,
    indexMBps: null,
    error: null,
  };

  it('says "at least" with the counting progress until the count is complete, then the count', () => {
    expect(rowCountLabel(200, index)).toBe('at least 12,345 rows, counting… 25% of 3.73 GiB');
    expect(rowCountLabel(20_000, index)).toContain('at least 20,000 rows');
    const counted = { ...index, complete: true, rows: 50_000, indexedBytes: index.size, checkedBytes: 1_000_000_000 };
    expect(rowCountLabel(50_000, counted)).toBe('50,000 rows · checking rows for problems 25%');
    expect(rowCountLabel(50_000, { ...counted, checked: true })).toBe('50,000 rows');
    expect(rowCountLabel(301, undefined)).toBe('301 rows');
  });

  it('keeps asking for progress while the host counts or checks, not after, nor after an error', () => {
    expect(indexMoving(index)).toBe(true);
    expect(indexMoving({ ...index, complete: true })).toBe(true);
    expect(indexMoving({ ...index, complete: true, checked: true })).toBe(false);
    expect(indexMoving({ ...index, error: 'OSError: gone' })).toBe(false);
    expect(indexMoving(undefined)).toBe(false);
  });

  it('reads a short page again only once more rows were counted than when it was read', () => {
    const rows = (n: number): unknown[] => Array.from({ length: n });
    const pages = new Map([
      [0, { rows: rows(PAGE_ROWS), total: 300 }],
      [1, { rows: rows(100), total: 300 }],
      [2, { rows: rows(0), total: 300 }],
    ]);
    expect(shortPages(pages, 300)).toEqual([]);
    expect(shortPages(pages, 450)).toEqual([1, 2]);
    expect(shortPages(new Map([[1, { rows: rows(100), total: 450 }]]), 450)).toEqual([]);
  });

  it('names a row reached by byte offset by its number once counted, else by its byte', () => {
    expect(seekRowLabel({ row: null, line: null, byte: 123_456 })).toBe('byte 123,456');
    expect(seekRowLabel({ row: 42, line: 43, byte: 9 })).toBe('row 42');
    expect(percent(1, 3)).toBe('33%');
    expect(percent(5, 0)).toBe('100%');
  });
});
