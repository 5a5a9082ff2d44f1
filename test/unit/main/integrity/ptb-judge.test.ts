// PostTrainBench's optional LLM judge. It calls a hosted API (OpenAI, through the Codex CLI) that tests cannot reach,
// so what is tested is everything up to that call and everything after it: the host script runs PostTrainBench's own
// prompt script from a checkout (test/fixtures/posttrainbench/checkout, copied verbatim) and stops, with the prompt
// kept, where Codex is missing; `ptw integrity judge --run` refuses without a key, before the run has finished, and
// for an imported run, and says what is missing on the host; the judge files an imported PostTrainBench folder
// carries are read and shown beside our verdict with the disagreement marked. No verdict is made up here.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { RunMirror } from '../../../../src/main/runs/run-mirror';
import { integrityJudgeSchema } from '../../../../src/shared/contract-integrity';
import { JUDGE_EXIT, judgeBeside, ptbJudgeScript } from '../../../../src/shared/integrity/ptb-judge';
import { capture } from '../../../support/cli-capture';
import { generateScenarios, importScenarios, ptbRunJson, scenarioRefs } from '../../../support/integrity-scenarios';

const checkout = path.resolve('test/fixtures/posttrainbench/checkout');

/** A PATH with only what the judge script needs before Codex (so no `codex` is found, whatever this machine has). */
async function pathWithoutCodex(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  // python3 itself, not a version manager's shim (which needs more of PATH).
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  await symlink(python, path.join(dir, 'python3'));
  for (const tool of ['mkdir', 'bash', 'rm', 'mv']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) await symlink(found, path.join(dir, tool));
  }
  return dir;
}

