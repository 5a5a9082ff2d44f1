// The agent's key: it enters the agent's container and nothing else. Not the run folder on the host (the supervisor
// gets it on stdin and redacts its recording), not the run's local record, not PTW_HOME, not what `ptw run watch`
// prints, even when the agent prints it (split across two writes).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import {
  castText,
  listFiles,
  PYTHON_IMAGE,
  runStartArgs,
  startRunTestHost,
  type RunTestHost,
} from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

const FAKE_CLAUDE_IMAGE = 'ptw-test/fake-claude:1';
const KEY = 'sk-ant-api03-TEST0nly-9f8e7d6c5b4a39281706f5e4d3c2b1a0-zyxwvu';
const MARK = '[REDACTED:ANTHROPIC_API_KEY]';

/**
 * Stands in for Claude Code's CLI (`claude --print --verbose --model M …`): proves it got its key by printing the
 * key's SHA-256; with `--model leaky` it also prints the key itself, in a line, in a stream-json line, and split
 * across two writes 1.5 s apart (two terminal events, so the key is never whole in one of them); with `--model quiet`
 * it waits for `/workspace/.inspected` (the test's go-ahead) before it ends.
 */
const FAKE_CLAUDE = String.raw`#!/bin/sh
model=$4
echo "fake claude ($model)"
printf '{"type":"system","subtype":"init","model":"%s"}\n' "$model"
printf 'key sha256: %s\n' "$(printf '%s' "$ANTHROPIC_API_KEY" | sha256sum | cut -d' ' -f1)"
if [ "$model" = leaky ]; then
  printf 'my key is %s, oops\n' "$ANTHROPIC_API_KEY"
  printf '{"type":"assistant","message":{"content":[{"type":"text","text":"the key: %s"}]}}\n' "$ANTHROPIC_API_KEY"
  python3 -c 'import os, sys, time
k = os.environ["ANTHROPIC_API_KEY"]
sys.stdout.write("split across writes: " + k[:12]); sys.stdout.flush(); time.sleep(1.5)
sys.stdout.write(k[12:] + " (end)\n"); sys.stdout.flush()'
fi
if [ "$model" = quiet ]; then
  # Stays until the test has looked at its container (up to 30 s): a run that ended has no container left.
  i=0
  while [ ! -e /workspace/.inspected ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
fi
sleep 1
printf '{"type":"result","subtype":"success","is_error":false}\n'
`;

async function buildFakeClaudeImage(docker: Dockerode): Promise<void> {
  const container = await docker.createContainer({
    Image: PYTHON_IMAGE,
    Cmd: ['sh', '-c', 'cat > /usr/local/bin/claude && chmod 755 /usr/local/bin/claude'],
    OpenStdin: true,
    StdinOnce: true,
    HostConfig: { NetworkMode: 'none' },
  });
  const stream = await container.attach({ stream: true, stdin: true, hijack: true });
  await container.start();
  stream.end(FAKE_CLAUDE);
  await container.wait();
  await container.commit({ repo: 'ptw-test/fake-claude', tag: '1' });
  await container.remove();
}

