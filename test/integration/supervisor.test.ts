import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GPU_SAMPLE_FIELDS } from '../../src/shared/parsers/nvidia-smi';
import { parseGpuCsv } from '../../src/shared/runs/gpu-csv';
import { parseEventsJsonl, runStateSchema } from '../../src/shared/runs/run-status';
import { writeFakeNvidiaSmi } from '../support/fake-nvidia-smi';
import {
  type AgentContainerOptions,
  castOutput,
  createAgentContainer,
  type EvaluationPlan,
  eventsOfType,
  prepareRunFolder,
  type PrepareRunFolderOptions,
  readCast,
  readEvents,
  readState,
  removeRunContainers,
  type RunFolder,
  HOST_PACKAGE_SOURCE,
  type SupervisorEvent,
  SupervisorProcess,
  type SupervisorState,
  supervisorLog,
  waitFor,
  waitForEvent,
  WARNING_IN_TERMINAL,
  writeControlRequest,
} from '../support/supervisor-harness';
import { type TestDockerd, startTestDockerd } from '../support/test-dockerd';
import { describeWithTestHost } from '../support/test-host-availability';
import { supervisorSecretsLine } from '../../src/main/runs/host-scripts';
import { BUSYBOX_IMAGE, buildBusyboxImage, buildDebianImage } from '../support/test-images';

const PYTHON_IMAGE = 'ptw-test/debian-python3:1';
/** On this 2-core CI box the doc's ±5 s guarantee is checked at ±2 s. */
const TOLERANCE_MS = 2_000;

/**
 * A stand-in for PostTrainBench's evaluate.py: `--max-tokens` above 8192 "runs out of memory" (exit 1), like the
 * harness's first attempt at a large setting; `--no-metrics` exits 0 without writing metrics; `--hang` never ends.
 */
const EVALUATE_PY = `import argparse, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--model-path', required=True)
p.add_argument('--limit', type=int, default=-1)
p.add_argument('--json-output-file', required=True)
p.add_argument('--max-tokens', type=int, default=8192)
p.add_argument('--no-metrics', action='store_true')
p.add_argument('--hang', action='store_true')
a = p.parse_args()
print('evaluating', a.model_path, 'with max tokens', a.max_tokens, flush=True)
print('a line on stderr', file=sys.stderr, flush=True)
if a.hang:
    time.sleep(3600)
if a.max_tokens > 8192:
    print('CUDA out of memory (simulated)', file=sys.stderr)
    sys.exit(1)
config = json.load(open(os.path.join(a.model_path, 'config.json')))
if not a.no_metrics:
    with open(a.json_output_file, 'w') as f:
        json.dump({'accuracy': config['accuracy_to_report'], 'stderr': 0.01}, f)
`;

function evaluationPlan(attempts: EvaluationPlan['attempts']): EvaluationPlan {
  return {
    image: PYTHON_IMAGE,
    workdir: '/eval/task',
    command: ['python3', 'evaluate.py', '--model-path', '/eval/final_model', '--limit', '-1'].concat([
      '--json-output-file',
      '/eval/out/metrics.json',
    ]),
    attempts,
    networkMode: 'none',
    labels: { 'ptw.test': 'supervisor' },
  };
}

/** The agent leaves a model as a last step (a shell snippet for busybox sh). */
const WRITE_FINAL_MODEL = `mkdir -p final_model && echo '{"model_type": "qwen3", "accuracy_to_report": 0.42}' > final_model/config.json`;

function near(actual: number, expected: number, tolerance = TOLERANCE_MS): boolean {
  return Math.abs(actual - expected) <= tolerance;
}

