// The desktop app's notifications (issue 19): the renderer's desktop notifier asks main over the Electron IPC
// transport (the real services and router, an in-memory ipcMain), and main shows the notification with the
// `Notification` class it was given (Electron's in the app; here one that records what it was asked), with the
// same title and body the browser's Notification API shows under `ptw serve`; a click focuses the window and comes
// back to the window that asked.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppServices, type AppServices } from '../../../../src/main/app-services';
import type { DesktopNotificationApi } from '../../../../src/main/monitor/desktop-notifier';
import { registerIpcTransport, type IpcMainLike } from '../../../../src/main/transports/ipc-transport';
import { desktopNotifier } from '../../../../src/renderer/store/notifier';
import { runNotifications, type RunWatchFacts } from '../../../../src/shared/monitor/run-notifications';
import { createContractClient } from '../../../../src/shared/rpc/contract-client';
import type { WireResult } from '../../../../src/shared/rpc/wire';

const appUrl = 'file:///app/dist/renderer/index.html';

/** Stands in for Electron's class, which exists only inside Electron: records each notification and its listeners. */
function recordingNotificationClass(supported = true) {
  const made: Array<{ options: { title: string; body: string }; shown: number; emit(e: string): void }> = [];
  class RecordingNotification {
    private readonly listeners = new Map<string, Array<() => void>>();
    readonly record: (typeof made)[number];
    constructor(options: { title: string; body: string }) {
      this.record = { options, shown: 0, emit: (e) => this.listeners.get(e)?.forEach((l) => l()) };
      made.push(this.record);
    }
    static isSupported(): boolean {
      return supported;
    }
    on(event: string, listener: () => void): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
      return this;
    }
    show(): void {
      this.record.shown += 1;
    }
  }
  return { Notification: RecordingNotification satisfies DesktopNotificationApi, made };
}

const facts = (overrides: Partial<RunWatchFacts>): RunWatchFacts => ({
  id: 'r-20261207-120000-ab12',
  label: 'gsm8k try',
  status: 'running',
  stoppedAt: null,
  stopReason: null,
  score: null,
  error: null,
  gpuIdle: null,
  budgetWarning: null,
  ...overrides,
});

describe('desktop notifications through Electron’s Notification', () => {
  let home: string;
  let services: AppServices;
  let recorder: ReturnType<typeof recordingNotificationClass>;
  let focused: number;

  async function start(supported: boolean) {
    recorder = recordingNotificationClass(supported);
    focused = 0;
    services = await createAppServices({
      home,
      shell: 'electron',
      backgroundSync: false,
      desktopNotifications: { Notification: recorder.Notification, focus: () => void (focused += 1) },
    });
    const handlers = new Map<string, (event: unknown, input: unknown) => Promise<WireResult>>();
    type Listeners = Map<string, Set<(payload: unknown) => void>>;
    const windows = new Map<number, Listeners>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => void handlers.set(channel, listener as never),
      removeHandler: (channel) => void handlers.delete(channel),
    };
    const window = (senderId: number) => {
      const own: Listeners = new Map();
      windows.set(senderId, own);
      return createContractClient({
        invoke: (command, input) =>
          handlers.get(`ptw:cmd:${command}`)!({ sender: { id: senderId }, senderFrame: { url: appUrl } }, input),
        subscribe: (event, listener) => {
          const set = own.get(event) ?? new Set();
          own.set(event, set);
          set.add(listener);
          return () => set.delete(listener);
        },
      });
    };
    registerIpcTransport({
      ipc,
      services,
      isTrustedSender: (e) => e.senderFrame?.url === appUrl,
      broadcast: () => undefined,
      sendTo: (senderId, channel, payload) => {
        const own = windows.get(senderId);
        own?.get(channel.replace('ptw:evt:', ''))?.forEach((l) => l(payload));
        return own !== undefined;
      },
      watchSender: () => undefined,
    });
    return { window };
  }

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-desktop-notify-'));
  });

  afterEach(async () => {
    await services.dispose();
    await rm(home, { recursive: true, force: true });
  });

  it('shows the renderer’s notification with its own text, once per key, and a click reaches the window that asked', async () => {
    const { window } = await start(true);
    const [warning] = runNotifications(
      new Map([['r-20261207-120000-ab12', facts({})]]),
      [facts({ budgetWarning: { t: 5_000, secondsLeft: 600 } })],
      new Set(),
    );
    expect(warning?.kind).toBe('budget-warning');
    const first = desktopNotifier(window(1));
    const second = desktopNotifier(window(2));
    let clicked = 0;
    first.show(warning!, () => (clicked += 1));
    await expect.poll(() => recorder.made.length).toBe(1);
    expect(recorder.made[0]!.options).toEqual({
      title: 'Budget warning: gsm8k try',
      body: "10 minutes of the agent's budget left.",
    });
    expect(recorder.made[0]!.shown).toBe(1);
    // A second window with the same transition: one notification (the web API's tag does this in a browser).
    let clickedSecond = 0;
    second.show(warning!, () => (clickedSecond += 1));
    await new Promise((r) => setTimeout(r, 50));
    expect(recorder.made).toHaveLength(1);

    recorder.made[0]!.emit('click');
    expect(focused).toBe(1);
    await expect.poll(() => clicked).toBe(1);
    expect(clickedSecond).toBe(0);
    first.dispose?.();
    second.dispose?.();
  });

  it('says it showed nothing where the OS has no notifications, and the page falls back to its own API', async () => {
    const { window } = await start(false);
    const client = window(1);
    const [finished] = runNotifications(
      new Map([['r-20261207-120000-ab12', facts({})]]),
      [facts({ status: 'stopping', stoppedAt: 1, stopReason: 'budget' })],
      new Set(),
    );
    const reply = await client.call('monitor.notify', finished!);
    expect(reply).toEqual({ ok: true, data: { shown: false } });
    expect(recorder.made).toHaveLength(0);
    // Text that is not a notification is refused at the boundary, naming the field.
    const bad = await client.call('monitor.notify', { ...finished!, kind: 'nonsense' as never });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toContain('kind');
  });
});
