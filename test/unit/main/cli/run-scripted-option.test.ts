import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { specFromOptions } from '../../../../src/main/cli/run-commands';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { capture } from '../../../support/cli-capture';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ptw-scripted-option-'));
const base = { host: 'gpu1', task: 'rehearsal', env: [] as string[] };

describe('ptw run start --scripted', () => {
  it('asks for the default script and the agent’s scripted model when none is named', async () => {
    const spec = await specFromOptions({ ...base, agent: 'gemini-cli', scripted: true });
    expect(spec.agent).toEqual({ id: 'gemini-cli', model: 'gemini-2.5-pro', scripted: {} });
    const named = await specFromOptions({ ...base, agent: 'codex', model: 'gpt-5.4', scripted: true });
    expect(named.agent).toEqual({ id: 'codex', model: 'gpt-5.4', scripted: {} });
  });

  it('carries a script file, checked, in the spec', async () => {
    const file = path.join(dir, 'ok.json');
    writeFileSync(
      file,
      JSON.stringify({ format: 'ptw-model-script/1', agent: 'claude-code', turns: [{ text: 'hi' }] }),
    );
    const spec = await specFromOptions({ ...base, agent: 'claude-code', scripted: file });
    expect((spec.agent as { scripted: unknown }).scripted).toEqual({
      script: { format: 'ptw-model-script/1', agent: 'claude-code', turns: [{ text: 'hi', toolCalls: [] }] },
    });
  });

  it('refuses a bad script naming the file and turn, another CLI’s script, and agents that are not CLIs', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'ptw-model-script/1', turns: [{ text: 'a' }, { thinking: 'b' }] }));
    await expect(specFromOptions({ ...base, agent: 'claude-code', scripted: bad })).rejects.toThrow(
      `${bad}: turn 2: needs text or at least one tool call`,
    );
    const other = path.join(dir, 'codex.json');
    writeFileSync(other, JSON.stringify({ format: 'ptw-model-script/1', agent: 'codex', turns: [{ text: 'a' }] }));
    await expect(specFromOptions({ ...base, agent: 'claude-code', scripted: other })).rejects.toThrow(
      'is a script for codex, not claude-code',
    );
    await expect(specFromOptions({ ...base, agent: 'rehearsal', scripted: true })).rejects.toThrow(
      '--scripted rehearses a real agent CLI',
    );
    await expect(
      specFromOptions({ ...base, agent: 'claude-code', scripted: path.join(dir, 'missing.json') }),
    ).rejects.toThrow('missing.json');
  });
});

describe('ptw agent script-from-trace', () => {
  it('prints the script a Claude Code trace replays, and refuses a file that holds none', async () => {
    const trace = path.resolve(__dirname, '../../../fixtures/agent-streams/scripted/claude-code-2.1.337.jsonl');
    const io = capture();
    expect(await runCli(['agent', 'script-from-trace', trace], io)).toBe(0);
    const script = JSON.parse(io.stdout) as { format: string; turns: { toolCalls: { name: string }[] }[] };
    expect(script.format).toBe('ptw-model-script/1');
    expect(script.turns.flatMap((t) => t.toolCalls.map((c) => c.name))).toEqual(['Write', 'Bash', 'Bash']);
    const empty = path.join(dir, 'empty.txt');
    writeFileSync(empty, 'no json here\n');
    const refused = capture();
    expect(await runCli(['agent', 'script-from-trace', empty], refused)).toBe(2);
    expect(refused.stderr).toContain('holds no assistant turn of Claude Code');
  });
});
