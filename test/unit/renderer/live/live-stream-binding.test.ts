import { describe, expect, it } from 'vitest';
import type { CommandInput } from '../../../../src/shared/contract';
import {
  MAX_WRITE,
  SNAPSHOT_WRITE,
  StreamBinding,
  type StreamStatus,
} from '../../../../src/renderer/live/live-stream-binding';
import { deferred, fakeClient } from '../fakes';

const opened = (streamId: string) => ({
  ok: true as const,
  data: { streamId, source: 'host' as const, cols: 120, rows: 40, highWatermark: 1024, lowWatermark: 256 },
});

/** A terminal whose write callbacks run when the test says (a renderer that is behind). */
function slowSink() {
  const writes: Array<{ data: string | Uint8Array; done: () => void }> = [];
  return {
    writes,
    sink: { write: (data: string | Uint8Array, done: () => void) => void writes.push({ data, done }) },
    renderAll: () => {
      for (const w of writes.splice(0)) w.done();
    },
  };
}

/** A binding of run r1's terminal that ignores status changes. */
function bind(fake: ReturnType<typeof fakeClient>, sink: ReturnType<typeof slowSink>['sink']): StreamBinding {
  return new StreamBinding({
    client: fake.client,
    sink,
    open: () => fake.client.call('live.open', { id: 'r1' }),
    onStatus: () => undefined,
    reopenAfterDrop: true,
  });
}

/** Run r1's stream opened as s1, every ack answered. */
const ackingClient = () =>
  fakeClient({
    'live.open': () => opened('s1'),
    'live.ack': () => ({ ok: true, data: { unacked: 0 } }),
  });

