import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTS,
  AGENT_IDS,
  buildAgentCommand,
  credentialEnvNames,
  formatArgvTemplate,
  getAgent,
} from '../../../../src/shared/runs/agent-catalog';

const run = promisify(execFile);

describe('the agent catalog', () => {
  it('has one entry per agent id', () => {
    expect(AGENTS.map((a) => a.id)).toEqual([...AGENT_IDS]);
  });

  it('keeps the PostTrainBench invocations exactly (shared/PTB.md)', () => {
    expect(formatArgvTemplate(getAgent('claude-code').argv ?? [])).toBe(
      'claude --print --verbose --model {model} --output-format stream-json --dangerously-skip-permissions {prompt}',
    );
    expect(formatArgvTemplate(getAgent('codex').argv ?? [])).toBe(
      'codex --search exec --json -c model_reasoning_summary=detailed --skip-git-repo-check --yolo --model {model} {prompt}',
    );
    expect(formatArgvTemplate(getAgent('gemini-cli').argv ?? [])).toBe(
      'gemini --yolo --model {model} --output-format stream-json -p {prompt}',
    );
    expect(formatArgvTemplate(getAgent('opencode').argv ?? [])).toBe(
      'opencode run --model {model} --format json {prompt}',
    );
  });

  it('names each agent’s key, stream format and fixed env', () => {
    expect(credentialEnvNames(getAgent('claude-code'))).toEqual(['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN']);
    expect(credentialEnvNames(getAgent('codex'))).toEqual(['CODEX_API_KEY']);
    expect(getAgent('codex').credentials[0]?.secretNames).toEqual(['CODEX_API_KEY', 'OPENAI_API_KEY']);
    expect(credentialEnvNames(getAgent('gemini-cli'))).toEqual(['GEMINI_API_KEY']);
    expect(credentialEnvNames(getAgent('opencode'))).toEqual(['OPENCODE_API_KEY']);
    expect(credentialEnvNames(getAgent('rehearsal'))).toEqual([]);
    expect(getAgent('gemini-cli').env).toEqual({ GEMINI_SANDBOX: 'false', GEMINI_CLI_TRUST_WORKSPACE: 'true' });
    expect(getAgent('claude-code').env.IS_SANDBOX).toBe('1');
    expect(AGENTS.map((a) => a.streamFormat)).toEqual([
      'claude-stream-json',
      'codex-exec-json',
      'gemini-stream-json',
      'opencode-json',
      'claude-stream-json',
      'none',
    ]);
  });

  it('writes an opencode.json that allows every action', () => {
    const file = getAgent('opencode').files[0];
    expect(file).toMatchObject({ dir: 'workspace', path: 'opencode.json' });
    expect(JSON.parse(file?.content ?? '')).toEqual({
      $schema: 'https://opencode.ai/config.json',
      permission: 'allow',
    });
  });

  it('ships the rehearsal agent script it names', () => {
    const file = getAgent('rehearsal').files[0];
    expect(file).toMatchObject({ dir: 'ptw', path: 'rehearsal-agent.sh' });
    expect(existsSync(path.resolve('resources', file?.resource ?? 'missing'))).toBe(true);
  });

  it('puts no secret-looking env in the catalog', () => {
    for (const agent of AGENTS) {
      for (const name of Object.keys(agent.env)) expect(name).not.toMatch(/(KEY|TOKEN|SECRET)$/);
    }
  });
});

describe('buildAgentCommand', () => {
  it('wraps the template in sh -c with the model and prompt path as positional parameters', () => {
    const argv = buildAgentCommand('claude-code', { model: 'claude-sonnet-4-6', promptPath: '/ptw/prompt.txt' });
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(argv.slice(3)).toEqual(['ptw-agent', 'claude-sonnet-4-6', '/ptw/prompt.txt']);
    expect(argv[2]).toBe(
      [
        'ptw_prompt=$(cat -- "$2") || { echo "ptw: cannot read the prompt file $2" >&2; exit 66; }',
        '[ -n "$ptw_prompt" ] || { echo "ptw: the prompt file $2 is empty" >&2; exit 66; }',
        'exec claude --print --verbose --model "$1" --output-format stream-json --dangerously-skip-permissions "$ptw_prompt"',
      ].join('\n'),
    );
  });

  it('never splices the model or path into the script', () => {
    const argv = buildAgentCommand('codex', { model: "x'; rm -rf / #", promptPath: '/p/$(id)' });
    expect(argv[2]).not.toContain('rm -rf');
    expect(argv[2]).not.toContain('$(id)');
  });

  it('reads no prompt for an agent that takes the file path', () => {
    const argv = buildAgentCommand('rehearsal', { model: 'rehearsal', promptPath: '/ptw/prompt.txt' });
    expect(argv[2]).toBe('exec /bin/sh /ptw/rehearsal-agent.sh "$2"');
  });

  it('builds a custom command, placeholders inside words included', () => {
    const argv = buildAgentCommand('custom', {
      model: 'm1',
      promptPath: '/ptw/prompt.txt',
      command: ['my agent', '--model={model}', '--prompt-file', '{prompt_file}', '{"json": {x}}', ''],
    });
    expect(argv[2]).toBe(`exec 'my agent' --model="$1" --prompt-file "$2" '{"json": {x}}' ''`);
  });

  it('refuses a custom agent without a command and a real agent without a model', () => {
    expect(() => buildAgentCommand('custom', { model: '', promptPath: '/p' })).toThrow(/needs a command/);
    expect(() => buildAgentCommand('gemini-cli', { model: ' ', promptPath: '/p' })).toThrow(
      'Gemini CLI needs a model id (e.g. gemini-2.5-pro)',
    );
  });
});

