// The dataset inspector's host helper (the host package's `data` subcommand, resources/host/ptw_host/datasets/, run
// here with this machine's python3) and the app's row parser agree on what a row holds and which rows are broken:
// 64-bit integers exact, 1e400, NaN and Infinity as the file writes them, and a row nested thousands of levels deep
// one row's problem, not a traceback.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellText } from '../../../src/shared/datasets/dataset-rows';
import { exactJsonText, parseJsonExact } from '../../../src/shared/datasets/exact-json';
import { hostPackageArgv, hostPackageEnv } from '../../support/host-package-cli';

const deep = `{"deep":${'['.repeat(3000)}1${']'.repeat(3000)}}`;
const lines = [
  '{"id":9007199254740993,"score":1e400,"loss":NaN,"lr":-Infinity,"p":0.1}',
  deep,
  '{"id":2,"text":"fine"}',
  '{"broken":',
];

function run(args: string[]): { status: number | null; json: unknown; stderr: string } {
  const r = spawnSync('python3', hostPackageArgv('data', args), {
    encoding: 'utf8',
    timeout: 60_000,
    env: hostPackageEnv(),
  });
  return {
    status: r.status,
    json: r.stdout ? parseJsonExact(r.stdout, Number.MAX_SAFE_INTEGER) : null,
    stderr: r.stderr,
  };
}

describe('dataset values as the file writes them', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ptw-data-fidelity-'));
    writeFileSync(path.join(work, 'rows.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(path.join(work, 'rows.json'), `[${lines[0]}, {"id": 18446744073709551615}]`);
    writeFileSync(path.join(work, 'deep.json'), `[${deep}]`);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('parses a row keeping 64-bit integers, 1e400, NaN and Infinity as written', () => {
    const value = parseJsonExact(lines[0]!);
    expect(exactJsonText(value)).toBe(lines[0]);
    expect(cellText((value as Record<string, unknown>).id)).toBe('9007199254740993');
    expect(cellText((value as Record<string, unknown>).score)).toBe('1e400');
    expect(() => parseJsonExact(deep)).toThrow('nests deeper than 512 levels');
  });

  it('counts the same broken rows on the host as the page shows, and answers for a deep row', () => {
    const shown = lines.map((l) => {
      try {
        parseJsonExact(l);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(shown.map((s) => s !== null)).toEqual([false, true, false, true]);

    const cache = path.join(work, 'cache');
    const index = run(['index', '--workspace', work, '--file', 'rows.jsonl', '--cache-dir', cache]);
    expect(index.stderr).toBe('');
    expect(index.status).toBe(0);
    expect(index.json).toMatchObject({ rows: 4, problemCount: 2 });
    const problems = (index.json as { problems: Array<{ line: number; message: string }> }).problems;
    expect(problems.map((p) => p.line)).toEqual([2, 4]);
    expect(problems[0]!.message).toBe('nests deeper than 512 levels');

    const stats = run(['stats', '--workspace', work, '--file', 'rows.jsonl']);
    expect(stats.stderr).toBe('');
    expect(stats.json).toMatchObject({ rows: 2, problemCount: 2 });
    // The numbers count as numbers.
    const fields = (stats.json as { fields: Array<{ name: string; types: Record<string, number> }> }).fields;
    expect(fields.find((f) => f.name === 'score')?.types).toEqual({ number: 1 });
  });

  it('pages a JSON array with its numbers exact, and refuses a too-deep one with why (no traceback)', () => {
    const page = run(['page', '--workspace', work, '--file', 'rows.json', '--offset', '0', '--limit', '10']);
    expect(page.stderr).toBe('');
    const rows = (page.json as { rows: Array<{ value: unknown }> }).rows;
    expect(rows.map((r) => exactJsonText(r.value))).toEqual([
      '{"id":9007199254740993,"score":1e400,"loss":NaN,"lr":-Infinity,"p":0.1}',
      '{"id":18446744073709551615}',
    ]);
    const refused = run(['page', '--workspace', work, '--file', 'deep.json', '--offset', '0', '--limit', '10']);
    expect(refused.stderr).toBe('');
    expect(refused.status).toBe(3);
    expect(refused.json).toEqual({
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('nests deeper than 513 levels') },
    });
  });
});
