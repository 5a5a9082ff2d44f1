import type {
  IntegrityCheck,
  IntegrityDecision,
  IntegrityEvidence,
  IntegrityFlag,
  IntegrityState,
} from '../../shared/contract-integrity';
import { flagKey } from '../../shared/integrity/integrity-verdict';

/** Pure parts of the Integrity tab: what each check, flag and piece of evidence shows. No DOM, no store. */

export const CHECK_LABELS: Record<IntegrityCheck['kind'], string> = {
  contamination: 'Contamination',
  model_substitution: 'Model substitution',
  eval_tampering: 'Evaluation tampering',
  api_misuse: 'API misuse',
};

export const KIND_LABELS: Record<IntegrityFlag['kind'], string> = {
  ...CHECK_LABELS,
  untrained: 'Untrained',
};

export interface FlagView {
  key: string;
  flag: IntegrityFlag;
  decision: IntegrityDecision | null;
}

/** Flags most serious first (high, medium, info), each with the decision recorded on it. */
export function flagViews(state: IntegrityState): FlagView[] {
  const order = { high: 0, medium: 1, info: 2 } as const;
  const decided = new Map(state.decisions.map((d) => [d.flag, d]));
  return (state.record?.verdict.flags ?? [])
    .map((flag) => ({ key: flagKey(flag), flag, decision: decided.get(flagKey(flag)) ?? null }))
    .sort((a, b) => order[a.flag.severity] - order[b.flag.severity]);
}

export interface EvidenceView {
  /** `file:line`, or '' when the evidence names no file. */
  where: string;
  /** One line that says what it is. */
  title: string;
  /** Longer text shown preformatted (a diff, a command, the matched span), or null. */
  body: string | null;
}

const pct = (x: number | undefined): string => (typeof x === 'number' ? `${Math.round(x * 100)}%` : '—');

export function evidenceView(e: IntegrityEvidence): EvidenceView {
  const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ''}` : '';
  switch (e.type) {
    case 'test-item':
      return {
        where,
        title: `test item ${e.item ?? '?'}${e.itemId ? ` (${e.itemId})` : ''}: ${pct(e.coverage)} covered, IDF-weighted 5-grams ${pct(e.idf5)}`,
        body: `item:    ${(e.itemText ?? '').replace(/\s+/g, ' ')}\nmatched: ${e.span ?? ''}`,
      };
    case 'diff':
      return { where, title: 'changed from the clean task file', body: e.text ?? '' };
    case 'config':
      return { where, title: e.text ?? `${e.field ?? 'a field'} changed`, body: e.diff ?? null };
    case 'command':
    case 'code':
      return { where, title: e.why ?? e.type, body: e.text ?? '' };
    default:
      return { where, title: e.text ?? e.type, body: null };
  }
}

export function verdictText(state: IntegrityState): string {
  const v = state.record?.verdict.verdict;
  if (!v) return 'Not checked yet';
  return v === 'clean' ? 'Clean' : v === 'flagged' ? 'Flagged' : 'Incomplete: a check could not run';
}

/** When a flag's evidence appeared (the file or trace line) and when a pass first saw it. */
export function seenText(
  seen: { at: number; evidenceAt: number | null },
  format: (ms: number) => string = (ms) => new Date(ms).toLocaleString(),
): string {
  const first = `first seen by a pass ${format(seen.at)}`;
  return seen.evidenceAt === null ? first : `evidence from ${format(seen.evidenceAt)}; ${first}`;
}
