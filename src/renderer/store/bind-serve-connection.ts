import type { ServeConnection } from '../transport/serve-connection';
import type { AppStore } from './app-store';

/** Mirrors the serve connection's state into the store and reloads whenever it (re)opens. */
export function bindServeConnection(store: AppStore, connection: Pick<ServeConnection, 'onStateChange'>): () => void {
  return connection.onStateChange((state) => {
    store.getState().app.setConnection(state);
    if (state.status === 'open') void store.refresh();
  });
}
