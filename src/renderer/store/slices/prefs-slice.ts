import type { Prefs } from '../../../shared/contract';
import type { AppErrorData, Result } from '../../../shared/errors';
import type { ContractClient } from '../../../shared/rpc/contract-client';
import type { SliceRead, SliceUpdate } from '../slice';

export type ThemePreference = Prefs['theme'];

export interface PrefsData {
  /** The preferences as the node side last reported them (reply or `prefs.changed`). */
  readonly value: Prefs;
  readonly loaded: boolean;
  /** A change sent but not yet confirmed; shown at once so the selector does not lag. */
  readonly pending: Partial<Prefs> | null;
  /** Number of the latest save; replies to older saves are dropped. */
  readonly saveSeq: number;
}

export interface PrefsSlice extends PrefsData {
  load(): Promise<void>;
  setTheme(theme: ThemePreference): Promise<void>;
  /** Applies a `prefs.changed` event. */
  receive(prefs: Prefs): void;
}

export const defaultPrefs: Prefs = { theme: 'system' };

export function prefsReceived<S extends PrefsData>(state: S, prefs: Prefs): S {
  return { ...state, value: prefs, loaded: true };
}

export function prefsSaveStarted<S extends PrefsData>(state: S, patch: Partial<Prefs>): S {
  return { ...state, pending: { ...state.pending, ...patch }, saveSeq: state.saveSeq + 1 };
}

/** Confirms or rolls back save `seq`; a reply to an older save changes nothing (a newer one is in flight). */
export function prefsSaveFinished<S extends PrefsData>(state: S, seq: number, result: Result<Prefs>): S {
  if (seq !== state.saveSeq) return state;
  if (result.ok) return { ...state, value: result.data, loaded: true, pending: null };
  return { ...state, pending: null };
}

/** What the UI applies: the confirmed value with any unconfirmed change on top. */
export function effectivePrefs(state: PrefsData): Prefs {
  return state.pending ? { ...state.value, ...state.pending } : state.value;
}

export function createPrefsSlice(
  client: ContractClient,
  update: SliceUpdate<PrefsSlice>,
  read: SliceRead<PrefsSlice>,
  reportError: (source: string, error: AppErrorData) => void,
): PrefsSlice {
  return {
    value: defaultPrefs,
    loaded: false,
    pending: null,
    saveSeq: 0,
    async load() {
      const result = await client.call('prefs.get', {});
      if (result.ok) update((prefs) => prefsReceived(prefs, result.data));
      else reportError('Loading preferences', result.error);
    },
    async setTheme(theme) {
      update((prefs) => prefsSaveStarted(prefs, { theme }));
      const seq = read().saveSeq;
      const result = await client.call('prefs.set', { theme });
      update((prefs) => prefsSaveFinished(prefs, seq, result));
      if (!result.ok) reportError('Saving the theme', result.error);
    },
    receive(prefs) {
      update((state) => prefsReceived(state, prefs));
    },
  };
}
