import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { runSummarySchema, type RunSummary } from '../../shared/contract';
import { readJsonFile } from './ptw-home';

const runMetaSchema = runSummarySchema;

/**
 * Runs known to this app: one folder per run under `PTW_HOME/runs/<id>/` holding `run.json`.
 * A folder whose metadata cannot be read is listed with status `unreadable` rather than hidden,
 * so recorded data is never silently lost from view.
 */
export class RunStore {
  readonly root: string;

  constructor(home: string) {
    this.root = path.join(home, 'runs');
  }

  async list(): Promise<RunSummary[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const runs = await Promise.all(entries.map((id) => this.readSummary(id)));
    return runs.filter((r): r is RunSummary => r !== undefined).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private async readSummary(id: string): Promise<RunSummary | undefined> {
    const file = path.join(this.root, id, 'run.json');
    let raw: unknown;
    try {
      raw = await readJsonFile(file);
    } catch {
      return { id, label: id, host: '', status: 'unreadable', createdAt: '' };
    }
    if (raw === undefined) return undefined;
    const parsed = runMetaSchema.safeParse(raw);
    return parsed.success ? parsed.data : { id, label: id, host: '', status: 'unreadable', createdAt: '' };
  }
}