/** {@link bind} over a slow sink and an acking client, started. */
async function startedBinding() {
  const fake = ackingClient();
  const slow = slowSink();
  const binding = bind(fake, slow.sink);
  await binding.start();
  return { fake, binding, ...slow };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('StreamBinding', () => {
  it('writes data in order and acks only what xterm has taken, batched', async () => {
    const fake = ackingClient();
    const { sink, writes, renderAll } = slowSink();
    const statuses: StreamStatus[] = [];
    const binding = new StreamBinding({
      client: fake.client,
      sink,
      open: () => fake.client.call('live.open', { id: 'r1' }),
      onStatus: (s) => statuses.push(s),
      reopenAfterDrop: true,
    });
    await binding.start();
    fake.emit('live.data', { streamId: 's1', data: 'hello ', offset: 10 });
    fake.emit('live.data', { streamId: 'someone-else', data: 'NOT MINE', offset: 99 });
    fake.emit('live.data', { streamId: 's1', data: 'world', offset: 20 });
    expect(writes.map((w) => w.data)).toEqual(['hello ', 'world']);
    await tick();
    expect(fake.calls.filter((c) => c.command === 'live.ack')).toEqual([]);
    renderAll();
    await tick();
    expect(fake.calls.filter((c) => c.command === 'live.ack').map((c) => c.input)).toEqual([
      { streamId: 's1', bytes: 11 },
    ]);
    expect(binding.written).toBe(11);
    expect(statuses.map((s) => s.phase)).toEqual(['connecting', 'live']);
    binding.dispose();
  });

  it('writes a large message of bytes in pieces cut between characters, and acks every byte', async () => {
    const { fake, writes, renderAll, binding } = await startedBinding();
    // 3-byte characters after one ASCII byte: every 32 KiB boundary falls inside a character.
    const bytes = new TextEncoder().encode('a' + '漢'.repeat(40_000));
    fake.emit('live.data', { streamId: 's1', data: bytes, offset: 5 });
    expect(writes.length).toBeGreaterThan(3);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (const w of writes) {
      expect(w.data).toBeInstanceOf(Uint8Array);
      expect((w.data as Uint8Array).length).toBeLessThanOrEqual(MAX_WRITE);
      expect(() => decoder.decode(w.data as Uint8Array)).not.toThrow();
    }
    const joined = new Uint8Array(bytes.length);
    let at = 0;
    for (const w of writes) {
      joined.set(w.data as Uint8Array, at);
      at += (w.data as Uint8Array).length;
    }
    expect(joined).toEqual(bytes);
    renderAll();
    await tick();
    const acked = fake.calls.filter((c) => c.command === 'live.ack').map((c) => (c.input as { bytes: number }).bytes);
    expect(acked.reduce((a, b) => a + b, 0)).toBe(bytes.length);
    expect(binding.written).toBe(bytes.length);
    binding.dispose();
  });

  it('passes on how far behind the host its stream is, and 0 once the stream ends', async () => {
    const fake = fakeClient({ 'live.open': () => opened('s1') });
    const { sink } = slowSink();
    const behind: number[] = [];
    const binding = new StreamBinding({
      client: fake.client,
      sink,
      open: () => fake.client.call('live.open', { id: 'r1' }),
      onStatus: () => undefined,
      onBehind: (bytes) => behind.push(bytes),
      reopenAfterDrop: false,
    });
    await binding.start();
    fake.emit('live.behind', { streamId: 's1', bytes: 5_000_000 });
    fake.emit('live.behind', { streamId: 'someone-else', bytes: 9 });
    fake.emit('live.behind', { streamId: 's1', bytes: 0 });
    fake.emit('live.behind', { streamId: 's1', bytes: 700_000 });
    fake.emit('live.end', { streamId: 's1', reason: 'run-ended' });
    expect(behind).toEqual([5_000_000, 0, 700_000, 0]);
    binding.dispose();
  });

  it('keeps events that arrive before the reply to live.open', async () => {
    const reply = deferred<ReturnType<typeof opened>>();
    const fake = fakeClient({ 'live.open': () => reply.promise });
    const { sink, writes } = slowSink();
    const binding = bind(fake, sink);
    const starting = binding.start();
    await tick(1);
    fake.emit('live.data', { streamId: 's9', data: 'early', offset: 5 });
    reply.resolve(opened('s9'));
    await starting;
    fake.emit('live.data', { streamId: 's9', data: ' late', offset: 10 });
    expect(writes.map((w) => w.data)).toEqual(['early', ' late']);
    binding.dispose();
  });

  it('reopens from the last offset after the host connection dropped', async () => {
    const inputs: Array<CommandInput<'live.open'>> = [];
    let n = 0;
    const fake = fakeClient({ 'live.open': (input) => (inputs.push(input), opened(`s${++n}`)) });
    const { sink } = slowSink();
    const statuses: string[] = [];
    const binding = new StreamBinding({
      client: fake.client,
      sink,
      open: (resume) =>
        fake.client.call(
          'live.open',
          resume ? { id: 'r1', fromOffset: resume.fromOffset, source: resume.source } : { id: 'r1' },
        ),
      onStatus: (s) => statuses.push(s.phase),
      reopenAfterDrop: true,
    });
    await binding.start();
    fake.emit('live.data', { streamId: 's1', data: 'abc', offset: 321 });
    fake.emit('live.end', { streamId: 's1', reason: 'disconnected' });
    expect(statuses.at(-1)).toBe('reconnecting');
    await expect.poll(() => inputs.length, { timeout: 5_000 }).toBe(2);
    expect(inputs[1]).toEqual({ id: 'r1', fromOffset: 321, source: 'host' });
    await expect.poll(() => statuses.at(-1)).toBe('live');
    fake.emit('live.end', { streamId: 's2', reason: 'run-ended' });
    expect(statuses.at(-1)).toBe('ended');
    binding.dispose();
  });

  it('closes its stream and unsubscribes on dispose', async () => {
    const fake = fakeClient({
      'live.open': () => opened('s1'),
      'live.close': () => ({ ok: true, data: { closed: true } }),
    });
    const binding = new StreamBinding({
      client: fake.client,
      sink: slowSink().sink,
      open: () => fake.client.call('live.open', { id: 'r1' }),
      onStatus: () => undefined,
      reopenAfterDrop: false,
    });
    await binding.start();
    binding.dispose();
    expect(fake.calls.at(-1)).toEqual({ command: 'live.close', input: { streamId: 's1' } });
    expect(fake.unsubscribes.every((u) => u.mock.calls.length === 1)).toBe(true);
    expect(fake.listenerCount('live.data')).toBe(0);
  });

  it('a peek shell whose app connection dropped is over; a terminal reopens when it is back', async () => {
    let n = 0;
    const fake = fakeClient({ 'live.open': () => opened(`s${++n}`) });
    const make = (reopenAfterDrop: boolean, statuses: string[]) =>
      new StreamBinding({
        client: fake.client,
        sink: slowSink().sink,
        open: () => fake.client.call('live.open', { id: 'r1' }),
        onStatus: (s) => statuses.push(s.phase),
        reopenAfterDrop,
      });
    const peekStatuses: string[] = [];
    const termStatuses: string[] = [];
    const peek = make(false, peekStatuses);
    const term = make(true, termStatuses);
    await peek.start();
    await term.start();
    peek.connectionLost();
    term.connectionLost();
    peek.connectionRestored();
    term.connectionRestored();
    await expect.poll(() => termStatuses.at(-1)).toBe('live');
    expect(peekStatuses.at(-1)).toBe('ended');
    expect(n).toBe(3);
    peek.dispose();
    term.dispose();
  });

  it('applies a snapshot, resizes and markers in order with the writes around them, acking only output', async () => {
    const fake = ackingClient();
    const { sink, writes, renderAll } = slowSink();
    const log: string[] = [];
    const binding = new StreamBinding({
      client: fake.client,
      sink: {
        write: (data, done) => {
          if (data.length > 0) log.push(`write ${typeof data === 'string' ? data : new TextDecoder().decode(data)}`);
          sink.write(data, done);
        },
      },
      open: () => fake.client.call('live.open', { id: 'r1' }),
      onStatus: () => undefined,
      reopenAfterDrop: true,
      castEvents: {
        resize: (cols, rows) => log.push(`resize ${cols}x${rows}`),
        marker: (label) => log.push(`marker ${label}`),
        skipped: (info) => log.push(`skipped ${info.totalSkippedBytes} at ${info.at}`),
      },
    });
    await binding.start();
    fake.emit('live.data', { streamId: 's1', data: 'before', offset: 1 });
    fake.emit('live.data', {
      streamId: 's1',
      data: new TextEncoder().encode('\x1bcSCREEN'),
      offset: 2,
      snapshot: {
        skippedBytes: 5e6,
        totalSkippedBytes: 7e6,
        castTime: 12.5,
        at: 1_765_108_812_500,
        cols: 100,
        rows: 30,
      },
    });
    fake.emit('live.data', { streamId: 's1', data: '', offset: 2, resize: { cols: 90, rows: 20 } });
    fake.emit('live.data', { streamId: 's1', data: 'after', offset: 3, marker: { label: 'epoch 2', castTime: 13 } });
    // Nothing applied before xterm has parsed what came before it. The snapshot's reset, then its screen with
    // repaints held until its end.
    const snapshotWrites = ['write \x1bc', 'write \x1b[?2026h', 'write SCREEN', 'write \x1b[?2026l'];
    expect(log).toEqual(['write before', ...snapshotWrites, 'write after']);
    renderAll();
    expect(log).toEqual([
      'write before',
      ...snapshotWrites,
      'write after',
      'resize 100x30',
      'skipped 7000000 at 1765108812500',
      'resize 90x20',
      'marker epoch 2',
    ]);
    // In the order xterm parsed them: the resize came between "before" and the snapshot's data.
    expect(writes.length).toBe(0);
    await tick();
    const acked = fake.calls.filter((c) => c.command === 'live.ack').map((c) => (c.input as { bytes: number }).bytes);
    expect(acked.reduce((a, b) => a + b, 0)).toBe('before'.length + '\x1bcSCREEN'.length + 'after'.length);
    binding.dispose();
  });

  it('acks a snapshot as soon as xterm has parsed it (main sends the next screen then), not after the batching delay', async () => {
    const fake = ackingClient();
    const { sink, renderAll } = slowSink();
    const binding = new StreamBinding({
      client: fake.client,
      sink,
      open: () => fake.client.call('live.open', { id: 'r1' }),
      onStatus: () => undefined,
      reopenAfterDrop: true,
      // A delay no test waits for: only an immediate ack can be seen.
      ackDelayMs: 60_000,
    });
    await binding.start();
    const acks = () => fake.calls.filter((c) => c.command === 'live.ack').map((c) => c.input);
    fake.emit('live.data', { streamId: 's1', data: 'plain output', offset: 1 });
    renderAll();
    await tick();
    expect(acks()).toEqual([]);
    const screen = new TextEncoder().encode('\x1bcSCREEN');
    fake.emit('live.data', {
      streamId: 's1',
      data: screen,
      offset: 2,
      snapshot: { skippedBytes: 1, totalSkippedBytes: 1, castTime: null, at: null, cols: 80, rows: 24 },
    });
    await tick();
    expect(acks()).toEqual([]);
    renderAll();
    await tick();
    expect(acks()).toEqual([{ streamId: 's1', bytes: 'plain output'.length + screen.length }]);
    binding.dispose();
  });

  it('writes a large snapshot in small pieces between its reset and the repaint, acking exactly its bytes', async () => {
    const { fake, writes, renderAll, binding } = await startedBinding();
    const screen = new TextEncoder().encode('\x1bc' + '\x1b[32m漢字 line\r\n'.repeat(4_000));
    fake.emit('live.data', {
      streamId: 's1',
      data: screen,
      offset: 9,
      snapshot: { skippedBytes: 1, totalSkippedBytes: 1, castTime: null, at: null, cols: 80, rows: 24 },
    });
    const text = writes.map((w) => (typeof w.data === 'string' ? w.data : new TextDecoder().decode(w.data)));
    expect(text.slice(0, 2)).toEqual(['\x1bc', '\x1b[?2026h']);
    expect(text.at(-2)).toBe('\x1b[?2026l');
    const pieces = writes.slice(2, -2).map((w) => w.data as Uint8Array);
    expect(pieces.length).toBeGreaterThan(screen.length / SNAPSHOT_WRITE - 1);
    for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(SNAPSHOT_WRITE);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    expect(text.slice(0, 1).join('') + pieces.map((p) => decoder.decode(p)).join('')).toBe(
      new TextDecoder().decode(screen),
    );
    renderAll();
    await tick();
    const acked = fake.calls.filter((c) => c.command === 'live.ack').map((c) => (c.input as { bytes: number }).bytes);
    expect(acked.reduce((a, b) => a + b, 0)).toBe(screen.length);
    binding.dispose();
  });
});
