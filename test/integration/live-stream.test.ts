// The live terminal stream over a real SSH host: a run whose agent writes a few MB as fast as it can is followed
// through `live.open` by two viewers at once, one acking slowly (like a busy renderer) and one at once. Both get
// every byte the host recorded, once and in order; the slow one's stream was paused and resumed (its window never
// held much more than the high watermark), and neither slowed the other. With screen-state catch-up (issue 19) a
// slow viewer of a flood skips to snapshots instead and ends on the screen of the host's whole recording.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAppServices, type AppServices } from '../../src/main/app-services';
import {
  LIVE_BEHIND_REPORT_BYTES,
  type LiveBehindEvent,
  type LiveDataEvent,
  type LiveEndEvent,
  type LiveOpenResult,
} from '../../src/shared/contract-live';
import { castScreen, floodAgent, ViewerScreen } from '../support/live-screens';
import { castText, startRunTestHost, type RunTestHost } from '../support/run-test-host';
import { describeWithTestHost } from '../support/test-host-availability';

/** ~3 MB of deterministic lines (ASCII, multi-byte UTF-8, colour) as fast as it can, then their checksum. */
const AGENT = String.raw`
import hashlib, random, sys
rng = random.Random(5)
alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 äöü→✓漢字"
digest = hashlib.sha256()
lines = 30000
for n in range(1, lines + 1):
    body = "".join(rng.choice(alphabet) for _ in range(rng.randint(40, 120)))
    line = "\033[3%dm%06d\033[0m %s\n" % (n % 8, n, body)
    digest.update(line.encode("utf-8"))
    sys.stdout.write(line)
sys.stdout.write("sha256 %s %d\n" % (digest.hexdigest(), lines))
sys.stdout.flush()
`;
/**
 * The agent, then a pause before it exits: a run that has ended by the time a viewer opens its terminal is served from
 * the local mirror (nothing to pause on the host, never behind it), and the flood alone can be over in a second.
 */
const AGENT_THEN_PAUSE = `${AGENT}\nimport time\ntime.sleep(10)\n`;

/** The flood of agent-like output (~10 MB), then a pause: the stream stays on the host. */
const FLOOD_THEN_PAUSE = floodAgent(200_000, 10);

