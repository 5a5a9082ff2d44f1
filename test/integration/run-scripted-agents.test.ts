// The real agent CLIs (versions pinned in test/support/agent-clis.json) in the real sandbox against the scripted
// model (docs/model-script.md), on the real sshd + dockerd: each solves the rehearsal task through its own tools
// and is scored; its own stream parses into steps with no unknown events; the dummy key is in no file; the sandbox
// reaches the endpoint and nothing else; a bad script stops the run with a problem naming the turn. When a CLI's
// new version changes its stream or its settings, this is the test that shows it.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_CLIS, checkAgentClis } from '../../src/main/hosts/preflight-checks';
import { DEFAULT_PREFLIGHT_TIMEOUTS } from '../../src/main/hosts/preflight';
import type { RunDetail } from '../../src/shared/contract';
import { AGENT_CLI_IMAGE, AGENT_CLI_VERSIONS, buildAgentCliImage } from '../support/agent-cli-image';
import { PYTHON_IMAGE, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

/** The dummy key's shape (src/main/runs/model-endpoint.ts): no file the run leaves may hold one. */
const DUMMY_KEY = /ptw-scripted-[0-9a-f]{36}/;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const info = statSync(file, { throwIfNoEntry: false });
    if (!info) continue;
    if (info.isDirectory()) out.push(...filesUnder(file));
    else if (info.isFile() && info.size < 64 * 1024 ** 2) out.push(file);
  }
  return out;
}

