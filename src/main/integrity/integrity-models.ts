import type { IntegrityModels } from '../../shared/contract-integrity';
import { AppError } from '../../shared/errors';
import { editUserModelPairs, modelTable, parseUserModelPairs } from '../../shared/integrity/model-pairs';
import { readJsonFile, writeJsonFileAtomic } from '../services/ptw-home';

/**
 * The model-substitution check's base ↔ instruct table as the user keeps it: `PTW_HOME/integrity-models.json`
 * (`{"ORG/BASE": "ORG/INSTRUCT"}`), read by every pass (integrity-service.ts hands each pair to the helper as
 * `--pair`). Edits are checked (shared/integrity/model-pairs.ts) and written atomically.
 */
export class IntegrityModelTable {
  readonly #file: string;
  /** One edit at a time: two edits racing would lose one. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async #user(): Promise<Record<string, string>> {
    try {
      return parseUserModelPairs(await readJsonFile(this.#file), this.#file);
    } catch (err) {
      throw new AppError('INVALID_INPUT', `${(err as Error).message} (fix or delete the file)`);
    }
  }

  async get(): Promise<IntegrityModels> {
    return { file: this.#file, pairs: modelTable(await this.#user()) };
  }

  edit(add: readonly { base: string; instruct: string }[], remove: readonly string[]): Promise<IntegrityModels> {
    if (add.length === 0 && remove.length === 0) return this.get();
    const next = this.#queue.then(async () => {
      let user: Record<string, string>;
      try {
        user = editUserModelPairs(await this.#user(), add, remove);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('INVALID_INPUT', (err as Error).message);
      }
      await writeJsonFileAtomic(this.#file, user);
      return { file: this.#file, pairs: modelTable(user) };
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
