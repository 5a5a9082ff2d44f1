import { describe, expect, it } from 'vitest';
import { buildAgentContainerConfig, type AgentContainerPlan } from '../../../../src/main/runs/agent-container';
import {
  endpointHandOverScript,
  modelEndpointContainerConfig,
  scriptedEnv,
  scriptedFoldersScript,
  scriptedRun,
  scriptedUploads,
} from '../../../../src/main/runs/model-endpoint';
import { getAgent } from '../../../../src/shared/runs/agent-catalog';
import { defaultRehearsalScript } from '../../../../src/shared/runs/rehearsal-scripts';
import { runSpecWarnings, validateRunSpec, type RunSpec } from '../../../../src/shared/runs/run-spec';

function spec(agent: Record<string, unknown>): RunSpec {
  const parsed = validateRunSpec({ host: 'h', task: { kind: 'rehearsal' }, agent, network: 'off' });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

describe('a scripted run', () => {
  it('is none for a run against the real provider', () => {
    expect(scriptedRun(spec({ id: 'claude-code', model: 'claude-opus-4-6' }), getAgent('claude-code'))).toBeNull();
  });

  it('gets a fresh dummy key in the agent’s own key variable and the default script', () => {
    const s = spec({ id: 'codex', model: 'gpt-5.1-codex-max', scripted: {} });
    const a = scriptedRun(s, getAgent('codex'))!;
    const b = scriptedRun(s, getAgent('codex'))!;
    expect(a.secret.env).toBe('CODEX_API_KEY');
    expect(a.secret.value).toMatch(/^ptw-scripted-[0-9a-f]{36}$/);
    expect(a.secret.value).not.toBe(b.secret.value);
    expect(a.script).toEqual(defaultRehearsalScript('codex'));
    // With the network off there is still a model to reach: no warning about the provider's API.
    expect(runSpecWarnings(s)).toEqual([]);
  });

  it('points each CLI at the endpoint with its own setting', () => {
    const run = (id: 'claude-code' | 'codex' | 'gemini-cli' | 'opencode') =>
      scriptedRun(spec({ id, model: 'm', scripted: {} }), getAgent(id))!;
    expect(scriptedEnv(run('claude-code'))).toEqual({ ANTHROPIC_BASE_URL: 'http://127.0.0.1:8765' });
    expect(scriptedEnv(run('gemini-cli'))).toEqual({ GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:8765' });
    const codex = scriptedUploads(run('codex'), '/r');
    expect(codex.map((u) => u.path)).toEqual(['/r/endpoint/script.json', '/r/home/.codex/config.toml']);
    expect(codex[1]!.content.toString()).toContain('base_url = "http://127.0.0.1:8765/v1"');
    expect(codex[1]!.content.toString()).toContain('env_key = "CODEX_API_KEY"');
    const gemini = scriptedUploads(run('gemini-cli'), '/r')[1]!;
    expect(JSON.parse(gemini.content.toString())).toEqual({ security: { auth: { selectedType: 'gemini-api-key' } } });
    const opencode = JSON.parse(scriptedUploads(run('opencode'), '/r')[1]!.content.toString()) as {
      provider: { ptw: { options: Record<string, string> } };
      permission: string;
    };
    expect(opencode.permission).toBe('allow');
    expect(opencode.provider.ptw.options).toEqual({
      baseURL: 'http://127.0.0.1:8765/v1',
      apiKey: '{env:OPENCODE_API_KEY}',
    });
    expect(scriptedFoldersScript(run('codex'), '/r')).toBe('mkdir -p -- /r/endpoint/out /r/endpoint /r/home/.codex');
    expect(endpointHandOverScript('/r', { uid: 61000, gid: 61000, chown: true })).toContain(
      'chown -R -h -- 61000:61000 /r/endpoint/out',
    );
    // The script itself is what the spec holds, written whole for the endpoint.
    const custom = { format: 'ptw-model-script/1', turns: [{ text: 'hi' }] };
    const withScript = scriptedRun(
      spec({ id: 'claude-code', model: 'm', scripted: { script: custom } }),
      getAgent('claude-code'),
    )!;
    expect(JSON.parse(scriptedUploads(withScript, '/r')[0]!.content.toString())).toEqual({
      ...custom,
      turns: [{ text: 'hi', toolCalls: [] }],
    });
  });

  it('refuses a spec whose script is not valid, naming the turn', () => {
    const parsed = validateRunSpec({
      host: 'h',
      task: { kind: 'rehearsal' },
      agent: {
        id: 'claude-code',
        model: 'm',
        scripted: { script: { format: 'ptw-model-script/1', turns: [{ thinking: 'x' }] } },
      },
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems[0]?.path).toBe('agent.scripted.script.turns.0');
  });

  it('runs the endpoint unprivileged, on the run’s network, with the key in its environment only', () => {
    const config = modelEndpointContainerConfig({
      runId: 'r-1',
      runDir: '/srv/r-1',
      image: 'img',
      user: '61000:61000',
      network: false,
      key: 'ptw-scripted-abc',
    });
    expect(config.User).toBe('61000:61000');
    expect(config.HostConfig?.NetworkMode).toBe('none');
    expect(config.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(config.Env).toEqual(['PTW_SCRIPTED_KEY=ptw-scripted-abc']);
    expect(config.Cmd?.join(' ')).not.toContain('ptw-scripted-abc');
    expect(config.Labels).toEqual({ 'ptw.run': 'r-1', 'ptw.role': 'model-endpoint', 'ptw.run-dir': '/srv/r-1' });
    expect(config.HostConfig?.Mounts?.map((m) => [m.Target, m.ReadOnly])).toEqual([
      ['/ptw-endpoint/ptw-host.pyz', true],
      ['/ptw-endpoint/script.json', true],
      ['/ptw-endpoint/out', false],
    ]);
  });

  it('has the agent join the endpoint’s network namespace', () => {
    const plan: AgentContainerPlan = {
      ...{ runId: 'r-1', runDir: '/srv/r-1', image: 'img', command: ['claude'], env: {}, secretEnv: {}, gpus: [] },
      ...{ protectedFiles: [], network: false, limits: {}, labels: {}, user: '1:1', networkContainer: 'abc123' },
    };
    expect(buildAgentContainerConfig(plan).HostConfig?.NetworkMode).toBe('container:abc123');
  });
});
