import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CastEventReader,
  CastHeaderError,
  parseCastHeader,
  parseResize,
} from '../../../../src/shared/replay/asciicast';

const fixtures = path.resolve('test/fixtures/asciinema');

function readAll(text: string) {
  const lines = text.split('\n');
  const header = parseCastHeader(lines[0]!);
  const reader = new CastEventReader(header.version);
  const events = [];
  const problems = [];
  for (let i = 1; i < lines.length; i++) {
    const r = reader.read(lines[i]!);
    if (r.kind === 'event') events.push(r.event);
    else if (r.kind === 'problem') problems.push({ line: i + 1, message: r.message });
  }
  return { header, events, problems };
}

describe('asciicast reader', () => {
  it('reads every fixture cast without a problem', () => {
    const files = readdirSync(fixtures).filter((f) => f.endsWith('.cast'));
    expect(files).toHaveLength(17);
    for (const file of files) {
      const { header, events, problems } = readAll(readFileSync(path.join(fixtures, file), 'utf8'));
      expect(problems, file).toEqual([]);
      expect(events.length, file).toBeGreaterThan(0);
      expect(header.cols, file).toBeGreaterThan(0);
      // Times never go backwards.
      for (let i = 1; i < events.length; i++) expect(events[i]!.time).toBeGreaterThanOrEqual(events[i - 1]!.time);
    }
  });

  it('sums v3 intervals and reads v2 absolute times', () => {
    const v2 = readAll(readFileSync(path.join(fixtures, 'asciinema-cli__full-v2.cast'), 'utf8'));
    const v3 = readAll(readFileSync(path.join(fixtures, 'asciinema-cli__full-v3.cast'), 'utf8'));
    expect(v2.header).toMatchObject({
      version: 2,
      cols: 100,
      rows: 50,
      startedAt: 1509091818000,
      termType: 'xterm-256color',
    });
    expect(v3.header).toMatchObject({ version: 3, cols: 100, rows: 50, startedAt: 1509091818000 });
    expect(v3.events.map((e) => [e.code, e.data])).toEqual(v2.events.map((e) => [e.code, e.data]));
    // The upstream pair has the same events at different times: v2 absolute, v3 the intervals summed.
    expect(v2.events.map((e) => e.time)).toEqual([0.000001, 1.0, 2.3, 5.600001, 10.5]);
    const v3Times = [0.000001, 1.000001, 1.300001, 2.900002, 13.400002];
    v3.events.forEach((e, i) => expect(e.time).toBeCloseTo(v3Times[i]!, 9));
    expect(v2.events.find((e) => e.code === 'r')).toMatchObject({ time: 5.600001, data: '80x40' });
  });

  it('reads the idle time limit, markers and exit events', () => {
    const demo = readAll(readFileSync(path.join(fixtures, 'asciinema-cli__demo.cast'), 'utf8'));
    expect(demo.header.idleTimeLimit).toBe(2);
    const markers = readAll(readFileSync(path.join(fixtures, 'asciinema-player__markers.cast'), 'utf8'));
    expect(markers.events.filter((e) => e.code === 'm').map((e) => [e.time, e.data])).toEqual([
      [0.5, 'first'],
      [1.1, 'second'],
    ]);
    const exit = readAll(readFileSync(path.join(fixtures, 'asciinema-player__resizing.cast'), 'utf8'));
    expect(exit.events.at(-1)).toEqual({ time: 2.1, code: 'x', data: '0' });
  });

  it('skips v3 comments and blank lines; reports each malformed line and reads on', () => {
    const text = [
      '{"version": 3, "term": {"cols": 80, "rows": 24}}',
      '# a comment',
      '',
      '[0.5, "o", "a"]',
      '   ',
      '[0.5, "o", "b"',
      '{"not": "an event"}',
      '[-1, "o", "c"]',
      '[0.5, "o", 3]',
      '[0.5, "", "x"]',
      '[0.5, "r", "wide"]',
      '[0.25, "z", "unknown code: ignored, clock still moves"]',
      '[0.25, "o", "d"]\r',
    ].join('\n');
    const { events, problems } = readAll(text);
    expect(events.map((e) => [e.time, e.data])).toEqual([
      [0.5, 'a'],
      [1, 'd'],
    ]);
    expect(problems).toEqual([
      { line: 6, message: expect.stringMatching(/^not JSON/) },
      { line: 7, message: 'an event must be a JSON array [time, code, data]' },
      { line: 8, message: 'the event time -1 is not a non-negative number' },
      { line: 9, message: 'the event data must be a string' },
      { line: 10, message: 'the event code must be a non-empty string' },
      { line: 11, message: 'a resize event needs "COLSxROWS", got "wide"' },
    ]);
  });

  it('refuses comment lines in v2 and keeps v2 time from going backwards', () => {
    const { events, problems } = readAll(
      ['{"version": 2, "width": 80, "height": 24}', '# no', '[2.0, "o", "a"]', '[1.0, "o", "b"]'].join('\n'),
    );
    expect(problems).toEqual([{ line: 2, message: 'comment lines are v3 only' }]);
    expect(events.map((e) => e.time)).toEqual([2, 2]);
  });

  it('rejects headers it cannot use, saying why', () => {
    const bad = (line: string) => {
      try {
        parseCastHeader(line);
      } catch (err) {
        expect(err).toBeInstanceOf(CastHeaderError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${line}`);
    };
    expect(bad('[0.1, "o", "x"]')).toBe('the header is not a JSON object');
    expect(bad('{"version": 2')).toMatch(/^the header is not JSON/);
    expect(bad('{"version": 1, "stdout": []}')).toMatch(/v1 .* not supported/);
    expect(bad('{"version": 4}')).toBe('unsupported asciicast version 4 (2 and 3 are read)');
    expect(bad('{"version": 2, "width": 0, "height": 24}')).toBe('a v2 header needs positive integer width and height');
    expect(bad('{"version": 3, "width": 80, "height": 24}')).toBe('a v3 header needs a "term" object');
    expect(bad('{"version": 3, "term": {"cols": 80}}')).toBe(
      'a v3 header needs positive integer term.cols and term.rows',
    );
    expect(parseCastHeader('\ufeff{"version": 2, "width": 80, "height": 24}').cols).toBe(80);
  });

  it('parses resize data', () => {
    expect(parseResize('80x24')).toEqual({ cols: 80, rows: 24 });
    expect(parseResize('0x24')).toBeNull();
    expect(parseResize('80 x 24')).toBeNull();
  });
});
