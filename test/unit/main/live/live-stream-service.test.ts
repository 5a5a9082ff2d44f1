// The stream service end to end on a finished run served from its local bundle (real files, a real EventHub):
// every byte once and in order through a small flow window, a slow viewer paused on its own, peers' streams
// closed when they go away, and a malformed cast line reported in place.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LiveDataEvent, LiveEndEvent } from '../../../../src/shared/contract-live';
import { LiveStreamService } from '../../../../src/main/live/live-stream-service';
import { EventHub } from '../../../../src/main/rpc/contract-router';
import { liveTestRuns } from '../../../support/live-runs';

const runId = 'r-20261123-120000-ab12';

interface Viewer {
  data: LiveDataEvent[];
  ends: LiveEndEvent[];
  text(): string;
}

function viewer(hub: EventHub, peerId: string): { viewer: Viewer; detach: () => void } {
  const v: Viewer = {
    data: [],
    ends: [],
    text: () => v.data.map((d) => d.data).join(''),
  };
  const detach = hub.attachPeer(peerId, (event, payload) => {
    if (event === 'live.data') v.data.push(payload as LiveDataEvent);
    if (event === 'live.end') v.ends.push(payload as LiveEndEvent);
  });
  return { viewer: v, detach };
}

const until = async (what: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('LiveStreamService from a finished run’s bundle', () => {
  let home: string;
  let hub: EventHub;
  let service: LiveStreamService;
  let expected = '';

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-live-unit-'));
    const dir = path.join(home, 'runs', runId);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'sync.json'),
      JSON.stringify({ schema: 1, runId, host: 'gpu1', hostRunDir: '/runs/' + runId, complete: true }),
    );
    const lines = ['{"version": 2, "width": 100, "height": 30, "timestamp": 1763899200}'];
    expected = '';
    for (let n = 0; n < 20_000; n++) {
      const data = `line ${String(n).padStart(5, '0')} äöü→✓ \u001b[3${n % 8}mcolour\u001b[0m\r\n`;
      expected += data;
      lines.push(JSON.stringify([n / 100, 'o', data]));
    }
    await writeFile(path.join(dir, 'terminal.cast'), lines.join('\n') + '\n');
    hub = new EventHub();
    service = new LiveStreamService({
      runsDir: path.join(home, 'runs'),
      session: () => Promise.reject(new Error('a finished run needs no host')),
      runs: liveTestRuns(home),
      events: hub,
      flow: { highWatermark: 8_000, lowWatermark: 2_000 },
    });
  });

  afterEach(async () => {
    service.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('delivers every byte once, in order, pausing the source for a slow viewer', async () => {
    const { viewer: v } = viewer(hub, 'p1');
    const opened = await service.open({ id: runId }, 'p1');
    expect(opened).toMatchObject({ source: 'mirror', cols: 100, rows: 30, highWatermark: 8_000 });
    const window = service.flowOf(opened.streamId)!;
    // Ack slowly, a piece at a time, as xterm's write callbacks would.
    let acked = 0;
    const acker = setInterval(() => {
      const received = v.data.reduce((n, d) => n + d.data.length, 0);
      if (received > acked) {
        const step = Math.min(received - acked, 3_000);
        acked += step;
        service.ack(opened.streamId, step, 'p1');
      }
    }, 2);
    try {
      await until(() => v.ends.length > 0);
    } finally {
      clearInterval(acker);
    }
    expect(v.ends).toEqual([{ streamId: opened.streamId, reason: 'run-ended' }]);
    expect(v.text()).toBe(expected);
    expect(window.pauses).toBeGreaterThan(3);
    expect(window.resumes).toBeGreaterThan(3);
    expect(Math.max(...v.data.map((d) => d.data.length))).toBeLessThan(256 * 1024 + 1);
    expect(service.openStreams).toBe(0);
  });

  it('keeps two viewers independent: one that never acks stays paused while the other finishes', async () => {
    const fast = viewer(hub, 'fast').viewer;
    const stuck = viewer(hub, 'stuck').viewer;
    const a = await service.open({ id: runId }, 'fast');
    const b = await service.open({ id: runId }, 'stuck');
    const acker = setInterval(() => {
      const received = fast.data.reduce((n, d) => n + d.data.length, 0);
      const window = service.flowOf(a.streamId);
      if (window && received > window.ackedTotal) service.ack(a.streamId, received - window.ackedTotal, 'fast');
    }, 2);
    try {
      await until(() => fast.ends.length > 0);
    } finally {
      clearInterval(acker);
    }
    expect(fast.text()).toBe(expected);
    const stuckWindow = service.flowOf(b.streamId)!;
    expect(stuckWindow.paused).toBe(true);
    expect(stuck.ends).toEqual([]);
    // Paused: nothing more arrives beyond the window (plus what was read before the pause took effect).
    const before = stuck.text().length;
    await new Promise((r) => setTimeout(r, 100));
    expect(stuck.text().length).toBe(before);
    expect(before).toBeLessThan(8_000 + 256 * 1024);
    // Acks from another peer do not count for this stream.
    expect(service.ack(b.streamId, 1_000_000, 'fast')).toBe(0);
    expect(stuckWindow.paused).toBe(true);
  });

  it('closes a peer’s streams when the peer goes away, and refuses callers that cannot receive events', async () => {
    const { detach } = viewer(hub, 'p1');
    const opened = await service.open({ id: runId }, 'p1');
    expect(service.openStreams).toBe(1);
    detach();
    await until(() => service.openStreams === 0);
    expect(service.ack(opened.streamId, 10, 'p1')).toBe(0);
    await expect(service.open({ id: runId }, 'cli')).rejects.toThrow(/needs a window or browser connection/);
  });

  it('sends events only to the peer that opened the stream, and keeps broadcasts for everyone', async () => {
    const mine = viewer(hub, 'p1').viewer;
    const other = viewer(hub, 'p2').viewer;
    const broadcasts: string[] = [];
    hub.attach((event) => broadcasts.push(event), 'p3');
    const opened = await service.open({ id: runId }, 'p1');
    service.ack(opened.streamId, 1e9, 'p1');
    await until(() => mine.data.length > 0);
    expect(other.data).toEqual([]);
    expect(broadcasts).toEqual([]);
    hub.emit('runs.changed', []);
    expect(broadcasts).toEqual(['runs.changed']);
  });

  it('reports a malformed line with its offset in the terminal and goes on', async () => {
    const cast = path.join(home, 'runs', runId, 'terminal.cast');
    await writeFile(cast, '{"version": 2}\n[0.1, "o", "before "]\n[0.2, "o", "bro\n[0.3, "o", "after"]\n');
    const { viewer: v } = viewer(hub, 'p1');
    await service.open({ id: runId }, 'p1');
    await until(() => v.ends.length > 0);
    expect(v.text()).toContain('before ');
    expect(v.text()).toMatch(/\[ptw\] terminal\.cast: byte 37: not JSON/);
    expect(v.text()).toMatch(/after$/);
  });

  it('redacts the agent’s key, also when it is split across cast events', async () => {
    const key = 'sk-ant-api03-LIVEtest-0123456789abcdef';
    const dir = path.join(home, 'runs', runId);
    await writeFile(
      path.join(dir, 'run.json'),
      JSON.stringify({
        schema: 1,
        id: runId,
        createdAt: '2026-11-23T12:00:00.000Z',
        spec: { task: { kind: 'rehearsal' }, agent: { id: 'claude-code' } },
        supervisor: { budgetSeconds: 60 },
      }),
    );
    const events = ['my key is ' + key.slice(0, 9), key.slice(9) + ' (end)\r\n', 'and again ' + key + '\r\n'];
    await writeFile(
      path.join(dir, 'terminal.cast'),
      '{"version": 2}\n' + events.map((e, i) => JSON.stringify([i, 'o', e])).join('\n') + '\n',
    );
    const keyed = new LiveStreamService({
      runsDir: path.join(home, 'runs'),
      session: () => Promise.reject(new Error('no host')),
      runs: liveTestRuns(home, { keys: { ANTHROPIC_API_KEY: key } }),
      events: hub,
    });
    try {
      const { viewer: v } = viewer(hub, 'p1');
      await keyed.open({ id: runId }, 'p1');
      await until(() => v.ends.length > 0);
      expect(v.text()).toBe(
        'my key is [REDACTED:ANTHROPIC_API_KEY] (end)\r\nand again [REDACTED:ANTHROPIC_API_KEY]\r\n',
      );
      for (const d of v.data) expect(d.data).not.toContain(key.slice(0, 12));
    } finally {
      keyed.dispose();
    }
  });

  it('resumes from an offset of the bundle', async () => {
    const { viewer: v } = viewer(hub, 'p1');
    const cast = path.join(home, 'runs', runId, 'terminal.cast');
    await writeFile(cast, '{"version": 2}\n[0.1, "o", "one "]\n[0.2, "o", "two"]\n');
    await service.open(
      { id: runId, fromOffset: '{"version": 2}\n[0.1, "o", "one "]\n'.length, source: 'mirror' },
      'p1',
    );
    await until(() => v.ends.length > 0);
    expect(v.text()).toBe('two');
  });
});
