import path from 'node:path';
import { prefsSchema, type Prefs } from '../../shared/contract';
import { readSettingsFile, writeJsonFileAtomic } from './ptw-home';

export const defaultPrefs: Prefs = { theme: 'system' };

/** User preferences in `PTW_HOME/prefs.json`. Notifies listeners after each successful write. */
export class PrefsStore {
  private readonly file: string;
  private readonly listeners = new Set<(prefs: Prefs) => void>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(home: string) {
    this.file = path.join(home, 'prefs.json');
  }

  async get(): Promise<Prefs> {
    return readSettingsFile(this.file, prefsSchema.partial(), defaultPrefs, 'preferences');
  }

  /** Serialised so two windows changing prefs at once cannot lose an update. */
  set(patch: Partial<Prefs>): Promise<Prefs> {
    const next = this.queue.then(async () => {
      const merged = { ...(await this.get()), ...patch };
      await writeJsonFileAtomic(this.file, merged);
      for (const listener of this.listeners) listener(merged);
      return merged;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  onChange(listener: (prefs: Prefs) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
