import { createContractClient } from '../shared/rpc/contract-client';
import { createAppStore, type AppStore } from './store/app-store';
import { desktopNotifier } from './store/notifier';
import { bindServeConnection } from './store/bind-serve-connection';
import type { TransportSelection } from './transport/select-transport';

export interface RunningApp {
  readonly store: AppStore;
  dispose(): void;
}

/** Composition root: wires client, store and connection for the transport that was selected. */
export function startApp(selection: Exclude<TransportSelection, { kind: 'missing-token' }>): RunningApp {
  const onInvalidEvent = (event: string, problem: string) =>
    console.warn(`Ignored malformed ${event} event: ${problem}`);

  if (selection.kind === 'electron') {
    const client = createContractClient(selection.transport, { onInvalidEvent });
    const notifier = desktopNotifier(client);
    const store = createAppStore(client, { shell: { kind: 'electron' }, notifier });
    void store.refresh();
    return {
      store,
      dispose: () => {
        store.dispose();
        notifier.dispose?.();
      },
    };
  }

  const { connection } = selection;
  const store = createAppStore(createContractClient(connection.transport, { onInvalidEvent }), {
    shell: { kind: 'serve', address: connection.address },
    connection: connection.getState(),
    reconnect: () => connection.connect(),
  });
  const unbind = bindServeConnection(store, connection);
  // Listeners first, then the socket, so the first `open` is not missed; the binding loads data on open.
  connection.connect();
  return {
    store,
    dispose() {
      unbind();
      store.dispose();
      connection.dispose();
    },
  };
}
