import { isFinalSlurmState, schedulerStatusText, type RunScheduler } from '../../shared/runs/run-scheduler';
import { shellQuote } from '../../shared/shell-quote';
import { parseSacct, SACCT_FIELDS } from '../slurm/slurm-job-state';
import { SLURM_JOB_ID_FILE } from '../slurm/slurm-job-script';
import type { QueueStatus } from './host-queue';

/**
 * An experiment's cells on a SLURM host (docs/slurm.md, "Experiments"), read from the cluster: each cell is a run
 * folder on the shared filesystem (its first attempt `<id>`, a resubmission `<id>r<n>`) whose job SLURM queues. Pure
 * parts here (the scripts and their parsers, the mapping to the queue's entries); the SSH side in slurm-queue.ts.
 */

/** Left by `experiment stop` in a run folder whose job it cancelled before the job started. */
export const SLURM_WITHDRAWN_FILE = '.supervisor/withdrawn';
/** Written by the job on its node (`slurm-job create`): the job began. */
export const SLURM_JOB_RECORD_FILE = '.supervisor/slurm-job.json';
/** Left in an attempt's run folder when a retry follows it: `{ kind, why, at }` (the retry's record). */
export const SLURM_RETRIED_FILE = '.supervisor/experiment-retried.json';
/** The matrix's retry policy, left in each attempt's run folder at submission (no secrets). */
export const SLURM_RETRIES_FILE = '.supervisor/experiment-retries.json';

export interface RetryPolicy {
  infrastructure: number;
  agent: number;
}

/** One attempt of a cell as its run folder shows it. */
export interface SlurmAttempt {
  runId: string;
  /** The number after `r` (1 for the first attempt). */
  number: number;
  jobId: string | null;
  /** The job began on a node (its output file or its job record exists): never submitted again. */
  began: boolean;
  withdrawn: boolean;
  /** state.json (written by the supervisor, or by `slurm-job stop`); null before either ran. */
  state: RunStateLite | null;
  /** The matrix's retry policy, when the attempt was submitted by an experiment that had one. */
  retries?: RetryPolicy;
  /** Why a retry followed it. */
  retried?: AttemptOutcome;
}

