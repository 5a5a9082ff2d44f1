import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostSession } from '../../../../src/main/hosts/host-exec-types';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';
import { RunMirror } from '../../../../src/main/runs/run-mirror';

/**
 * The mirror against a run folder on this machine, read through a local host session (the same sh scripts and
 * offset reads as over SSH), with faults injected into the reads.
 */

const ID = 'r-20261123-120000-ab12';
const KEY = 'sk-ant-api03-abcdefghijklmnop';
const secrets = [{ name: 'ANTHROPIC_API_KEY', value: KEY }];

let base: string;
let hostDir: string;
let runsDir: string;
let local: LocalHostSession;

const header =
  '{"version": 2, "width": 120, "height": 40, "timestamp": 1763899200, "env": {"TERM": "xterm-256color"}}\n';
const event = (t: number, data: string): string => `[${t.toFixed(6)}, "o", ${JSON.stringify(data)}]\n`;

function state(status: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    status,
    supervisorPid: 999_999,
    heartbeatAt: Date.now(),
    agentContainerId: 'c0ffee',
    startedAt: Date.now() - 5_000,
    deadline: Date.now() + 60_000,
    warningsSent: [],
    stoppedAt: null,
    stopReason: null,
    exitCode: null,
    evaluation: { attempts: 0, outcome: null, metrics: null },
    ...extra,
  });
}

const host = (rel: string): string => path.join(hostDir, rel);
const mine = (rel: string): string => path.join(runsDir, ID, rel);

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ptw-mirror-'));
  hostDir = path.join(base, 'host', ID);
  runsDir = path.join(base, 'home', 'runs');
  for (const dir of ['record', 'eval', 'control', '.supervisor', 'workspace/final_model']) {
    await mkdir(host(dir), { recursive: true });
  }
  await writeFile(
    host('run.json'),
    JSON.stringify({ schema: 1, id: ID, createdAt: '2026-11-23T12:00:00.000Z', spec: {}, supervisor: {} }),
  );
  await writeFile(host('state.json'), state('running'));
  await writeFile(host('record/terminal.cast'), header + event(0.1, 'hello\r\n'));
  await writeFile(host('record/events.jsonl'), '{"t": 1, "type": "agent-started", "deadline": 2}\n');
  await writeFile(host('record/agent-stream.jsonl'), '');
  await writeFile(host('.supervisor/supervisor.pid'), '999999\n');
  local = new LocalHostSession('/nonexistent.sock');
});

afterEach(async () => {
  local.dispose();
  await rm(base, { recursive: true, force: true });
});

async function mirror(): Promise<RunMirror> {
  return RunMirror.create(runsDir, {
    id: ID,
    host: 'gpu1',
    hostRunDir: hostDir,
    runJsonText: readFileSync(host('run.json'), 'utf8'),
  });
}

