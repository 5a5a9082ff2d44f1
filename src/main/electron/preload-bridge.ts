import { isCommandName, isEventName } from '../../shared/contract';
import type { ClientTransport } from '../../shared/rpc/client-transport';
import { commandChannel, eventChannel } from '../../shared/rpc/ipc-channels';
import type { WireResult } from '../../shared/rpc/wire';

/** The slice of Electron's `ipcRenderer` the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/**
 * What the preload exposes to the page as `window.ptwBridge`: invoke a contract command, subscribe to a
 * contract event, and nothing else. Names outside the contract are refused here, before any IPC, and the
 * Electron event object (which carries `sender`) never reaches the page.
 */
export function createPreloadBridge(ipc: IpcRendererLike): ClientTransport {
  return {
    invoke(command, input) {
      if (!isCommandName(command)) {
        return Promise.resolve<WireResult>({
          ok: false,
          error: { code: 'UNKNOWN_COMMAND', message: `Unknown command: ${String(command)}`, retryable: false },
        });
      }
      return ipc.invoke(commandChannel(command), input) as Promise<WireResult>;
    },
    subscribe(event, listener) {
      if (!isEventName(event)) throw new Error(`Unknown event: ${String(event)}`);
      const channel = eventChannel(event);
      const handler = (_event: unknown, payload: unknown): void => listener(payload);
      ipc.on(channel, handler);
      return () => {
        ipc.removeListener(channel, handler);
      };
    },
  };
}
