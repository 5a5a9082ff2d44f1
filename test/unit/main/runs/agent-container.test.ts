import { describe, expect, it } from 'vitest';
import {
  agentContainerLabels,
  buildAgentContainerConfig,
  type AgentContainerPlan,
} from '../../../../src/main/runs/agent-container';

const plan: AgentContainerPlan = {
  runId: 'r-1',
  runDir: '/srv/runs/r-1',
  image: 'ptb/agent:1',
  command: ['sh', '-c', 'claude --print "$(cat /ptw/prompt.txt)"'],
  env: { GEMINI_SANDBOX: 'false' },
  secretEnv: { ANTHROPIC_API_KEY: 'sk-ant-xyz-123456' },
  gpus: [1],
  protectedFiles: ['evaluate.py', 'templates/chat.jinja'],
  hfCacheDir: '/data/hf',
  network: false,
  limits: { memoryBytes: 64 * 1024 ** 3, nanoCpus: 16e9, pidsLimit: 2048 },
  labels: { 'ptw.run': 'r-1', 'ptw.role': 'agent' },
};

describe('agent sandbox config', () => {
  const config = buildAgentContainerConfig(plan);
  const host = config.HostConfig!;

  it('drops every capability but a few and forbids new privileges', () => {
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID']);
    expect(host.CapAdd).not.toContain('SYS_ADMIN');
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Privileged).toBe(false);
  });

  it('mounts only the run folder parts the agent may see, protected files read-only, ptw/ as a folder', () => {
    const bind = (Source: string, Target: string, ReadOnly: boolean) => ({ Type: 'bind', Source, Target, ReadOnly });
    expect(host.Mounts).toEqual([
      bind('/srv/runs/r-1/workspace', '/workspace', false),
      bind('/srv/runs/r-1/ptw', '/ptw', true),
      bind('/srv/runs/r-1/task/evaluate.py', '/workspace/evaluate.py', true),
      bind('/srv/runs/r-1/task/templates/chat.jinja', '/workspace/templates/chat.jinja', true),
      bind('/data/hf', '/hf-cache', true),
    ]);
    expect(host.Binds).toBeUndefined();
    expect(JSON.stringify(host.Mounts)).not.toMatch(/docker\.sock|record|control/);
  });

  it('runs tini as PID 1 so the supervisor’s SIGTERM reaches the agent', () => {
    expect(host.Init).toBe(true);
    expect(buildAgentContainerConfig({ ...plan, init: false }).HostConfig!.Init).toBe(false);
    expect(host.AutoRemove).toBe(false);
  });

  it('keeps no Docker log of the terminal: the supervisor’s cast is the record', () => {
    expect(host.LogConfig).toEqual({ Type: 'none', Config: {} });
  });

  it('labels the container so discovery finds its run', () => {
    expect(
      agentContainerLabels({ runId: 'r-1', runDir: '/srv/runs/r-1', specHash: 'abc', budgetSeconds: 36000 }),
    ).toEqual({
      'ptw.run': 'r-1',
      'ptw.role': 'agent',
      'ptw.run-dir': '/srv/runs/r-1',
      'ptw.spec-hash': 'abc',
      'ptw.budget-seconds': '36000',
    });
  });

  it('requests exactly the chosen GPUs and applies limits', () => {
    expect(host.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: ['1'], Capabilities: [['gpu']] }]);
    expect(host.NetworkMode).toBe('none');
    expect(host.Memory).toBe(64 * 1024 ** 3);
    expect(host.NanoCpus).toBe(16e9);
    expect(host.PidsLimit).toBe(2048);
    expect(buildAgentContainerConfig({ ...plan, gpus: [] }).HostConfig!.DeviceRequests).toBeUndefined();
  });

  it('runs with a TTY, the deadline file and the agent key in the environment only', () => {
    expect(config.Tty).toBe(true);
    expect(config.Env).toContain('ANTHROPIC_API_KEY=sk-ant-xyz-123456');
    expect(config.Env).toContain('PTW_DEADLINE_FILE=/ptw/deadline');
    expect(config.Labels).toEqual(plan.labels);
    expect(JSON.stringify(config.Labels)).not.toContain('sk-ant');
  });
});
