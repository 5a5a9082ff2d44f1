import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findPtbTask,
  ptbLayout,
  readPtbCheckout,
  renderPtbPrompt,
  type PtbCheckoutReader,
} from '../../../../src/main/catalog/ptb-checkout';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';
import { AppError } from '../../../../src/shared/errors';

/**
 * A checkout shaped like aisa-group/PostTrainBench, built from our own placeholder files (no harness code), read
 * through the same `exec` interface an SSH session offers. The layout is `ptbLayout`; the tests build it from there.
 */

const PROMPT = 'Post-train `{model}` on {benchmark} within {num_hours} hours ({datetime}).\n{setup_other}Go.\n';

async function put(root: string, rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

async function buildCheckout(root: string): Promise<void> {
  const tasks = ptbLayout.tasksDir;
  await put(root, `${tasks}/gsm8k/evaluate.py`, '# placeholder\n');
  await put(root, `${tasks}/gsm8k/benchmark.txt`, 'GSM8K\n\n');
  await put(root, `${tasks}/gsm8k/info.json`, '{"benchmark": "Grade School Math", "disallowed_data_examples": []}');
  await put(root, `${tasks}/healthbench/evaluate.py`, '# placeholder\n');
  await put(root, `${tasks}/healthbench/evaluate_final_eval.py`, '# placeholder\n');
  await put(root, `${tasks}/healthbench/benchmark.txt`, 'HealthBench Hard\n');
  await put(root, `${tasks}/healthbench/info.json`, '{"required_api_keys": ["OPENAI_API_KEY"]}');
  await put(root, `${tasks}/healthbench/evaluation_code/grader.py`, '# placeholder\n');
  await put(root, `${tasks}/healthbench/task_context/README.md`, 'context\n');
  await put(root, `${tasks}/healthbench/task_context/notes on data.md`, 'context\n');
  await put(root, `${tasks}/healthbench/task_context/extra/more.txt`, 'context\n');
  await put(root, `${tasks}/humaneval/evaluate.py`, '# placeholder\n');
  await put(root, `${tasks}/aime2026/evaluate_final_eval.py`, '# only a final scorer\n');
  await put(root, `${tasks}/Bad Name/evaluate.py`, '# placeholder\n');
  await put(root, `${tasks}/bfcl/evaluate.py`, '# placeholder\n');
  await put(root, `${tasks}/bfcl/info.json`, '{not json');
  await put(root, `${ptbLayout.templatesDir}/qwen_base.jinja`, '{{ messages }}\n');
  await put(root, `${ptbLayout.templatesDir}/gemma.jinja`, '{{ messages }}\n');
  await put(root, ptbLayout.promptTemplate, PROMPT);
}

/** The exec a plain child process gives, with its own HOME, to test `~/` paths. */
function localReader(home: string): PtbCheckoutReader {
  return {
    exec: (command) =>
      new Promise((resolve) => {
        execFile('/bin/sh', ['-c', command], { env: { ...process.env, HOME: home } }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
          resolve({ code, stdout, stderr });
        });
      }),
  };
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('readPtbCheckout', () => {
  let base = '';
  let root = '';
  const session = new LocalHostSession('/nonexistent/docker.sock');

  beforeAll(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'ptw-ptb-'));
    root = path.join(base, 'Post Train Bench');
    await buildCheckout(root);
  });

  afterAll(async () => {
    session.dispose();
    await rm(base, { recursive: true, force: true });
  });

  it('lists the runnable task folders with what goes into the agent’s task folder', async () => {
    const checkout = await readPtbCheckout(session, root);
    expect(checkout.root).toBe(root);
    expect(checkout.tasks.map((t) => t.benchmark)).toEqual(['gsm8k', 'healthbench', 'humaneval']);

    const gsm8k = findPtbTask(checkout, 'gsm8k');
    expect(gsm8k).toEqual({
      benchmark: 'gsm8k',
      displayName: 'GSM8K',
      dir: `${root}/src/eval/tasks/gsm8k`,
      finalEvaluationEntry: 'evaluate.py',
      requiredApiKeys: [],
      agentFiles: [
        { from: `${root}/src/eval/tasks/gsm8k/evaluate.py`, to: 'evaluate.py', kind: 'file' },
        { from: `${root}/src/eval/templates`, to: 'templates', kind: 'dir' },
      ],
      evaluatorOnlyFiles: [],
      protectedPaths: ['evaluate.py', 'templates'],
      inCatalog: true,
    });
  });

  it('keeps the final scorer away from the agent and unpacks task_context', async () => {
    const healthbench = findPtbTask(await readPtbCheckout(session, root), 'healthbench');
    const dir = `${root}/src/eval/tasks/healthbench`;
    expect(healthbench.displayName).toBe('HealthBench Hard');
    expect(healthbench.finalEvaluationEntry).toBe('evaluate_final_eval.py');
    expect(healthbench.requiredApiKeys).toEqual(['OPENAI_API_KEY']);
    expect(healthbench.agentFiles).toEqual([
      { from: `${dir}/evaluate.py`, to: 'evaluate.py', kind: 'file' },
      { from: `${dir}/evaluation_code`, to: 'evaluation_code', kind: 'dir' },
      { from: `${root}/src/eval/templates`, to: 'templates', kind: 'dir' },
      { from: `${dir}/task_context/README.md`, to: 'README.md', kind: 'file' },
      { from: `${dir}/task_context/extra`, to: 'extra', kind: 'dir' },
      { from: `${dir}/task_context/notes on data.md`, to: 'notes on data.md', kind: 'file' },
    ]);
    expect(healthbench.evaluatorOnlyFiles).toEqual([
      { from: `${dir}/evaluate_final_eval.py`, to: 'evaluate_final_eval.py', kind: 'file' },
    ]);
    expect(healthbench.protectedPaths).toEqual(['evaluate.py', 'templates', 'evaluation_code']);
  });

  it('falls back to the catalog label for the display name', async () => {
    expect(findPtbTask(await readPtbCheckout(session, root), 'humaneval').displayName).toBe('HumanEval');
  });

  it('says why a task folder cannot be run', async () => {
    const checkout = await readPtbCheckout(session, root);
    expect(checkout.skipped.map((s) => [s.benchmark, s.reason.replace(root, 'ROOT')])).toEqual([
      ['Bad Name', '"Bad Name" is not a task id (lower-case letters, digits, - and _)'],
      ['aime2026', 'no evaluate.py in ROOT/src/eval/tasks/aime2026'],
      ['bfcl', expect.stringMatching(/^ROOT\/src\/eval\/tasks\/bfcl\/info.json is not valid: /)],
    ]);
    expect(() => findPtbTask(checkout, 'aime2026')).toThrow(/The aime2026 task cannot be run: no evaluate.py/);
    expect(() => findPtbTask(checkout, 'ifeval')).toThrow(/has no ifeval task; it has gsm8k, healthbench, humaneval/);
  });

  it('reads the prompt template and the chat templates', async () => {
    const checkout = await readPtbCheckout(session, root);
    expect(checkout.promptTemplate).toEqual({ path: `${root}/src/eval/general/prompt.txt`, text: PROMPT });
    expect(checkout.templates).toEqual({
      dir: `${root}/src/eval/templates`,
      files: ['gemma.jinja', 'qwen_base.jinja'],
    });
  });

  it('renders a cell’s prompt as the harness would', async () => {
    const checkout = await readPtbCheckout(session, root);
    const prompt = renderPtbPrompt(checkout, {
      benchmark: 'healthbench',
      baseModel: 'Qwen/Qwen3-4B-Base',
      budgetSeconds: 36_000,
      gpuCount: 1,
      now: new Date(Date.UTC(2026, 10, 23, 12, 0, 0)),
    });
    expect(prompt).toBe(
      'Post-train `Qwen/Qwen3-4B-Base` on HealthBench Hard within 10 hours (Mon Nov 23 12:00:00 UTC 2026).\nGo.\n',
    );
  });

  it('expands ~/ to the host user’s home', async () => {
    const checkout = await readPtbCheckout(localReader(base), '~/Post Train Bench');
    expect(checkout.root).toBe(root);
    expect(checkout.tasks).toHaveLength(3);
  });

  it('names the folder that does not exist', async () => {
    const err = await appError(readPtbCheckout(session, path.join(base, 'nope')));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe(`No PostTrainBench checkout at ${base}/nope: that folder does not exist on the host.`);
  });

  it('names the missing part of the layout', async () => {
    const partial = path.join(base, 'partial');
    await put(partial, `${ptbLayout.tasksDir}/gsm8k/evaluate.py`, '#\n');
    let err = await appError(readPtbCheckout(session, partial));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toMatch(
      new RegExp(
        `^${partial}/src/eval/general/prompt.txt is missing. ${partial} does not look like a PostTrainBench checkout`,
      ),
    );
    expect(err.message).toContain('update ptbLayout in src/main/catalog/ptb-checkout.ts');

    await put(partial, ptbLayout.promptTemplate, PROMPT);
    err = await appError(readPtbCheckout(session, partial));
    expect(err.message).toMatch(new RegExp(`^${partial}/src/eval/templates is missing`));

    const empty = path.join(base, 'empty');
    await mkdir(empty);
    err = await appError(readPtbCheckout(session, empty));
    expect(err.message).toMatch(new RegExp(`^${empty}/src/eval/tasks is missing`));
  });

  it('refuses a checkout with no runnable task', async () => {
    const none = path.join(base, 'none');
    await put(none, `${ptbLayout.tasksDir}/aime2026/evaluate_final_eval.py`, '#\n');
    await put(none, ptbLayout.promptTemplate, PROMPT);
    await put(none, `${ptbLayout.templatesDir}/t.jinja`, '');
    const err = await appError(readPtbCheckout(session, none));
    expect(err.message).toMatch(new RegExp(`^${none}/src/eval/tasks has no task folder with an evaluate.py`));
  });

  it('reports a failing host command as retryable', async () => {
    const broken: PtbCheckoutReader = { exec: async () => ({ code: 255, stdout: '', stderr: 'connection lost' }) };
    const err = await appError(readPtbCheckout(broken, root));
    expect(err.code).toBe('INTERNAL');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`Listing the PostTrainBench checkout at ${root} failed (exit 255): connection lost`);
  });
});