describeWithTestHost('host supervisor (ptw-host.pyz supervise) against a real dockerd', () => {
  let dockerd: TestDockerd;
  let docker: Dockerode;
  let runRoot: string;
  const supervisors: SupervisorProcess[] = [];
  const runs: RunFolder[] = [];

  beforeAll(async () => {
    runRoot = await mkdtemp(path.join(os.tmpdir(), 'ptw-sup-'));
    dockerd = await startTestDockerd();
    docker = dockerd.docker;
    await buildBusyboxImage(docker);
    await buildDebianImage(docker, PYTHON_IMAGE, { packages: ['python3'] });
  });

  afterAll(async () => {
    await Promise.allSettled(supervisors.map((s) => s.stop()));
    if (docker) await Promise.allSettled(runs.map((run) => removeRunContainers(docker, run.id)));
    await dockerd?.stop();
    if (runRoot) await rm(runRoot, { recursive: true, force: true });
  });

  interface Launched {
    run: RunFolder;
    containerId: string;
    supervisor: SupervisorProcess;
  }

  async function launch(
    folder: Omit<PrepareRunFolderOptions, 'runRoot'>,
    agent: Omit<AgentContainerOptions, 'image'> & { image?: string },
    env?: NodeJS.ProcessEnv,
    secretsLine?: string,
  ): Promise<Launched> {
    const run = await prepareRunFolder({ runRoot, taskFiles: { 'evaluate.py': EVALUATE_PY }, ...folder });
    runs.push(run);
    const containerId = await createAgentContainer(docker, run, {
      image: BUSYBOX_IMAGE,
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-never-recorded' },
      ...agent,
    });
    const supervisor = SupervisorProcess.start({
      run,
      dockerSocket: dockerd.socketPath,
      containerId,
      env,
      ...(secretsLine === undefined ? {} : { secretsLine }),
    });
    supervisors.push(supervisor);
    return { run, containerId, supervisor };
  }

  /** Waits for a clean exit, then checks what every run must satisfy; returns the final state and events. */
  async function finished(
    launched: Launched,
    timeoutMs = 60_000,
  ): Promise<{ state: SupervisorState; events: SupervisorEvent[] }> {
    const { run, supervisor } = launched;
    const exit = await supervisor.waitForExit(timeoutMs).catch(async (err: Error) => {
      throw new Error(`${err.message}\n--- supervisor.log ---\n${(await supervisorLog(run)).slice(-4_000)}`);
    });
    const log = await supervisorLog(run);
    expect(exit, log.slice(-4_000)).toEqual({ code: 0, signal: null });
    const state = readState(run);
    if (!state) throw new Error('no state.json');
    // The app reads these files with its own schemas (src/shared/runs/run-status.ts).
    expect(runStateSchema.safeParse(state).success).toBe(true);
    const parsed = parseEventsJsonl(readFileSync(run.paths.events, 'utf8'), 'events.jsonl');
    expect(parsed.problems).toEqual([]);
    expect(parsed.partialTail).toBe('');
    // The agent container is removed; evaluator containers too.
    const left = await docker.listContainers({ all: true, filters: { label: [`ptw.run=${run.id}`] } });
    expect(left).toEqual([]);
    // Nothing the supervisor wrote holds the agent's key.
    for (const file of [run.paths.events, run.paths.state, run.paths.cast, run.paths.supervisorLog]) {
      if (existsSync(file)) expect(readFileSync(file, 'utf8')).not.toContain('sk-ant-test-never-recorded');
    }
    expect(readdirSync(run.paths.control).filter((name) => name.endsWith('.json'))).toEqual([]);
    return { state, events: readEvents(run) };
  }

  function deadlineOf(run: RunFolder): number {
    const started = eventsOfType(run, 'agent-started')[0];
    if (!started) throw new Error('no agent-started event');
    return started.deadline as number;
  }

  it('queries the same GPU fields the app parses', () => {
    const source = readFileSync(path.join(HOST_PACKAGE_SOURCE, 'gpu.py'), 'utf8');
    expect(/^GPU_QUERY = "([^"]+)"$/m.exec(source)?.[1]).toBe(GPU_SAMPLE_FIELDS.join(','));
  });

  describe.concurrent('timed cases, run side by side', () => {
    it('ends the run at the budget: warnings, SIGTERM, SIGKILL after the grace period, a gapless cast', async () => {
      const script = `trap '' TERM; i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.05; done`;
      const launched = await launch(
        { supervisor: { budgetSeconds: 8, graceSeconds: 2, warnSecondsBefore: [5, 2] } },
        // Not root: the warning must reach a non-root PID 1's terminal with every capability dropped.
        { cmd: ['sh', '-c', script], user: '65534:65534' },
      );
      const { run } = launched;
      const { state, events } = await finished(launched);
      expect(readFileSync(run.paths.pidFile, 'utf8')).toBe(`${launched.supervisor.pid}\n`);
      expect(state.supervisorPid).toBe(launched.supervisor.pid);
      const deadline = deadlineOf(run);
      const started = eventsOfType(run, 'agent-started')[0]?.startedAt as number;
      expect(deadline - started).toBe(8_000);
      expect(readFileSync(run.paths.deadline, 'utf8')).toBe(`${Math.floor(deadline / 1000)}\n`);

      const stopping = events.filter((e) => e.type === 'stopping');
      expect(stopping.map((e) => [e.reason, e.signal])).toEqual([
        ['budget', 'SIGTERM'],
        ['budget', 'SIGKILL'],
      ]);
      expect(near(stopping[0]!.t, deadline), `SIGTERM at ${stopping[0]!.t - deadline} ms`).toBe(true);
      expect(near(stopping[1]!.t - stopping[0]!.t, 2_000, 1_500)).toBe(true);
      const stopped = eventsOfType(run, 'agent-stopped');
      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatchObject({ reason: 'budget', exitCode: 137 });
      expect(near(stopped[0]!.t, deadline + 2_000)).toBe(true);
      expect(state).toMatchObject({ status: 'no-model', stopReason: 'budget', exitCode: 137, deadline });

      const warnings = eventsOfType(run, 'warning');
      expect(warnings.map((w) => w.secondsLeft)).toEqual([5, 2]);
      expect(near(warnings[0]!.t, deadline - 5_000, 2_500)).toBe(true);
      expect(near(warnings[1]!.t, deadline - 2_000, 2_500)).toBe(true);
      expect(state.warningsSent).toEqual([5, 2]);
      expect(eventsOfType(run, 'supervisor-error')).toEqual([]);

      const cast = readCast(run);
      expect(cast.header).toMatchObject({ version: 2, width: 80, height: 24, timestamp: Math.floor(started / 1000) });
      const times = cast.events.map((e) => e[0]);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // The first output arrives once the container has started: seconds on a loaded 2-core CI box.
      expect(times[0]).toBeLessThan(5);
      const output = castOutput(cast);
      const shown = output.match(WARNING_IN_TERMINAL) ?? [];
      expect(shown).toHaveLength(2);
      expect(shown[0]).toContain('[ptw] 5 s left in the time budget');
      expect(shown[1]).toContain('[ptw] 2 s left in the time budget');
      // Without the warnings the terminal holds exactly what the agent wrote: line 1..N, no gap, no repeat. Line
      // ends are left out of the comparison: the warning and the agent write to one TTY from two processes, and
      // under load the line discipline can put the warning's CR LF and the agent's in either order.
      const agentOutput = output.replace(WARNING_IN_TERMINAL, '');
      const count = agentOutput.split('line ').length - 1;
      expect(count).toBeGreaterThan(20);
      const expected = Array.from({ length: count }, (_, i) => `line ${i + 1}`).join('');
      expect(agentOutput.replace(/[\r\n]/g, '')).toBe(expected);
      expect(agentOutput.endsWith('\r\n')).toBe(true);
      // Nothing the agent printed was a JSON object.
      expect(readFileSync(run.paths.agentStream, 'utf8')).toBe('');
    });

    it('an agent that exits by itself: agent-exited, its JSON lines kept, evaluation scored on the second attempt', async () => {
      const script = [
        `echo '{"type":"system","subtype":"init","model":"m"}'`,
        `echo 'plain text, not JSON'`,
        `echo '[1, 2, 3]'`,
        `echo '{"type":"assistant","message":{"content":[{"type":"text","text":"héllo ✓"}]}}'`,
        `echo '{"broken": '`,
        WRITE_FINAL_MODEL,
        `printf '{"type":"result","total_cost_usd":0.12}'`,
        'exit 3',
      ].join('\n');
      const launched = await launch(
        {
          supervisor: {
            budgetSeconds: 60,
            graceSeconds: 2,
            evaluation: evaluationPlan([
              { extraArgs: ['--max-tokens', '16384'], timeoutSeconds: 60 },
              { extraArgs: [], timeoutSeconds: 60 },
            ]),
          },
        },
        { cmd: ['sh', '-c', script] },
      );
      const { run } = launched;
      const { state } = await finished(launched);
      expect(eventsOfType(run, 'agent-stopped')).toMatchObject([{ reason: 'agent-exited', exitCode: 3 }]);
      expect(eventsOfType(run, 'stopping')).toEqual([]);
      expect(readFileSync(run.paths.agentStream, 'utf8')).toBe(
        [
          '{"type":"system","subtype":"init","model":"m"}',
          '{"type":"assistant","message":{"content":[{"type":"text","text":"héllo ✓"}]}}',
          // The last line had no newline; it is kept when the stream ends.
          '{"type":"result","total_cost_usd":0.12}',
          '',
        ].join('\n'),
      );

      expect(eventsOfType(run, 'evaluation-started')).toHaveLength(1);
      expect(eventsOfType(run, 'evaluation-attempt')).toMatchObject([
        { n: 1, exitCode: 1, timedOut: false, log: 'eval/attempt-1.log' },
        { n: 2, exitCode: 0, timedOut: false, log: 'eval/attempt-2.log' },
      ]);
      expect(eventsOfType(run, 'evaluation-finished')).toMatchObject([
        { outcome: 'scored', metrics: { accuracy: 0.42, stderr: 0.01 } },
      ]);
      const attempt1 = readFileSync(path.join(run.paths.eval, 'attempt-1.log'), 'utf8');
      expect(attempt1).toContain('evaluating /eval/final_model with max tokens 16384');
      expect(attempt1).toContain('a line on stderr');
      expect(attempt1).toContain('CUDA out of memory (simulated)');
      expect(readFileSync(path.join(run.paths.eval, 'attempt-2.log'), 'utf8')).toContain('with max tokens 8192');
      expect(JSON.parse(readFileSync(path.join(run.paths.eval, 'metrics.json'), 'utf8'))).toEqual({
        accuracy: 0.42,
        stderr: 0.01,
      });
      expect(existsSync(path.join(run.paths.eval, 'attempt-2-out', 'metrics.json'))).toBe(true);
      const evalJson = JSON.parse(readFileSync(path.join(run.paths.eval, 'eval.json'), 'utf8')) as {
        outcome: string;
        attempts: { n: number; exitCode: number }[];
      };
      expect(evalJson.outcome).toBe('scored');
      expect(evalJson.attempts.map((a) => [a.n, a.exitCode])).toEqual([
        [1, 1],
        [2, 0],
      ]);
      expect(state).toMatchObject({
        status: 'scored',
        stopReason: 'agent-exited',
        exitCode: 3,
        evaluation: { attempts: 2, outcome: 'scored', metrics: { accuracy: 0.42 } },
      });
    });

    it('gets the keys on stdin: the grader key reaches the evaluator only, and neither key is recorded', async () => {
      const agentKey = 'sk-ant-test-on-stdin-0123456789abcdef';
      const graderKey = 'sk-openai-grader-test-9876543210fedcba';
      const graderSha = createHash('sha256').update(graderKey).digest('hex');
      // The evaluator proves it has the grader key (accuracy 1 only if its hash matches) and leaks it, whole and
      // split across two writes, on stdout and stderr.
      const gradedEvaluate = String.raw`
import argparse, hashlib, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--model-path'); p.add_argument('--limit'); p.add_argument('--json-output-file')
a = p.parse_args()
key = os.environ.get('OPENAI_API_KEY', '')
print('grader key: ' + key, flush=True)
sys.stderr.write('split: ' + key[:14]); sys.stderr.flush(); time.sleep(0.5)
sys.stderr.write(key[14:] + ' (end)\n'); sys.stderr.flush()
ok = hashlib.sha256(key.encode()).hexdigest() == '${graderSha}'
with open(a.json_output_file, 'w') as f:
    json.dump({'accuracy': 1.0 if ok else 0.0}, f)
`;
      const script = [
        'echo "agent key: $ANTHROPIC_API_KEY"',
        'echo "grader key in the sandbox: [${OPENAI_API_KEY:-none}]"',
        WRITE_FINAL_MODEL,
      ].join('\n');
      const launched = await launch(
        {
          taskFiles: { 'evaluate.py': gradedEvaluate },
          supervisor: {
            budgetSeconds: 60,
            graceSeconds: 2,
            evaluation: evaluationPlan([{ extraArgs: [], timeoutSeconds: 60 }]),
          },
        },
        { cmd: ['sh', '-c', script], env: { ANTHROPIC_API_KEY: agentKey } },
        undefined,
        supervisorSecretsLine(
          [{ name: 'ANTHROPIC_API_KEY', value: agentKey }],
          [{ name: 'OPENAI_API_KEY', value: graderKey }],
        ),
      );
      expect(await launched.supervisor.ready).toBe('SECRETS 1 1\n');
      const { run } = launched;
      const { state } = await finished(launched);
      const attempt = readFileSync(path.join(run.paths.eval, 'attempt-1.log'), 'utf8');
      expect(state, attempt).toMatchObject({ status: 'scored', evaluation: { metrics: { accuracy: 1 } } });
      const output = castOutput(readCast(run));
      expect(output).toContain('agent key: [REDACTED:ANTHROPIC_API_KEY]');
      expect(output).toContain('grader key in the sandbox: [none]');
      expect(attempt).toContain('grader key: [REDACTED:OPENAI_API_KEY]');
      expect(attempt).toContain('split: [REDACTED:OPENAI_API_KEY] (end)');
      // Nothing in the run folder holds either key, or the start of one.
      const files = readdirSync(run.paths.dir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.join(entry.parentPath, entry.name));
      expect(files.length).toBeGreaterThan(10);
      for (const file of files) {
        const data = readFileSync(file);
        for (const needle of [agentKey, graderKey, graderKey.slice(0, 14), agentKey.slice(0, 14)]) {
          expect(data.includes(needle), `${path.relative(run.paths.dir, file)} holds ${needle}`).toBe(false);
        }
      }
    });

    it('no final_model → no-model; an evaluation that never scores → evaluation-failed, a hung attempt killed', async () => {
      const noModel = await launch({ supervisor: { budgetSeconds: 60 } }, { cmd: ['sh', '-c', 'echo bye'] });
      const failing = await launch(
        {
          supervisor: {
            budgetSeconds: 60,
            evaluation: evaluationPlan([
              { extraArgs: ['--no-metrics'], timeoutSeconds: 60 },
              { extraArgs: ['--hang'], timeoutSeconds: 3 },
            ]),
          },
        },
        { cmd: ['sh', '-c', WRITE_FINAL_MODEL] },
      );

      const first = await finished(noModel);
      expect(first.state).toMatchObject({ status: 'no-model', stopReason: 'agent-exited', exitCode: 0 });
      expect(eventsOfType(noModel.run, 'evaluation-finished')).toMatchObject([{ outcome: 'no-model', metrics: null }]);
      expect(eventsOfType(noModel.run, 'evaluation-started')).toEqual([]);
      expect(JSON.parse(readFileSync(path.join(noModel.run.paths.eval, 'eval.json'), 'utf8'))).toMatchObject({
        outcome: 'no-model',
        reason: 'workspace/final_model/ does not exist',
      });

      const second = await finished(failing);
      expect(second.state).toMatchObject({ status: 'evaluation-failed', evaluation: { attempts: 2, metrics: null } });
      const attempts = eventsOfType(failing.run, 'evaluation-attempt');
      expect(attempts).toMatchObject([
        { n: 1, exitCode: 0, timedOut: false, error: 'the evaluation wrote no metrics.json' },
        { n: 2, exitCode: 137, timedOut: true },
      ]);
      const started = eventsOfType(failing.run, 'evaluation-started')[0]!.t;
      // Attempt 2 began after attempt 1 and ran for its 3 s timeout, not for the hour it wanted.
      expect(attempts[1]!.t - attempts[0]!.t).toBeGreaterThanOrEqual(3_000);
      expect(attempts[1]!.t - started).toBeLessThan(20_000);
      expect(eventsOfType(failing.run, 'evaluation-finished')).toMatchObject([
        { outcome: 'evaluation-failed', metrics: null },
      ]);
      expect(existsSync(path.join(failing.run.paths.eval, 'metrics.json'))).toBe(false);
    });

    it('an agent that attacks its sandbox (kill -9 -1, kill every pid, write /ptw) is still stopped on time', async () => {
      const script = [
        'echo "agent pid $$"',
        'kill -9 -1; echo "kill -1 returned $?"',
        'for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" = "$$" ] || kill -9 "$n" 2>&1; done',
        'echo "after killing every pid"',
        'echo 0 > /ptw/deadline; echo "write deadline: $?"',
        `echo 'echo 99:99:99 left' > /ptw/timer; echo "edit timer: $?"`,
        'touch /ptw/new-file; echo "create in /ptw: $?"',
        'mount -o remount,rw /ptw; echo "remount: $?"',
        'ls /var/run/docker.sock /run/docker.sock; echo "docker socket: $?"',
        '/ptw/timer',
        "trap '' TERM",
        'i=0; while :; do i=$((i+1)); echo "still here $i"; sleep 0.2; done',
      ].join('\n');
      const launched = await launch(
        { supervisor: { budgetSeconds: 6, graceSeconds: 1 } },
        { cmd: ['sh', '-c', script] },
      );
      const { run } = launched;
      await waitForEvent(run, 'agent-started', 30_000);
      const timer = readFileSync(path.join(run.paths.ptw, 'timer'), 'utf8');
      const { state } = await finished(launched);
      const deadline = deadlineOf(run);
      const stopping = eventsOfType(run, 'stopping');
      expect(stopping[0]).toMatchObject({ reason: 'budget', signal: 'SIGTERM' });
      expect(near(stopping[0]!.t, deadline)).toBe(true);
      expect(eventsOfType(run, 'agent-stopped')).toMatchObject([{ reason: 'budget', exitCode: 137 }]);
      expect(state.deadline).toBe(deadline);
      expect(readFileSync(run.paths.deadline, 'utf8')).toBe(`${Math.floor(deadline / 1000)}\n`);
      expect(readFileSync(path.join(run.paths.ptw, 'timer'), 'utf8')).toBe(timer);
      expect(existsSync(path.join(run.paths.ptw, 'new-file'))).toBe(false);
      const output = castOutput(readCast(run));
      expect(output).toContain('after killing every pid');
      expect(output).toMatch(/Read-only file system/);
      expect(output).not.toContain('write deadline: 0');
      expect(output).not.toContain('remount: 0');
      expect(output).not.toContain('docker socket: 0');
      expect(output).toMatch(/still here \d+/);
    });

    it('control requests: resize, extend (warnings re-armed, new deadline honoured), bad requests rejected', async () => {
      const launched = await launch(
        { supervisor: { budgetSeconds: 6, graceSeconds: 1, warnSecondsBefore: [4] } },
        { cmd: ['sh', '-c', 'while :; do stty size; echo "deadline $(cat /ptw/deadline)"; sleep 0.3; done'] },
      );
      const { run } = launched;
      await waitForEvent(run, 'warning', 30_000);
      const original = deadlineOf(run);
      await writeControlRequest(run, { action: 'resize', cols: 100, rows: 30, by: 'tester' });
      await writeControlRequest(run, { action: 'extend', seconds: 4, by: 'tester' });
      const bad = await writeControlRequest(run, { action: 'extend', seconds: -5 });
      const extended = await waitForEvent(run, 'intervention', 10_000, (e) => e.action === 'extend');
      expect(extended).toMatchObject({ by: 'tester', seconds: 4, newDeadline: original + 4_000 });
      expect(readFileSync(run.paths.deadline, 'utf8')).toBe(`${Math.floor((original + 4_000) / 1000)}\n`);

      const { state } = await finished(launched);
      expect(state.deadline).toBe(original + 4_000);
      const stopping = eventsOfType(run, 'stopping');
      expect(stopping[0]).toMatchObject({ reason: 'budget', signal: 'SIGTERM' });
      expect(near(stopping[0]!.t, original + 4_000), `SIGTERM at ${stopping[0]!.t - original - 4_000} ms`).toBe(true);
      // sh is not PID 1 (tini is) and dies of the SIGTERM tini forwards.
      expect(eventsOfType(run, 'agent-stopped')).toMatchObject([{ reason: 'budget', exitCode: 143 }]);
      // The 4 s warning fired, was re-armed by the extension, and fired again 4 s before the new deadline.
      const warnings = eventsOfType(run, 'warning');
      expect(warnings.map((w) => w.secondsLeft)).toEqual([4, 4]);
      expect(near(warnings[1]!.t, original, 2_500)).toBe(true);
      expect(eventsOfType(run, 'resize')).toMatchObject([{ cols: 100, rows: 30, by: 'tester' }]);
      expect(eventsOfType(run, 'supervisor-error')).toMatchObject([
        { message: expect.stringContaining(`control/${bad} rejected`) },
      ]);
      const cast = readCast(run);
      const resizes = cast.events.filter((e) => e[1] === 'r');
      expect(resizes.map((e) => e[2])).toEqual(['100x30']);
      const output = castOutput(cast);
      // The agent's own terminal saw the new size (stty prints rows then cols).
      expect(output).toContain('24 80\r\n');
      expect(output).toContain('30 100\r\n');
      // …and the moved deadline, through its read-only /ptw.
      expect(output).toContain(`deadline ${Math.floor((original + 4_000) / 1000)}\r\n`);
      expect(readdirSync(run.paths.control).sort()).toHaveLength(3);
      expect(readdirSync(run.paths.control).every((name) => name.endsWith('.done'))).toBe(true);
    });

    it('control requests: stop (SIGTERM, the agent exits) and kill (SIGKILL at once)', async () => {
      const stopped = await launch(
        { supervisor: { budgetSeconds: 60, graceSeconds: 10 } },
        { cmd: ['sh', '-c', `trap 'echo got TERM; exit 7' TERM; while :; do sleep 0.2; done`] },
      );
      const killed = await launch(
        { supervisor: { budgetSeconds: 60, graceSeconds: 30 } },
        { cmd: ['sh', '-c', `trap '' TERM; while :; do sleep 0.2; done`] },
      );
      const startedAt = (await waitForEvent(stopped.run, 'agent-started', 30_000)).startedAt as number;
      await waitForEvent(killed.run, 'agent-started', 30_000);
      // The heartbeat refreshes state.json every 5 s with nothing else going on.
      await waitFor(() => (readState(stopped.run)?.heartbeatAt ?? 0) > startedAt + 4_000, 10_000, 'a heartbeat');
      const askedAt = Date.now();
      await writeControlRequest(stopped.run, { action: 'stop', by: 'tester' });
      await writeControlRequest(killed.run, { action: 'kill' });

      await finished(stopped);
      expect(eventsOfType(stopped.run, 'intervention')).toMatchObject([{ action: 'stop', by: 'tester' }]);
      expect(eventsOfType(stopped.run, 'stopping')).toMatchObject([{ reason: 'user-stop', signal: 'SIGTERM' }]);
      const agentStopped = eventsOfType(stopped.run, 'agent-stopped');
      expect(agentStopped).toMatchObject([{ reason: 'user-stop', exitCode: 7 }]);
      expect(agentStopped[0]!.t - askedAt).toBeLessThan(5_000);
      expect(castOutput(readCast(stopped.run))).toContain('got TERM');

      const { state } = await finished(killed);
      expect(eventsOfType(killed.run, 'intervention')).toMatchObject([{ action: 'kill', by: 'app' }]);
      expect(eventsOfType(killed.run, 'stopping')).toMatchObject([{ reason: 'killed', signal: 'SIGKILL' }]);
      const killedAt = eventsOfType(killed.run, 'agent-stopped');
      expect(killedAt).toMatchObject([{ reason: 'killed', exitCode: 137 }]);
      expect(killedAt[0]!.t - askedAt).toBeLessThan(5_000);
      expect(state).toMatchObject({ stopReason: 'killed', status: 'no-model' });
    });

    it('survives its own SIGKILL: restarted with --resume it stops the agent on time and evaluates', async () => {
      const script = [WRITE_FINAL_MODEL, 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'].join('\n');
      const launched = await launch(
        {
          supervisor: {
            budgetSeconds: 10,
            graceSeconds: 2,
            warnSecondsBefore: [3],
            evaluation: evaluationPlan([{ extraArgs: [], timeoutSeconds: 60 }]),
          },
        },
        { cmd: ['sh', '-c', script] },
      );
      const { run, containerId } = launched;
      await waitForEvent(run, 'agent-started', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await launched.supervisor.killHard();
      expect(launched.supervisor.running).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Killing the supervisor did not touch the agent.
      expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);

      const resumed = SupervisorProcess.start({ run, dockerSocket: dockerd.socketPath, containerId, resume: true });
      supervisors.push(resumed);
      const { state } = await finished({ ...launched, supervisor: resumed });
      const deadline = deadlineOf(run);
      const starts = eventsOfType(run, 'supervisor-started');
      expect(starts.map((s) => s.resumed)).toEqual([false, true]);
      expect(starts[1]).toMatchObject({ previousStatus: 'running' });
      const gap = eventsOfType(run, 'supervisor-error').find((e) => e.outputGap);
      expect(gap?.message).toMatch(/not in terminal\.cast/);
      const stopping = eventsOfType(run, 'stopping');
      expect(stopping[0]).toMatchObject({ reason: 'budget', signal: 'SIGTERM' });
      expect(near(stopping[0]!.t, deadline)).toBe(true);
      expect(eventsOfType(run, 'agent-stopped')).toMatchObject([{ reason: 'budget', exitCode: 143 }]);
      expect(eventsOfType(run, 'warning').map((w) => w.secondsLeft)).toEqual([3]);
      expect(state).toMatchObject({ status: 'scored', evaluation: { outcome: 'scored', metrics: { accuracy: 0.42 } } });

      // The cast stays one valid recording: a marker where output was lost, ticks in order, none twice.
      const cast = readCast(run);
      expect(cast.events.filter((e) => e[1] === 'm')).toHaveLength(1);
      const ticks = [...castOutput(cast).matchAll(/tick (\d+)\r\n/g)].map((m) => Number(m[1]));
      expect(ticks.length).toBeGreaterThan(15);
      ticks.forEach((tick, i) => {
        if (i > 0) expect(tick).toBeGreaterThan(ticks[i - 1]!);
      });
      expect(ticks.some((tick, i) => i > 0 && tick - ticks[i - 1]! > 1)).toBe(true);
    });

    it('SIGTERM to the supervisor leaves the agent running; --resume after the deadline stops it at once', async () => {
      const launched = await launch(
        { supervisor: { budgetSeconds: 4, graceSeconds: 5 } },
        { cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.1; done'] },
      );
      const { run, containerId } = launched;
      await waitForEvent(run, 'agent-started', 30_000);
      launched.supervisor.child.kill('SIGTERM');
      expect(await launched.supervisor.waitForExit(10_000)).toEqual({ code: 0, signal: null });
      expect(eventsOfType(run, 'supervisor-error')).toMatchObject([
        { message: expect.stringContaining('received SIGTERM') },
      ]);
      expect(readState(run)?.status).toBe('running');
      const deadline = deadlineOf(run);
      // The host "comes back" after the deadline: the agent has overrun its budget unsupervised.
      await waitFor(() => Date.now() > deadline + 1_000, 10_000, 'the deadline to pass');
      expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);

      const resumed = SupervisorProcess.start({ run, dockerSocket: dockerd.socketPath, containerId, resume: true });
      supervisors.push(resumed);
      const { state } = await finished({ ...launched, supervisor: resumed });
      const restart = eventsOfType(run, 'supervisor-started')[1]!;
      expect(restart).toMatchObject({ resumed: true, previousStatus: 'running' });
      const stopping = eventsOfType(run, 'stopping');
      expect(stopping).toMatchObject([{ reason: 'budget', signal: 'SIGTERM' }]);
      expect(stopping[0]!.t - restart.t).toBeLessThan(TOLERANCE_MS);
      expect(state).toMatchObject({ status: 'no-model', stopReason: 'budget', exitCode: 143, deadline });
    });

    it('fails cleanly when the agent cannot start: no container, or a command that does not exist', async () => {
      const missing = await prepareRunFolder({ runRoot, supervisor: { budgetSeconds: 10 } });
      const ghost = SupervisorProcess.start({ run: missing, dockerSocket: dockerd.socketPath, containerId: 'f00' });
      supervisors.push(ghost);
      expect(await ghost.waitForExit(20_000)).toEqual({ code: 1, signal: null });
      expect(readState(missing)).toMatchObject({ status: 'failed', error: expect.stringContaining('does not exist') });

      const broken = await launch({ supervisor: { budgetSeconds: 10 } }, { cmd: ['/no/such/agent'], init: false });
      expect(await broken.supervisor.waitForExit(20_000)).toEqual({ code: 1, signal: null });
      const state = readState(broken.run);
      expect(state).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('starting the agent container failed'),
      });
      expect(runStateSchema.safeParse(state).success).toBe(true);
      // It never ran and its config holds the agent's key: removed.
      const left = await docker.listContainers({ all: true, filters: { label: [`ptw.run=${broken.run.id}`] } });
      expect(left).toEqual([]);
    });

    it('samples GPUs at 1 Hz with nvidia-smi on the PATH, and says once when there is none', async () => {
      const fake = await writeFakeNvidiaSmi({ binDir: path.join(runRoot, 'fakebin'), state: 'load' });
      const systemPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
      const plan = { budgetSeconds: 5, graceSeconds: 1, sampleGpus: true, gpuIndices: [0] };
      const withGpu = await launch(
        { supervisor: plan },
        { cmd: ['sleep', '1000'] },
        {
          ...process.env,
          PATH: `${fake.binDir}:${systemPath}`,
        },
      );
      const withoutGpu = await launch(
        { supervisor: plan },
        { cmd: ['sleep', '1000'] },
        {
          ...process.env,
          PATH: systemPath,
        },
      );

      await finished(withGpu);
      const csv = readFileSync(withGpu.run.paths.gpuCsv, 'utf8');
      const lines = csv.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.length).toBeLessThanOrEqual(10);
      for (const line of lines) expect(line).toMatch(/^\d{13}, 0, 100, 19818, 81559, 631\.95, 59$/);
      const stamps = lines.map((line) => Number(line.split(',')[0]));
      for (let i = 1; i < stamps.length; i++) expect(near(stamps[i]! - stamps[i - 1]!, 1_000, 700)).toBe(true);
      const parsed = parseGpuCsv(csv);
      expect(parsed.problems).toEqual([]);
      expect(parsed.samples[0]).toMatchObject({ index: 0, utilizationGpuPct: 100, memoryUsedMiB: 19818 });
      expect(eventsOfType(withGpu.run, 'gpu-sampling')).toMatchObject([{ available: true, error: null }]);

      await finished(withoutGpu);
      const unavailable = eventsOfType(withoutGpu.run, 'gpu-sampling');
      expect(unavailable).toHaveLength(1);
      expect(unavailable[0]).toMatchObject({ available: false, error: expect.stringContaining('nvidia-smi') });
      expect(existsSync(withoutGpu.run.paths.gpuCsv) ? readFileSync(withoutGpu.run.paths.gpuCsv, 'utf8') : '').toBe('');
    });
  });

  it('records a 20 MB stream of multi-byte UTF-8 and ANSI colour byte for byte', async () => {
    const targetBytes = 20 * 1024 * 1024;
    const line = (i: number): string =>
      `${String(i).padStart(7, '0')} \x1b[3${i % 8}mcolour\x1b[0m héllo wörld 日本語テキスト 🙂🚀 ✓ ${'x'.repeat(i % 13)}\n`;
    const parts: string[] = [];
    let bytes = 0;
    for (let i = 0; bytes < targetBytes; i++) {
      const text = line(i);
      parts.push(text);
      bytes += Buffer.byteLength(text);
    }
    const written = Buffer.from(parts.join(''));
    const digest = createHash('sha256').update(written).digest('hex');
    // Odd-sized writes so multi-byte characters straddle the reads.
    const agent = `import hashlib, os
target = ${targetBytes}
def line(i):
    return ('%07d \\x1b[3%dmcolour\\x1b[0m h\\u00e9llo w\\u00f6rld \\u65e5\\u672c\\u8a9e\\u30c6\\u30ad\\u30b9\\u30c8 \\U0001f642\\U0001f680 \\u2713 %s\\n' % (i, i % 8, 'x' * (i % 13))).encode('utf-8')
parts, size, i = [], 0, 0
while size < target:
    b = line(i); parts.append(b); size += len(b); i += 1
data = b''.join(parts)
view = memoryview(data)
off = 0
while off < len(data):
    off += os.write(1, view[off:off + 4093])
os.write(1, ('sha256 %s %d\\n' % (hashlib.sha256(data).hexdigest(), len(data))).encode())
`;
    const launched = await launch(
      { supervisor: { budgetSeconds: 120, graceSeconds: 2 } },
      { image: PYTHON_IMAGE, cmd: ['python3', '-c', agent] },
    );
    const { run } = launched;
    await finished(launched, 110_000);
    expect(eventsOfType(run, 'agent-stopped')).toMatchObject([{ reason: 'agent-exited', exitCode: 0 }]);
    const output = castOutput(readCast(run));
    const trailer = `sha256 ${digest} ${written.length}\n`;
    // The TTY's onlcr turns each \n into \r\n on the way out; nothing else changes.
    const expected = Buffer.concat([written, Buffer.from(trailer)])
      .toString('utf8')
      .replace(/\n/g, '\r\n');
    expect(output.endsWith(trailer.replace('\n', '\r\n')), output.slice(-200)).toBe(true);
    if (output !== expected) {
      let at = 0;
      while (at < output.length && output[at] === expected[at]) at++;
      throw new Error(
        `cast output differs at char ${at} of ${expected.length} (got ${output.length}): ` +
          `${JSON.stringify(output.slice(at - 40, at + 40))} vs ${JSON.stringify(expected.slice(at - 40, at + 40))}`,
      );
    }
  });
});
