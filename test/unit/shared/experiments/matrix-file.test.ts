import { describe, expect, it } from 'vitest';
import {
  formatMatrixProblems,
  matrixCost,
  parseMatrixFile,
  type MatrixParse,
} from '../../../../src/shared/experiments/matrix-file';

const context = { hosts: ['gpu-box', 'lab-2'] };

const good = `name: qwen sweep
tasks: [rehearsal, gsm8k:Qwen3-4B-Base]
agents:
  - { agent: claude-code, model: claude-sonnet-4-6 }
  - agent: custom
    command: [sh, -c, "sleep 5"]
seeds: 3
budget: 1h30m
hosts: [gpu-box, lab-2]
retries: { infrastructure: 2 }
priority: 5
`;

function problems(result: MatrixParse) {
  if (result.ok) throw new Error('expected problems, got a matrix');
  return result.problems;
}

describe('parseMatrixFile', () => {
  it('expands tasks × agents × seeds into run specs without a host', () => {
    const result = parseMatrixFile(good, context);
    if (!result.ok) throw new Error(formatMatrixProblems(result.problems));
    expect(result.cells).toHaveLength(2 * 2 * 3);
    expect(result.matrix).toMatchObject({
      name: 'qwen sweep',
      seeds: [1, 2, 3],
      budgetSeconds: 5_400,
      gpusPerRun: 1,
      retries: { infrastructure: 2, agent: 0 },
      priority: 5,
    });
    const cell = result.cells.find((c) => c.key === 'gsm8k:Qwen3-4B-Base|claude-code|claude-sonnet-4-6|2');
    expect(cell?.spec.task).toEqual({ kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Base' });
    expect(cell?.spec.env).toEqual({ PTW_SEED: '2' });
    expect(cell?.spec.network).toBe(true);
    const rehearsal = result.cells.find((c) => c.task === 'rehearsal' && c.agent === 'custom');
    expect(rehearsal?.spec.agent).toMatchObject({ id: 'custom', command: ['sh', '-c', 'sleep 5'] });
    expect(rehearsal?.spec.network).toBe(false);
    expect(new Set(result.cells.map((c) => c.key)).size).toBe(12);
    expect(matrixCost(result.matrix, result.cells.length)).toEqual({ runs: 12, gpuHours: 18 });
  });

  it('takes benchmarks × baseModels and a list of seeds', () => {
    const result = parseMatrixFile(
      `name: grid
benchmarks: [gsm8k, humaneval]
baseModels: [Qwen3-1.7B-Base, google/gemma-3-4b-pt]
agents: [{ agent: codex, model: gpt-5.1-codex-max }]
seeds: [7, 11]
budget: 10h
hosts: [lab-2]
`,
      context,
    );
    if (!result.ok) throw new Error(formatMatrixProblems(result.problems));
    expect(result.matrix.tasks).toEqual([
      'gsm8k:Qwen3-1.7B-Base',
      'gsm8k:gemma-3-4b-pt',
      'humaneval:Qwen3-1.7B-Base',
      'humaneval:gemma-3-4b-pt',
    ]);
    expect(result.cells.map((c) => c.seed)).toEqual([7, 11, 7, 11, 7, 11, 7, 11]);
  });

  it.each([
    ['an unknown benchmark', 'tasks: [rehearsal, gsm9k:Qwen3-4B-Base]', 'gsm9k', /unknown benchmark "gsm9k"/],
    ['an unknown base model', 'tasks: [gsm8k:Qwen9-4B]', 'Qwen9', /unknown base model "Qwen9-4B"/],
    ['an unknown agent', 'agents:\n  - agent: cursor\n    model: x', 'cursor', /unknown agent "cursor"/],
    ['an unknown host', 'hosts: [gpu-box, nowhere]', 'nowhere', /unknown host "nowhere"/],
    ['a budget that does not parse', 'budget: 10 hours-ish', 'budget', /budget "10 hours-ish" does not parse/],
    ['an agent without its model', 'agents:\n  - agent: claude-code', 'claude-code', /name the model/],
    ['an unknown field', 'colour: blue', 'colour', /unknown field colour/],
    ['a credential in env', 'env:\n  HF_TOKEN: abc', 'HF_TOKEN', /looks like a credential/],
  ])('refuses %s, naming the line', (_what, replacement, marker, message) => {
    const key = replacement.split(':')[0]!;
    const lines = good.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`${key}:`));
    let text: string;
    if (start < 0) text = `${good}${replacement}\n`;
    else {
      let end = start + 1;
      while (end < lines.length && lines[end]!.startsWith(' ')) end++;
      text = [...lines.slice(0, start), replacement, ...lines.slice(end)].join('\n');
    }
    const line = text.split('\n').findIndex((l) => l.includes(marker)) + 1;
    const found = problems(parseMatrixFile(text, context));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(message);
    expect(found[0]!.line).toBe(line);
    expect(formatMatrixProblems(found, 'm.yaml')).toMatch(new RegExp(`^m\\.yaml:${line}: `));
  });

  it('refuses more runs than allowed, saying how the count came about', () => {
    const found = problems(parseMatrixFile(good.replace('seeds: 3', 'seeds: 600'), context));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 7, path: 'seeds' });
    expect(found[0]!.message).toMatch(/2 tasks × 2 agents × 600 seeds = 2400 runs, more than the 2000/);
    expect(problems(parseMatrixFile(good, { ...context, maxRuns: 10 }))[0]!.message).toMatch(/= 12 runs/);
  });

  it('names the line of YAML that does not parse', () => {
    const found = problems(parseMatrixFile('name: x\ntasks: [rehearsal\nagents: []\n', context));
    expect(found[0]!.message).toMatch(/not valid YAML/);
    expect(found[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses a matrix without tasks, with both task forms, or a missing required field', () => {
    expect(problems(parseMatrixFile(good.replace(/^tasks:.*$/m, ''), context))[0]!.message).toMatch(/name the tasks/);
    expect(
      problems(parseMatrixFile(`${good}benchmarks: [gsm8k]\nbaseModels: [Qwen3-4B-Base]\n`, context))[0]!.message,
    ).toMatch(/either tasks or benchmarks/);
    const noBudget = problems(parseMatrixFile(good.replace(/^budget:.*$/m, ''), context));
    expect(noBudget[0]).toMatchObject({ path: 'budget' });
    expect(problems(parseMatrixFile('- just a list\n', context))[0]!.message).toMatch(/YAML mapping/);
  });
});
