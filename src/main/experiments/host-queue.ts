import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import { loadHostPackage } from '../host-package/host-package';
import type { HostSession } from '../hosts/host-exec-types';
import { buildAgentContainerConfig } from '../runs/agent-container';
import { removeRunDirScript, supervisorSecretsLine } from '../runs/host-scripts';
import { launchRecords, layOutRunFolder, planLaunch, type LaunchDeps } from '../runs/run-launcher';
import { GPU_JOB_ULIMITS } from '../runs/sandbox-policy';

/**
 * A host's run queue, from the app's side (the host's side: resources/host/ptw_host/run_queue.py and dispatcher.py;
 * docs/experiments.md). Queuing a run does what a launch does up to the container (everything checked, the folder
 * laid out) into a template under `RUN_ROOT/.ptw-queue/templates/<run id>/`, and writes the entry the dispatcher
 * needs to start it later without the app: the container's create request (without GPUs: chosen at start), run.json,
 * and the keys for the supervisor's stdin. The entry file is 0600 in a 0700 folder, the keys' only copy on the host
 * until the run starts (the same trust as the created container that holds them in a direct launch).
 */

export const QUEUE_DIR = '.ptw-queue';

export interface QueueRunInput {
  /** A run spec input with its host. */
  spec: unknown;
  gpusPerRun: number;
  priority: number;
  experimentId: string;
  /** The experiment's name, written into the run's run.json with its id (the Runs list groups by it). */
  experimentName: string;
  cellKey: string;
  retries: { infrastructure: number; agent: number };
  /** Queue it in `held/`, where nothing starts it until it is activated: a replacement for a run moving here. */
  held?: boolean;
}

export interface QueuedRun {
  runId: string;
  runRoot: string;
}

/** Queues one run on its host (the spec's `host`); the folder is removed again when anything fails. */
export async function enqueueRun(deps: LaunchDeps, input: QueueRunInput): Promise<QueuedRun> {
  const ctx = await planLaunch(deps, input.spec, { gpusPerRun: input.gpusPerRun });
  const queueDir = path.posix.join(ctx.runRoot, QUEUE_DIR);
  const template = path.posix.join(queueDir, 'templates', ctx.runId);
  const made = await ctx.session.exec(
    `mkdir -p -m 0700 -- ${shellQuote(queueDir)} && cd -- ${shellQuote(queueDir)} && mkdir -p -m 0700 templates pending claimed started done withdrawn held moved`,
  );
  if (made.code !== 0) {
    throw new AppError(
      'RUN_ROOT_NOT_WRITABLE',
      `Cannot make the run queue ${queueDir} on ${ctx.spec.host}: ${`${made.stdout}\n${made.stderr}`.trim()}`,
    );
  }
  await layOutRunFolder(ctx, deps, template);
  try {
    const records = launchRecords(ctx, deps, []);
    const secrets = JSON.parse(
      supervisorSecretsLine(
        Object.entries(records.secretEnv).map(([name, value]) => ({ name, value })),
        ctx.graderKeys,
      ),
    ) as unknown;
    const entry = {
      id: ctx.runId,
      experimentId: input.experimentId,
      cellKey: input.cellKey,
      priority: input.priority,
      enqueuedAt: Date.now(),
      gpusPerRun: input.gpusPerRun,
      // A benchmark run gets its GPUs as device requests; the rehearsal is CPU-only but still takes its GPU's turn.
      deviceRequests: ctx.prepared.task.kind === 'ptb',
      gpuUlimits: GPU_JOB_ULIMITS,
      dockerSocket: ctx.profile.dockerSocket,
      template: { dir: template, runId: ctx.runId, runDir: ctx.runDir },
      handOver: { uid: ctx.sandbox.uid, gid: ctx.sandbox.gid, chown: ctx.sandbox.chown },
      container: buildAgentContainerConfig(records.plan),
      runJson: { ...records.runJson(''), experiment: { id: input.experimentId, name: input.experimentName } },
      secrets,
      retries: input.retries,
      attempts: [],
    };
    const state = input.held ? 'held' : 'pending';
    const tmp = path.posix.join(queueDir, state, `.${ctx.runId}.tmp`);
    await ctx.session.writeFile(tmp, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    const placed = await ctx.session.exec(
      `chmod 0600 -- ${shellQuote(tmp)} && mv -f -- ${shellQuote(tmp)} ${shellQuote(path.posix.join(queueDir, state, `${ctx.runId}.json`))}`,
    );
    if (placed.code !== 0) throw new AppError('INTERNAL', `Queuing ${ctx.runId} failed: ${placed.stderr.trim()}`);
  } catch (err) {
    await ctx.session.exec(removeRunDirScript(template)).catch(() => undefined);
    throw err;
  }
  return { runId: ctx.runId, runRoot: ctx.runRoot };
}

// --- the dispatcher --------------------------------------------------------------------------------------------

/** The host package under the queue folder, named by its hash: a running dispatcher's copy is never replaced. */
async function ensureHostPackage(session: HostSession, runRoot: string, resourcesDir: string): Promise<string> {
  const pkg = await loadHostPackage(resourcesDir);
  const pyz = path.posix.join(runRoot, QUEUE_DIR, `ptw-host-${pkg.hash.slice(0, 16)}.pyz`);
  const present = await session.exec(`test -s ${shellQuote(pyz)} && echo yes`);
  if (!present.stdout.includes('yes')) {
    const tmp = `${pyz}.tmp`;
    await session.writeFile(tmp, pkg.bytes, { mode: 0o644 });
    await session.exec(`mv -f -- ${shellQuote(tmp)} ${shellQuote(pyz)}`);
  }
  return pyz;
}

/**
 * Starts the host's dispatcher detached (its own session, output to `.ptw-queue/dispatcher.log`), as the launcher
 * starts a supervisor; a second one exits at once (the first holds the lock). It runs with this SSH session's
 * PATH, where it finds python3 and nvidia-smi.
 */
export async function startDispatcher(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string; tickSeconds?: number },
): Promise<void> {
  const pyz = await ensureHostPackage(session, input.runRoot, input.resourcesDir);
  const q = shellQuote;
  const log = path.posix.join(input.runRoot, QUEUE_DIR, 'dispatcher.log');
  const args = [pyz, 'dispatch', input.runRoot, ...(input.tickSeconds ? ['--tick', String(input.tickSeconds)] : [])];
  const started = await session.exec(
    [
      `cd -- ${q(input.runRoot)} || exit 70`,
      'if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=; fi',
      `$detach python3 ${args.map(q).join(' ')} < /dev/null >> ${q(log)} 2>&1 &`,
      'echo "PID $!"',
    ].join('\n'),
    { timeoutMs: 30_000 },
  );
  if (started.code !== 0) {
    throw new AppError(
      'INTERNAL',
      `Starting the run queue's dispatcher on ${input.host} failed: ${`${started.stdout}\n${started.stderr}`.trim()}`,
    );
  }
}