interface Viewer {
  readonly peerId: string;
  data: string[];
  received: number;
  acked: number;
  maxUnacked: number;
  /** `live.behind` reports, in order. */
  behind: number[];
  end: LiveEndEvent | undefined;
  detach(): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeWithTestHost('the live terminal stream with flow control over SSH', () => {
  let t: RunTestHost;
  let services: AppServices;

  beforeAll(async () => {
    t = await startRunTestHost({ nvidiaSmi: 'none' });
    services = await createAppServices({ home: t.env.PTW_HOME!, shell: 'serve', backgroundSync: false });
  });

  afterAll(async () => {
    await services?.dispose();
    await t?.cleanup();
  });

  function attachViewer(peerId: string): Viewer {
    const viewer: Viewer = {
      peerId,
      data: [],
      received: 0,
      acked: 0,
      maxUnacked: 0,
      behind: [],
      end: undefined,
      detach: () => undefined,
    };
    viewer.detach = services.events.attachPeer(peerId, (event, payload) => {
      if (event === 'live.data') {
        const d = payload as LiveDataEvent;
        // Main sends UTF-8 bytes of whole characters: each message decodes on its own (a cut character would not).
        viewer.data.push(typeof d.data === 'string' ? d.data : Buffer.from(d.data).toString('utf8'));
        viewer.received += d.data.length;
        viewer.maxUnacked = Math.max(viewer.maxUnacked, viewer.received - viewer.acked);
      } else if (event === 'live.behind') {
        viewer.behind.push((payload as LiveBehindEvent).bytes);
      } else if (event === 'live.end') {
        viewer.end = payload as LiveEndEvent;
      }
    });
    return viewer;
  }

  /** Starts a run of the custom agent `command` on the test host; its id. */
  const startRun = (command: string[], budget: string): Promise<string> =>
    t.startRun({ agent: 'custom', command, budget });

  /** Every byte, paced by acks (`catchUp: false`), unless `catchUp` is asked for. */
  async function open(viewer: Viewer, id: string, catchUp = false): Promise<LiveOpenResult> {
    const result = await services.router.invoke(
      'live.open',
      { id, catchUp },
      { peerId: viewer.peerId, transport: 'websocket' },
    );
    if (!result.ok) throw new Error(`live.open failed: ${result.error.message}`);
    return result.data as LiveOpenResult;
  }

  async function ack(viewer: Viewer, streamId: string, bytes: number): Promise<void> {
    viewer.acked += bytes;
    const result = await services.router.invoke(
      'live.ack',
      { streamId, bytes },
      { peerId: viewer.peerId, transport: 'websocket' },
    );
    if (!result.ok) throw new Error(`live.ack failed: ${result.error.message}`);
  }

  it('delivers every byte once and in order to a slow and a fast viewer, pausing only the slow one', async () => {
    const id = await startRun(['python3', '-c', AGENT_THEN_PAUSE], '3m');

    const slow = attachViewer('slow-viewer');
    const fast = attachViewer('fast-viewer');
    const slowStream = await open(slow, id);
    const fastStream = await open(fast, id);
    expect(slowStream.source).toBe('host');
    expect(slowStream.streamId).not.toBe(fastStream.streamId);
    const slowWindow = services.live.flowOf(slowStream.streamId)!;
    const fastWindow = services.live.flowOf(fastStream.streamId)!;

    // The fast viewer acks everything as it arrives; the slow one 24 KiB per 10 ms (~2.4 MB/s at best, far below
    // what the agent writes), like a renderer that falls behind.
    let running = true;
    const fastAcker = (async () => {
      while (running && !fast.end) {
        if (fast.received > fast.acked) await ack(fast, fastStream.streamId, fast.received - fast.acked);
        await sleep(2);
      }
    })();
    const slowAcker = (async () => {
      while (running && !slow.end) {
        const step = Math.min(24 * 1024, slow.received - slow.acked);
        if (step > 0) await ack(slow, slowStream.streamId, step);
        await sleep(10);
      }
    })();
    const deadline = Date.now() + 150_000;
    while ((!slow.end || !fast.end) && Date.now() < deadline) await sleep(100);
    running = false;
    await Promise.all([fastAcker, slowAcker]);

    expect(fast.end?.reason, JSON.stringify(fast.end)).toBe('run-ended');
    expect(slow.end?.reason, JSON.stringify(slow.end)).toBe('run-ended');
    const hostTerminal = castText(path.join(t.runDir(id), 'record', 'terminal.cast'));
    const slowText = slow.data.join('');
    const fastText = fast.data.join('');
    // Exactly the host's record, byte for byte, for each viewer.
    expect(slowText.length).toBe(hostTerminal.length);
    expect(slowText === hostTerminal).toBe(true);
    expect(fastText === hostTerminal).toBe(true);
    // And that is what the agent wrote (its TTY turned \n into \r\n).
    const terminal = hostTerminal.replace(/\r\n/g, '\n');
    const match = /sha256 ([0-9a-f]{64}) (\d+)\n$/.exec(terminal);
    expect(match, terminal.slice(-300)).not.toBeNull();
    expect(createHash('sha256').update(terminal.slice(0, match!.index), 'utf8').digest('hex')).toBe(match![1]);
    expect(Buffer.byteLength(terminal)).toBeGreaterThan(2_500_000);

    // The slow viewer's channel was paused and resumed, and it never had much more than the window outstanding:
    // above the high watermark the host stopped sending (what was already read and coalesced still arrives).
    expect(slowWindow.pauses).toBeGreaterThan(0);
    expect(slowWindow.resumes).toBeGreaterThan(0);
    expect(slow.maxUnacked).toBeLessThan(slowStream.highWatermark + 1024 * 1024);
    // The fast one was not held back by it: its own window paused no more often (it can pause a few times on its own
    // when a loaded machine delays its acks: the host supervisor records faster than this test's ack loop runs).
    expect(fastWindow.pauses).toBeLessThanOrEqual(slowWindow.pauses);
    expect(services.live.openStreams).toBe(0);
  });

  it('tells a viewer how far behind the host it is, and when it has caught up', async () => {
    const id = await startRun(['python3', '-c', AGENT_THEN_PAUSE], '3m');
    const viewer = attachViewer('stalled-viewer');
    const opened = await open(viewer, id);
    expect(opened.source).toBe('host');
    // A viewer that renders nothing for a while (a frozen tab): its window fills and the host's cast runs ahead.
    const castFile = path.join(t.runDir(id), 'record', 'terminal.cast');
    const castSize = (): number => (existsSync(castFile) ? statSync(castFile).size : 0);
    const flooded = Date.now() + 120_000;
    while (castSize() < 3 * 1024 * 1024 && Date.now() < flooded) await sleep(200);
    expect(castSize(), 'the agent wrote its ~3.9 MB').toBeGreaterThanOrEqual(3 * 1024 * 1024);
    const deadline = Date.now() + 60_000;
    while (viewer.behind.length === 0 && !viewer.end && Date.now() < deadline) await sleep(100);
    const window = services.live.flowOf(opened.streamId);
    const state = `received ${viewer.received}, unacked ${window?.unacked}, paused ${window?.paused}, cast ${castSize()}, end ${JSON.stringify(viewer.end)}`;
    expect(viewer.behind[0], `a live.behind report while stalled (${state})`).toBeGreaterThanOrEqual(
      LIVE_BEHIND_REPORT_BYTES,
    );
    expect(viewer.behind[0]).toBeLessThan(4 * 1024 * 1024);
    // It catches up: everything is acked as it arrives, and the next report says 0.
    while (!viewer.end && Date.now() < deadline) {
      const step = viewer.received - viewer.acked;
      if (step > 0) await ack(viewer, opened.streamId, step);
      await sleep(20);
    }
    expect(viewer.end?.reason, JSON.stringify(viewer.end)).toBe('run-ended');
    expect(viewer.behind.at(-1)).toBe(0);
    expect(viewer.data.join('') === castText(path.join(t.runDir(id), 'record', 'terminal.cast'))).toBe(true);
    viewer.detach();
  });

  it('catches a slow viewer up by snapshots during a flood, ending on the screen of the host’s whole recording', async () => {
    const id = await startRun(['python3', '-c', FLOOD_THEN_PAUSE], '3m');
    const peerId = 'catch-up-viewer';
    const ctx = { peerId, transport: 'websocket' as const };
    const events: LiveDataEvent[] = [];
    let end: LiveEndEvent | undefined;
    let screen: ViewerScreen | undefined;
    let chain = Promise.resolve();
    let received = 0;
    const detach = services.events.attachPeer(peerId, (event, payload) => {
      if (event === 'live.end') end = payload as LiveEndEvent;
      if (event !== 'live.data') return;
      const d = payload as LiveDataEvent;
      events.push(d);
      received += d.data.length;
      // Applied and acked in order, at most ~2 MB/s: a page far slower than the agent.
      chain = chain.then(async () => {
        await screen!.apply(d);
        if (d.data.length > 0) {
          await sleep(d.data.length / 2_000);
          await services.router.invoke('live.ack', { streamId: d.streamId, bytes: d.data.length }, ctx);
        }
      });
    });
    try {
      const opened = await open({ peerId } as Viewer, id, true);
      expect(opened).toMatchObject({ source: 'host', catchUp: true });
      screen = new ViewerScreen(opened.cols ?? 80, opened.rows ?? 24);
      const deadline = Date.now() + 150_000;
      while (!end && Date.now() < deadline) await sleep(100);
      await chain;
      expect(end?.reason, JSON.stringify(end)).toBe('run-ended');
      const castFile = path.join(t.runDir(id), 'record', 'terminal.cast');
      const cast = readFileSync(castFile, 'utf8');
      expect(cast.length).toBeGreaterThan(8 * 1024 * 1024);
      const snapshots = events.filter((e) => e.snapshot);
      expect(snapshots.length, `snapshots among ${events.length} messages`).toBeGreaterThan(0);
      const skipped = snapshots.at(-1)!.snapshot!.totalSkippedBytes;
      expect(skipped).toBeGreaterThan(1024 * 1024);
      // Far less crossed to the viewer than the host recorded, and its screen is the recording's.
      expect(received).toBeLessThan(cast.length / 2);
      expect(await screen.screen()).toBe(await castScreen(cast));
      expect(services.live.openStreams).toBe(0);
    } finally {
      detach();
      screen?.dispose();
    }
  });

  it('closes a viewer’s stream (and its tail on the host) when the viewer goes away', async () => {
    const id = await startRun(
      ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done'],
      '2m',
    );
    const viewer = attachViewer('leaving-viewer');
    const opened = await open(viewer, id);
    const before = Date.now();
    while (!viewer.data.join('').includes('tick 3') && Date.now() - before < 60_000) await sleep(50);
    expect(viewer.data.join('')).toContain('tick 3');
    expect(services.live.flowOf(opened.streamId)).toBeDefined();
    const tails = async (): Promise<number> => {
      const session = await services.hosts.session(t.hostName);
      const ps = await session.exec(`pgrep -f -c -- '^tail -c \\+1 -F -- .*${id}' || true`);
      return Number(ps.stdout.trim() || '0');
    };
    expect(await tails()).toBe(1);
    viewer.detach();
    const gone = Date.now();
    while (services.live.flowOf(opened.streamId) && Date.now() - gone < 10_000) await sleep(50);
    expect(services.live.flowOf(opened.streamId)).toBeUndefined();
    // The host side ends too: nothing left tailing the cast.
    const waited = Date.now();
    while ((await tails()) > 0 && Date.now() - waited < 15_000) await sleep(200);
    expect(await tails()).toBe(0);
  });

  it('opens a peek shell over the SSH host’s Docker, recorded in the run first', async () => {
    const id = await startRun(['sh', '-c', 'echo agent up; sleep 120'], '3m');
    const viewer = attachViewer('peek-viewer');
    const ctx = { peerId: viewer.peerId, transport: 'websocket' as const };
    const opened = await services.router.invoke('live.peekOpen', { id, cols: 100, rows: 30 }, ctx);
    if (!opened.ok) throw new Error(`live.peekOpen failed: ${opened.error.message}`);
    const { streamId, request } = opened.data as { streamId: string; request: string };
    expect(request).toMatch(/^peek-shell-\d+-[0-9a-f]{6}\.json$/);
    // Recorded before the shell opened.
    const events = readFileSync(path.join(t.runDir(id), 'record', 'events.jsonl'), 'utf8');
    expect(events).toContain(request);
    expect(events).toMatch(/"action": ?"peek-shell"/);

    const typed = await services.router.invoke(
      'live.input',
      { streamId, data: 'echo peek-$((6*7)) $(stty size)\n' },
      ctx,
    );
    expect(typed.ok).toBe(true);
    const waited = Date.now();
    while (!viewer.data.join('').includes('peek-42 30 100') && Date.now() - waited < 30_000) {
      if (viewer.received > viewer.acked) await ack(viewer, streamId, viewer.received - viewer.acked);
      await sleep(100);
    }
    expect(viewer.data.join('')).toContain('peek-42 30 100');
    // A terminal stream is read-only.
    const reader = attachViewer('reader');
    const terminal = await open(reader, id);
    const refused = await services.router.invoke(
      'live.input',
      { streamId: terminal.streamId, data: 'x' },
      { peerId: 'reader', transport: 'websocket' },
    );
    expect(refused).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    await services.router.invoke('live.input', { streamId, data: 'exit\n' }, ctx);
    const exited = Date.now();
    while (!viewer.end && Date.now() - exited < 20_000) await sleep(100);
    expect(viewer.end?.reason).toBe('exited');
    await services.router.invoke(
      'live.close',
      { streamId: terminal.streamId },
      { peerId: 'reader', transport: 'websocket' },
    );
  });
});
