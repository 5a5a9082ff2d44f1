import { describe, expect, it } from 'vitest';
import { chosenTask } from '../../../../src/renderer/runs/launch-form';
import { agentHasKey, credentialStatuses, secretNamesToCheck } from '../../../../src/renderer/runs/launch-keys';
import { getAgent } from '../../../../src/shared/runs/agent-catalog';
import { ctx, form } from './launch-fixtures';

describe('keys', () => {
  const claude = getAgent('claude-code');
  const codex = getAgent('codex');

  it('asks about every name the agent and the task’s grader may use, once', () => {
    expect(secretNamesToCheck(claude, chosenTask(form({ task: 'ptb:arenahardwriting' }), ctx))).toEqual([
      'ANTHROPIC_API_KEY',
      'CLAUDE_CODE_OAUTH_TOKEN',
      'OPENAI_API_KEY',
    ]);
    expect(secretNamesToCheck(codex, chosenTask(form({ task: 'ptb:arenahardwriting' }), ctx))).toEqual([
      'CODEX_API_KEY',
      'OPENAI_API_KEY',
    ]);
    expect(secretNamesToCheck(getAgent('rehearsal'), null)).toEqual([]);
  });

  it('finds a credential under any of its names, first name first', () => {
    const statuses = credentialStatuses(codex, [
      { name: 'CODEX_API_KEY', source: null },
      { name: 'OPENAI_API_KEY', source: 'environment' },
    ]);
    expect(statuses).toEqual([
      expect.objectContaining({ storeName: 'CODEX_API_KEY', found: { name: 'OPENAI_API_KEY', source: 'environment' } }),
    ]);
    expect(agentHasKey(codex, statuses)).toBe(true);
  });

  it('knows when no credential is there, and that a keyless agent needs none', () => {
    const statuses = credentialStatuses(claude, [
      { name: 'ANTHROPIC_API_KEY', source: null },
      { name: 'CLAUDE_CODE_OAUTH_TOKEN', source: null },
    ]);
    expect(statuses.every((s) => s.found === null)).toBe(true);
    expect(agentHasKey(claude, statuses)).toBe(false);
    expect(agentHasKey(claude, credentialStatuses(claude, null))).toBe(false);
    expect(agentHasKey(getAgent('rehearsal'), [])).toBe(true);
  });
});
