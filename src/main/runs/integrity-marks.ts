import { readFile } from 'node:fs/promises';
import { integrityRecordSchema } from '../../shared/contract-integrity';
import { flagKey } from '../../shared/integrity/integrity-verdict';

/**
 * The run's high and medium integrity flags as timeline events, in the shape the supervisor writes them to events.jsonl
 * (`integrity-flag`, src/shared/runs/run-status.ts) at the moment their evidence appeared (the file's mtime or the
 * trace line's time) or, without one, when a pass first saw them. Read from the local record's
 * `integrity/record.json` (a pass the app ran: an imported run, `ptw integrity check`); a flag `events` already holds
 * (the supervisor's passes) is not repeated. Nothing when there is no record or it cannot be read.
 */
export async function integrityTimelineEvents(
  recordFile: string,
  events: readonly Record<string, unknown>[] = [],
): Promise<Record<string, unknown>[]> {
  const text = await readFile(recordFile, 'utf8').catch(() => null);
  if (text === null) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  const record = integrityRecordSchema.safeParse(raw);
  if (!record.success) return [];
  const known = new Set(events.filter((e) => e.type === 'integrity-flag').map((e) => e.flag));
  const out: Record<string, unknown>[] = [];
  for (const flag of record.data.verdict.flags) {
    const key = flagKey(flag);
    if (flag.severity === 'info' || known.has(key)) continue;
    const seen = record.data.firstSeen[key];
    const t = seen?.evidenceAt ?? seen?.at ?? record.data.checkedAt;
    out.push({
      t,
      type: 'integrity-flag',
      flag: key,
      kind: flag.kind,
      severity: flag.severity,
      summary: flag.summary,
      evidenceAt: t,
    });
  }
  return out;
}
