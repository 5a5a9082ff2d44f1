import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatRunTable,
  outcomeLine,
  parseEnvOptions,
  parseGpusOption,
  parseTaskOption,
  specFromOptions,
} from '../../../../src/main/cli/run-commands';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { capture } from '../../../support/cli-capture';
import type { RunSummary } from '../../../../src/shared/contract';

describe('ptw run options', () => {
  it('read tasks, GPUs and env', () => {
    expect(parseTaskOption('rehearsal')).toEqual({ kind: 'rehearsal' });
    expect(parseTaskOption('gsm8k:Qwen/Qwen3-4B-Base')).toEqual({
      kind: 'ptb',
      benchmark: 'gsm8k',
      baseModel: 'Qwen/Qwen3-4B-Base',
    });
    expect(parseTaskOption('gsm8k', 'Qwen3-4B-Base')).toMatchObject({ baseModel: 'Qwen3-4B-Base' });
    expect(() => parseTaskOption('gsm8k')).toThrow('--task gsm8k:Qwen3-4B-Base');
    expect(parseGpusOption('0,1')).toEqual([0, 1]);
    expect(parseGpusOption('none')).toEqual([]);
    expect(() => parseGpusOption('gpu0')).toThrow('--gpus takes GPU indices');
    expect(parseEnvOptions(['A=1', 'B=x=y'])).toEqual({ A: '1', B: 'x=y' });
    expect(() => parseEnvOptions(['=1'])).toThrow('KEY=VALUE');
  });

  it('build a spec from a file and flags, flags winning', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-spec-'));
    try {
      const file = path.join(dir, 'spec.json');
      await writeFile(
        file,
        JSON.stringify({ host: 'a', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, env: { X: '1' } }),
      );
      const spec = await specFromOptions({
        spec: file,
        host: 'b',
        budget: '20s',
        env: ['Y=2'],
        gpus: '0',
        network: 'off',
      });
      expect(spec).toEqual({
        host: 'b',
        task: { kind: 'rehearsal' },
        agent: { id: 'rehearsal' },
        budgetSeconds: '20s',
        env: { X: '1', Y: '2' },
        gpus: [0],
        network: 'off',
      });
      await expect(specFromOptions({ env: [] })).rejects.toThrow('--host NAME');
      await expect(
        specFromOptions({ host: 'h', task: 'rehearsal', agent: 'custom', command: '[oops', env: [] }),
      ).rejects.toThrow('--command takes a JSON argv list');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('say how a run ended in one line', () => {
    const run: RunSummary = {
      id: 'r-20261123-120000-ab12',
      label: '',
      host: 'gpu1',
      status: 'scored',
      createdAt: '2026-11-23T12:00:00.000Z',
      task: 'rehearsal',
      agent: 'rehearsal',
      score: 80,
      startedAt: 0,
      stoppedAt: 20_000,
      stopReason: 'budget',
    };
    expect(outcomeLine(run)).toBe('run r-20261123-120000-ab12 scored; score 80.0; the budget ran out after 20s\n');
    expect(formatRunTable([run])).toContain('r-20261123-120000-ab12  gpu1  scored  rehearsal  rehearsal');
  });
});

describe('ptw run without hosts', () => {
  let home: string;
  const previous = process.env.PTW_HOME;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
    process.env.PTW_HOME = home;
  });
  afterEach(async () => {
    if (previous === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previous;
    await rm(home, { recursive: true, force: true });
  });

  it('lists no runs, and names unknown runs and hosts with exit 2', async () => {
    const io = capture();
    expect(await runCli(['run', 'ls', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout)).toEqual([]);
    const show = capture();
    expect(await runCli(['run', 'show', 'r-20261123-120000-ab12'], show)).toBe(2);
    expect(show.stderr).toContain('No run r-20261123-120000-ab12 here or on any host');
    const bad = capture();
    expect(await runCli(['run', 'show', '../etc'], bad)).toBe(2);
    expect(bad.stderr).toContain('is not a run id');
    const start = capture();
    expect(await runCli(['run', 'start', '--host', 'nope', '--task', 'rehearsal', '--agent', 'rehearsal'], start)).toBe(
      2,
    );
    expect(start.stderr).toContain('nope');
  });
});
