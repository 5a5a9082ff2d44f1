import { readFile } from 'node:fs/promises';
import { integrityRecordSchema } from '../../shared/contract-integrity';
import { flagKey } from '../../shared/integrity/integrity-verdict';

/**
 * The run's high and medium integrity flags as timeline events (`type: 'integrity-flag'`), at the moment their
 * evidence appeared (the file's mtime or the trace line's time) or, without one, when a pass first saw them. Read from
 * the local record's `integrity/record.json`; nothing when there is none or it cannot be read.
 */
export async function integrityTimelineEvents(recordFile: string): Promise<Record<string, unknown>[]> {
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
  const out: Record<string, unknown>[] = [];
  for (const flag of record.data.verdict.flags) {
    if (flag.severity === 'info') continue;
    const seen = record.data.firstSeen[flagKey(flag)];
    const t = seen?.evidenceAt ?? seen?.at ?? record.data.checkedAt;
    out.push({ t, type: 'integrity-flag', kind: flag.kind, severity: flag.severity, message: flag.summary });
  }
  return out;
}
