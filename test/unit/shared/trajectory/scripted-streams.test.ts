import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAgentStream } from '../../../../src/shared/trajectory/agent-steps';

// Real streams of the four CLIs (versions in the names) replaying their default rehearsal script against the scripted
// model endpoint (test/fixtures/PROVENANCE.md). The integration test re-records them in the sandbox on every run.
const dir = path.resolve(__dirname, '../../../fixtures/agent-streams/scripted');

describe.each([
  ['claude-code-2.1.337.jsonl', 'claude-stream-json'],
  ['codex-0.171.0.jsonl', 'codex-exec-json'],
  ['gemini-cli-0.61.0.jsonl', 'gemini-stream-json'],
  ['opencode-1.18.33.jsonl', 'opencode-json'],
] as const)('%s', (file, dialect) => {
  const parsed = parseAgentStream(readFileSync(path.join(dir, file), 'utf8'));

  it('is recognised, with every line explained', () => {
    expect(parsed.dialect).toBe(dialect);
    expect(parsed.totals.rawLines).toBe(0);
  });

  it('holds the script three tool calls, each paired with its result', () => {
    expect(parsed.totals.toolCalls).toBe(3);
    expect(parsed.totals.unfinishedCalls).toBe(0);
    const calls = parsed.steps.filter((s) => s.toolId !== undefined);
    expect(calls.map((s) => s.kind)).toEqual(
      ['file', 'shell', 'shell'].map((k) => (dialect === 'codex-exec-json' ? 'shell' : k)),
    );
    for (const call of calls) expect(call.status).not.toBe('in_progress');
  });

  it('ends with the script last words', () => {
    const messages = parsed.steps.filter((s) => s.kind === 'message');
    expect(messages.at(-1)?.text).toContain('the rehearsal task is done');
  });
});
