// `ptw replay FILE --info [--json]`: any asciicast file (the real asciinema fixtures, v2 and v3), without a run:
// header, duration, event count, and each bad line with its number, serving nothing. A file that is no cast at all
// is a usage error with why.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayIndexSchema } from '../../../../src/shared/contract-replay';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { capture } from '../../../support/cli-capture';

const fixtures = path.resolve('test/fixtures/asciinema');

describe('ptw replay FILE --info', () => {
  let home: string;
  const previous = process.env.PTW_HOME;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-replay-cli-'));
    process.env.PTW_HOME = path.join(home, 'ptw');
  });
  afterEach(async () => {
    if (previous === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previous;
    await rm(home, { recursive: true, force: true });
  });

  it('prints the header, duration and events of a v2 and a v3 cast, as JSON too', async () => {
    for (const name of ['asciinema-server__v2-full.cast', 'asciinema-cli__full-v3.cast']) {
      const file = path.join(home, name);
      await copyFile(path.join(fixtures, name), file);
      const io = capture();
      expect(await runCli(['replay', file, '--info', '--json'], io)).toBe(0);
      expect(io.stderr).toBe('');
      const index = replayIndexSchema.parse(JSON.parse(io.stdout));
      expect(index).toMatchObject({ file, problemCount: 0, header: { version: name.includes('v3') ? 3 : 2 } });
      expect(index.eventCount).toBeGreaterThan(0);
      expect(index.duration).toBeGreaterThan(0);
      const text = capture();
      expect(await runCli(['replay', file, '--info'], text)).toBe(0);
      expect(text.stdout).toContain(`events:    ${index.eventCount}`);
      expect(text.stdout).toContain('problems:  0');
    }
  });

  it('reports each bad line by its number, and intervals that add up past any finite duration', async () => {
    const lines = (await readFile(path.join(fixtures, 'asciinema-cli__minimal-v3.cast'), 'utf8')).split('\n');
    const file = path.join(home, 'bad.cast');
    await writeFile(
      file,
      [
        lines[0],
        '[0.5, "o", "hello"]',
        'this is not JSON',
        '[1e308, "o", "a"]',
        '[1e308, "o", "b"]',
        '[0.1, "o", "c"]',
        '',
      ].join('\n'),
    );
    const io = capture();
    expect(await runCli(['replay', file, '--info'], io)).toBe(0);
    expect(io.stdout).toMatch(/^ {2}line 3: not JSON/m);
    expect(io.stdout).toMatch(/^ {2}line 5: the event time 1e\+308 takes the cast past any finite duration/m);
    expect(io.stdout).toContain('problems:  2');
    const json = capture();
    expect(await runCli(['replay', file, '--info', '--json'], json)).toBe(0);
    const index = replayIndexSchema.parse(JSON.parse(json.stdout));
    expect(Number.isFinite(index.duration)).toBe(true);
    expect(index.problems.map((p) => p.line)).toEqual([3, 5]);
  });

  it('says why a file is no cast, and a missing one', async () => {
    const file = path.join(home, 'notes.txt');
    await writeFile(file, 'just some notes\n');
    const io = capture();
    expect(await runCli(['replay', file, '--info'], io)).toBe(2);
    expect(io.stderr).toMatch(/^ptw: .*not JSON/);
    const missing = capture();
    expect(await runCli(['replay', path.join(home, 'nope.cast'), '--info'], missing)).toBe(2);
    expect(missing.stderr).toContain('does not exist');
  });
});
