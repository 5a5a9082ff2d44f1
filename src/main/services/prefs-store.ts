import path from 'node:path';
import { prefsSchema, type Prefs } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import { readJsonFile, writeJsonFileAtomic } from './ptw-home';

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
    const raw = await readJsonFile(this.file);
    if (raw === undefined) return { ...defaultPrefs };
    const parsed = prefsSchema.partial().safeParse(raw);
    if (!parsed.success) {
      throw new AppError(
        'CONFLICT',
        `${this.file} does not hold valid preferences: ${parsed.error.message}. Fix or delete the file.`,
      );
    }
    return { ...defaultPrefs, ...parsed.data };
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
