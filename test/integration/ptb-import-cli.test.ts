// `ptw import ptb PATH` as a user runs it (the built CLI, its own PTW_HOME): the real PostTrainBench Codex run
// fixture becomes a run with its metrics and steps, `ptw run ls` / `ptw run show` see it (and never try to reach a
// host for it), a second import skips it, and a folder that is not a result is reported, not imported.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PtbImportResult } from '../../src/shared/contract-trajectory';
import { runPtw } from '../support/run-cli';

const fixture = path.resolve('test/fixtures/posttrainbench/runs');

describe('ptw import ptb', () => {
  let work: string;
  let env: Record<string, string>;
  let results: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-ptb-import-'));
    results = path.join(work, 'results');
    await cp(fixture, results, { recursive: true });
    // A job that died before the agent printed anything: only error.log, no trace and no metrics.
    const dead = path.join(results, 'claude_non_api_claude-sonnet-4-6_10h', 'gsm8k_Qwen_Qwen3-4B-Base_1');
    await mkdir(dead, { recursive: true });
    await writeFile(path.join(dead, 'error.log'), 'Killed\n');
    // The newer judge's verdict file (run_judge.sh), next to the real trace and metrics.
    await writeFile(
      path.join(
        results,
        'codex_non_api_high_gpt-5.4_10h_run1',
        'gsm8k_Qwen_Qwen3-1.7B-Base_16934887',
        'judgement_gpt5_4.json',
      ),
      JSON.stringify({
        contamination: false,
        disallowed_model: false,
        justification_contamination: 'Only the GSM8K train split was used.',
        justification_disallowed_model: 'Qwen/Qwen3-1.7B-Base was fine-tuned directly.',
      }),
    );
    env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
    await mkdir(env.HOME!, { recursive: true });
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports the Codex run with its metrics and steps', async () => {
    const result = await runPtw(['import', 'ptb', results, '--json'], env);
    expect(result.stderr).toBe('');
    const out = JSON.parse(result.stdout) as PtbImportResult;
    expect(out.imported).toHaveLength(1);
    const run = out.imported[0]!;
    expect(run).toMatchObject({
      folder: 'codex_non_api_high_gpt-5.4_10h_run1/gsm8k_Qwen_Qwen3-1.7B-Base_16934887',
      task: 'gsm8k · Qwen3-1.7B-Base',
      agent: 'codex · gpt-5.4',
      status: 'scored',
      steps: 28,
    });
    expect(run.score).toBeCloseTo(42.68385140257771, 10);
    // The result folder without trace or metrics is reported with why; the exit code says not all went in.
    expect(out.skipped).toEqual([
      {
        folder: 'claude_non_api_claude-sonnet-4-6_10h/gsm8k_Qwen_Qwen3-4B-Base_1',
        reason: expect.stringContaining('neither solve_out.txt'),
      },
    ]);
    expect(result.code).toBe(1);

    const dir = path.join(env.PTW_HOME!, 'runs', run.id);
    expect((await readdir(dir)).sort()).toEqual(
      ['agent-stream.jsonl', 'eval', 'events.jsonl', 'ptb', 'run.json', 'state.json', 'sync.json'].sort(),
    );
    // The trace is kept verbatim; metrics.json too.
    const source = path.join(results, 'codex_non_api_high_gpt-5.4_10h_run1', 'gsm8k_Qwen_Qwen3-1.7B-Base_16934887');
    expect(await readFile(path.join(dir, 'agent-stream.jsonl'), 'utf8')).toBe(
      await readFile(path.join(source, 'solve_out.txt'), 'utf8'),
    );
    expect(await readFile(path.join(dir, 'eval', 'metrics.json'), 'utf8')).toBe(
      await readFile(path.join(source, 'metrics.json'), 'utf8'),
    );

    const show = await runPtw(['run', 'show', run.id], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('status:      scored');
    expect(show.stdout).toContain('accuracy=0.4268385140257771');
    expect(show.stdout).not.toContain('last sync failed');
    // Each verdict with its justification, in text and in JSON.
    expect(show.stdout).toContain('judge:       contamination: clean (judgement_gpt5_4.json)');
    expect(show.stdout).toContain('             Only the GSM8K train split was used.');
    const shown = JSON.parse((await runPtw(['run', 'show', run.id, '--json'], env)).stdout) as {
      ptb: { judgements: Array<{ check: string; flagged: boolean; text: string }>; trace: string };
    };
    expect(shown.ptb.trace).toBe('solve_out.txt');
    expect(shown.ptb.judgements).toEqual([
      expect.objectContaining({ check: 'contamination', flagged: false, text: 'Only the GSM8K train split was used.' }),
      expect.objectContaining({
        check: 'disallowed_model',
        flagged: false,
        text: 'Qwen/Qwen3-1.7B-Base was fine-tuned directly.',
      }),
    ]);

    const ls = await runPtw(['run', 'ls', '--no-sync', '--json'], env);
    const listed = JSON.parse(ls.stdout) as Array<{
      id: string;
      host: string;
      score: number;
      syncError: string | null;
    }>;
    expect(listed).toEqual([expect.objectContaining({ id: run.id, host: 'posttrainbench', syncError: null })]);
    expect(listed[0]!.score).toBeCloseTo(42.68, 2);
  });

  it('skips what it already imported, and says why', async () => {
    await rm(path.join(results, 'claude_non_api_claude-sonnet-4-6_10h'), { recursive: true });
    const again = await runPtw(['import', 'ptb', results], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing imported.');
    expect(again.stdout).toMatch(
      /skipped codex_non_api_high_gpt-5\.4_10h_run1\/gsm8k_Qwen_Qwen3-1\.7B-Base_16934887: already imported as r-\d{8}-\d{6}-[a-z0-9]+/,
    );
  });

  it('reports a path that is not there, or holds no results', async () => {
    const missing = await runPtw(['import', 'ptb', path.join(work, 'nope')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const empty = path.join(work, 'empty');
    await mkdir(empty);
    const none = await runPtw(['import', 'ptb', empty], env);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('no result folders found');
  });
});
