// The local recording survives a flaky network: the SSH connection is cut 20 times while an agent writes a few MB,
// and the bundle still holds exactly what the agent wrote (it prints the stream's own checksum at the end).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunSummary } from '../../src/shared/contract';
import { castText, sleep, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { TcpProxy } from '../support/tcp-proxy';
import { describeWithTestHost } from '../support/test-host-availability';

/**
 * 24,000 deterministic lines (ASCII, multi-byte UTF-8, ANSI colour), paced over ~30 s, then `sha256 <hex> <lines>`
 * of exactly what it wrote. Python's stdout to a TTY is line-buffered, so output arrives as it is written.
 */
const AGENT = String.raw`
import hashlib, random, sys, time
rng = random.Random(20261123)
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 äöü→✓漢字"
digest = hashlib.sha256()
lines = 24000
for n in range(1, lines + 1):
    body = "".join(rng.choice(alphabet) for _ in range(rng.randint(20, 110)))
    line = "\033[3%dm%06d\033[0m %s\n" % (n % 8, n, body)
    digest.update(line.encode("utf-8"))
    sys.stdout.write(line)
    if n % 50 == 0:
        sys.stdout.flush()
        time.sleep(0.06)
sys.stdout.write("sha256 %s %d\n" % (digest.hexdigest(), lines))
sys.stdout.flush()
`;

describeWithTestHost('a high-output run while the SSH connection is cut 20 times', () => {
  let t: RunTestHost;
  let proxy: TcpProxy;

  beforeAll(async () => {
    t = await startRunTestHost({
      nvidiaSmi: 'none',
      sshPort: async (sshdPort) => {
        proxy = await TcpProxy.start(sshdPort);
        return proxy.port;
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await t?.cleanup();
  });

  it('records every byte the agent wrote, once, in order, locally and on the host', async () => {
    const id = await t.startRun({ agent: 'custom', command: ['python3', '-c', AGENT], budget: '2m' });
    const watcher = t.spawnPtw(['run', 'watch', id]);
    // Each cut waits for the watcher to have reconnected, then lands at a random moment of its next syncs.
    const rng = (() => {
      let x = Number(process.env.PTW_TEST_CUT_SEED ?? 20261123);
      return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    })();
    let cuts = 0;
    let ended = false;
    void watcher.exited.then(() => (ended = true));
    const began = Date.now();
    while (cuts < 20 && !ended) {
      if (Date.now() - began > 90_000) {
        throw new Error(`only ${cuts} cuts in 90 s (${proxy.accepted} connections); watch said:\n${watcher.stderr()}`);
      }
      while (proxy.open === 0 && !ended) await sleep(20);
      await sleep(50 + rng() * Number(process.env.PTW_TEST_CUT_SPREAD_MS ?? 700));
      if (proxy.cut() > 0) cuts += 1;
    }
    const code = await Promise.race([watcher.exited, sleep(75_000).then(() => 'hung' as const)]);
    if (code === 'hung') {
      const local = path.join(t.env.PTW_HOME!, 'runs', id, 'sync.json');
      throw new Error(
        `ptw run watch did not finish; it said:\n${watcher.stderr().slice(-3000)}\nsync.json: ${readFileSync(local, 'utf8')}\n` +
          `state: ${readFileSync(path.join(t.runDir(id), 'state.json'), 'utf8')}\nproxy open: ${proxy.open}`,
      );
    }
    // The agent wrote no final_model: the run ends unscored (exit 1), but complete.
    const said = `ptw run watch said:\n${watcher.stderr().slice(-4000)}`;
    expect(code, said).toBe(1);
    expect(watcher.stderr(), said).toContain(`run ${id} no-model`);
    expect(cuts, `connections cut while the run was followed; ${said}`).toBe(20);

    const hostCast = path.join(t.runDir(id), 'record', 'terminal.cast');
    const localDir = path.join(t.env.PTW_HOME!, 'runs', id);
    // The bundle is the host's record byte for byte: nothing lost, nothing twice.
    for (const [mine, theirs] of [
      ['terminal.cast', 'record/terminal.cast'],
      ['events.jsonl', 'record/events.jsonl'],
      ['agent-stream.jsonl', 'record/agent-stream.jsonl'],
    ] as const) {
      expect(readFileSync(path.join(localDir, mine)).equals(readFileSync(path.join(t.runDir(id), theirs)))).toBe(true);
    }
    // And it is what the agent wrote: the TTY turned \n into \r\n, nothing else.
    const terminal = castText(path.join(localDir, 'terminal.cast')).replace(/\r\n/g, '\n');
    const match = /sha256 ([0-9a-f]{64}) (\d+)\n$/.exec(terminal);
    expect(match, terminal.slice(-300)).not.toBeNull();
    const stream = terminal.slice(0, match!.index);
    expect(createHash('sha256').update(stream, 'utf8').digest('hex')).toBe(match![1]);
    expect(stream.split('\n').length - 1).toBe(Number(match![2]));
    expect(Buffer.byteLength(stream)).toBeGreaterThan(1_500_000);
    // What `ptw run watch` printed through all of it is the same terminal.
    expect(watcher.stdout()).toBe(castText(hostCast));

    const shown = await t.ptw(['run', 'show', id, '--json']);
    const summary = (JSON.parse(shown.stdout) as { summary: RunSummary }).summary;
    expect(summary).toMatchObject({ status: 'no-model', stopReason: 'agent-exited', syncError: null });
  });
});
