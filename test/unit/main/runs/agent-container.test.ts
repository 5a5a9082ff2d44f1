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
  user: '61000:61000',
};

describe('agent sandbox config', () => {
  const config = buildAgentContainerConfig(plan);
  const host = config.HostConfig!;

  it('runs as the unprivileged user it is given, with every capability dropped and no new privileges', () => {
    expect(config.User).toBe('61000:61000');
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual([]);
    expect(host.SecurityOpt).toEqual(['no-new-privileges']);
    expect(host.Privileged).toBe(false);
    expect(config.Env).toEqual(expect.arrayContaining(['HOME=/home/agent', 'USER=agent', 'LOGNAME=agent']));
  });

  it('keeps what a GPU training job needs: /dev/shm, unlimited locked memory, a 64 MiB stack', () => {
    expect(host.ShmSize).toBe(16 * 1024 ** 3);
    expect(buildAgentContainerConfig({ ...plan, limits: { shmBytes: 1024 ** 3 } }).HostConfig!.ShmSize).toBe(1024 ** 3);
    expect(host.Ulimits).toEqual([
      { Name: 'memlock', Soft: -1, Hard: -1 },
      { Name: 'stack', Soft: 64 * 1024 ** 2, Hard: 64 * 1024 ** 2 },
    ]);
    // Only with a GPU: a CPU-only run (the rehearsal) needs none, and some Docker setups may not raise them.
    expect(buildAgentContainerConfig({ ...plan, gpus: [] }).HostConfig!.Ulimits).toBeUndefined();
    expect(host.MemorySwap).toBe(host.Memory);
  });

  it('mounts only the run folder parts the agent may see, protected files read-only, ptw/ as a folder', () => {
    const bind = (Source: string, Target: string, ReadOnly: boolean) => ({ Type: 'bind', Source, Target, ReadOnly });
    expect(host.Mounts).toEqual([
      bind('/srv/runs/r-1/workspace', '/workspace', false),
      bind('/srv/runs/r-1/home', '/home/agent', false),
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
