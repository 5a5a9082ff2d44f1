// `ptw bundle export|import` with the built CLI, as a user runs it: the example run the app ships imported into an
// empty PTW_HOME, listed and shown with no host, exported again (never over an existing file), refused when it
// exists or the file is damaged, and never handed to a host's supervisor.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_BUNDLE } from '../../src/main/runs/bundle-service';
import type { RunDetail, RunSummary } from '../../src/shared/contract';
import type { BundleExportResult } from '../../src/shared/contract-bundle';
import { runPtw } from '../support/run-cli';

const example = path.resolve(__dirname, '..', '..', 'resources', EXAMPLE_BUNDLE);

describe('ptw bundle', () => {
  let work: string;
  let env: Record<string, string>;
  const ptw = (...args: string[]) => runPtw(args, env);

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bundle-cli-'));
    env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
  });

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('imports, lists, shows, exports and refuses', async () => {
    const imported = await ptw('bundle', 'import', example);
    expect(imported.code, imported.stderr).toBe(0);
    const id = imported.stdout.trim();
    expect(id).toMatch(/^r-\d{8}-\d{6}-[a-z0-9]+$/);
    expect(imported.stderr).toContain(`ptw run show ${id}`);

    const listed = await ptw('run', 'ls', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as RunSummary[];
    expect(runs).toEqual([expect.objectContaining({ id, status: 'scored', task: 'rehearsal', syncError: null })]);

    const shown = await ptw('run', 'show', id, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout) as RunDetail;
    expect(detail.summary.status).toBe('scored');
    expect(detail.metrics).toMatchObject({ accuracy: expect.any(Number) });
    expect(detail.events.some((e) => e.type === 'scored' || e.type === 'evaluation-finished')).toBe(true);

    const stop = await ptw('run', 'stop', id);
    expect(stop.code).not.toBe(0);
    expect(stop.stderr).toMatch(/was imported from .* it has no host, so nothing runs on one for it/);

    const file = path.join(work, 'again.ptwrun.tar.gz');
    const exported = await ptw('bundle', 'export', id, file, '--json');
    expect(exported.code, exported.stderr).toBe(0);
    const result = JSON.parse(exported.stdout) as BundleExportResult;
    expect(result).toMatchObject({ file, files: expect.any(Number) });
    expect(existsSync(file)).toBe(true);

    const overwrite = await ptw('bundle', 'export', id, file);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toContain(`${file} already exists`);

    const twice = await ptw('bundle', 'import', file);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`Run ${id} already exists`);

    const cut = path.join(work, 'cut.ptwrun.tar.gz');
    const whole = readFileSync(file);
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    const other = { ...env, PTW_HOME: path.join(work, 'other-home') };
    const damaged = await runPtw(['bundle', 'import', cut], other);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/cut\.ptwrun\.tar\.gz: it is not a complete gzip'd tar .*; nothing was imported/);
    expect(existsSync(path.join(work, 'other-home', 'runs', id))).toBe(false);

    const nothing = await ptw('bundle', 'import', path.join(work, 'nope.tgz'));
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nope.tgz cannot be read');
  });
});
