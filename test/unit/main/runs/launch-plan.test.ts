import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseProbe,
  parseSyncStat,
  pythonSupported,
  resolveHostPath,
  supervisorSecretsLine,
  syncStatScript,
} from '../../../../src/main/runs/host-scripts';
import {
  agentLabel,
  buildEvaluationPlan,
  newRunId,
  taskLabel,
  TIMER_SCRIPT,
  warningSchedule,
  type ResolvedTask,
} from '../../../../src/main/runs/launch-plan';
import {
  applyTaskDefaults,
  chooseGpus,
  resolveAgentSecret,
  resolveGraderKeys,
  validateForLaunch,
} from '../../../../src/main/runs/run-launcher';
import { isRunId } from '../../../../src/main/runs/run-layout';
import { summarizeRun } from '../../../../src/main/runs/run-summary';
import type { AppError } from '../../../../src/shared/errors';
import { getAgent } from '../../../../src/shared/runs/agent-catalog';

const fixtures = path.resolve(__dirname, '../../../fixtures/nvidia-smi/extracted');
const capture = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8');

/** The H100 capture's inventory line, as `GPU_INVENTORY_QUERY` prints it. */
const INVENTORY = 'NVIDIA H100 80GB HBM3';

describe('run ids', () => {
  it('sort by creation time and are safe as folder names on both ends', () => {
    const id = newRunId(new Date('2026-11-23T12:00:00.123Z'), 'ab12cd');
    expect(id).toBe('r-20261123-120000-ab12cd');
    expect(isRunId(id)).toBe(true);
    expect(isRunId(newRunId(new Date()))).toBe(true);
    for (const bad of ['../r-20261123-120000-ab12', 'r-1', 'r-20261123-120000-AB12', 'r-20261123-120000-ab12/x']) {
      expect(isRunId(bad)).toBe(false);
    }
  });
});

describe('spec defaults and validation at launch', () => {
  it('gives the rehearsal 5 minutes and no network unless the spec says otherwise', () => {
    expect(applyTaskDefaults({ task: { kind: 'rehearsal' } })).toMatchObject({ budgetSeconds: 300, network: false });
    expect(applyTaskDefaults({ task: { kind: 'rehearsal' }, budgetSeconds: '20s', network: true })).toMatchObject({
      budgetSeconds: '20s',
      network: true,
    });
    expect(applyTaskDefaults({ task: { kind: 'ptb' } })).toEqual({ task: { kind: 'ptb' } });
  });

  it('lists every problem with its field', () => {
    const err = (() => {
      try {
        validateForLaunch({ host: 'gpu1', task: { kind: 'rehearsal' }, agent: { id: 'nope' }, budgetSeconds: '10' });
      } catch (e) {
        return e as AppError;
      }
      throw new Error('no error');
    })();
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('agent.id: the agent is one of');
    expect(err.message).toContain('budgetSeconds:');
  });
});

describe('the agent’s key', () => {
  const store = (values: Record<string, string>) => ({
    get: async (name: string) => (values[name] ? { value: values[name]!, source: 'environment' as const } : undefined),
  });

  it('comes from the first secret name that is set, as the variable the sandbox reads', async () => {
    expect(await resolveAgentSecret(getAgent('codex'), store({ OPENAI_API_KEY: 'sk-openai-123456789' }))).toEqual({
      env: 'CODEX_API_KEY',
      name: 'OPENAI_API_KEY',
      value: 'sk-openai-123456789',
    });
    expect(await resolveAgentSecret(getAgent('rehearsal'), store({}))).toBeNull();
  });

  it('is refused by name when missing, saying where to put it', async () => {
    await expect(resolveAgentSecret(getAgent('claude-code'), store({}))).rejects.toMatchObject({
      code: 'SECRET_MISSING',
      message: expect.stringContaining('PTW_SECRET_ANTHROPIC_API_KEY'),
    });
  });
});