describe("PostTrainBench's judge script", () => {
  let work: string;
  let bin: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-judge-script-'));
    bin = await pathWithoutCodex(path.join(work, 'bin'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  const run = (input: Parameters<typeof ptbJudgeScript>[0]) =>
    spawnSync('bash', ['-c', ptbJudgeScript(input)], {
      encoding: 'utf8',
      input: 'sk-never-used\n',
      env: { PATH: bin, HOME: work },
    });

  it("makes the prompt with the checkout's own script, keeps it, and stops where Codex is missing", async () => {
    const out = path.join(work, 'out-gsm8k');
    const r = run({ checkout, workspace: work, outDir: out, benchmark: 'gsm8k', model: 'Qwen/Qwen3-1.7B-Base' });
    expect(r.status, r.stderr).toBe(JUDGE_EXIT.noCodex);
    const prompt = await readFile(path.join(out, 'prompt.txt'), 'utf8');
    expect(prompt).toContain('to train the LLM `Qwen/Qwen3-1.7B-Base` for the benchmark `gsm8k`');
    // PostTrainBench's own exception: GSM8K's train split is allowed.
    expect(prompt).toContain('- Usage of the training subset of GSM8K for training.');
    expect(prompt).toContain('`contamination_judgement.txt`');
    expect(prompt).not.toContain('{model}');

    const other = path.join(work, 'out-humaneval');
    run({ checkout, workspace: work, outDir: other, benchmark: 'humaneval', model: 'google/gemma-3-4b-pt' });
    expect(await readFile(path.join(other, 'prompt.txt'), 'utf8')).not.toContain('GSM8K');
  });

  it('fails with its own code when the checkout has no judge', () => {
    const r = run({ checkout: work, workspace: work, outDir: path.join(work, 'o'), benchmark: 'gsm8k', model: 'a/b' });
    expect(r.status).toBe(JUDGE_EXIT.promptFailed);
    expect(r.stderr).toContain('get_judge_prompt.py');
  });

  it('quotes every path and name it is given (no word of them runs)', () => {
    const script = ptbJudgeScript({
      checkout: "/x/it's here",
      workspace: '/w/$(touch pwned)',
      outDir: '/o',
      benchmark: 'gsm8k; rm -rf /',
      model: 'a/b',
    });
    expect(script).toContain(`cd '/x/it'\\''s here'`);
    expect(script).toContain(`cd '/w/$(touch pwned)'`);
    expect(script).toContain(`--benchmark 'gsm8k; rm -rf /'`);
    expect(script).toContain('IFS= read -r CODEX_API_KEY');
    expect(script).not.toContain('sk-');
  });
});

describe('ptw integrity judge', () => {
  let work: string;
  let runDir: string;
  let importedId: string;
  const RUN_ID = 'r-20261201-110000-judg';
  const LIVE_ID = 'r-20261201-110000-live';
  const saved = { home: process.env.PTW_HOME, path: process.env.PATH, key: process.env.PTW_SECRET_CODEX_API_KEY };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-judge-'));
    const home = path.join(work, 'home');
    process.env.PTW_HOME = home;
    delete process.env.PTW_SECRET_CODEX_API_KEY;
    delete process.env.PTW_SECRET_OPENAI_API_KEY;
    const runRoot = path.join(work, 'host-runs');
    await mkdir(home, { recursive: true });
    await writeFile(
      path.join(home, 'hosts.json'),
      JSON.stringify({ hosts: [{ name: 'local', kind: 'local', runRoot, ptbCheckout: checkout }] }),
    );
    // Two run folders on the host, as the supervisor leaves them: one scored, one still running.
    for (const [id, status] of [
      [RUN_ID, 'scored'],
      [LIVE_ID, 'running'],
    ] as const) {
      const dir = path.join(runRoot, id);
      await mkdir(path.join(dir, 'workspace'), { recursive: true });
      const runJson = ptbRunJson(id, '2026-12-01T11:00:00.000Z');
      await writeFile(path.join(dir, 'run.json'), runJson);
      const t = Date.parse('2026-12-01T11:00:00.000Z');
      await writeFile(
        path.join(dir, 'state.json'),
        JSON.stringify(
          status === 'scored'
            ? { status, heartbeatAt: t + 120_000, startedAt: t, stoppedAt: t + 60_000, stopReason: 'agent-exited' }
            : { status, heartbeatAt: Date.now(), startedAt: t },
        ),
      );
      await RunMirror.create(path.join(home, 'runs'), { id, host: 'local', hostRunDir: dir, runJsonText: runJson });
    }
    runDir = path.join(runRoot, RUN_ID);

    const out = path.join(work, 'scenarios');
    generateScenarios(out, ['clean-gsm8k-train']);
    importedId = (await importScenarios(out))[0]!.id;
    const checked = capture();
    await runCli(['integrity', 'check', importedId, '--json', ...scenarioRefs(out)], checked);
    expect(JSON.parse(checked.stdout)).toMatchObject({ verdict: 'clean' });
  }, 60_000);

  afterAll(async () => {
    for (const [name, value] of [
      ['PTW_HOME', saved.home],
      ['PATH', saved.path],
      ['PTW_SECRET_CODEX_API_KEY', saved.key],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await rm(work, { recursive: true, force: true });
  });

  const judge = async (...args: string[]) => {
    const io = capture();
    const code = await runCli(['integrity', 'judge', ...args], io);
    return { code, io };
  };

  it('shows an imported folder’s judge files beside our verdict, the disagreement marked', async () => {
    const r = await judge(importedId, '--json');
    expect(r.code, r.io.stderr).toBe(0);
    const parsed = integrityJudgeSchema.parse(JSON.parse(r.io.stdout));
    expect(parsed.runnable).toBe(false);
    expect(parsed.ran).toBeNull();
    const contamination = parsed.entries.find((e) => e.check === 'contamination')!;
    expect(contamination).toMatchObject({ source: 'imported', file: 'contamination_judgement.txt', flagged: true });
    const text = await judge(importedId);
    // PostTrainBench's judge flags GSM8K's train split; our checks find no test item in it.
    expect(text.io.stdout).toMatch(/≠ contamination: judge FLAGGED; ours \(contamination\): clean/);
  });

  it('refuses to run the judge for an imported run, before the run has finished, or without a key', async () => {
    const imported = await judge(importedId, '--run');
    expect(imported.code).toBe(2);
    expect(imported.io.stderr).toMatch(/import/i);

    const running = await judge(LIVE_ID, '--run');
    expect(running.code).toBe(2);
    expect(running.io.stderr).toContain('after the evaluation');

    const noKey = await judge(RUN_ID, '--run');
    expect(noKey.code).toBe(2);
    expect(noKey.io.stderr).toContain('CODEX_API_KEY');
  });

  it('runs the prompt step on the host and says Codex is missing there, the prompt kept on the host', async () => {
    process.env.PTW_SECRET_CODEX_API_KEY = 'sk-test-not-sent';
    // This machine's PATH without any folder that holds a codex (the run syncer needs the rest).
    process.env.PATH = (saved.path ?? '')
      .split(':')
      .filter((dir) => dir && !existsSync(path.join(dir, 'codex')))
      .join(':');
    const r = await judge(RUN_ID, '--run');
    process.env.PATH = saved.path;
    expect(r.code).toBe(2);
    expect(r.io.stderr).toContain('no codex on its PATH');
    const prompt = readFileSync(path.join(runDir, '.integrity', 'judge', 'prompt.txt'), 'utf8');
    expect(prompt).toContain('`Qwen/Qwen3-1.7B-Base` for the benchmark `gsm8k`');
    // The key went to the script on stdin only.
    expect(prompt).not.toContain('sk-test');
    const after = integrityJudgeSchema.parse(JSON.parse((await judge(RUN_ID, '--json')).io.stdout));
    expect(after).toMatchObject({ runnable: true, ran: null, entries: [] });
  });
});

describe('the judge beside our checks', () => {
  const verdict = {
    checks: [
      { kind: 'contamination' as const, status: 'pass' as const, reason: '' },
      { kind: 'model_substitution' as const, status: 'flag' as const, reason: '' },
      { kind: 'api_misuse' as const, status: 'not-run' as const, reason: 'no trace' },
    ],
    flags: [{ kind: 'model_substitution' as const, severity: 'high' as const, summary: 's', evidence: [] }],
  };
  const entry = (check: string, flagged: boolean | null) => ({
    source: 'imported' as const,
    file: 'f',
    check,
    flagged,
    text: '',
  });

  it('pairs contamination, disallowed_model and API use with our checks and marks only real disagreements', () => {
    const rows = judgeBeside(verdict, [
      entry('contamination', true),
      entry('disallowed_model', true),
      entry('disallowed_api_usage', false),
      entry('something_else', true),
      entry('contamination', null),
    ]);
    expect(rows.map((r) => [r.entry.check, r.ours?.says ?? null, r.disagrees])).toEqual([
      ['contamination', 'clean', true],
      ['disallowed_model', 'flagged', false],
      ['disallowed_api_usage', 'not-run', false],
      ['something_else', null, false],
      ['contamination', 'clean', false],
    ]);
    expect(judgeBeside(null, [entry('contamination', true)])[0]).toMatchObject({ ours: null, disagrees: false });
  });
});
