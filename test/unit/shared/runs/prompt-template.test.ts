import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PromptTemplateError, promptPlaceholders, renderPrompt } from '../../../../src/shared/runs/prompt-template';
import { REHEARSAL_TASK, promptVars } from '../../../../src/shared/runs/task-catalog';

describe('renderPrompt', () => {
  it('fills every placeholder', () => {
    expect(
      renderPrompt('Train `{model}` for {num_hours} hours on {benchmark}. {model}!', {
        model: 'Qwen/Qwen3-4B-Base',
        num_hours: '10',
        benchmark: 'GSM8K',
      }),
    ).toBe('Train `Qwen/Qwen3-4B-Base` for 10 hours on GSM8K. Qwen/Qwen3-4B-Base!');
  });

  it('does not expand placeholders inside values', () => {
    expect(renderPrompt('{a} {b}', { a: '{b}', b: 'x' })).toBe('{b} x');
  });

  it('leaves JSON and code braces alone', () => {
    const template = 'Write {"accuracy": 0.5} or f"{x + 1}" or {1}, {} and { model } and {Model} stay.';
    expect(renderPrompt(template, {})).toBe(template);
  });

  it('names unknown placeholders and their lines', () => {
    const template = 'Train {model}.\nYou have {num_hours} hours.\n{setup_other}\n';
    expect(promptPlaceholders(template)).toEqual([
      { name: 'model', line: 1 },
      { name: 'num_hours', line: 2 },
      { name: 'setup_other', line: 3 },
    ]);
    let error: unknown;
    try {
      renderPrompt(template, { model: 'm' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PromptTemplateError);
    expect((error as PromptTemplateError).unknown).toEqual([
      { name: 'num_hours', line: 2 },
      { name: 'setup_other', line: 3 },
    ]);
    expect((error as Error).message).toBe(
      'The prompt template uses placeholders nothing fills: {num_hours} (line 2), {setup_other} (line 3). Known placeholders: {model}.',
    );
  });

  it('renders the rehearsal prompt with no placeholder left over', () => {
    const template = readFileSync(path.resolve('resources', REHEARSAL_TASK.resourceDir, 'prompt.txt'), 'utf8');
    const text = renderPrompt(
      template,
      promptVars({
        model: REHEARSAL_TASK.modelName,
        benchmark: REHEARSAL_TASK.benchmarkName,
        budgetSeconds: 300,
        gpuCount: 0,
        now: new Date(0),
      }),
    );
    expect(text).toContain('`ptw/rehearsal-tiny`');
    expect(text).toContain('Run `/ptw/timer`');
    expect(text).toContain('5m (0.08 h)');
    expect(promptPlaceholders(text)).toEqual([]);
  });
});
