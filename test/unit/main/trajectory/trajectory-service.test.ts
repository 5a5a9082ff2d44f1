import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { RunMirror } from '../../../../src/main/runs/run-mirror';
import { CastLineTimes } from '../../../../src/main/trajectory/cast-line-times';
import { TrajectoryService } from '../../../../src/main/trajectory/trajectory-service';

const stream = path.resolve(
  __dirname,
  '../../../fixtures/agent-streams/claude-code/gleam-sdk__basic_query.stream.ndjson',
);
const ID = 'r-20261123-120000-abc123';
const START = 1_763_899_200_000;

describe('TrajectoryService', () => {
  let home: string;
  let runsDir: string;

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-trajectory-'));
    runsDir = path.join(home, 'runs');
    const runJson = {
      schema: 1,
      id: ID,
      createdAt: new Date(START).toISOString(),
      spec: { host: 'gpu', task: { kind: 'rehearsal' }, agent: { id: 'claude-code', model: 'claude-opus-4-6' } },
      supervisor: { agentContainerId: 'c', budgetSeconds: 600 },
    };
    const mirror = await RunMirror.create(runsDir, {
      id: ID,
      host: 'gpu',
      hostRunDir: '/runs/x',
      runJsonText: JSON.stringify(runJson),
    });
    const lines = (await readFile(stream, 'utf8')).trimEnd().split('\n');
    await writeFile(mirror.file('agent-stream.jsonl'), `${lines.join('\n')}\n`);
    // The terminal as the supervisor records it: a launcher line, then the JSON lines in events cut mid-line, \r\n.
    const out = [
      [0.5, 'o', 'starting agent\r\n'],
      [1.0, 'o', `${lines[0]!.slice(0, 40)}`],
      [1.25, 'o', `${lines[0]!.slice(40)}\r\n`],
      [3.0, 'o', `${lines[1]}\r\n${lines[2]!.slice(0, 10)}`],
      [4.5, 'o', `${lines[2]!.slice(10)}\r\n`],
    ];
    await writeFile(
      mirror.file('terminal.cast'),
      [
        JSON.stringify({ version: 2, width: 80, height: 24, timestamp: START / 1000 }),
        ...out.map((e) => JSON.stringify(e)),
      ].join('\n') + '\n',
    );
    await writeFile(
      mirror.file('events.jsonl'),
      [
        { t: START, type: 'agent-started', deadline: START + 600_000 },
        {
          t: START + 2_000,
          type: 'intervention',
          action: 'extend',
          by: 'cli',
          seconds: 60,
          newDeadline: START + 660_000,
        },
        { t: START + 3_000, type: 'warning', secondsLeft: 300 },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n') + '\nnot json\n',
    );
    await writeFile(
      mirror.file('gpu.csv'),
      `${START + 1000}, 0, 50, 1000, 81559, 100, 40\n${START + 1000}, 1, 70, 3000, 81559, 100, 40\n`,
    );
    await writeFile(
      mirror.file('state.json'),
      JSON.stringify({ status: 'running', heartbeatAt: START + 5000, startedAt: START, deadline: START + 660_000 }),
    );
  });

  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('times each stream line by its JSON line in the terminal recording', async () => {
    const mirror = new RunMirror(runsDir, ID);
    expect([...(await new CastLineTimes(mirror.file('terminal.cast')).read())]).toEqual([
      START + 1250,
      START + 3000,
      START + 4500,
    ]);
    const page = await new TrajectoryService(runsDir).steps({ id: ID, offset: 0, limit: 10 });
    expect(page.dialect).toBe('claude-stream-json');
    expect(page.timed).toBe(true);
    expect(page.steps.map((s) => s.t)).toEqual([START + 1250, START + 3000, START + 4500]);
    expect(page.totals.costUsd).toBe(0.1354875);
    expect(page.ptb).toBeNull();
  });

  it('pages and filters by kind', async () => {
    const service = new TrajectoryService(runsDir);
    const second = await service.steps({ id: ID, offset: 1, limit: 1 });
    expect(second).toMatchObject({ total: 3, offset: 1 });
    expect(second.steps.map((s) => s.index)).toEqual([1]);
    const messages = await service.steps({ id: ID, offset: 0, limit: 10, kinds: ['message'] });
    expect(messages.total).toBe(1);
    expect(messages.steps[0]!.text).toBe('4');
    // Totals are over every step, whatever the filter.
    expect(messages.totals.steps).toBe(3);
  });

  it('puts steps, GPU samples, events and budget marks on one timeline', async () => {
    const tl = await new TrajectoryService(runsDir).timeline(ID);
    expect(tl.start).toBe(START);
    expect(tl.deadline).toBe(START + 660_000);
    expect(tl.hasTerminal).toBe(true);
    expect(tl.steps).toEqual([
      { index: 0, t: START + 1250, kind: 'system' },
      { index: 1, t: START + 3000, kind: 'message' },
      { index: 2, t: START + 4500, kind: 'usage' },
    ]);
    expect(tl.gpu).toEqual([{ t: START + 1000, utilization: 60, memoryUsedMiB: 4000 }]);
    expect(tl.events.map((e) => e.type)).toEqual(['agent-started', 'intervention', 'warning']);
    expect(tl.warnings).toEqual([{ t: START + 3000, secondsLeft: 300 }]);
    expect(tl.end).toBe(START + 4500);
  });

  it('says which run it does not know', async () => {
    const err = await new TrajectoryService(runsDir)
      .steps({ id: 'r-20261123-120000-zzz999', offset: 0, limit: 1 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('NOT_FOUND');
  });
});

describe('CastLineTimes', () => {
  it('reads only what the cast gained since the last call, and starts over when it shrank', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-cast-times-'));
    try {
      const file = path.join(dir, 'terminal.cast');
      const header = JSON.stringify({ version: 2, width: 80, height: 24, timestamp: 100 });
      await writeFile(file, `${header}\n${JSON.stringify([1, 'o', '{"a":1}\r\n{"b":'])}\n`);
      const timer = new CastLineTimes(file);
      expect(await timer.read()).toEqual([101_000]);
      // The rest of the second line arrives, and a cast line cut mid-write (no newline yet).
      await writeFile(
        file,
        `${header}\n${JSON.stringify([1, 'o', '{"a":1}\r\n{"b":'])}\n${JSON.stringify([2.5, 'o', '2}\r\nplain\r\n'])}\n[3, "o", "{\\"c`,
        {
          flag: 'w',
        },
      );
      expect(await timer.read()).toEqual([101_000, 102_500]);
      await writeFile(file, `${header}\n${JSON.stringify([0.5, 'o', '{"z":0}\n'])}\n`);
      expect(await timer.read()).toEqual([100_500]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('long steps', () => {
  it('cuts long fields in a page and gives the whole step on request', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'ptw-trajectory-long-'));
    try {
      const runsDir = path.join(home, 'runs');
      const runJson = {
        schema: 1,
        id: ID,
        createdAt: new Date(START).toISOString(),
        spec: { host: 'gpu', task: { kind: 'rehearsal' }, agent: { id: 'codex', model: 'gpt-5.4' } },
        supervisor: { agentContainerId: 'c', budgetSeconds: 600 },
      };
      const mirror = await RunMirror.create(runsDir, {
        id: ID,
        host: 'gpu',
        hostRunDir: '/runs/x',
        runJsonText: JSON.stringify(runJson),
      });
      const log = 'INFO vllm step\r\n'.repeat(1000);
      const item = {
        id: 'item_1',
        type: 'command_execution',
        command: 'python train.py',
        aggregated_output: log,
        exit_code: 0,
        status: 'completed',
      };
      await writeFile(mirror.file('agent-stream.jsonl'), `${JSON.stringify({ type: 'item.completed', item })}\n`);
      const service = new TrajectoryService(runsDir);
      const page = await service.steps({ id: ID, offset: 0, limit: 10 });
      expect(page.steps[0]).toMatchObject({ kind: 'shell', truncated: true, command: 'python train.py' });
      expect(page.steps[0]!.output!.length).toBe(2001);
      const whole = await service.step(ID, 0);
      expect(whole.output).toBe(log);
      expect(whole.truncated).toBeUndefined();
      await expect(service.step(ID, 5)).rejects.toThrow('has no step 5');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
