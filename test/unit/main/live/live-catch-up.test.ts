// Screen-state catch-up (issue 19) end to end in the stream service, from a run's bundle read far faster than the
// viewer renders (real files, a real EventHub, the real screen worker): the viewer skips to snapshots, its final
// screen equals a terminal fed the whole recording, and resizes, markers and bad input keep it so.
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveDataEvent, LiveEndEvent } from '../../../../src/shared/contract-live';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';
import { LiveStreamService } from '../../../../src/main/live/live-stream-service';
import { ScreenTracker } from '../../../../src/main/live/screen-tracker';
import { EventHub } from '../../../../src/main/rpc/contract-router';
import { liveTestRuns } from '../../../support/live-runs';
import { castScreen, floodPiece, floodText, ViewerScreen } from '../../../support/live-screens';

const runId = 'r-20261207-120000-cu19';

/** A viewer rendering at most `bytesPerMs` (a slow page), acking each event once applied, as the page does. */
function slowViewer(
  hub: EventHub,
  service: LiveStreamService,
  peerId: string,
  cols: number,
  rows: number,
  initialBytesPerMs: number,
) {
  let bytesPerMs = initialBytesPerMs;
  const screen = new ViewerScreen(cols, rows);
  const ends: LiveEndEvent[] = [];
  const events: LiveDataEvent[] = [];
  let chain = Promise.resolve();
  let received = 0;
  const detach = hub.attachPeer(peerId, (event, payload) => {
    if (event === 'live.end') {
      chain = chain.then(() => void ends.push(payload as LiveEndEvent));
      return;
    }
    if (event !== 'live.data') return;
    const data = payload as LiveDataEvent;
    events.push(data);
    received += data.data.length;
    chain = chain.then(async () => {
      await screen.apply(data);
      if (data.data.length > 0) {
        await new Promise((r) => setTimeout(r, data.data.length / bytesPerMs));
        service.ack(data.streamId, data.data.length, peerId);
      }
    });
  });
  return {
    screen,
    ends,
    events,
    detach,
    received: () => received,
    settled: () => chain,
    setRate: (rate: number) => void (bytesPerMs = rate),
  };
}

