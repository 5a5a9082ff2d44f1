// Bad input and bad luck, each with a clear error or status and nothing recorded lost: an unknown task or agent, a
// missing image, a busy GPU (nvidia-smi replays a real H100 under load), a run root that cannot be written or is on
// a full disk, and a host that vanishes mid-run.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, RunSummary } from '../../src/shared/contract';
import { sleep, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

describeWithTestHost('launch errors and a host that vanishes', () => {
  let t: RunTestHost;
  let checkout: string;
  let readOnly: string;
  let small: string;
  let mounted = false;
  let smallMounted = false;

  beforeAll(async () => {
    t = await startRunTestHost({
      nvidiaSmi: 'load',
      addFlags: ['--ptb-checkout', '/nonexistent-yet'],
    });
    // A minimal PostTrainBench checkout on the host with one benchmark.
    checkout = path.join(t.work, 'PostTrainBench');
    await mkdir(path.join(checkout, 'src/eval/tasks/gsm8k'), { recursive: true });
    await mkdir(path.join(checkout, 'src/eval/templates'), { recursive: true });
    await mkdir(path.join(checkout, 'src/eval/general'), { recursive: true });
    await writeFile(path.join(checkout, 'src/eval/tasks/gsm8k/evaluate.py'), 'print("gsm8k")\n');
    await writeFile(path.join(checkout, 'src/eval/templates/qwen3.jinja'), '{{ messages }}\n');
    await writeFile(
      path.join(checkout, 'src/eval/general/prompt.txt'),
      'Train {model} for {benchmark} in {num_hours} hours ({datetime}). {setup_other}\n',
    );
    const profiles = path.join(t.env.PTW_HOME!, 'hosts.json');
    await writeFile(profiles, readFileSync(profiles, 'utf8').replace('/nonexistent-yet', checkout));
    // A second profile for the same host whose run root is on a read-only filesystem.
    readOnly = path.join(t.work, 'read-only');
    await mkdir(readOnly);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]);
    mounted = true;
    // And a third whose run root is on a disk with 8 MiB free (a rehearsal needs 64 MiB).
    small = path.join(t.work, 'small');
    await mkdir(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
    smallMounted = true;
    const ssh = `${t.host.sshd.username}@127.0.0.1:${t.host.sshd.port}`;
    for (const [name, root] of [
      ['ro-host', path.join(readOnly, 'runs')],
      ['full-host', path.join(small, 'runs')],
    ] as const) {
      const add = await t.ptw([
        'host',
        'add',
        name,
        '--ssh',
        ssh,
        '--identity',
        t.host.sshd.privateKeyPath,
        '--docker-socket',
        t.host.dockerd.socketPath,
        '--run-root',
        root,
        '--image',
        'ptw-test/debian-python3:1',
      ]);
      expect(add.code, add.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    if (mounted) execFileSync('umount', [readOnly]);
    if (smallMounted) execFileSync('umount', [small]);
    await t?.cleanup();
  });

  const start = (args: string[], host = t.hostName) =>
    t.ptw(['run', 'start', '--host', host, '--budget', '30s', '--network', 'off', ...args]);
  const runsOnHost = (): string[] => (existsSync(t.runRoot) ? readdirSync(t.runRoot) : []);

  describe.concurrent('refused before anything is created', () => {
    it('an unknown agent', async () => {
      const result = await start(['--task', 'rehearsal', '--agent', 'gpt-agent']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'agent.id: the agent is one of claude-code, codex, gemini-cli, opencode, rehearsal, custom',
      );
    });

    it('an unknown task, naming what the checkout has; the catalog lists it', async () => {
      const result = await start(['--task', 'aime2099:Qwen3-4B-Base', '--agent', 'rehearsal']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`The checkout at ${checkout} has no aime2099 task; it has gsm8k.`);
      const bad = await start(['--task', 'gsm8k', '--agent', 'rehearsal']);
      expect(bad.stderr).toContain('needs a base model: --task gsm8k:Qwen3-4B-Base');
      const instruct = await start(['--task', 'gsm8k:Qwen/Qwen3-4B', '--agent', 'rehearsal']);
      expect(instruct.stderr).toContain('Qwen/Qwen3-4B is the post-trained release of Qwen/Qwen3-4B-Base');
      const tasks = await t.ptw(['task', 'ls', '--host', t.hostName, '--json']);
      expect(JSON.parse(tasks.stdout)).toEqual([
        { kind: 'rehearsal', displayName: 'Rehearsal (tiny arithmetic, CPU only)', requiredApiKeys: [] },
        { kind: 'ptb', benchmark: 'gsm8k', displayName: 'GSM8K', requiredApiKeys: [] },
      ]);
    });

    it('a missing image', async () => {
      const result = await start(['--task', 'rehearsal', '--agent', 'rehearsal', '--image', 'ptw-test/not-here:1']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('The image ptw-test/not-here:1 is not on gpu1. Pull or build it there');
    });

    it('a requested GPU that is busy, naming what holds it; and no free GPU for a benchmark', async () => {
      const result = await start(['--task', 'rehearsal', '--agent', 'rehearsal', '--gpus', '0']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'GPU 0 on gpu1 is busy: pid 11327 /root/tools/memhog (2566 MiB), pid 11328 /root/tools/memhog (1542 MiB), pid 11345 ./gpu_burn (15690 MiB)',
      );
      expect(result.stderr).toContain('none is free');
      const missing = await start(['--task', 'rehearsal', '--agent', 'rehearsal', '--gpus', '3']);
      expect(missing.stderr).toContain('gpu1 has no GPU 3; it has GPU 0.');
      const ptb = await start(['--task', 'gsm8k:Qwen3-4B-Base', '--agent', 'rehearsal']);
      expect(ptb.code).toBe(2);
      expect(ptb.stderr).toContain('Every GPU on gpu1 is busy (GPU 0: pid 11327');
    });

    it('a run root that cannot be written', async () => {
      const result = await start(['--task', 'rehearsal', '--agent', 'rehearsal'], 'ro-host');
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`The run root ${path.join(readOnly, 'runs')} on ro-host is not writable`);
      expect(result.stderr).toContain('Read-only file system');
    });

    it('a run root on a disk too full for the run', async () => {
      const result = await start(['--task', 'rehearsal', '--agent', 'rehearsal'], 'full-host');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(
          `The disk holding the run root ${path.join(small, 'runs')} on full-host \\(${small}\\) has [0-9.]+ MiB free; the rehearsal needs at least 64 MiB`,
        ),
      );
      expect(readdirSync(path.join(small, 'runs'))).toEqual([]);
    });
  });

  it('leaves nothing behind on the host after those refusals', () => {
    expect(runsOnHost()).toEqual([]);
    const mirrors = path.join(t.env.PTW_HOME!, 'runs');
    expect(existsSync(mirrors) ? readdirSync(mirrors) : []).toEqual([]);
  });

  it('a host that vanishes mid-run: the record so far stays, and every command says why it is stale', async () => {
    const started = await start([
      '--task',
      'rehearsal',
      '--agent',
      'rehearsal',
      '--env',
      'PTW_REHEARSAL_MODE=linger',
      '--env',
      'PTW_REHEARSAL_SECONDS=3',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    await sleep(3_000);
    const before = JSON.parse((await t.ptw(['run', 'show', id, '--json'])).stdout) as RunDetail;
    expect(before.summary.status).toBe('running');
    const local = path.join(t.env.PTW_HOME!, 'runs', id);
    const snapshot = Object.fromEntries(
      ['terminal.cast', 'events.jsonl', 'state.json', 'run.json'].map((f) => [f, readFileSync(path.join(local, f))]),
    );
    expect(snapshot['terminal.cast']!.length).toBeGreaterThan(100);

    // The host drops off the network (sshd gone; the run itself goes on there).
    await t.host.sshd.stop();
    const shown = await t.ptw(['run', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const detail = JSON.parse(shown.stdout) as RunDetail;
    expect(detail.summary.status).toBe('running');
    expect(detail.summary.syncError).toMatch(/^gpu1: .*127\.0\.0\.1/);
    expect(shown.stderr).toContain('note: showing the local record');
    expect(detail.events.map((e) => e.type)).toContain('agent-started');
    const waited = await t.ptw(['run', 'wait', id, '--timeout', '4s']);
    expect(waited.code).toBe(2);
    expect(waited.stderr).toMatch(
      new RegExp(`Run ${id} is still running \\(last synced [^)]+\\); gpu1: Could not reach`),
    );
    expect(waited.stderr).toContain('Stopped waiting; the run goes on on the host.');
    const listed = await t.ptw(['run', 'ls', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toMatch(/^gpu1: .*127\.0\.0\.1/m);
    const runs = JSON.parse(listed.stdout) as RunSummary[];
    expect(runs.find((r) => r.id === id)).toMatchObject({
      status: 'running',
      syncError: expect.stringMatching(/gpu1/),
    });
    // Nothing already recorded was lost or changed.
    for (const [file, bytes] of Object.entries(snapshot)) {
      const now = readFileSync(path.join(local, file));
      expect(now.subarray(0, bytes.length).equals(bytes), file).toBe(true);
    }
  });
});
