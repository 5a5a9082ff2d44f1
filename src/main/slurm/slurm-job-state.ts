import { runSchedulerSchema, type RunScheduler } from '../../shared/runs/run-scheduler';

/**
 * Parsers for what SLURM's clients print about one job (slurm-wlm 22.05; samples captured from the test cluster in
 * test/fixtures/slurm/), and the one command that asks them. `scontrol show job -o` knows a job until MinJobAge
 * after it ends; `sacct` (only with accounting, slurmdbd) knows it after that. `scontrol --json` does not exist
 * before 23.02, and `squeue --json` ignores `-j`, so the text forms are parsed.
 */

export interface SlurmJobFacts {
  jobId: string;
  state: string;
  reason: string | null;
  node: string | null;
  exitCode: string | null;
}

const NONE = new Set(['', 'None', '(null)', 'None assigned', 'N/A']);
const orNull = (value: string | undefined): string | null => (value === undefined || NONE.has(value) ? null : value);

/** `scontrol show job -o ID`: one line of `Key=Value` words (a value with spaces continues into the next words). */
export function parseScontrolShowJob(text: string): SlurmJobFacts | null {
  const line = text.split('\n').find((l) => l.startsWith('JobId='));
  if (!line) return null;
  const fields = new Map<string, string>();
  let last: string | null = null;
  for (const word of line.trim().split(/\s+/)) {
    const m = /^([A-Za-z][A-Za-z/:]*)=(.*)$/.exec(word);
    if (m) {
      last = m[1]!;
      fields.set(last, m[2]!);
    } else if (last) fields.set(last, `${fields.get(last)} ${word}`);
  }
  const jobId = fields.get('JobId');
  const state = fields.get('JobState');
  if (!jobId || !state) return null;
  return {
    jobId,
    state,
    reason: orNull(fields.get('Reason')),
    node: orNull(fields.get('NodeList')),
    exitCode: orNull(fields.get('ExitCode')),
  };
}

/** The fields `sacct` is asked for, in order ({@link parseSacct}). */
export const SACCT_FIELDS = 'JobID,State,ExitCode,Elapsed,NodeList,Reason';

/** `sacct -X -P -n -o JobID,State,ExitCode,Elapsed,NodeList,Reason -j ID`: `|`-separated rows, one per job. */
export function parseSacct(text: string, jobId: string): SlurmJobFacts | null {
  for (const line of text.split('\n')) {
    const [id, state, exitCode, _elapsed, node, reason] = line.split('|');
    if (id !== jobId || !state) continue;
    return { jobId, state: state.trim(), reason: orNull(reason), node: orNull(node), exitCode: orNull(exitCode) };
  }
  return null;
}

/** The command that asks for one job: scontrol first, sacct when the controller forgot it (or is down). */
export function jobStateCommand(jobId: string): string {
  if (!/^\d+(_\d+)?$/.test(jobId)) throw new Error(`not a SLURM job id: ${jobId}`);
  return [
    `echo '--scontrol'; scontrol show job -o ${jobId} 2>&1`,
    `echo '--sacct'; sacct -X -P -n -o ${SACCT_FIELDS} -j ${jobId} 2>&1`,
  ].join('; ');
}

/** What {@link jobStateCommand} printed, as the run's scheduler part. */
export function schedulerFromOutput(jobId: string, output: string, now: number): RunScheduler {
  const [, afterScontrol = ''] = output.split('--scontrol\n');
  const [scontrolText = '', sacctText = ''] = afterScontrol.split('--sacct\n');
  const fromScontrol = parseScontrolShowJob(scontrolText);
  if (fromScontrol)
    return runSchedulerSchema.parse({ kind: 'slurm', ...fromScontrol, source: 'scontrol', checkedAt: now });
  const fromSacct = parseSacct(sacctText, jobId);
  if (fromSacct) return runSchedulerSchema.parse({ kind: 'slurm', ...fromSacct, source: 'sacct', checkedAt: now });
  const said = [scontrolText, sacctText]
    .map((t) => t.trim().split('\n')[0] ?? '')
    .filter(Boolean)
    .join('; ');
  return runSchedulerSchema.parse({
    kind: 'slurm',
    jobId,
    state: 'UNKNOWN',
    source: 'none',
    checkedAt: now,
    note: said || 'scontrol and sacct said nothing',
  });
}