const runStateSchema = z.object({
  status: z.string().nullable(),
  startedAt: z.number().nullable().optional(),
  deadline: z.number().nullable().optional(),
  error: z.string().nullable().optional(),
  score: z.number().nullable().optional(),
});

const attemptSchema = z.looseObject({
  runId: z.string(),
  final: z.string().nullable().optional(),
  outcome: z.string().nullable().optional(),
  reason: z.string().nullable().optional(),
});

/** Where a moved entry's run went: its replacement's entry on another host (run_queue.move_out). */
export const movedToSchema = z.object({ host: z.string(), entryId: z.string(), runRoot: z.string() });
export type MovedTo = z.infer<typeof movedToSchema>;

export const queueStatusSchema = z.object({
  now: z.number(),
  root: z.string(),
  paused: z.object({ reason: z.string(), at: z.number().nullable() }).nullable(),
  entries: z.array(
    z.looseObject({
      id: z.string(),
      experimentId: z.string().optional(),
      cellKey: z.string().optional(),
      state: z.enum(['pending', 'claimed', 'started', 'done', 'withdrawn', 'held', 'moved']),
      priority: z.number().optional(),
      enqueuedAt: z.number().optional(),
      attempts: z.array(attemptSchema).default([]),
      run: runStateSchema.optional(),
      movedTo: movedToSchema.nullable().optional(),
    }),
  ),
  /** With `--gpus`: the GPUs a new run could start on now, as the dispatcher counts them. */
  gpus: z.object({ free: z.array(z.number()), total: z.number(), error: z.string().nullable() }).optional(),
});
export type QueueStatus = z.infer<typeof queueStatusSchema>;

async function runDispatch(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string },
  args: string[],
): Promise<string> {
  const pyz = await ensureHostPackage(session, input.runRoot, input.resourcesDir);
  const result = await session.exec(['python3', pyz, 'dispatch', input.runRoot, ...args].map(shellQuote).join(' '), {
    timeoutMs: 60_000,
  });
  if (result.code !== 0) {
    throw new AppError(
      'INTERNAL',
      `The run queue on ${input.host} did not answer (exit ${result.code}): ${result.stderr.trim().slice(0, 500)}`,
    );
  }
  return result.stdout;
}

/** Every entry of the host's queue with its current attempt's state (never the keys). */
export async function queueStatus(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string },
  options: { gpus?: boolean } = {},
): Promise<QueueStatus> {
  const text = await runDispatch(session, input, ['--status', ...(options.gpus ? ['--gpus'] : [])]);
  try {
    return queueStatusSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new AppError('INTERNAL', `The run queue on ${input.host} answered something unreadable: ${String(err)}`);
  }
}

const MOVE_FLAGS = { withdraw: '--withdraw', requeue: '--requeue', activate: '--activate', drop: '--drop-held' };

/**
 * Withdraws queued (or held) entries, queues withdrawn ones again, activates held replacements (held -> pending) or
 * drops ones that lost their move; the ids it changed.
 */
export async function moveEntries(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string },
  move: Partial<Record<keyof typeof MOVE_FLAGS, string[]>>,
): Promise<string[]> {
  const args = Object.entries(MOVE_FLAGS).flatMap(([name, flag]) => {
    const ids = move[name as keyof typeof MOVE_FLAGS];
    return ids?.length ? [flag, ...ids] : [];
  });
  if (args.length === 0) return [];
  const out = JSON.parse(await runDispatch(session, input, args)) as { moved?: string[] };
  return out.moved ?? [];
}

/**
 * Gives a queued run to another host whose held replacement is `to` (run_queue.move_out): the replacement the
 * entry names now (ours, or another app instance's that won), or null when the run did not leave (it was claimed
 * here first, or is a retry).
 */
export async function moveOut(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string },
  entryId: string,
  to: MovedTo,
): Promise<MovedTo | null> {
  const args = ['--move-out', entryId, '--to-host', to.host, '--to-entry', to.entryId, '--to-root', to.runRoot];
  const out = z
    .object({ movedTo: movedToSchema.nullable() })
    .parse(JSON.parse(await runDispatch(session, input, args)));
  return out.movedTo;
}

/** Lifts the host's pause (a full disk freed, a GPU back). */
export async function resumeQueue(
  session: HostSession,
  input: { host: string; runRoot: string; resourcesDir: string },
): Promise<void> {
  await runDispatch(session, input, ['--resume']);
}
