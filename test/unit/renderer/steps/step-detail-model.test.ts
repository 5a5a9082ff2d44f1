import { describe, expect, it } from 'vitest';
import type { AgentStep } from '../../../../src/shared/contract-trajectory';
import { stepDetailBlocks, stepStatusText } from '../../../../src/renderer/steps/step-detail-model';

const base = { index: 0, line: 1, t: null, title: 'ls', kind: 'shell' } as unknown as AgentStep;

describe('a step’s detail', () => {
  it('says no result, the exit code or an error after the title', () => {
    expect(stepStatusText({ ...base, status: 'in_progress' } as AgentStep)).toBe('no result');
    expect(stepStatusText({ ...base, exitCode: 2 } as AgentStep)).toBe('exit 2');
    expect(stepStatusText({ ...base, isError: true } as AgentStep)).toBe('error');
    expect(stepStatusText(base)).toBe('');
  });

  it('lists its blocks in order, with input as JSON only when there is no command', () => {
    const step = {
      ...base,
      command: 'ls -la',
      files: [{ action: 'write', path: 'a.py' }],
      text: 'hello',
      input: { cmd: 'ls -la' },
      output: '',
      usage: { inputTokens: 10, cachedInputTokens: 4, outputTokens: 3 },
      costUsd: 0.5,
    } as unknown as AgentStep;
    expect(stepDetailBlocks(step)).toEqual([
      { label: 'Command', text: 'ls -la' },
      { label: 'Files', text: 'write  a.py' },
      { label: 'Text', text: 'hello' },
      { label: 'Output', text: '(empty)' },
      { label: 'Tokens', text: 'input 10 (cached 4), output 3, cost $0.5' },
    ]);
    const tool = { ...base, kind: 'raw', text: 'x', input: { a: 1 }, output: null } as unknown as AgentStep;
    expect(stepDetailBlocks(tool)).toEqual([
      { label: 'Line', text: 'x' },
      { label: 'Input', text: '{\n  "a": 1\n}' },
      { label: 'Output', text: '(no result recorded)' },
    ]);
  });
});
