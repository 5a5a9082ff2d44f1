import { stat } from 'node:fs/promises';
import type { RunSummary } from '../../shared/contract';
import { FINAL_RUN_STATUSES } from '../../shared/runs/run-status';
import { INTEGRITY_VERDICT_FILE } from './run-verdict';
import { LOCAL_FILES } from './run-layout';
import type { RunMirror } from './run-mirror';

/** The files a summary is made from: while none of them changed, the summary made from them holds. */
const SOURCES = [LOCAL_FILES.runJson, LOCAL_FILES.state, LOCAL_FILES.sync, INTEGRITY_VERDICT_FILE, 'ptb/import.json'];

/**
 * Finished runs' summaries, kept while their files are unchanged (by size and mtime), so the run list of a PTW_HOME
 * with thousands of runs costs a few stats per run instead of reading and validating three JSON files each (the
 * runs-list bench: 10,000 runs). A live run's summary is made afresh every time: it depends on the clock (whether
 * the supervisor's heartbeat is recent). Other processes (the CLI) write the same folders, hence stats, not hooks.
 */
export class SummaryCache {
  private readonly held = new Map<string, { key: string; summary: RunSummary }>();

  async summary(mirror: RunMirror, make: () => Promise<RunSummary>): Promise<RunSummary> {
    const key = await sourcesKey(mirror);
    const held = this.held.get(mirror.id);
    if (held && key !== null && held.key === key) return held.summary;
    const summary = await make();
    if (key !== null && (FINAL_RUN_STATUSES as readonly string[]).includes(summary.status)) {
      this.held.set(mirror.id, { key, summary });
    } else {
      this.held.delete(mirror.id);
    }
    return summary;
  }

  /** Drops the runs no longer listed (a folder removed). */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.held.keys()) if (!ids.has(id)) this.held.delete(id);
  }
}

/** Size and mtime of each source file (`-` for a missing one); null when a stat fails otherwise. */
async function sourcesKey(mirror: RunMirror): Promise<string | null> {
  try {
    const parts = await Promise.all(
      SOURCES.map((rel) =>
        stat(mirror.file(rel)).then(
          (s) => `${s.size}:${s.mtimeMs}`,
          (err: NodeJS.ErrnoException) => {
            if (err.code === 'ENOENT') return '-';
            throw err;
          },
        ),
      ),
    );
    return parts.join('|');
  } catch {
    return null;
  }
}