describeWithTestHost('the agent’s key', () => {
  let t: RunTestHost;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    await buildFakeClaudeImage(t.docker);
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  const withKey = { PTW_SECRET_ANTHROPIC_API_KEY: KEY };

  function filesContaining(dir: string, needle: string): string[] {
    return listFiles(dir).filter((rel) => readFileSync(path.join(dir, rel)).includes(needle));
  }

  function launch(model: string): Promise<string> {
    return t.startRun({ agent: 'claude-code', model, image: FAKE_CLAUDE_IMAGE, budget: '1m' }, withKey);
  }

  it('is refused clearly when it is missing, and nothing is created on the host', async () => {
    const runs = (): string[] => (existsSync(t.runRoot) ? readdirSync(t.runRoot) : []);
    const before = runs();
    const refused = await t.ptw(
      runStartArgs(t.hostName, { agent: 'claude-code', model: 'quiet', image: FAKE_CLAUDE_IMAGE }),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('PTW_SECRET_ANTHROPIC_API_KEY');
    expect(refused.stderr).toContain('Claude Code needs its key');
    expect(runs()).toEqual(before);
  });

  it('enters the agent’s container only: the host run folder, the bundle and PTW_HOME never hold it', async () => {
    const id = await launch('quiet');
    // While it runs, the container's environment is the one place the key is.
    const [container] = await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${id}`] } });
    expect(container, 'the agent container of a running run').toBeDefined();
    const inspected = await t.docker.getContainer(container!.Id).inspect();
    expect(inspected.Config.Env).toContain(`ANTHROPIC_API_KEY=${KEY}`);
    expect(JSON.stringify(inspected.Config.Labels)).not.toContain(KEY);
    await writeFile(path.join(t.runDir(id), 'workspace', '.inspected'), 'done\n');

    const waited = await t.ptw(['run', 'wait', id, '--json'], withKey);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'no-model', stopReason: 'agent-exited' });
    const local = path.join(t.env.PTW_HOME!, 'runs', id);
    // The agent had the key: it printed the key's hash.
    const hash = createHash('sha256').update(KEY).digest('hex');
    expect(castText(path.join(local, 'terminal.cast'))).toContain(`key sha256: ${hash}`);
    expect(filesContaining(t.runDir(id), KEY)).toEqual([]);
    expect(filesContaining(t.env.PTW_HOME!, KEY)).toEqual([]);
    const runJson = JSON.parse(readFileSync(path.join(t.runDir(id), 'run.json'), 'utf8')) as {
      launch: { secretNames: string[] };
    };
    expect(runJson.launch.secretNames).toEqual(['ANTHROPIC_API_KEY']);
  });

  it('is redacted from everything the app records and shows when the agent prints it', async () => {
    const id = await launch('leaky');
    // Follow it live, so the split key reaches the mirror in two syncs.
    const watcher = t.spawnPtw(['run', 'watch', id], withKey);
    const code = await watcher.exited;
    expect(code, watcher.stderr()).toBe(1); // no final_model: no-model
    expect(watcher.stdout()).not.toContain(KEY);
    expect(watcher.stdout()).toContain(`my key is ${MARK}, oops`);
    expect(watcher.stdout()).toContain(`split across writes: ${MARK} (end)`);

    const local = path.join(t.env.PTW_HOME!, 'runs', id);
    expect(filesContaining(t.env.PTW_HOME!, KEY)).toEqual([]);
    expect(filesContaining(t.env.PTW_HOME!, KEY.slice(0, 12) + KEY.slice(12, 24))).toEqual([]);
    const terminal = castText(path.join(local, 'terminal.cast'));
    expect(terminal).toContain(`my key is ${MARK}, oops`);
    expect(terminal).toContain(`split across writes: ${MARK} (end)`);
    const stream = readFileSync(path.join(local, 'agent-stream.jsonl'), 'utf8');
    expect(stream).toContain(`"the key: ${MARK}"`);
    for (const line of stream.trim().split('\n')) JSON.parse(line);
    const shown = await t.ptw(['run', 'show', id, '--json'], withKey);
    expect(shown.stdout).not.toContain(KEY);
    expect((JSON.parse(shown.stdout) as { summary: RunSummary }).summary.status).toBe('no-model');

    // On the host too: the supervisor got the key on stdin (never argv, never a file) and redacted its recording,
    // so no file in the run folder holds it, not even the agent's own output.
    expect(filesContaining(t.runDir(id), KEY)).toEqual([]);
    expect(filesContaining(t.runDir(id), KEY.slice(0, 12))).toEqual([]);
    const hostTerminal = castText(path.join(t.runDir(id), 'record', 'terminal.cast'));
    expect(hostTerminal).toContain(`my key is ${MARK}, oops`);
    expect(hostTerminal).toContain(`split across writes: ${MARK} (end)`);
    expect(readFileSync(path.join(t.runDir(id), 'record', 'agent-stream.jsonl'), 'utf8')).toContain(
      `"the key: ${MARK}"`,
    );
    // The split really was two terminal events on the host: the first stops before the key's first 12 characters,
    // which were held back until the rest arrived 1.5 s later.
    const events = readFileSync(path.join(t.runDir(id), 'record', 'terminal.cast'), 'utf8')
      .split('\n')
      .slice(1, -1);
    const data = events.map((line) => (JSON.parse(line) as [number, string, string])[2]);
    const first = data.findIndex((d) => d.endsWith('split across writes: '));
    expect(first, JSON.stringify(data)).toBeGreaterThanOrEqual(0);
    expect(data[first + 1]).toContain(`${MARK} (end)`);
  });
});
