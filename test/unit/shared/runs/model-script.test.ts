import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MODEL_SCRIPT_FORMAT,
  parseModelScript,
  SCRIPTED_AGENT_IDS,
  scriptToolNames,
} from '../../../../src/shared/runs/model-script';
import { defaultRehearsalScript } from '../../../../src/shared/runs/rehearsal-scripts';
import { hostPackageArgv, hostPackageEnv } from '../../../support/host-package-cli';

const work = mkdtempSync(path.join(os.tmpdir(), 'ptw-model-script-'));

/** The host's own check of the same file (`model-endpoint --check`): status and stderr. */
function hostCheck(name: string, script: unknown): { status: number | null; stderr: string } {
  const file = path.join(work, name);
  writeFileSync(file, typeof script === 'string' ? script : JSON.stringify(script));
  const result = spawnSync('python3', hostPackageArgv('model-endpoint', ['--script', file, '--check']), {
    env: hostPackageEnv(),
    encoding: 'utf8',
  });
  return { status: result.status, stderr: result.stderr };
}

describe('model scripts', () => {
  it.each(SCRIPTED_AGENT_IDS)('the default rehearsal script for %s is valid here and on the host', (agent) => {
    const script = defaultRehearsalScript(agent);
    const parsed = parseModelScript(JSON.stringify(script));
    expect(parsed).toEqual({ ok: true, script });
    expect(script.turns.at(-1)?.toolCalls).toEqual([]);
    expect(hostCheck(`${agent}.json`, script)).toMatchObject({ status: 0 });
  });

  it('speaks each CLI through its own tools', () => {
    expect(scriptToolNames(defaultRehearsalScript('claude-code'))).toEqual(['Bash', 'Write']);
    expect(scriptToolNames(defaultRehearsalScript('codex'))).toEqual(['exec_command']);
    expect(scriptToolNames(defaultRehearsalScript('gemini-cli'))).toEqual(['run_shell_command', 'write_file']);
    expect(scriptToolNames(defaultRehearsalScript('opencode'))).toEqual(['bash', 'write']);
  });

  it.each([
    ['not JSON', '{"format":', 'x.json is not JSON'],
    ['a wrong format', { format: 'v0', turns: [{ text: 'a' }] }, 'format'],
    ['thinking alone', { turns: [{ text: 'a' }, { thinking: 'b' }] }, 'turn 2: needs text or at least one tool call'],
    ['a nameless call', { turns: [{ toolCalls: [{ input: {} }] }, { text: 'x' }] }, 'turn 1, tool call 1, name'],
    ['an unknown field', { turns: [{ tool_calls: [] }] }, 'turn 1'],
    ['an open end', { turns: [{ text: 'a' }, { toolCalls: [{ name: 'Bash' }] }] }, 'turn 2: the last turn calls tools'],
  ])('refuses %s, naming where, as the host does', (_what, body, where) => {
    const script = typeof body === 'string' ? body : { format: MODEL_SCRIPT_FORMAT, ...body };
    const parsed = parseModelScript(typeof script === 'string' ? script : JSON.stringify(script), 'x.json');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(where);
    const host = hostCheck('bad.json', script);
    expect(host.status).toBe(2);
    const turn = /turn \d+/.exec(where)?.[0];
    if (turn) expect(host.stderr).toContain(turn);
  });
});
