import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { AppStore, AppStoreState } from './app-store';

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/**
 * Reads from the app store. Selectors must return stored values or primitives, not fresh objects,
 * or the component re-renders on every store change.
 */
export function useAppStore<U>(selector: (state: AppStoreState) => U): U {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useAppStore must be used inside <StoreProvider>');
  return useStore(store, selector);
}

/** The store itself (not a selection), for features that need its contract client or read it outside render. */
export function useAppStoreApi(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useAppStoreApi must be used inside <StoreProvider>');
  return store;
}
