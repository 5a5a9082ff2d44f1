import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BUDGET_SECONDS,
  canonicalSpec,
  formatRunSpecProblems,
  runSpecWarnings,
  secretLikeValue,
  validateRunSpec,
  type RunSpec,
  type RunSpecInput,
} from '../../../../src/shared/runs/run-spec';

const minimal: RunSpecInput = {
  host: 'gpu-box',
  task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen3-1.7B-Base' },
  agent: { id: 'claude-code', model: 'claude-sonnet-4-6' },
};

function valid(input: unknown): RunSpec {
  const result = validateRunSpec(input);
  if (!result.ok) throw new Error(formatRunSpecProblems(result.problems));
  return result.spec;
}

function problems(input: unknown): string[] {
  const result = validateRunSpec(input);
  if (result.ok) throw new Error('expected the spec to be refused');
  return formatRunSpecProblems(result.problems).split('\n');
}

describe('validateRunSpec', () => {
  it('fills the defaults: 10 h, first free GPU, network on, no limits, no env', () => {
    expect(valid(minimal)).toEqual({
      host: 'gpu-box',
      task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-1.7B-Base' },
      agent: { id: 'claude-code', model: 'claude-sonnet-4-6' },
      budgetSeconds: DEFAULT_BUDGET_SECONDS,
      gpus: [],
      limits: {},
      network: true,
      env: {},
    });
    expect(DEFAULT_BUDGET_SECONDS).toBe(36_000);
  });

  it('normalises budgets, sizes and switches written the human way', () => {
    const spec = valid({
      ...minimal,
      budgetSeconds: '1h30m',
      limits: { cpus: 16, memoryBytes: '64g', pidsLimit: 4096, diskBytes: '400g' },
      network: 'off',
      gpus: [1, 0],
      image: 'ghcr.io/example/ptb-agent:2026.1',
      label: 'seed 2',
    });
    expect(spec.budgetSeconds).toBe(5_400);
    expect(spec.limits).toEqual({ cpus: 16, memoryBytes: 64 * 1024 ** 3, pidsLimit: 4096, diskBytes: 400 * 1024 ** 3 });
    expect(spec.network).toBe(false);
    expect(spec.gpus).toEqual([1, 0]);
  });

  it('accepts a budget in seconds as a number', () => {
    expect(valid({ ...minimal, budgetSeconds: 20 }).budgetSeconds).toBe(20);
  });

  it('takes the base model by catalog id or Hugging Face id and stores the Hugging Face id', () => {
    for (const baseModel of ['gemma-3-4b-pt', 'google/gemma-3-4b-pt', 'GOOGLE/Gemma-3-4B-PT']) {
      const spec = valid({ ...minimal, task: { kind: 'ptb', benchmark: 'bfcl', baseModel } });
      expect(spec.task).toEqual({ kind: 'ptb', benchmark: 'bfcl', baseModel: 'google/gemma-3-4b-pt' });
    }
  });

  it('refuses an instruct model as the starting point and names the base to use', () => {
    expect(problems({ ...minimal, task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B' } })).toEqual([
      'task.baseModel: Qwen/Qwen3-4B is the post-trained release of Qwen/Qwen3-4B-Base: it is the reference to beat and may not be the starting point. Use Qwen/Qwen3-4B-Base.',
    ]);
    expect(
      problems({ ...minimal, task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Instruct-2507' } })[0],
    ).toContain('Use Qwen/Qwen3-4B-Base');
  });

  it('allows variants outside the grid, with warnings', () => {
    const spec = valid({
      ...minimal,
      task: { kind: 'ptb', benchmark: 'ifeval', baseModel: 'meta-llama/Llama-3.2-1B' },
    });
    const warnings = runSpecWarnings(spec);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^ifeval is not one of PostTrainBench's benchmarks .*task folder in your checkout/);
    expect(warnings[1]).toMatch(/^meta-llama\/Llama-3.2-1B is not one of PostTrainBench's base models/);
    expect(runSpecWarnings(valid(minimal))).toEqual([]);
  });

  it('warns that a real agent cannot work offline', () => {
    expect(runSpecWarnings(valid({ ...minimal, network: false }))).toEqual([
      "with the network off, claude-code cannot reach its model provider's API",
    ]);
  });

  it('accepts the rehearsal task and agent with no model', () => {
    const spec = valid({ host: 'local', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, budgetSeconds: '5m' });
    expect(spec.task).toEqual({ kind: 'rehearsal' });
    expect(spec.agent).toEqual({ id: 'rehearsal', model: 'rehearsal' });
  });

  it('needs a command for a custom agent, and keeps its stream format', () => {
    expect(problems({ ...minimal, agent: { id: 'custom' } })).toEqual([
      'agent.command: Invalid input: expected array, received undefined',
    ]);
    expect(problems({ ...minimal, agent: { id: 'custom', command: [] } })[0]).toMatch(
      /^agent.command: a custom agent needs a command/,
    );
    const spec = valid({
      ...minimal,
      agent: { id: 'custom', command: ['my-agent', '--model', '{model}', '{prompt}'], streamFormat: 'codex-exec-json' },
    });
    expect(spec.agent).toEqual({
      id: 'custom',
      model: '',
      command: ['my-agent', '--model', '{model}', '{prompt}'],
      streamFormat: 'codex-exec-json',
    });
  });

  it('needs a model for the real agents', () => {
    expect(problems({ ...minimal, agent: { id: 'codex', model: '' } })).toEqual([
      'agent.model: name the model the agent should use, e.g. claude-sonnet-4-6',
    ]);
    expect(problems({ ...minimal, agent: { id: 'codex', model: 'gpt 5; rm -rf /' } })[0]).toMatch(
      /^agent.model: a model id has no spaces or shell characters/,
    );
  });

  it('explains unknown agents and task kinds', () => {
    expect(problems({ ...minimal, agent: { id: 'aider', model: 'x' } })).toEqual([
      'agent.id: the agent is one of claude-code, codex, gemini-cli, opencode, rehearsal, custom',
    ]);
    expect(problems({ ...minimal, task: { kind: 'swe' } })[0]).toMatch(/^task.kind: the task kind is "ptb"/);
  });

  it('explains bad budgets', () => {
    expect(problems({ ...minimal, budgetSeconds: '10' })).toEqual([
      'budgetSeconds: "10" has no unit; write it like 10h, 90m, 20s or 1h30m',
    ]);
    expect(problems({ ...minimal, budgetSeconds: '30d' })).toEqual([
      'budgetSeconds: a budget runs from 1s to 168h; 720h is outside that',
    ]);
    expect(problems({ ...minimal, budgetSeconds: 1.5 })).toEqual([
      'budgetSeconds: 1.5 is not a whole number of seconds',
    ]);
    expect(problems({ ...minimal, budgetSeconds: true })[0]).toMatch(/^budgetSeconds: budget is a duration/);
  });

  it('explains bad GPUs and limits', () => {
    expect(problems({ ...minimal, gpus: [0, 0] })).toEqual(['gpus: list each GPU index once']);
    expect(problems({ ...minimal, gpus: [-1] })).toEqual(['gpus.0: GPU indices start at 0']);
    expect(problems({ ...minimal, limits: { memoryBytes: 'lots' } })).toEqual([
      'limits.memoryBytes: could not read "lots" as a size; write it like 64g, 512m or 1.5t (binary units, as docker --memory reads them)',
    ]);
    expect(problems({ ...minimal, limits: { memoryBytes: '1m' } })).toEqual([
      'limits.memoryBytes: memory must be at least 6m (Docker’s minimum)',
    ]);
    expect(problems({ ...minimal, limits: { cpus: 0 } })).toEqual(['limits.cpus: cpus must be more than 0']);
    expect(problems({ ...minimal, limits: { pidsLimit: 10 } })[0]).toMatch(/^limits.pidsLimit: pidsLimit below 64/);
  });

  it('refuses credentials in env by name, pointing at the secret store', () => {
    const found = problems({
      ...minimal,
      env: { WANDB_API_KEY: 'x', HF_TOKEN: 'y', MY_SECRET: 'z', DB_PASSWORD: 'p', HF_HUB_OFFLINE: '1' },
    });
    expect(found).toHaveLength(4);
    expect(found[0]).toBe(
      'env.WANDB_API_KEY: WANDB_API_KEY looks like a credential (names ending in KEY, TOKEN, SECRET or PASSWORD are); put credentials in the secret store instead: it hands them to the agent’s container only, never to run.json or the run folder',
    );
    expect(found.map((line) => line.split(':')[0])).toEqual([
      'env.WANDB_API_KEY',
      'env.HF_TOKEN',
      'env.MY_SECRET',
      'env.DB_PASSWORD',
    ]);
  });

  it('refuses the secret store’s own variable names (PTW_SECRET_*) whatever they end in', () => {
    const found = problems({
      ...minimal,
      env: { PTW_SECRET_ANTHROPIC: 'x', ptw_secret_wandb_api: 'y', PTW_SECRETS: 'z' },
    });
    expect(found.map((line) => line.split(':')[0])).toEqual(['env.PTW_SECRET_ANTHROPIC', 'env.ptw_secret_wandb_api']);
    expect(found[0]).toContain('is how the secret store is given a credential');
  });

  it('refuses values that look like keys whatever the name', () => {
    const found = problems({
      ...minimal,
      env: {
        EXTRA: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz',
        HEADER: 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123',
      },
    });
    expect(found).toEqual([
      'env.EXTRA: the value of EXTRA looks like an API key (sk-…); put credentials in the secret store instead: it hands them to the agent’s container only, never to run.json or the run folder',
      'env.HEADER: the value of HEADER looks like a bearer token; put credentials in the secret store instead: it hands them to the agent’s container only, never to run.json or the run folder',
    ]);
  });

  it('keeps ordinary env', () => {
    const env = { HF_HUB_OFFLINE: '1', PTW_REHEARSAL_SECONDS: '5', NOTE: 'a task-specific note with sk- in prose' };
    expect(valid({ ...minimal, env }).env).toEqual(env);
  });

  it('refuses bad variable names', () => {
    expect(problems({ ...minimal, env: { '1X': 'a', 'A-B': 'b' } })).toEqual([
      'env.1X: "1X" is not a variable name (letters, digits and _, not starting with a digit)',
      'env.A-B: "A-B" is not a variable name (letters, digits and _, not starting with a digit)',
    ]);
  });

  it('reports every problem at once', () => {
    expect(problems({ host: '', task: { kind: 'ptb', benchmark: 'GSM 8K', baseModel: 'x' }, agent: {} })).toEqual([
      'host: name the host to run on (a host profile, e.g. gpu-box)',
      "task.benchmark: a benchmark is a task folder name such as gsm8k (PostTrainBench's: aime2025, arenahardwriting, bfcl, gpqamain, gsm8k, healthbench, humaneval)",
      'task.baseModel: "x" is not a base model: use a Hugging Face id (org/name) or one of Qwen3-1.7B-Base, Qwen3-4B-Base, SmolLM3-3B-Base, gemma-3-4b-pt',
      'agent.id: the agent is one of claude-code, codex, gemini-cli, opencode, rehearsal, custom',
    ]);
  });

  it('refuses a label over two lines or too long', () => {
    expect(problems({ ...minimal, label: 'a\nb' })).toEqual(['label: the label is one line of text']);
    expect(problems({ ...minimal, label: 'x'.repeat(121) })).toEqual(['label: keep the label under 120 characters']);
  });
});

describe('secretLikeValue', () => {
  it.each([
    ['sk-proj-0123456789abcdefghij', 'an API key (sk-…)'],
    [`AIza${'A'.repeat(35)}`, 'a Google API key (AIza…)'],
    [`hf_${'a1'.repeat(17)}`, 'a Hugging Face token (hf_…)'],
    [`ghp_${'a'.repeat(36)}`, 'a GitHub token'],
    ['AKIAIOSFODNN7EXAMPLE', 'an AWS access key'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----', 'a private key'],
  ])('spots %s', (value, what) => {
    expect(secretLikeValue(value)).toBe(what);
  });

  it.each(['1', '/workspace/data', 'Qwen/Qwen3-4B-Base', 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678', 'task-sk-1'])(
    'leaves %s alone',
    (value) => {
      expect(secretLikeValue(value)).toBeNull();
    },
  );
});

describe('canonicalSpec', () => {
  it('is the same for two ways of writing the same run', () => {
    const a = valid({ ...minimal, budgetSeconds: '10h', limits: { memoryBytes: '64g' }, network: 'on' });
    const b = valid({
      network: true,
      limits: { memoryBytes: 64 * 1024 ** 3 },
      budgetSeconds: 36_000,
      agent: { model: 'claude-sonnet-4-6', id: 'claude-code' },
      task: { baseModel: 'Qwen/Qwen3-1.7B-Base', benchmark: 'gsm8k', kind: 'ptb' },
      host: 'gpu-box',
    });
    expect(canonicalSpec(a)).toBe(canonicalSpec(b));
  });

  it('leaves the label out and carries a version', () => {
    const text = canonicalSpec(valid({ ...minimal, label: 'seed 1' }));
    expect(text).toBe(canonicalSpec(valid({ ...minimal, label: 'seed 2' })));
    expect(text).not.toContain('seed');
    expect(JSON.parse(text)).toMatchObject({ specVersion: 1, host: 'gpu-box' });
    expect(text.startsWith('{"agent":')).toBe(true);
  });

  it('changes when anything that shapes the run changes', () => {
    const base = canonicalSpec(valid(minimal));
    expect(canonicalSpec(valid({ ...minimal, gpus: [1] }))).not.toBe(base);
    expect(canonicalSpec(valid({ ...minimal, env: { SEED: '2' } }))).not.toBe(base);
    expect(canonicalSpec(valid({ ...minimal, budgetSeconds: '5h' }))).not.toBe(base);
  });
});