describe('the built command, run by a real sh', () => {
  let dir = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ptw-agent-cmd-'));
    // Stand-ins for the agent CLIs: print the arguments they got, as JSON.
    for (const name of ['claude', 'codex', 'gemini', 'opencode']) {
      const fake = path.join(dir, name);
      await writeFile(fake, '#!/usr/bin/env python3\nimport json, sys\nprint(json.dumps(sys.argv))\n');
      await chmod(fake, 0o755);
    }
    env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runAgent(agent: 'claude-code' | 'codex' | 'gemini-cli' | 'opencode', model: string, prompt: string) {
    const promptPath = path.join(dir, 'prompt.txt');
    await writeFile(promptPath, prompt);
    const [file, ...args] = buildAgentCommand(agent, { model, promptPath });
    const { stdout } = await run(file ?? '', args, { env, cwd: dir });
    return JSON.parse(stdout) as string[];
  }

  it('hands a hostile prompt to the agent as one untouched argument', async () => {
    const prompt = `It's "quoted" $(touch ${dir}/pwned) \`touch ${dir}/pwned2\` $HOME \\n {model}\n\nlast line`;
    const argv = await runAgent('claude-code', 'claude-sonnet-4-6', `${prompt}\n`);
    expect(argv.slice(1)).toEqual([
      '--print',
      '--verbose',
      '--model',
      'claude-sonnet-4-6',
      '--output-format',
      'stream-json',
      '--dangerously-skip-permissions',
      // Command substitution drops trailing newlines, nothing else.
      prompt,
    ]);
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
    expect(existsSync(path.join(dir, 'pwned2'))).toBe(false);
  });

  it('runs each catalog agent with the model where its CLI expects it', async () => {
    expect((await runAgent('codex', 'gpt-5.4', 'p')).slice(1)).toEqual([
      '--search',
      'exec',
      '--json',
      '-c',
      'model_reasoning_summary=detailed',
      '--skip-git-repo-check',
      '--yolo',
      '--model',
      'gpt-5.4',
      'p',
    ]);
    expect((await runAgent('gemini-cli', 'gemini-2.5-pro', 'p')).slice(1)).toEqual([
      '--yolo',
      '--model',
      'gemini-2.5-pro',
      '--output-format',
      'stream-json',
      '-p',
      'p',
    ]);
    expect((await runAgent('opencode', 'anthropic/claude-sonnet-4-5', 'p')).slice(1)).toEqual([
      'run',
      '--model',
      'anthropic/claude-sonnet-4-5',
      '--format',
      'json',
      'p',
    ]);
  });

  it('passes a 100 KiB prompt', async () => {
    const prompt = 'x'.repeat(100 * 1024);
    expect((await runAgent('claude-code', 'm', prompt)).at(-1)).toBe(prompt);
  });

  it('stops with exit 66 and a message when the prompt file is missing or empty', async () => {
    const [file, ...args] = buildAgentCommand('claude-code', { model: 'm', promptPath: path.join(dir, 'nope.txt') });
    await expect(run(file ?? '', args, { env })).rejects.toMatchObject({
      code: 66,
      stderr: expect.stringContaining(`ptw: cannot read the prompt file ${dir}/nope.txt`),
    });
    await writeFile(path.join(dir, 'empty.txt'), '\n');
    const [file2, ...args2] = buildAgentCommand('claude-code', { model: 'm', promptPath: path.join(dir, 'empty.txt') });
    await expect(run(file2 ?? '', args2, { env })).rejects.toMatchObject({
      code: 66,
      stderr: expect.stringContaining('is empty'),
    });
  });
});
