import { z } from 'zod';

/**
 * A run that is a batch job (docs/slurm.md): what the scheduler last said about it, kept by the app next to the
 * run's local record (`scheduler.json` in the mirror) and shown in the run view. The host's run folder holds the job
 * id (`.supervisor/slurm-job-id`), so this can always be asked again.
 */

/** SLURM job states after which the job holds nothing any more. */
export const SLURM_FINAL_STATES = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
] as const;

export const runSchedulerSchema = z.object({
  kind: z.literal('slurm'),
  jobId: z.string().min(1),
  /** SLURM's JobState (`PENDING`, `RUNNING`, `COMPLETED`, `CANCELLED`, …), `UNKNOWN` when nothing knows the job. */
  state: z.string().min(1),
  /** SLURM's Reason (`Resources`, `Priority`, `ReqNodeNotAvail,…`), null for `None`. */
  reason: z.string().nullable().default(null),
  /** The node(s) the job runs or ran on. */
  node: z.string().nullable().default(null),
  /** `exit:signal`, e.g. `0:15` after scancel. */
  exitCode: z.string().nullable().default(null),
  /** Which client said it: scontrol (or squeue, for an experiment's many jobs at once) while the controller
   * remembers the job, then sacct (with accounting). */
  source: z.enum(['scontrol', 'squeue', 'sacct', 'none']),
  /** Epoch ms of the query. */
  checkedAt: z.number(),
  /** Why the state is UNKNOWN, or what a query said that was not a state. */
  note: z.string().optional(),
});
export type RunScheduler = z.infer<typeof runSchedulerSchema>;

export function isFinalSlurmState(state: string): boolean {
  // sacct writes `CANCELLED by 0`.
  return (SLURM_FINAL_STATES as readonly string[]).includes(state.split(' ')[0]!);
}

/** One line for the run view: `SLURM job 42: pending (Resources)`, `… running on node7`, `… cancelled`. */
export function schedulerStatusText(s: RunScheduler): string {
  const state = s.state.toLowerCase();
  const head = `SLURM job ${s.jobId}`;
  if (s.state === 'PENDING') return `${head}: pending${s.reason ? ` (${s.reason})` : ''}`;
  if (s.state === 'RUNNING') return `${head}: running${s.node ? ` on ${s.node}` : ''}`;
  if (s.state === 'UNKNOWN') return `${head}: state unknown${s.note ? ` (${s.note})` : ''}`;
  const exit = s.exitCode && s.exitCode !== '0:0' ? `, exit ${s.exitCode}` : '';
  const reason = s.reason ? ` (${s.reason})` : '';
  return `${head}: ${state}${s.node ? ` on ${s.node}` : ''}${reason}${exit}`;
}
