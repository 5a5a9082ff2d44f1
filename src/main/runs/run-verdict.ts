import { z } from 'zod';
import { ptbRecordSchema, type PtbRecord } from '../../shared/contract-trajectory';
import { judgeVerdict, type RunVerdict } from '../../shared/leaderboard/ptb-score';
import { readJsonIfAny } from '../services/ptw-home';
import type { RunMirror } from './run-mirror';

/**
 * Whether a run is flagged, from its local record: this app's integrity verdict (issue 13's `ptw integrity check
 * --json`) where it says clean or flagged, else an imported PostTrainBench folder's judge files. The leaderboard
 * (a flagged cell counts the baseline) and the run list (the flagged filter) read it from here.
 */
export const INTEGRITY_VERDICT_FILE = 'integrity/verdict.json';

const integrityVerdictSchema = z.looseObject({
  verdict: z.enum(['clean', 'flagged', 'incomplete']),
  flags: z
    .array(z.looseObject({ kind: z.string(), severity: z.string().optional(), summary: z.string().optional() }))
    .default([]),
});

/** `ptb/import.json` of an imported PostTrainBench folder; null for any other run (or when it cannot be read). */
export async function readPtbRecord(mirror: RunMirror): Promise<PtbRecord | null> {
  const raw = await readJsonIfAny(mirror.file('ptb/import.json'));
  const parsed = raw === undefined ? null : ptbRecordSchema.safeParse(raw);
  return parsed?.success ? parsed.data : null;
}

export async function runVerdict(mirror: RunMirror, ptb: PtbRecord | null): Promise<RunVerdict> {
  const raw = await readJsonIfAny(mirror.file(INTEGRITY_VERDICT_FILE));
  const ours = raw === undefined ? null : integrityVerdictSchema.safeParse(raw);
  if (ours?.success && ours.data.verdict !== 'incomplete') {
    const high = ours.data.flags.filter((f) => f.severity !== 'info');
    return {
      source: 'integrity',
      state: ours.data.verdict === 'flagged' ? 'flagged' : 'clean',
      reasons: high.map((f) => `integrity: ${f.kind}${f.summary ? ` (${f.summary})` : ''}`),
    };
  }
  if (ptb) return judgeVerdict(ptb.judgements);
  return {
    source: 'none',
    state: 'unchecked',
    reasons: ours && !ours.success ? [`${INTEGRITY_VERDICT_FILE} cannot be read`] : [],
  };
}
