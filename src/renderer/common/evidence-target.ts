import type { IntegrityEvidence, IntegrityKind } from '../../shared/contract-integrity';

/**
 * Integrity evidence opened in place (issue 13): which view a piece of evidence opens, and where in it. The Integrity
 * tab asks the store's nav slice to open a target; the run view switches to the target's tab and that tab applies it
 * (the dataset inspector at the row, the checkpoint diff against the reference, the step of the trace). A changed
 * file opens in the Integrity tab itself, as a diff of its two texts. Pure: no DOM, no store.
 */

export type EvidenceTarget =
  /** The Datasets tab at a file of the workspace (`path` relative to it) and the row that starts at `line`. */
  | { tab: 'datasets'; runId: string; path: string; line: number | null }
  /** The Checkpoints tab diffing `a` (a reference in the HF cache, `hf:ORG/NAME`) against `b` (the final model). */
  | { tab: 'checkpoints'; runId: string; a: string; b: string }
  /** The Steps tab at the step that begins at or before `line` of the agent's trace (t: that line's time). */
  | { tab: 'steps'; runId: string; line: number; t: number | null };

export type EvidenceOpen =
  | { kind: 'open'; label: string; target: EvidenceTarget }
  /** Two texts for a diff editor, here: the clean copy (or base model's) on the left, the agent's on the right. */
  | { kind: 'diff'; label: string; name: string; original: string; modified: string; cut: boolean };

/** The final model's checkpoint id in a run on a host (checkpoints.list names it by its place in the run folder). */
export const FINAL_MODEL_CHECKPOINT = 'workspace/final_model';
const DATASET_FILE = /\.(jsonl|json|csv|parquet)$/i;
const LINE_ROWS = /\.(jsonl|csv)$/i;
/** The trace as the checks name it: the record's stream, PostTrainBench's solve_out*.txt (imported as is). */
const TRACE_FILE = /(^|\/)(agent-stream\.jsonl|solve_out[^/]*\.txt)$/;

export function evidenceOpen(
  e: IntegrityEvidence,
  kind: IntegrityKind,
  run: { id: string; imported: boolean },
): EvidenceOpen | null {
  const file = e.file ?? '';
  const line = typeof e.line === 'number' && e.line > 0 ? e.line : null;
  switch (e.type) {
    case 'test-item': {
      // The dataset inspector reads the workspace on the run's host: an imported run has none; an archive's member
      // (`file.gz!member`) is not a dataset it lists.
      if (run.imported || !file.startsWith('workspace/') || file.includes('!') || !DATASET_FILE.test(file)) return null;
      const rowLine = LINE_ROWS.test(file) ? line : null;
      return {
        kind: 'open',
        label: rowLine === null ? 'Open in Datasets' : `Open in Datasets at line ${rowLine}`,
        target: { tab: 'datasets', runId: run.id, path: file.slice('workspace/'.length), line: rowLine },
      };
    }
    case 'weights': {
      const reference = typeof e.reference === 'string' ? e.reference : null;
      if (run.imported || !reference || (kind !== 'model_substitution' && kind !== 'untrained')) return null;
      return {
        kind: 'open',
        label: `Diff final_model against ${reference}`,
        target: { tab: 'checkpoints', runId: run.id, a: `hf:${reference}`, b: FINAL_MODEL_CHECKPOINT },
      };
    }
    case 'diff':
    case 'config': {
      if (typeof e.cleanText !== 'string' || typeof e.agentText !== 'string') return null;
      return {
        kind: 'diff',
        label: 'Open the diff',
        name: file || (e.field ?? 'file'),
        original: e.cleanText,
        modified: e.agentText,
        cut: e.textsCut === true,
      };
    }
    case 'command': {
      if (line === null || !TRACE_FILE.test(file)) return null;
      return {
        kind: 'open',
        label: `Open the step (trace line ${line})`,
        target: { tab: 'steps', runId: run.id, line, t: typeof e.mtime === 'number' ? e.mtime : null },
      };
    }
    default:
      return null;
  }
}

/**
 * The step a trace line belongs to: the last one that begins at or before it (a command's line is its tool call).
 * `steps` in stream order; null when none begins that early.
 */
export function stepAtLine(steps: readonly { index: number; line: number }[], line: number): number | null {
  let found: number | null = null;
  for (const s of steps) {
    if (s.line > line) break;
    found = s.index;
  }
  return found;
}

/**
 * Which row to show for a line of a JSONL or CSV file: the row that starts at it among those read, else the estimate
 * (blank lines are not rows, so the row is at most line − 1, or line − 2 under a CSV header).
 */
export function rowForLine(
  rows: readonly { row: number | null; line: number | null }[],
  line: number,
  csv: boolean,
): { row: number; exact: boolean } {
  const hit = rows.find((r) => r.line === line && r.row !== null);
  if (hit) return { row: hit.row!, exact: true };
  return { row: Math.max(0, line - (csv ? 2 : 1)), exact: false };
}
