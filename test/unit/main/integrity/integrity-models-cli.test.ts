// `ptw integrity models`: the base ↔ instruct table shown, extended and trimmed through the router, kept under
// PTW_HOME, and handed to the checks: pointing a built-in base at an instruct model the cache does not hold turns
// the substitution check of an instruct copy from a flag into not-run naming that model.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { integrityModelsSchema, integrityVerdictSchema } from '../../../../src/shared/contract-integrity';
import { capture } from '../../../support/cli-capture';
import { generateScenarios, importScenarios, scenarioRefs } from '../../../support/integrity-scenarios';

describe('ptw integrity models', () => {
  let work: string;
  let out: string;
  let runId: string;
  const previousHome = process.env.PTW_HOME;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-integrity-models-'));
    out = path.join(work, 'scenarios');
    generateScenarios(out, ['subst-instruct-copy']);
    process.env.PTW_HOME = path.join(work, 'home');
    runId = (await importScenarios(out))[0]!.id;
  }, 60_000);

  afterAll(async () => {
    if (previousHome === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previousHome;
    await rm(work, { recursive: true, force: true });
  });

  const models = async (...args: string[]) => {
    const io = capture();
    const code = await runCli(['integrity', 'models', ...args, '--json'], io);
    return { code, io, table: code === 0 ? integrityModelsSchema.parse(JSON.parse(io.stdout)) : null };
  };

  const substitution = async () => {
    const io = capture();
    await runCli(['integrity', 'check', runId, '--json', ...scenarioRefs(out)], io);
    const verdict = integrityVerdictSchema.parse(JSON.parse(io.stdout));
    return {
      check: verdict.checks.find((c) => c.kind === 'model_substitution')!,
      flagged: verdict.flags.some((f) => f.kind === 'model_substitution'),
    };
  };

  it('lists the four built-in pairs, and prints them as a table', async () => {
    const { table } = await models();
    expect(table!.pairs).toEqual([
      { base: 'Qwen/Qwen3-1.7B-Base', instruct: 'Qwen/Qwen3-1.7B', source: 'built-in' },
      { base: 'Qwen/Qwen3-4B-Base', instruct: 'Qwen/Qwen3-4B', source: 'built-in' },
      { base: 'HuggingFaceTB/SmolLM3-3B-Base', instruct: 'HuggingFaceTB/SmolLM3-3B', source: 'built-in' },
      { base: 'google/gemma-3-4b-pt', instruct: 'google/gemma-3-4b-it', source: 'built-in' },
    ]);
    expect(table!.file).toBe(path.join(process.env.PTW_HOME!, 'integrity-models.json'));
    const io = capture();
    expect(await runCli(['integrity', 'models'], io)).toBe(0);
    expect(io.stdout).toMatch(/^BASE\s+INSTRUCT\s+SOURCE\n/);
    expect(io.stdout).toMatch(/google\/gemma-3-4b-pt\s+google\/gemma-3-4b-it\s+built-in/);
  });

  it('adds, replaces and removes user pairs, kept in PTW_HOME, and refuses bad input with what and where', async () => {
    let r = await models('--add', 'meta-llama/Llama-3.2-3B=meta-llama/Llama-3.2-3B-Instruct');
    expect(r.table!.pairs.at(-1)).toEqual({
      base: 'meta-llama/Llama-3.2-3B',
      instruct: 'meta-llama/Llama-3.2-3B-Instruct',
      source: 'user',
    });
    const file = path.join(process.env.PTW_HOME!, 'integrity-models.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      'meta-llama/Llama-3.2-3B': 'meta-llama/Llama-3.2-3B-Instruct',
    });
    r = await models('--remove', 'meta-llama/Llama-3.2-3B');
    expect(r.table!.pairs).toHaveLength(4);

    r = await models('--add', 'not a pair');
    expect(r.code).toBe(2);
    expect(r.io.stderr).toContain('--add');
    expect(r.io.stderr).toContain('BASE=INSTRUCT');
    r = await models('--remove', 'Qwen/Qwen3-4B-Base');
    expect(r.code).toBe(2);
    expect(r.io.stderr).toContain('built-in');

    await writeFile(file, '{"Qwen/Qwen3-4B-Base": 7}');
    r = await models();
    expect(r.code).toBe(2);
    expect(r.io.stderr).toContain(file);
    expect(r.io.stderr).toContain('Qwen/Qwen3-4B-Base');
    await writeFile(file, '{}');
  });

  it('passes the table to the checks: a built-in base pointed elsewhere is compared against that model', async () => {
    // The generator's tiny models stand in for Qwen3-1.7B-Base and its instruct release (test/generators/).
    const base = 'Qwen/Qwen3-1.7B-Base';
    const before = await substitution();
    expect(before.flagged).toBe(true);
    expect((await models('--add', `${base}=someone/not-in-the-cache`)).code).toBe(0);
    const after = await substitution();
    expect(after.flagged).toBe(false);
    expect(after.check.status).toBe('not-run');
    expect(after.check.reason).toContain('someone/not-in-the-cache');
    expect((await models('--remove', base)).code).toBe(0);
    expect((await substitution()).flagged).toBe(true);
  }, 60_000);
});