describe('RunMirror', () => {
  it('copies what the host has, then only what is new, complete lines only', async () => {
    const m = await mirror();
    const first = await m.sync(local, []);
    expect(first).toMatchObject({ skipped: false, changed: true, supervisorAlive: false, complete: false });
    expect(readFileSync(mine('terminal.cast'), 'utf8')).toBe(header + event(0.1, 'hello\r\n'));
    expect(readFileSync(mine('state.json'), 'utf8')).toBe(readFileSync(host('state.json'), 'utf8'));
    // Empty host files exist in the bundle too.
    expect(readFileSync(mine('agent-stream.jsonl'), 'utf8')).toBe('');

    const half = event(0.2, 'world\r\n');
    await appendFile(host('record/terminal.cast'), half.slice(0, 10));
    await m.sync(local, []);
    expect(readFileSync(mine('terminal.cast'), 'utf8')).toBe(header + event(0.1, 'hello\r\n'));
    await appendFile(host('record/terminal.cast'), half.slice(10));
    expect((await m.sync(local, [])).changed).toBe(true);
    expect(readFileSync(mine('terminal.cast'))).toEqual(readFileSync(host('record/terminal.cast')));
    expect((await m.sync(local, [])).changed).toBe(false);
  });

  it('survives reads that fail midway and a crash between appending and saving its offsets', async () => {
    const m = await mirror();
    let calls = 0;
    let seed = 7;
    const coin = (): boolean => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 < 0.5;
    const flaky: HostSession = {
      ...local,
      exec: (c, o) => local.exec(c, o),
      docker: () => local.docker(),
      ping: () => local.ping(),
      writeFile: (p, d, o) => local.writeFile(p, d, o),
      readFile: async (p, o) => {
        calls += 1;
        if (coin()) throw new Error('the connection closed');
        return local.readFile(p, o);
      },
    };
    for (let i = 0; i < 40; i++) {
      await appendFile(host('record/terminal.cast'), event(1 + i, `line ${i}\r\n`));
      await appendFile(host('record/events.jsonl'), `{"t": ${i}, "type": "warning", "secondsLeft": 1}\n`);
      await m.sync(flaky, []).catch(() => undefined);
    }
    while (calls < 400) {
      const done = await m.sync(flaky, []).then(
        () => readFileSync(mine('terminal.cast')).equals(readFileSync(host('record/terminal.cast'))),
        () => false,
      );
      if (done && readFileSync(mine('events.jsonl')).equals(readFileSync(host('record/events.jsonl')))) break;
    }
    expect(readFileSync(mine('terminal.cast'))).toEqual(readFileSync(host('record/terminal.cast')));
    expect(readFileSync(mine('events.jsonl'))).toEqual(readFileSync(host('record/events.jsonl')));

    // A sync killed after appending: the local file is longer than sync.json says. The next sync cuts it back.
    await appendFile(mine('terminal.cast'), event(99, 'appended by a process that died\r\n'));
    await appendFile(host('record/terminal.cast'), event(100, 'real\r\n'));
    await m.sync(local, []);
    expect(readFileSync(mine('terminal.cast'))).toEqual(readFileSync(host('record/terminal.cast')));
    // Hundreds of syncs against the disk: about 5 s here alone, more on a busy 2-core CI machine.
  }, 60_000);

  it('redacts the key across syncs without ever writing a piece of it locally', async () => {
    const m = await mirror();
    await appendFile(host('record/terminal.cast'), event(1, `my key: ${KEY.slice(0, 12)}`));
    await m.sync(local, secrets);
    const sync1 = readFileSync(mine('sync.json'), 'utf8');
    for (const file of ['terminal.cast', 'sync.json', 'state.json']) {
      expect(readFileSync(mine(file), 'utf8')).not.toContain(KEY.slice(0, 12));
    }
    expect(sync1).not.toContain(KEY.slice(0, 8));
    await appendFile(host('record/terminal.cast'), event(2, `${KEY.slice(12)} (end)\r\n`));
    await m.sync(local, secrets);
    const text = readFileSync(mine('terminal.cast'), 'utf8');
    expect(text).toContain('[REDACTED:ANTHROPIC_API_KEY]');
    expect(text).not.toContain(KEY.slice(0, 12));
    expect(text).not.toContain(KEY.slice(12));
    // A hash of the key is kept to notice it changing, never the key.
    expect(JSON.parse(readFileSync(mine('sync.json'), 'utf8'))).toMatchObject({ secretsSha256: expect.any(String) });
  });

  it('finishes: a final state, the supervisor gone, everything copied, the final_model manifest made', async () => {
    const m = await mirror();
    await writeFile(host('workspace/final_model/config.json'), '{"model_type": "x"}\n');
    await writeFile(host('eval/attempt-1.log'), 'evaluating\nno newline at the end');
    await writeFile(host('eval/metrics.json'), '{"accuracy": 0.5}\n');
    await mkdir(host('ptw'), { recursive: true });
    await writeFile(host('ptw/prompt.txt'), 'Post-train the base model for the rehearsal.\n');
    await writeFile(
      host('state.json'),
      state('scored', { evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.5 } } }),
    );
    const result = await m.sync(local, []);
    expect(result.complete).toBe(true);
    expect(readFileSync(mine('eval/attempt-1.log'), 'utf8')).toBe('evaluating\nno newline at the end');
    expect(readFileSync(mine('eval/metrics.json'), 'utf8')).toBe('{"accuracy": 0.5}\n');
    // The prompt the agent got comes along (a comparison of two runs shows it).
    expect(readFileSync(mine('prompt.txt'), 'utf8')).toBe('Post-train the base model for the rehearsal.\n');
    const config = '{"model_type": "x"}\n';
    expect(await m.readManifest()).toMatchObject({
      exists: true,
      root: `${hostDir}/workspace/final_model`,
      files: [{ path: 'config.json', size: 20, sha256: createHash('sha256').update(config).digest('hex') }],
      totalBytes: 20,
    });
    expect((await m.readSync())?.complete).toBe(true);
  });

  it('leaves the run alone while another live process holds its sync lock', async () => {
    const m = await mirror();
    await writeFile(mine('sync.lock'), '1');
    expect((await m.sync(local, [])).skipped).toBe(true);
    // A lock whose holder is gone is taken over.
    await writeFile(mine('sync.lock'), '999999');
    expect((await m.sync(local, [])).skipped).toBe(false);
    expect(existsSync(mine('sync.lock'))).toBe(false);
  });

  it('records why the host could not be read, keeping what it has', async () => {
    const m = await mirror();
    await m.sync(local, []);
    const before = readFileSync(mine('terminal.cast'));
    await m.recordError('gpu1: connection refused');
    expect(await m.syncFacts()).toMatchObject({ error: 'gpu1: connection refused', host: 'gpu1' });
    expect(readFileSync(mine('terminal.cast'))).toEqual(before);
    await rm(hostDir, { recursive: true });
    const gone = await m.sync(local, []);
    expect(gone.gone).toBe(true);
    expect((await m.syncFacts())?.error).toContain('is gone from gpu1');
    expect(readFileSync(mine('terminal.cast'))).toEqual(before);
  });
});
