import { describe, expect, it } from 'vitest';
import { scriptedRehearsalDraft, validateRehearsal } from '../../../../src/renderer/runs/launch-spec';
import { ctx, form } from './launch-fixtures';

describe('the rehearsal with the real agent', () => {
  it('runs the form’s CLI on the rehearsal task against the scripted model, with its default script', () => {
    const draft = scriptedRehearsalDraft(form({ agent: 'codex', model: '', budget: '10x' }), ctx);
    expect(draft).toMatchObject({
      task: { kind: 'rehearsal' },
      agent: { id: 'codex', model: 'gpt-5.1-codex-max', scripted: {} },
      budgetSeconds: '3m',
      network: false,
      label: 'Rehearsal with Codex CLI',
    });
    const checked = validateRehearsal(form({ agent: 'claude-code', model: 'claude-opus-4-6' }), ctx, true);
    expect(checked.ok && checked.spec.agent).toEqual({ id: 'claude-code', model: 'claude-opus-4-6', scripted: {} });
  });

  it('is not offered for the built-in agent or a custom command', () => {
    expect(scriptedRehearsalDraft(form({ agent: 'rehearsal' }), ctx)).toBeNull();
    const checked = validateRehearsal(form({ agent: 'custom' }), ctx, true);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.errors.agent).toContain('Claude Code, Codex, Gemini CLI or OpenCode');
  });
});