export interface RunStateLite {
  status: string | null;
  startedAt?: number | null;
  deadline?: number | null;
  error?: string | null;
  score?: number | null;
  exitCode?: number | null;
  stopReason?: string | null;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Lists the attempts of `ids` under `runRoot`: their job ids, whether they began, and their state.json on one line. */
export function slurmAttemptsScript(runRoot: string, ids: readonly string[]): string {
  const bad = ids.find((id) => !RUN_ID.test(id));
  if (bad !== undefined) throw new Error(`not a run id: ${JSON.stringify(bad)}`);
  return [
    `cd -- ${shellQuote(runRoot)} || exit 70`,
    `for id in ${ids.map(shellQuote).join(' ')}; do`,
    '  for d in "$id" "$id"r[0-9]*; do',
    '    [ -d "$d" ] || continue',
    '    echo "--run $id $d"',
    `    echo "job $(cat "$d/${SLURM_JOB_ID_FILE}" 2>/dev/null)"`,
    `    if [ -f "$d/${SLURM_JOB_RECORD_FILE}" ] || ls "$d"/record/slurm-*.out >/dev/null 2>&1; then echo began; fi`,
    `    if [ -f "$d/${SLURM_WITHDRAWN_FILE}" ]; then echo withdrawn; fi`,
    // JSON has no raw newline inside a string, so the file fits on one line.
    '    if [ -f "$d/state.json" ]; then printf "state "; tr "\\n" " " < "$d/state.json"; echo; fi',
    `    if [ -f "$d/${SLURM_RETRIES_FILE}" ]; then printf "retries "; tr "\\n" " " < "$d/${SLURM_RETRIES_FILE}"; echo; fi`,
    `    if [ -f "$d/${SLURM_RETRIED_FILE}" ]; then printf "retried "; tr "\\n" " " < "$d/${SLURM_RETRIED_FILE}"; echo; fi`,
    '  done',
    'done',
  ].join('\n');
}

function stateFrom(json: string): RunStateLite | null {
  try {
    const state = JSON.parse(json) as Record<string, unknown>;
    const evaluation = (state.evaluation ?? {}) as { metrics?: { accuracy?: unknown } };
    const accuracy = evaluation.metrics?.accuracy;
    const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
    return {
      status: typeof state.status === 'string' ? state.status : null,
      startedAt: num(state.startedAt),
      deadline: num(state.deadline),
      error: typeof state.error === 'string' ? state.error : null,
      score: typeof accuracy === 'number' ? accuracy * 100 : null,
      exitCode: num(state.exitCode),
      stopReason: typeof state.stopReason === 'string' ? state.stopReason : null,
    };
  } catch {
    return null;
  }
}

function retriedFrom(json: string): AttemptOutcome | null {
  try {
    const value = JSON.parse(json) as { kind?: unknown; why?: unknown };
    if (value.kind !== 'agent' && value.kind !== 'infrastructure') return null;
    return { kind: value.kind, why: typeof value.why === 'string' ? value.why : null };
  } catch {
    return null;
  }
}

function retriesFrom(json: string): RetryPolicy | null {
  try {
    const value = JSON.parse(json) as Partial<RetryPolicy>;
    const count = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
    return { infrastructure: count(value.infrastructure), agent: count(value.agent) };
  } catch {
    return null;
  }
}

/** What {@link slurmAttemptsScript} printed: each id's attempts, first to last. */
export function parseSlurmAttempts(text: string): Map<string, SlurmAttempt[]> {
  const out = new Map<string, SlurmAttempt[]>();
  let current: SlurmAttempt | null = null;
  for (const line of text.split('\n')) {
    const head = /^--run (\S+) (\S+)$/.exec(line);
    if (head) {
      const [, id, runId] = head as unknown as [string, string, string];
      const suffix = runId === id ? '' : runId.slice(id.length);
      const number = suffix === '' ? 1 : Number(suffix.slice(1));
      if (suffix !== '' && (!/^r\d+$/.test(suffix) || number < 2)) {
        current = null;
        continue;
      }
      current = { runId, number, jobId: null, began: false, withdrawn: false, state: null };
      out.set(id, [...(out.get(id) ?? []), current]);
      continue;
    }
    if (!current) continue;
    if (line.startsWith('job ')) current.jobId = /^\d+$/.test(line.slice(4).trim()) ? line.slice(4).trim() : null;
    else if (line === 'began') current.began = true;
    else if (line === 'withdrawn') current.withdrawn = true;
    else if (line.startsWith('state ')) current.state = stateFrom(line.slice(6));
    else if (line.startsWith('retried ')) {
      const retried = retriedFrom(line.slice(8));
      if (retried) current.retried = retried;
    } else if (line.startsWith('retries ')) {
      const policy = retriesFrom(line.slice(8));
      if (policy) current.retries = policy;
    }
  }
  for (const list of out.values()) list.sort((a, b) => a.number - b.number);
  return out;
}

/**
 * Asks SLURM about many jobs in two calls: `squeue` (it knows a job until MinJobAge after it ends; an id it forgot
 * is left out, not an error, when others are listed), then `sacct` for all of them (accounting only).
 */
export function slurmJobsScript(jobIds: readonly string[]): string {
  const bad = jobIds.find((j) => !/^\d+$/.test(j));
  if (bad !== undefined) throw new Error(`not a SLURM job id: ${bad}`);
  const list = jobIds.join(',');
  return [
    `echo '--squeue'; squeue -h -t all -j ${list} -o '%i|%T|%r|%N' 2>&1; echo "--rc $?"`,
    `echo '--sacct'; sacct -X -P -n -o ${SACCT_FIELDS} -j ${list} 2>&1`,
  ].join('\n');
}

/**
 * What {@link slurmJobsScript} printed, per job. A job neither client knows is `UNKNOWN`; when squeue itself failed
 * (the controller down) every job not in sacct is `UNKNOWN` with squeue's words and `answered` is false.
 */
export function parseSlurmJobs(
  text: string,
  jobIds: readonly string[],
  now: number,
): { jobs: Map<string, RunScheduler>; answered: boolean } {
  const [, afterSqueue = ''] = text.split('--squeue\n');
  const [squeuePart = '', sacctText = ''] = afterSqueue.split('--sacct\n');
  const rc = /--rc (\d+)\s*$/.exec(squeuePart.trimEnd());
  const squeueText = squeuePart.replace(/--rc \d+\s*$/, '');
  // `squeue -j` of ids it all forgot exits 1 with "Invalid job id specified": an answer, not an outage.
  const answered = rc?.[1] === '0' || /Invalid job id specified/.test(squeueText);
  const jobs = new Map<string, RunScheduler>();
  const none = (v: string | undefined): string | null => (!v || v === 'None' || v === '(null)' ? null : v);
  for (const line of squeueText.split('\n')) {
    const [id, state, reason, node] = line.trim().split('|');
    if (!id || !state || !jobIds.includes(id)) continue;
    jobs.set(id, {
      kind: 'slurm',
      jobId: id,
      state,
      reason: none(reason),
      node: none(node),
      exitCode: null,
      source: 'squeue',
      checkedAt: now,
    });
  }
  for (const id of jobIds) {
    if (jobs.has(id)) continue;
    const facts = parseSacct(sacctText, id);
    if (facts) {
      jobs.set(id, { kind: 'slurm', ...facts, source: 'sacct', checkedAt: now });
      continue;
    }
    const said = answered ? 'neither squeue nor sacct knows it' : squeueText.trim().split('\n')[0] || 'no answer';
    jobs.set(id, {
      ...{ kind: 'slurm', jobId: id, state: 'UNKNOWN', reason: null, node: null, exitCode: null },
      ...{ source: 'none', checkedAt: now, note: said },
    });
  }
  return { jobs, answered };
}

export type SlurmEntry = QueueStatus['entries'][number] & { note?: string; jobId?: string | null };

const FINAL_RUN = new Set(['scored', 'evaluation-failed', 'no-model', 'failed']);
const LIVE_JOB = new Set(['RUNNING', 'CONFIGURING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING']);

/**
 * Whether an attempt may be submitted again (as `<id>r<n>`): only when its job is over (ended, or forgotten by a
 * cluster that answered) and it never began on a node. A job still queued is never doubled, even when withdrawn.
 */
export function resubmittable(attempt: SlurmAttempt, job: RunScheduler | undefined, answered: boolean): boolean {
  if (attempt.began || attempt.state?.startedAt || !job) return false;
  return isFinalSlurmState(job.state) || (job.state === 'UNKNOWN' && answered);
}

export type AttemptOutcome = { kind: 'result' | 'agent' | 'infrastructure' | 'withdrawn'; why: string | null };

/**
 * How a final attempt ended, as the dispatcher classifies a docker host's runs (ptw_host/dispatcher.py `classify`),
 * plus SLURM's own ways to fail a run: a job that ended or vanished before its run began (a failed node, a
 * preemption, an administrator's scancel) is the infrastructure's; a withdrawn one (`experiment stop`) nobody's.
 * Null while the attempt is not final.
 */
export function classifyAttempt(
  attempt: SlurmAttempt,
  job: RunScheduler | undefined,
  answered: boolean,
): AttemptOutcome | null {
  if (attempt.withdrawn && !attempt.began) return { kind: 'withdrawn', why: 'withdrawn by experiment stop' };
  const state = attempt.state;
  const status = state?.status ?? null;
  if (!status || !FINAL_RUN.has(status)) {
    if (!resubmittable(attempt, job, answered) || !job) return null;
    return { kind: 'infrastructure', why: `${schedulerStatusText(job)} before the run started` };
  }
  const error = state?.error ?? '';
  if (status === 'failed') {
    if (!attempt.began && !state?.startedAt && job && isFinalSlurmState(job.state))
      return { kind: 'infrastructure', why: `${schedulerStatusText(job)} before the run started` };
    return { kind: 'infrastructure', why: error || 'the supervisor failed the run' };
  }
  if (/no space left/i.test(error)) return { kind: 'infrastructure', why: 'the disk filled up' };
  if (
    status === 'no-model' &&
    (state?.exitCode ?? null) === null &&
    !['budget', 'user-stop'].includes(state?.stopReason ?? '')
  )
    return { kind: 'infrastructure', why: 'the agent container was lost (its exit code is unknown)' };
  if (status === 'no-model') return { kind: 'agent', why: `the agent left no model (exit ${state?.exitCode ?? '?'})` };
  if (status === 'evaluation-failed') return { kind: 'agent', why: "the evaluation of the agent's model failed" };
  return { kind: 'result', why: null };
}

/** How an attempt that has a later one ended: as classified, or the infrastructure's when it never got a state. */
export function pastOutcome(attempt: SlurmAttempt): AttemptOutcome {
  return (
    attempt.retried ??
    classifyAttempt(attempt, undefined, true) ?? { kind: 'infrastructure', why: 'its job ended before the run started' }
  );
}

/**
 * Whether the cell's current attempt is due another one under the matrix's retry policy (kept in its first run
 * folder): its outcome's kind against the earlier attempts that ended the same way. A job that ended before its run
 * began is retried only when it cannot have begun (resubmittable). Null: no retry.
 */
export function retryDue(
  attempts: readonly SlurmAttempt[],
  jobs: ReadonlyMap<string, RunScheduler>,
  answered: boolean,
): AttemptOutcome | null {
  const current = attempts.at(-1);
  const policy = attempts[0]?.retries;
  if (!current || !policy) return null;
  const jobOf = (a: SlurmAttempt) => (a.jobId ? jobs.get(a.jobId) : undefined);
  const outcome = classifyAttempt(current, jobOf(current), answered);
  if (!outcome || (outcome.kind !== 'agent' && outcome.kind !== 'infrastructure')) return null;
  // A run that never began is submitted again only once its job cannot begin any more.
  const begun = current.began || !!current.state?.startedAt;
  if (!begun && !resubmittable(current, jobOf(current), answered)) return null;
  const made = attempts.slice(0, -1).filter((a) => pastOutcome(a).kind === outcome.kind).length;
  return made < policy[outcome.kind] ? outcome : null;
}

/**
 * A cell as the queue's entry the experiment page reads (host-queue.ts's QueueStatus): `pending` while SLURM queues
 * its job (with SLURM's reason as `note`), `started` once the job runs, `done` once the run is final, `withdrawn`
 * after `experiment stop` cancelled the job before it began. A job that ended or vanished before its run began is
 * `done` and failed, saying so (`experiment resume` submits it again).
 */
export function slurmEntry(
  id: string,
  attempts: readonly SlurmAttempt[],
  jobs: ReadonlyMap<string, RunScheduler>,
  answered: boolean,
): SlurmEntry | null {
  const current = attempts.at(-1);
  if (!current) return null;
  const job = current.jobId ? jobs.get(current.jobId) : undefined;
  const note = job ? schedulerStatusText(job) : current.jobId ? undefined : 'no SLURM job id in the run folder';
  const history = attempts.map((a) => {
    const outcome = a === current ? classifyAttempt(a, job, answered) : pastOutcome(a);
    return {
      runId: a.runId,
      final: a.state?.status && FINAL_RUN.has(a.state.status) ? a.state.status : null,
      outcome: outcome?.kind ?? null,
      reason: outcome?.why ?? null,
    };
  });
  const base = {
    id,
    attempts: history,
    jobId: current.jobId,
    ...(note ? { note } : {}),
  };
  if (current.withdrawn && !current.began) return { ...base, state: 'withdrawn' };
  const status = current.state?.status ?? null;
  if (status) {
    const run = { ...current.state, status };
    return { ...base, state: FINAL_RUN.has(status) ? 'done' : 'started', run };
  }
  if (!job || (!answered && job.state === 'UNKNOWN')) return { ...base, state: 'pending' };
  if (LIVE_JOB.has(job.state) || current.began) return { ...base, state: 'started', run: { status: 'starting' } };
  if (isFinalSlurmState(job.state) || job.state === 'UNKNOWN') {
    const error = `${schedulerStatusText(job)} before the run started (ptw experiment resume submits it again)`;
    return { ...base, state: 'done', run: { status: 'failed', error } };
  }
  return { ...base, state: 'pending' };
}

/**
 * The job ids worth asking SLURM about: those of current attempts whose run is not final yet (`all`: every current
 * attempt's, for deciding what to cancel or submit again).
 */
export function jobsToAsk(attempts: ReadonlyMap<string, readonly SlurmAttempt[]>, all = false): string[] {
  const out: string[] = [];
  for (const list of attempts.values()) {
    const current = list.at(-1);
    if (!current?.jobId) continue;
    const final = !!current.state?.status && FINAL_RUN.has(current.state.status);
    // A run failed before it began (its job cancelled or lost) is asked about too: a retry waits for its job's end.
    const failedEarly = current.state?.status === 'failed' && !current.began && !current.state.startedAt;
    if (!all && final && !failedEarly) continue;
    out.push(current.jobId);
  }
  return out;
}

/** `sinfo -h -N -o '%N|%G|%T'` rows: GPUs per node (`gpu:h100:2`, `gpu:4(S:0-1)`, several comma-separated). */
export function parseSinfoGpus(text: string): { totalGpus: number; nodes: number } {
  const seen = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [node, gres, state] = line.trim().split('|');
    if (!node || gres === undefined || !state) continue;
    if (/down|drain|fail|maint|inval|future|unknown/i.test(state)) continue;
    let gpus = 0;
    for (const part of gres.split(/,(?![^(]*\))/)) {
      const m = /^gpu(?::[^:(]+)?:(\d+)/.exec(part.trim());
      if (m) gpus += Number(m[1]);
    }
    seen.set(node, gpus);
  }
  return { totalGpus: [...seen.values()].reduce((a, b) => a + b, 0), nodes: seen.size };
}