describe('GPU choice from a fresh nvidia-smi', () => {
  const inventory = `0, ${INVENTORY}, GPU-00000000-0000-0000-0000-000000000000, 81559, 590.48.01\n`;
  const probe = (apps: string) => ({
    home: '/root',
    user: 'root',
    uid: 0,
    gid: 0,
    memTotalBytes: null,
    python: '3.11.2',
    gpus: { code: 0, text: inventory },
    apps: { code: 0, text: apps },
  });
  const busy = capture('h100-80gb-hbm3__load__query-compute-apps.csv.txt');

  it('takes a requested free GPU, and the first free one for a benchmark', () => {
    expect(chooseGpus({ host: 'h', requested: [0], needsGpu: false, probe: probe('') })).toEqual({
      gpus: [0],
      sampleGpus: true,
    });
    expect(chooseGpus({ host: 'h', requested: [], needsGpu: true, probe: probe('') }).gpus).toEqual([0]);
    // A CPU-only task holds none, but the host's GPUs are still sampled.
    expect(chooseGpus({ host: 'h', requested: [], needsGpu: false, probe: probe(busy) })).toEqual({
      gpus: [],
      sampleGpus: true,
    });
  });

  it('refuses a busy GPU naming the processes on it, and a GPU that does not exist', () => {
    expect(() => chooseGpus({ host: 'h', requested: [0], needsGpu: false, probe: probe(busy) })).toThrow(
      /GPU 0 on h is busy: pid 11327 \/root\/tools\/memhog \(2566 MiB\)/,
    );
    expect(() => chooseGpus({ host: 'h', requested: [2], needsGpu: false, probe: probe('') })).toThrow(
      'h has no GPU 2; it has GPU 0.',
    );
    expect(() => chooseGpus({ host: 'h', requested: [], needsGpu: true, probe: probe(busy) })).toThrow(
      /Every GPU on h is busy/,
    );
  });

  it('runs without a GPU on a host with no nvidia-smi, unless one is needed', () => {
    const none = {
      home: '/root',
      user: 'root',
      uid: 0,
      gid: 0,
      memTotalBytes: null,
      python: '3.11.2',
      gpus: null,
      apps: null,
    };
    expect(chooseGpus({ host: 'h', requested: [], needsGpu: false, probe: none })).toEqual({
      gpus: [],
      sampleGpus: false,
    });
    expect(() => chooseGpus({ host: 'h', requested: [0], needsGpu: false, probe: none })).toThrow(/no nvidia-smi/);
  });
});

