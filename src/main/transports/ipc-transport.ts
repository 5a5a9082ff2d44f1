import { commandNames, isEventName } from '../../shared/contract';
import { commandChannel, eventChannel } from '../../shared/rpc/ipc-channels';
import type { WireResult } from '../../shared/rpc/wire';
import type { AppServices } from '../app-services';

/** The slice of Electron's `IpcMainInvokeEvent` the transport reads (kept structural so it can be unit-tested). */
export interface IpcInvokeEventLike {
  readonly sender: { readonly id: number };
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<WireResult>): void;
  removeHandler(channel: string): void;
}

export interface IpcTransportOptions {
  ipc: IpcMainLike;
  services: Pick<AppServices, 'router' | 'events'>;
  /** Every call passes this check (our window, our page) before anything else happens. */
  isTrustedSender(event: IpcInvokeEventLike): boolean;
  /** Delivers an event to every trusted renderer. */
  broadcast(channel: string, payload: unknown): void;
  /** Delivers an event to one renderer (by `webContents.id`); false when it is gone. Without it, no peer events. */
  sendTo?(senderId: number, channel: string, payload: unknown): boolean;
  /** Calls `onGone` once when that renderer closes, crashes or loads another page (its streams end then). */
  watchSender?(senderId: number, onGone: () => void): void;
}

/** Registers one `ipcMain.handle` per contract command; returns a dispose that removes them all. */
export function registerIpcTransport(options: IpcTransportOptions): () => void {
  const { ipc, services } = options;
  // Each window becomes addressable on its first call, for events meant for it alone (a live stream it opened).
  const peers = new Map<number, () => void>();
  const ensurePeer = (senderId: number): void => {
    const { sendTo, watchSender } = options;
    if (!sendTo || !watchSender || peers.has(senderId)) return;
    const detach = services.events.attachPeer(`ipc-${senderId}`, (event, payload) => {
      if (isEventName(event)) sendTo(senderId, eventChannel(event), payload);
    });
    peers.set(senderId, detach);
    watchSender(senderId, () => {
      peers.delete(senderId);
      detach();
    });
  };
  for (const command of commandNames) {
    ipc.handle(commandChannel(command), async (event, input) => {
      if (!options.isTrustedSender(event)) {
        return {
          ok: false,
          error: { code: 'UNAUTHORIZED', message: 'IPC from an untrusted sender', retryable: false },
        };
      }
      ensurePeer(event.sender.id);
      return services.router.invoke(command, input, { peerId: `ipc-${event.sender.id}`, transport: 'ipc' });
    });
  }
  const detach = services.events.attach((event, payload) => {
    if (isEventName(event)) options.broadcast(eventChannel(event), payload);
  });
  return () => {
    detach();
    for (const detachPeer of [...peers.values()]) detachPeer();
    peers.clear();
    for (const command of commandNames) ipc.removeHandler(commandChannel(command));
  };
}
