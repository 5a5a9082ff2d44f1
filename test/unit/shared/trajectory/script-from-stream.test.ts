import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRehearsalScript } from '../../../../src/shared/runs/rehearsal-scripts';
import { scriptFromClaudeStream } from '../../../../src/shared/trajectory/script-from-stream';

const fixtures = path.resolve(__dirname, '../../../fixtures/agent-streams');

describe('a model script from a Claude Code trace', () => {
  it('gives back the turns that produced a recorded session', () => {
    // The real stream Claude Code printed while replaying the default script: the round trip is the script.
    const text = readFileSync(path.join(fixtures, 'scripted/claude-code-2.1.337.jsonl'), 'utf8');
    const made = scriptFromClaudeStream(text, 'claude-code-2.1.337.jsonl');
    expect(made.ok).toBe(true);
    if (!made.ok) return;
    const original = defaultRehearsalScript('claude-code');
    const local = (t: (typeof original.turns)[number]) =>
      JSON.parse(JSON.stringify(t).replaceAll('/workspace', '/tmp/w3-run/ws')) as unknown;
    expect(made.script.turns).toEqual(original.turns.map(local));
  });

  it('reads a PostTrainBench-style trace with timestamp prefixes and launcher lines, ending a cut-off trace', () => {
    const lines = [
      '[2026-01-01T00:00:00Z] starting agent',
      `[2026-01-01T00:00:01Z] ${JSON.stringify({ type: 'system', subtype: 'init' })}`,
      `[2026-01-01T00:00:02Z] ${JSON.stringify({ type: 'assistant', message: { content: [{ type: 'tool_use', id: 'a', name: 'Bash', input: { command: 'nvidia-smi' } }] } })}`,
      `[2026-01-01T00:00:03Z] ${JSON.stringify({ type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 'a', content: 'ok' }] } })}`,
      `[2026-01-01T00:00:04Z] ${JSON.stringify({
        type: 'assistant',
        message: {
          content: [
            { type: 'text', text: 'Training.' },
            { type: 'tool_use', id: 'b', name: 'Bash', input: { command: 'python train.py' } },
          ],
        },
      })}`,
    ].join('\n');
    const made = scriptFromClaudeStream(lines, 'solve_out.txt');
    expect(made.ok && made.script.turns).toEqual([
      { toolCalls: [{ name: 'Bash', input: { command: 'nvidia-smi' } }] },
      { text: 'Training.', toolCalls: [{ name: 'Bash', input: { command: 'python train.py' } }] },
      { text: 'The recorded trace ends here.', toolCalls: [] },
    ]);
    expect(scriptFromClaudeStream('not a trace\n', 'x.txt')).toEqual({
      ok: false,
      error: 'x.txt holds no assistant turn of Claude Code',
    });
  });
});