describe('what the launcher plans', () => {
  const rehearsal: ResolvedTask = {
    kind: 'rehearsal',
    displayName: 'Rehearsal Arithmetic',
    protectedPaths: ['evaluate.py'],
    evaluationEntry: 'evaluate.py',
    requiredApiKeys: [],
  };

  it('evaluates with the task folder’s own evaluate.py, retrying benchmarks at smaller max-token settings', () => {
    const sandbox = { user: '61000:61000', shmBytes: 2 * 1024 ** 3 };
    const plan = buildEvaluationPlan({
      task: rehearsal,
      image: 'img',
      gpus: [],
      runId: 'r',
      runDir: '/runs/r',
      ...sandbox,
      memoryBytes: 4 * 1024 ** 3,
    });
    expect(plan).toMatchObject({
      image: 'img',
      workdir: '/eval/task',
      command: [
        'python3',
        'evaluate.py',
        '--model-path',
        '/eval/final_model',
        '--limit',
        '-1',
        '--json-output-file',
        '/eval/out/metrics.json',
      ],
      attempts: [{ extraArgs: [], timeoutSeconds: 600 }],
      deviceRequests: [],
      networkMode: 'none',
      // The evaluator is as unprivileged as the agent, with its memory and a process limit.
      user: '61000:61000',
      memoryBytes: 4 * 1024 ** 3,
      shmSizeBytes: 2 * 1024 ** 3,
      pidsLimit: 4096,
    });
    const ptb = buildEvaluationPlan({
      ...sandbox,
      task: { ...rehearsal, kind: 'ptb', evaluationEntry: 'evaluate_final_eval.py' },
      image: 'img',
      gpus: [1],
      runId: 'r',
      runDir: '/runs/r',
    });
    expect(ptb.command[1]).toBe('evaluate_final_eval.py');
    expect(ptb.attempts.map((a) => a.extraArgs)).toEqual([[], ['--max-tokens', '8192'], ['--max-tokens', '4096']]);
    expect(ptb.deviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: ['1'], Capabilities: [['gpu']] }]);
    expect(ptb.networkMode).toBe('none');
  });

  it('gives an LLM-graded benchmark’s evaluator the network (its grader key comes on the supervisor’s stdin)', () => {
    const graded = buildEvaluationPlan({
      user: '1000:1000',
      shmBytes: 1024 ** 3,
      task: { ...rehearsal, kind: 'ptb', displayName: 'Arena-Hard', requiredApiKeys: ['OPENAI_API_KEY'] },
      image: 'img',
      gpus: [0],
      runId: 'r',
      runDir: '/runs/r',
    });
    expect(graded.networkMode).toBe('bridge');
    expect(JSON.stringify(graded)).not.toContain('OPENAI_API_KEY');
  });

  it('sends the agent’s key and the grader keys to the supervisor as one JSON line', () => {
    const line = supervisorSecretsLine(
      [{ name: 'ANTHROPIC_API_KEY', value: 'sk-ant-1234567890' }],
      [{ name: 'OPENAI_API_KEY', value: 'sk-openai-0987654321' }],
    );
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trim().includes('\n')).toBe(false);
    expect(JSON.parse(line)).toEqual({
      secrets: [{ name: 'ANTHROPIC_API_KEY', value: 'sk-ant-1234567890' }],
      evaluationEnv: [{ name: 'OPENAI_API_KEY', value: 'sk-openai-0987654321' }],
    });
    expect(JSON.parse(supervisorSecretsLine([]))).toEqual({ secrets: [], evaluationEnv: [] });
  });

  it('refuses an LLM-graded benchmark before anything is created when its grader key is missing', async () => {
    const task = { displayName: 'HealthBench', requiredApiKeys: ['OPENAI_API_KEY'] };
    const empty = { get: async () => undefined };
    await expect(resolveGraderKeys(task, empty)).rejects.toMatchObject({
      code: 'SECRET_MISSING',
      message: expect.stringContaining('its evaluator needs OPENAI_API_KEY. Set PTW_SECRET_OPENAI_API_KEY'),
    });
    const set = { get: async (name: string) => ({ value: `value-of-${name}`, source: 'environment' as const }) };
    expect(await resolveGraderKeys(task, set)).toEqual([{ name: 'OPENAI_API_KEY', value: 'value-of-OPENAI_API_KEY' }]);
    expect(await resolveGraderKeys({ displayName: 'GSM8K', requiredApiKeys: [] }, empty)).toEqual([]);
  });

  it('warns the agent only where a warning leaves at least half the budget', () => {
    expect(warningSchedule(36_000)).toEqual([3600, 900, 300, 60]);
    expect(warningSchedule(300)).toEqual([60]);
    expect(warningSchedule(20)).toEqual([]);
  });

  it('names tasks and agents the way lists show them', () => {
    expect(taskLabel({ kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen/Qwen3-4B-Base' })).toBe(
      'gsm8k · Qwen3-4B-Base',
    );
    expect(taskLabel({ kind: 'rehearsal' })).toBe('rehearsal');
    expect(agentLabel({ id: 'claude-code', model: 'claude-opus-4-6' })).toBe('claude-code · claude-opus-4-6');
    expect(agentLabel({ id: 'rehearsal', model: 'rehearsal' })).toBe('rehearsal');
  });

  it('gives the agent a timer whose clock starts with the agent (the deadline file)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-timer-'));
    try {
      const script = path.join(dir, 'timer');
      await writeFile(script, TIMER_SCRIPT.replace(/\/ptw\/deadline/g, path.join(dir, 'deadline')));
      expect(() => execFileSync('sh', [script], { encoding: 'utf8' })).toThrow();
      await writeFile(path.join(dir, 'deadline'), `${Math.floor(Date.now() / 1000) + 3_725}\n`);
      const out = execFileSync('sh', [script], { encoding: 'utf8' });
      expect(out).toMatch(/^Remaining time \(hours:minutes:seconds\):\n1:02:0[45]\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('host scripts', () => {
  it('read the probe', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const probe = parseProbe(
      `HOME\t/home/ana\nUSER\tana\nIDS\t1000\t1001\nMEMKIB\t2097152\nPYTHON\t3.8.10\nGPUS\t0\t${b64('x')}\nAPPS\t6\t${b64('no')}\n`,
    );
    expect(probe).toEqual({
      home: '/home/ana',
      user: 'ana',
      uid: 1000,
      gid: 1001,
      memTotalBytes: 2 * 1024 ** 3,
      python: '3.8.10',
      gpus: { code: 0, text: 'x' },
      apps: { code: 6, text: 'no' },
    });
    expect(parseProbe('HOME\t/root\nPYTHON\t\nNOSMI\n')).toMatchObject({ python: null, gpus: null, uid: null });
    // What `id` or /proc/meminfo say that is not a number is unknown, never NaN.
    expect(parseProbe('IDS\tx\t\nMEMKIB\t-5\n')).toMatchObject({ uid: null, gid: null, memTotalBytes: null });
    expect(pythonSupported('3.8.0')).toBe(true);
    expect(pythonSupported('3.7.9')).toBe(false);
    expect(pythonSupported('4.0.0')).toBe(true);
  });

  it('place ~ and relative run roots in the SSH user’s home', () => {
    expect(resolveHostPath('~/posttrain-runs', '/home/ana')).toBe('/home/ana/posttrain-runs');
    expect(resolveHostPath('~', '/home/ana')).toBe('/home/ana');
    expect(resolveHostPath('runs/', '/home/ana/')).toBe('/home/ana/runs');
    expect(resolveHostPath('/data/runs/', '/home/ana')).toBe('/data/runs');
  });

  it('stat a run folder in one exec (run here with sh)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ptw-stat-'q "));
    try {
      await writeFile(path.join(dir, 'state.json'), '{"status": "running"}');
      await execFileSync('mkdir', ['-p', path.join(dir, 'record'), path.join(dir, 'eval')]);
      await writeFile(path.join(dir, 'record', 'terminal.cast'), 'abc');
      await writeFile(path.join(dir, 'eval', 'attempt-2.log'), 'x\n');
      const out = execFileSync('sh', ['-c', syncStatScript(dir)], { encoding: 'utf8' });
      const stat = parseSyncStat(out);
      expect(stat.gone).toBe(false);
      expect(stat.files.get('record/terminal.cast')?.size).toBe(3);
      expect(stat.files.get('eval/attempt-2.log')?.size).toBe(2);
      expect(stat.files.has('record/events.jsonl')).toBe(false);
      expect(stat.stateText).toBe('{"status": "running"}');
      expect(stat.supervisorAlive).toBe(false);
      expect(Math.abs(stat.hostNow! - Date.now())).toBeLessThan(2_000);
      expect(parseSyncStat(execFileSync('sh', ['-c', syncStatScript(`${dir}/nope`)], { encoding: 'utf8' })).gone).toBe(
        true,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('run summaries', () => {
  const runJson = {
    schema: 1,
    id: 'r-20261123-120000-ab12',
    createdAt: '2026-11-23T12:00:00.000Z',
    spec: { host: 'gpu1', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' }, label: 'try' },
    supervisor: { budgetSeconds: 300 },
  };
  const state = {
    status: 'running' as const,
    supervisorPid: 1,
    heartbeatAt: 1_000_000,
    agentContainerId: 'c',
    startedAt: 990_000,
    deadline: 1_290_000,
    warningsSent: [],
    stoppedAt: null,
    stopReason: null,
    exitCode: null,
    evaluation: { attempts: 0, outcome: null, metrics: null },
  };
  const sync = { host: 'gpu1', syncedAt: 1, error: null, hostClockOffsetMs: 60_000, supervisorAlive: true };

  it('judge the heartbeat on the host’s clock', () => {
    // Our clock is a minute behind the host's: 1 s after the heartbeat by the host's.
    const live = summarizeRun({ id: runJson.id, runJson, state, sync, now: 1_000_000 - 59_000 });
    expect(live).toMatchObject({ status: 'running', supervisorAlive: true, task: 'rehearsal', label: 'try' });
    const stale = summarizeRun({
      id: runJson.id,
      runJson,
      state,
      sync: { ...sync, hostClockOffsetMs: 0 },
      now: 1_030_000,
    });
    expect(stale.supervisorAlive).toBe(false);
  });

  it('score scored runs and say when a record cannot be read', () => {
    const scored = summarizeRun({
      id: runJson.id,
      runJson,
      state: {
        ...state,
        status: 'scored',
        evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.42 } },
      },
      sync,
      now: 0,
    });
    expect(scored).toMatchObject({ status: 'scored', score: 42, supervisorAlive: false });
    expect(summarizeRun({ id: 'x', runJson: null, state: null, sync: null, now: 0 }).status).toBe('unreadable');
    expect(summarizeRun({ id: 'x', runJson, state: null, sync, now: 0 }).status).toBe('starting');
  });

  it('say where an imported run came from (it has no host to read from)', () => {
    expect(summarizeRun({ id: runJson.id, runJson, state, sync, now: 0 }).imported).toBeNull();
    const imported = summarizeRun({
      id: runJson.id,
      runJson,
      state: { ...state, status: 'scored' },
      sync: { ...sync, imported: { kind: 'ptb', source: '/data/results/run1' } },
      now: 0,
    });
    expect(imported).toMatchObject({ host: 'gpu1', imported: { kind: 'ptb', source: '/data/results/run1' } });
  });
});