const until = async (what: () => boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('screen-state catch-up', () => {
  let home: string;
  let hub: EventHub;
  let screens: ScreenTracker;
  let service: LiveStreamService;

  const writeCast = async (lines: string[]): Promise<string> => {
    const dir = path.join(home, 'runs', runId);
    const text = lines.join('\n') + '\n';
    await writeFile(path.join(dir, 'terminal.cast'), text);
    return text;
  };

  /**
   * A run being recorded on a "host" that is this machine (LocalHostSession: real shell, real tail): its cast starts
   * as `castHead`, its state says running; a service over it with these catch-up limits.
   */
  const hostRun = async (castHead: string, catchUp: { maxLagMs: number; maxBytes: number }) => {
    const hostRunDir = path.join(home, 'host-run');
    await mkdir(path.join(hostRunDir, 'record'), { recursive: true });
    await writeFile(
      path.join(home, 'runs', runId, 'sync.json'),
      JSON.stringify({ schema: 1, runId, host: 'local', hostRunDir, complete: false }),
    );
    const castFile = path.join(hostRunDir, 'record', 'terminal.cast');
    await writeFile(castFile, castHead);
    const state = (status: 'running' | 'finished') =>
      writeFile(
        path.join(hostRunDir, 'state.json'),
        JSON.stringify({ status, stoppedAt: status === 'running' ? null : 1 }),
      );
    await state('running');
    const session = new LocalHostSession('/nonexistent/docker.sock');
    const service = new LiveStreamService({
      runsDir: path.join(home, 'runs'),
      session: () => Promise.resolve(session),
      runs: liveTestRuns(home, { session }),
      events: hub,
      screens,
      endCheckMs: 200,
      catchUp,
    });
    return { castFile, service, finish: () => state('finished') };
  };

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-live-catchup-'));
    const dir = path.join(home, 'runs', runId);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'sync.json'),
      JSON.stringify({ schema: 1, runId, host: 'gpu1', hostRunDir: '/runs/' + runId, complete: true }),
    );
    hub = new EventHub();
    screens = new ScreenTracker();
    service = new LiveStreamService({
      runsDir: path.join(home, 'runs'),
      session: () => Promise.reject(new Error('a finished run needs no host')),
      runs: liveTestRuns(home),
      events: hub,
      screens,
      catchUp: { maxLagMs: 250, maxBytes: 256 * 1024 },
    });
  });

  afterEach(async () => {
    service.dispose();
    await screens.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('skips a flood to snapshots and ends on the recording’s own final screen, with its resizes and markers', async () => {
    const lines = ['{"version": 2, "width": 100, "height": 30, "timestamp": 1765108800}'];
    let t = 0;
    for (let n = 0; n < 60_000; n++) {
      t += 0.001;
      lines.push(JSON.stringify([Number(t.toFixed(6)), 'o', floodPiece(n)]));
      if (n % 20_000 === 10_000) lines.push(JSON.stringify([t, 'r', `${90 + (n % 7)}x${25 + (n % 5)}`]));
      if (n % 15_000 === 0) lines.push(JSON.stringify([t, 'm', `epoch ${n / 15_000}`]));
    }
    const cast = await writeCast(lines);
    const expected = await castScreen(cast);
    const v = slowViewer(hub, service, 'p1', 100, 30, 2_000);
    const opened = await service.open({ id: runId, catchUp: true }, 'p1');
    expect(opened).toMatchObject({ source: 'mirror', catchUp: true, cols: 100, rows: 30 });
    await until(() => v.ends.length > 0);
    await v.settled();
    expect(v.ends).toEqual([{ streamId: opened.streamId, reason: 'run-ended' }]);
    const snapshots = v.events.filter((e) => e.snapshot);
    expect(snapshots.length).toBeGreaterThan(0);
    const last = snapshots[snapshots.length - 1]!.snapshot!;
    expect(last.totalSkippedBytes).toBeGreaterThan(1024 * 1024);
    expect(last.castTime).toBeGreaterThan(0);
    expect(last.at).toBe(Math.round((1765108800 + last.castTime!) * 1000));
    // Far fewer bytes reached the viewer than the recording holds.
    expect(v.received()).toBeLessThan(cast.length / 2);
    expect(await v.screen.screen()).toBe(expected);
    expect(v.screen.markers).toContain('epoch 0');
    expect(service.openStreams).toBe(0);
    expect(screens.openScreens).toBe(0);
  }, 120_000);

  it('sends quiet output as it is, every byte, with no snapshot', async () => {
    const lines = ['{"version": 2, "width": 80, "height": 24}'];
    let expectedText = '';
    for (let n = 0; n < 400; n++) {
      expectedText += floodPiece(n);
      lines.push(JSON.stringify([n / 10, 'o', floodPiece(n)]));
    }
    lines.push(JSON.stringify([41, 'r', '120x40']));
    lines.push(JSON.stringify([41.5, 'm', 'done \u001b[31mred?']));
    const cast = await writeCast(lines);
    const v = slowViewer(hub, service, 'p1', 80, 24, 1_000_000);
    await service.open({ id: runId, catchUp: true }, 'p1');
    await until(() => v.ends.length > 0);
    await v.settled();
    expect(v.events.some((e) => e.snapshot)).toBe(false);
    expect(
      Buffer.concat(v.events.filter((e) => !e.resize && !e.marker).map((e) => Buffer.from(e.data))).toString(),
    ).toBe(expectedText);
    expect(v.events.find((e) => e.resize)?.resize).toEqual({ cols: 120, rows: 40 });
    expect(v.screen.markers).toEqual(['done \u001b[31mred?']);
    expect(await v.screen.screen()).toBe(await castScreen(cast));
  });

  it('follows a cast being written on a host (real tail -F), snapshotting often with sequences cut across events', async () => {
    // A "host" here is this machine (LocalHostSession: real shell, real tail); the run is not complete, so the
    // stream follows the host's cast as the agent writes it, a 37-character event at a time, faster than the viewer.
    const {
      castFile,
      service: tight,
      finish,
    } = await hostRun('{"version": 2, "width": 80, "height": 24, "timestamp": 1765108800}\n', {
      maxLagMs: 20,
      maxBytes: 8 * 1024,
    });
    try {
      const v = slowViewer(hub, tight, 'p1', 80, 24, 1_500);
      const opened = await tight.open({ id: runId }, 'p1');
      expect(opened).toMatchObject({ source: 'host', catchUp: true });
      const text = floodText(0, 60_000);
      let n = 0;
      for (let at = 0; at < text.length; n++) {
        const batch: string[] = [];
        for (let k = 0; k < 200 && at < text.length; k++, at += 37, n++) {
          batch.push(JSON.stringify([n / 1000, 'o', text.slice(at, at + 37)]));
        }
        await appendFile(castFile, batch.join('\n') + '\n');
        await new Promise((r) => setTimeout(r, 2));
      }
      await finish();
      await until(() => v.ends.length > 0);
      await v.settled();
      expect(v.ends[0]?.reason).toBe('run-ended');
      expect(v.screen.snapshots).toBeGreaterThan(3);
      const cast = await readFile(castFile, 'utf8');
      expect(await v.screen.screen()).toBe(await castScreen(cast));
      expect(tight.openStreams).toBe(0);
    } finally {
      tight.dispose();
    }
  }, 120_000);

  it('gives every viewer of a run one follow and one headless terminal, joined late and left by reference, through chunks cut mid-character', async () => {
    const {
      castFile,
      service: shared,
      finish,
    } = await hostRun('{"version": 2, "width": 80, "height": 24, "timestamp": 1765108800}\n', {
      maxLagMs: 20,
      maxBytes: 8 * 1024,
    });
    try {
      const fast = slowViewer(hub, shared, 'p1', 80, 24, 1_000_000);
      const slow = slowViewer(hub, shared, 'p2', 80, 24, 500);
      const [a, b] = await Promise.all([shared.open({ id: runId }, 'p1'), shared.open({ id: runId }, 'p2')]);
      expect(shared.openFollows).toBe(1);
      expect(screens.openScreens).toBe(1);
      expect(shared.catchUpOf(a.streamId)?.screen).toBe(shared.catchUpOf(b.streamId)?.screen);
      // The recording is appended in raw pieces of 997 bytes: the host's reads end inside lines, UTF-8 characters
      // (äöü→✓漢字) and escape sequences, wherever the snapshots fall.
      const lines: string[] = [];
      for (let n = 0; n < 12_000; n++) lines.push(JSON.stringify([n / 1000, 'o', floodPiece(n)]));
      const bytes = Buffer.from(lines.join('\n') + '\n');
      let late: ReturnType<typeof slowViewer> | undefined;
      for (let at = 0; at < bytes.length; at += 997) {
        await appendFile(castFile, bytes.subarray(at, at + 997));
        if (at % (997 * 40) === 0) await new Promise((r) => setTimeout(r, 5));
        if (!late && at > bytes.length / 2) {
          // A third window opens the run mid-flood: it joins the same follow and starts from the screen as it is.
          late = slowViewer(hub, shared, 'p3', 80, 24, 1_000_000);
          await shared.open({ id: runId }, 'p3');
          expect(shared.openFollows).toBe(1);
          expect(screens.openScreens).toBe(1);
          // One window closes: the follow stays for the others.
          expect(fast.received()).toBeGreaterThan(0);
          expect(shared.close(a.streamId, 'p1')).toBe(true);
          expect(screens.openScreens).toBe(1);
        }
      }
      await finish();
      await until(() => slow.ends.length > 0 && (late?.ends.length ?? 0) > 0);
      await Promise.all([slow.settled(), late!.settled()]);
      const expected = await castScreen(await readFile(castFile, 'utf8'));
      expect(slow.ends[0]?.reason).toBe('run-ended');
      expect(late!.ends[0]?.reason).toBe('run-ended');
      expect(late!.events.find((e) => e.data.length > 0)?.snapshot).toBeDefined();
      expect(slow.screen.snapshots).toBeGreaterThan(0);
      expect(await slow.screen.screen()).toBe(expected);
      expect(await late!.screen.screen()).toBe(expected);
      expect(shared.openFollows).toBe(0);
      expect(screens.openScreens).toBe(0);
    } finally {
      shared.dispose();
    }
  }, 120_000);

  it('reopened from an offset on the host, shows only what follows it, and its snapshots still hold everything', async () => {
    // Wraparound off before the offset: the snapshot's screen is wrong unless the screen saw the start too.
    const head = ['{"version": 2, "width": 80, "height": 24}', JSON.stringify([0, 'o', '\u001b[?7l'])];
    for (let n = 0; n < 99; n++) head.push(JSON.stringify([n / 10, 'o', floodPiece(n)]));
    const fromOffset = Buffer.byteLength(head.slice(0, 51).join('\n') + '\n');
    const {
      castFile,
      service: host,
      finish,
    } = await hostRun(head.join('\n') + '\n', {
      maxLagMs: 50,
      maxBytes: 64 * 1024,
    });
    try {
      const v = slowViewer(hub, host, 'p1', 80, 24, 1_000_000);
      await host.open({ id: runId, fromOffset, source: 'host' }, 'p1');
      await until(() => v.received() >= Buffer.byteLength(floodText(49, 99)));
      await v.settled();
      expect(Buffer.concat(v.events.map((e) => Buffer.from(e.data))).toString()).toBe(floodText(49, 99));
      // A flood follows, faster than this viewer: its snapshot is of the whole recording, the part before the
      // offset included.
      v.setRate(200);
      const more: string[] = [];
      for (let n = 99; n < 40_000; n++) more.push(JSON.stringify([10 + n / 1000, 'o', floodPiece(n)]));
      await appendFile(castFile, more.join('\n') + '\n');
      await finish();
      await until(() => v.ends.length > 0);
      await v.settled();
      expect(v.screen.snapshots).toBeGreaterThan(0);
      expect(await v.screen.screen()).toBe(await castScreen(await readFile(castFile, 'utf8')));
    } finally {
      host.dispose();
    }
  }, 120_000);

  it('stays exact through bad input: a 10 MB line, synchronized output held, 1×1 and 2000×2000, cut escapes', async () => {
    const lines = ['{"version": 2, "width": 80, "height": 24}'];
    lines.push(JSON.stringify([0.1, 'o', '\u001b[?2026hheld frame ']));
    lines.push(JSON.stringify([0.2, 'o', `\u001b[35m${'0123456789abcdefghij'.repeat(512 * 1024)}`]));
    lines.push(JSON.stringify([0.3, 'o', '\u001b[0m\r\n']));
    lines.push(JSON.stringify([0.4, 'r', '1x1']));
    // Sequences cut across events (and so across chunks and snapshot points).
    lines.push(JSON.stringify([0.5, 'o', 'tiny\u001b[3']));
    lines.push(JSON.stringify([0.6, 'o', '1mred\u001b]0;ti']));
    lines.push(JSON.stringify([0.7, 'o', 'tle\u0007\u001b']));
    lines.push(JSON.stringify([0.8, 'o', '[0m']));
    lines.push(JSON.stringify([0.9, 'r', '2000x2000']));
    for (let n = 0; n < 3_000; n++) lines.push(JSON.stringify([1 + n / 1000, 'o', floodPiece(n)]));
    lines.push(JSON.stringify([5, 'r', '100x30']));
    for (let n = 3_000; n < 6_000; n++) lines.push(JSON.stringify([5 + n / 1000, 'o', floodPiece(n)]));
    lines.push(JSON.stringify([12, 'o', '\u001b[?2026lend \u001b[1;32mgreen ✓\u001b[0m 漢']));
    const cast = await writeCast(lines);
    const expected = await castScreen(cast);
    const v = slowViewer(hub, service, 'p1', 80, 24, 3_000);
    await service.open({ id: runId, catchUp: true }, 'p1');
    await until(() => v.ends.length > 0, 100_000);
    await v.settled();
    expect(v.events.some((e) => e.snapshot)).toBe(true);
    expect(await v.screen.screen()).toBe(expected);
  }, 120_000);
});