describeWithTestHost('real agent CLIs against the scripted model', () => {
  let t: RunTestHost;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    await buildAgentCliImage(t.docker);
  }, 1_200_000);

  afterAll(async () => {
    await t?.cleanup();
  });

  async function runScripted(agent: string, extra: string[] = []): Promise<RunDetail> {
    const args = ['run', 'start', '--host', t.hostName, '--task', 'rehearsal', '--agent', agent, '--scripted'];
    const started = await t.ptw([...args, ...extra, '--image', AGENT_CLI_IMAGE, '--budget', '5m']);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    await t.ptw(['run', 'wait', id, '--timeout', '4m'], {}, 300_000);
    const shown = await t.ptw(['run', 'show', id, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    return JSON.parse(shown.stdout) as RunDetail;
  }

  function hostEvents(id: string): Array<{ type: string; [k: string]: unknown }> {
    return readFileSync(path.join(t.runDir(id), 'record', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string });
  }

  function requests(id: string): Array<{ action: string; turn?: number; status: number }> {
    const log = readFileSync(path.join(t.runDir(id), 'endpoint', 'out', 'requests.jsonl'), 'utf8');
    return log
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { action: string; turn?: number; status: number });
  }

  /** The terminal's end, the events and the endpoint's requests: what a failing assertion shows. */
  function whatHappened(id: string): string {
    const read = (rel: string): string => {
      try {
        return readFileSync(path.join(t.runDir(id), rel), 'utf8').slice(-3_000);
      } catch (err) {
        return `(${(err as Error).message})`;
      }
    };
    return ['record/terminal.cast', 'record/events.jsonl', 'record/supervisor.log', 'endpoint/out/requests.jsonl']
      .map((rel) => `--- ${rel}\n${read(rel)}`)
      .join('\n');
  }

  describe.each([
    ['claude-code', 'claude-stream-json', '@anthropic-ai/claude-code'],
    ['codex', 'codex-exec-json', '@openai/codex'],
    ['gemini-cli', 'gemini-stream-json', '@google/gemini-cli'],
    ['opencode', 'opencode-json', 'opencode-ai'],
  ])('%s', (agent, dialect, npmPackage) => {
    it('solves the rehearsal through its own tools, is scored, and its stream parses whole', async () => {
      const detail = await runScripted(agent);
      const id = detail.summary.id;
      expect(detail.summary.status, whatHappened(id)).toBe('scored');
      // The version the image holds, as the CLI itself says it.
      expect(detail.summary.agentVersion).toContain(AGENT_CLI_VERSIONS[npmPackage]!);
      expect(detail.trajectory).toEqual({ dialect, steps: expect.any(Number), toolCalls: 3, unknownEvents: 0 });
      expect(detail.trajectory?.steps).toBeGreaterThan(3);
      // Every turn of the script was asked for, once each, and nothing went wrong.
      expect(
        requests(id)
          .filter((r) => r.action === 'turn')
          .map((r) => r.turn),
      ).toEqual([1, 2, 3, 4]);
      expect(requests(id).every((r) => r.status === 200)).toBe(true);
      expect(hostEvents(id).filter((e) => e.type === 'model-endpoint-problem')).toEqual([]);
      // The endpoint went with the agent.
      expect(await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${id}`] } })).toEqual([]);
      for (const file of [...filesUnder(t.runDir(id)), ...filesUnder(path.join(t.env.PTW_HOME!, 'runs', id))]) {
        expect(DUMMY_KEY.test(readFileSync(file, 'latin1')), file).toBe(false);
      }
    }, 360_000);
  });

  it('the host preflight lists the four CLIs with the versions the image holds', async () => {
    const input = { requiredImages: [AGENT_CLI_IMAGE] } as Parameters<typeof checkAgentClis>[0];
    const found = await checkAgentClis(input, DEFAULT_PREFLIGHT_TIMEOUTS, t.docker);
    expect(found).toMatchObject({ status: 'pass', summary: `4 of 4 agent CLIs in ${AGENT_CLI_IMAGE}` });
    const npm = ['@anthropic-ai/claude-code', '@openai/codex', '@google/gemini-cli', 'opencode-ai'];
    expect(found.details).toHaveLength(AGENT_CLIS.length);
    AGENT_CLIS.forEach((cli, i) => {
      expect(found.details?.[i]).toMatch(new RegExp(`^${cli.id} \\S`));
      expect(found.details?.[i]).toContain(AGENT_CLI_VERSIONS[npm[i]!]!);
    });
    expect(await t.docker.listContainers({ all: true, filters: { label: ['ptw.preflight'] } })).toEqual([]);
  }, 120_000);

  it('refuses at launch an image without the CLI, saying what to install, and leaves nothing behind', async () => {
    const args = ['run', 'start', '--host', t.hostName, '--task', 'rehearsal', '--agent', 'claude-code', '--scripted'];
    const refused = await t.ptw([...args, '--image', PYTHON_IMAGE]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`The image ${PYTHON_IMAGE} has no claude on its PATH`);
    expect(refused.stderr).toContain('npm install -g @anthropic-ai/claude-code');
    expect(await t.docker.listContainers({ all: true, filters: { label: ['ptw.role=model-endpoint'] } })).toEqual([]);
  }, 120_000);

  it('the sandbox reaches the scripted model and nothing else', async () => {
    const probe = [
      'import socket',
      'for host, port in [("127.0.0.1", 8765), ("172.17.0.1", 22), ("1.1.1.1", 53)]:',
      '    s = socket.socket(); s.settimeout(3)',
      '    try: s.connect((host, port)); print(host, port, "open")',
      '    except OSError as err: print(host, port, "closed", err.errno)',
    ].join('\n');
    const script = {
      format: 'ptw-model-script/1',
      agent: 'claude-code',
      turns: [
        { toolCalls: [{ name: 'Write', input: { file_path: '/workspace/probe.py', content: `${probe}\n` } }] },
        { toolCalls: [{ name: 'Bash', input: { command: 'python3 probe.py > net.txt 2>&1; cat net.txt' } }] },
        { text: 'Probed the network.' },
      ],
    };
    const file = path.join(t.work, 'probe-script.json');
    writeFileSync(file, JSON.stringify(script));
    const detail = await runScripted('claude-code', [file]);
    const net = readFileSync(path.join(t.runDir(detail.summary.id), 'workspace', 'net.txt'), 'utf8');
    expect(net).toContain('127.0.0.1 8765 open');
    expect(net).toMatch(/172\.17\.0\.1 22 closed/);
    expect(net).toMatch(/1\.1\.1\.1 53 closed/);
    // No final_model: the run ends without a score, as any such run does.
    expect(detail.summary.status).not.toBe('scored');
  }, 360_000);

  it('a turn calling a tool the CLI does not have stops the run with a problem naming the turn', async () => {
    const script = {
      format: 'ptw-model-script/1',
      turns: [{ toolCalls: [{ name: 'shell', input: { command: ['ls'] } }] }, { text: 'Not reached.' }],
    };
    const file = path.join(t.work, 'bad-tool.json');
    writeFileSync(file, JSON.stringify(script));
    const detail = await runScripted('claude-code', [file]);
    const id = detail.summary.id;
    const problems = hostEvents(id).filter((e) => e.type === 'model-endpoint-problem');
    expect(problems).toEqual([
      expect.objectContaining({
        turn: 1,
        message: expect.stringContaining("turn 1 calls the tool 'shell', which the agent does not have"),
      }),
    ]);
    // The agent stopped: on the endpoint's 400 by itself, or stopped by the supervisor 30 s after the problem.
    const stopped = hostEvents(id).filter((e) => e.type === 'agent-stopped');
    expect(stopped, whatHappened(id)).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^(agent-exited|model-problem)$/) }),
    ]);
    expect(detail.summary.stopReason).toBe(stopped[0]!.reason);
    // `ptw run show` names the turn.
    const shown = await t.ptw(['run', 'show', id]);
    expect(shown.stdout).toContain("problem:     scripted model: turn 1 calls the tool 'shell'");
    expect(detail.summary.status).not.toBe('scored');
    expect(await t.docker.listContainers({ all: true, filters: { label: [`ptw.run=${id}`] } })).toEqual([]);
  }, 360_000);
});
