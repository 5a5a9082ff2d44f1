import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  experimentCellSchema,
  type ExperimentCell,
  type ExperimentDetail,
  type ExperimentPreview,
  type ExperimentSummary,
} from '../../shared/contract-experiments';
import { AppError } from '../../shared/errors';
import {
  formatMatrixProblems,
  matrixCost,
  parseMatrixFile,
  type ExperimentMatrix,
  type MatrixCell,
} from '../../shared/experiments/matrix-file';
import type { HostProfile } from '../../shared/hosts';
import { parseComputeApps, parseGpuInventory } from '../../shared/parsers/nvidia-smi';
import { mapComputeAppsToGpus } from '../hosts/preflight-judges';
import type { HostSession } from '../hosts/host-exec-types';
import { parseProbe, probeScript } from '../runs/host-scripts';
import type { LaunchDeps } from '../runs/run-launcher';
import {
  enqueueRun,
  moveEntries,
  queueStatus,
  resumeQueue,
  startDispatcher,
  type QueueRunInput,
  type QueueStatus,
} from './host-queue';
import { splitByFreeGpus, type HostCapacity } from './placement';
import { followMoves, rebalanceExperiment, sshRebalanceIo, type RebalanceOutcome } from './rebalancer';

/**
 * Experiments (issue 17; docs/experiments.md): a matrix file split over its hosts by free GPUs, queued in each host's
 * run root and drained there by the host's dispatcher, so the experiment goes on with the app closed. The record
 * here (`PTW_HOME/experiments/<id>/experiment.json`) remembers which cell went where; every state comes from the
 * hosts (their queues and run folders), the source of truth.
 */

/**
 * How runs reach a host and how its queue is read. `queueBackend` (below) is the SSH host's, whose queue is the
 * dispatcher's; a host of another kind (a SLURM cluster, where the queue is SLURM's own) plugs its own in
 * {@link ExperimentServiceOptions.backendFor}.
 */
export interface QueueBackend {
  /**
   * Whether queued, not started runs may be moved to another host (rebalancing): true for the dispatcher's queue,
   * false where the queue is a scheduler's own (SLURM: a submitted job stays SLURM's to start).
   */
  readonly movable: boolean;
  /** Free and total GPUs now, for the split at launch. */
  capacity(profile: HostProfile): Promise<HostCapacity>;
  /** `jobId`: the scheduler's job, where the run is one (kept in the experiment's record). */
  enqueue(input: QueueRunInput): Promise<{ runId: string; runRoot: string; jobId?: string }>;
  /** Makes sure the host drains its queue (starts its dispatcher; idempotent). */
  drain(host: string, runRoot: string): Promise<void>;
  /** `ids`: the experiment's entries on this host (a SLURM cluster's status reads just their run folders). */
  status(host: string, runRoot: string, ids: string[]): Promise<QueueStatus>;
  move(host: string, runRoot: string, move: { withdraw?: string[]; requeue?: string[] }): Promise<string[]>;
  resume(host: string, runRoot: string): Promise<void>;
}

export interface ExperimentServiceOptions {
  home: string;
  launch: LaunchDeps;
  profiles(): Promise<HostProfile[]>;
  onChanged(id: string): void;
  /** Stops a started run (through the run service, which reaches its supervisor). */
  stopRun(host: string, runId: string): Promise<void>;
  /** Whether a run is flagged by its integrity verdict (null: unchecked or unknown here). */
  flagged?(runId: string): Promise<boolean | null>;
  /** Seconds between the dispatchers' looks at their queues (tests shorten it). */
  dispatcherTickSeconds?: number;
  /** The backend of a host that is not a plain SSH host (e.g. SLURM); undefined: the SSH queue. */
  backendFor?(profile: HostProfile): QueueBackend | undefined;
}

const recordSchema = z.object({
  schema: z.literal(1),
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  file: z.string().nullable(),
  matrixText: z.string(),
  stopped: z.boolean(),
  hosts: z.record(z.string(), z.object({ runRoot: z.string() })),
  // The cell's coordinates and host as the contract has them, and its queue entry (its first run's id).
  cells: z.array(
    experimentCellSchema.pick({ key: true, task: true, agent: true, model: true, seed: true, host: true }).extend({
      entryId: z.string(),
      /** The SLURM job submitted for its first attempt (the run folder holds the current one). */
      jobId: z.string().optional(),
      /** What its host said last, shown while the host cannot be reached. */
      last: experimentCellSchema.pick({ status: true, runId: true, score: true }).optional(),
      /** The hosts it was queued on before (moved before it started; rebalancer.ts), oldest first. */
      moves: z
        .array(z.object({ from: z.string(), fromEntryId: z.string(), to: z.string(), at: z.string() }))
        .optional(),
    }),
  ),
});
type ExperimentRecord = z.infer<typeof recordSchema>;

const EXPERIMENT_ID = /^exp-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

function newExperimentId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `exp-${stamp}-${randomBytes(3).toString('hex')}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ExperimentService {
  readonly dir: string;

  constructor(private readonly options: ExperimentServiceOptions) {
    this.dir = path.join(options.home, 'experiments');
  }

  // --- the record ------------------------------------------------------------------------------------------

  private recordPath(id: string): string {
    if (!EXPERIMENT_ID.test(id))
      throw new AppError('NOT_FOUND', `No experiment ${id} (ids look like exp-20260101-120000-abc123).`);
    return path.join(this.dir, id, 'experiment.json');
  }

  private async read(id: string): Promise<ExperimentRecord> {
    let text: string;
    try {
      text = await readFile(this.recordPath(id), 'utf8');
    } catch {
      throw new AppError('NOT_FOUND', `No experiment ${id} here (ptw experiment ls lists them).`);
    }
    return recordSchema.parse(JSON.parse(text));
  }

  private async write(record: ExperimentRecord): Promise<void> {
    const file = this.recordPath(record.id);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Its own temporary name: two app instances (a rebalancing pass, a `show`) may write the record at once.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(record, null, 1)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  }

  /**
   * Writes what a look at the hosts learned (cells followed to where they moved, what each said last) over the
   * record as it is now, so that two app instances writing at once lose nothing: a cell's position only goes forward
   * along its hosts' pointers, so the one that followed more moves wins.
   */
  private async save(learned: ExperimentRecord): Promise<void> {
    const now = await this.read(learned.id).catch(() => learned);
    const mine = new Map(learned.cells.map((c) => [c.key, c]));
    await this.write({
      ...now,
      hosts: { ...learned.hosts, ...now.hosts },
      cells: now.cells.map((c) => {
        const m = mine.get(c.key);
        return m && (m.moves?.length ?? 0) >= (c.moves?.length ?? 0) ? m : c;
      }),
    });
  }

  // --- the SSH host's queue ------------------------------------------------------------------------------

  private sshBackend(): QueueBackend {
    const { launch, dispatcherTickSeconds } = this.options;
    const at = (host: string, runRoot: string) => ({ host, runRoot, resourcesDir: launch.resourcesDir });
    const session = (host: string): Promise<HostSession> => launch.session(host);
    return {
      movable: true,
      capacity: async (profile) => {
        const s = await session(profile.name);
        const probe = parseProbe((await s.exec(probeScript(), { timeoutMs: 60_000 })).stdout);
        if (!probe.gpus || probe.gpus.code !== 0 || !probe.apps || probe.apps.code !== 0) {
          return { name: profile.name, freeGpus: 0, totalGpus: 0 };
        }
        const inventory = parseGpuInventory(probe.gpus.text);
        const occupancy = mapComputeAppsToGpus(inventory, parseComputeApps(probe.apps.text));
        return { name: profile.name, freeGpus: occupancy.free.length, totalGpus: inventory.length };
      },
      enqueue: (input) => enqueueRun(launch, input),
      drain: async (host, runRoot) =>
        startDispatcher(await session(host), {
          ...at(host, runRoot),
          ...(dispatcherTickSeconds ? { tickSeconds: dispatcherTickSeconds } : {}),
        }),
      status: async (host, runRoot) => queueStatus(await session(host), at(host, runRoot)),
      move: async (host, runRoot, move) => moveEntries(await session(host), at(host, runRoot), move),
      resume: async (host, runRoot) => resumeQueue(await session(host), at(host, runRoot)),
    };
  }

  private backend(profile: HostProfile): QueueBackend {
    const own = this.options.backendFor?.(profile);
    if (own) return own;
    if (profile.scheduler) {
      // SLURM's queue is its own: its backend (slurm-queue.ts, wired by experiments-feature.ts) submits sbatch jobs.
      throw new AppError(
        'INVALID_INPUT',
        `${profile.name} is a SLURM cluster and this service was given no queue backend for SLURM (backendFor).`,
      );
    }
    return this.sshBackend();
  }

  private async profileMap(): Promise<Map<string, HostProfile>> {
    return new Map((await this.options.profiles()).map((p) => [p.name, p]));
  }

  // --- commands ------------------------------------------------------------------------------------------

  async preview(text: string): Promise<ExperimentPreview> {
    const profiles = await this.profileMap();
    const parsed = parseMatrixFile(text, { hosts: [...profiles.keys()] });
    if (!parsed.ok) return { ok: false, problems: parsed.problems };
    const cost = matrixCost(parsed.matrix, parsed.cells.length);
    return {
      ok: true,
      name: parsed.matrix.name,
      ...cost,
      tasks: parsed.matrix.tasks,
      agents: parsed.matrix.agents.map((a) => ({ agent: a.agent, model: a.model })),
      seeds: parsed.matrix.seeds,
      hosts: parsed.matrix.hosts,
    };
  }

  async start(text: string, file?: string): Promise<{ id: string }> {
    const profiles = await this.profileMap();
    const parsed = parseMatrixFile(text, { hosts: [...profiles.keys()] });
    if (!parsed.ok) {
      throw new AppError(
        'INVALID_INPUT',
        `The matrix file has problems:\n${formatMatrixProblems(parsed.problems, file ? path.basename(file) : 'matrix')}`,
      );
    }
    const { matrix, cells } = parsed;
    const hostProfiles = matrix.hosts.map((h) => profiles.get(h)!);
    const capacities = await Promise.all(hostProfiles.map((p) => this.backend(p).capacity(p)));
    const split = splitByFreeGpus(cells.length, capacities, matrix.gpusPerRun);
    if (!split.ok) throw new AppError('HOST_REQUIREMENT_MISSING', split.message);

    const id = newExperimentId(new Date());
    const record: ExperimentRecord = {
      schema: 1,
      id,
      name: matrix.name,
      createdAt: new Date().toISOString(),
      file: file ?? null,
      matrixText: text,
      stopped: false,
      hosts: {},
      cells: [],
    };
    // Hosts in parallel, each host's cells one after another (one SSH connection each, the folders in order).
    const byHost = new Map<string, Array<{ cell: MatrixCell; host: string }>>();
    cells.forEach((cell, i) => {
      const host = split.hosts[i]!;
      byHost.set(host, [...(byHost.get(host) ?? []), { cell, host }]);
    });
    const failures: string[] = [];
    await Promise.all(
      [...byHost].map(async ([host, list]) => {
        const backend = this.backend(profiles.get(host)!);
        for (const { cell } of list) {
          try {
            const queued = await backend.enqueue(this.queueInput(id, matrix, cell, host));
            record.hosts[host] = { runRoot: queued.runRoot };
            const job = queued.jobId ? { jobId: queued.jobId } : {};
            record.cells.push({ ...this.coordinates(cell), host, entryId: queued.runId, ...job });
          } catch (err) {
            failures.push(`${cell.key} on ${host}: ${errorText(err)}`);
            break; // the host's other cells would fail the same way
          }
        }
      }),
    );
    if (record.cells.length > 0) await this.write(record);
    if (failures.length > 0) {
      // Nothing half-started: take back what was queued, keep the record so `show` explains it.
      await this.withdrawAll(record).catch(() => undefined);
      record.stopped = true;
      if (record.cells.length > 0) await this.write(record);
      throw new AppError('INTERNAL', `Queuing the experiment failed; nothing was started.\n${failures.join('\n')}`);
    }
    await Promise.all(
      Object.entries(record.hosts).map(([host, h]) => this.backend(profiles.get(host)!).drain(host, h.runRoot)),
    );
    this.options.onChanged(id);
    return { id };
  }

  private coordinates(cell: MatrixCell) {
    return { key: cell.key, task: cell.task, agent: cell.agent, model: cell.model, seed: cell.seed };
  }

  private queueInput(id: string, matrix: ExperimentMatrix, cell: MatrixCell, host: string): QueueRunInput {
    return {
      spec: { ...cell.spec, host },
      gpusPerRun: matrix.gpusPerRun,
      priority: matrix.priority,
      experimentId: id,
      experimentName: matrix.name,
      cellKey: cell.key,
      retries: matrix.retries,
    };
  }

  async list(): Promise<ExperimentSummary[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: ExperimentSummary[] = [];
    for (const name of names
      .filter((n) => EXPERIMENT_ID.test(n))
      .sort()
      .reverse()) {
      const record = await this.read(name).catch(() => null);
      if (record) out.push(this.summary(record));
    }
    return out;
  }

  private summary(record: ExperimentRecord): ExperimentSummary {
    const parsed = parseMatrixFile(record.matrixText, { hosts: Object.keys(record.hosts), maxRuns: Infinity });
    const budget = parsed.ok ? parsed.matrix.budgetSeconds : 0;
    const gpus = parsed.ok ? parsed.matrix.gpusPerRun : 1;
    return {
      id: record.id,
      name: record.name,
      createdAt: record.createdAt,
      stopped: record.stopped,
      runs: record.cells.length,
      gpuHours: (record.cells.length * gpus * budget) / 3_600,
      hosts: Object.keys(record.hosts),
    };
  }

  async get(id: string): Promise<ExperimentDetail> {
    const record = await this.read(id);
    const profiles = await this.profileMap();
    const statuses = new Map<string, { status: QueueStatus | null; error: string | null }>();
    // A cell moved to another host is followed there (its old host's entry names its replacement), host by host.
    let learned = false;
    for (let round = 0; round < 4; round++) {
      const asked = Object.entries(record.hosts).filter(([host]) => !statuses.has(host));
      if (asked.length === 0) break;
      await Promise.all(
        asked.map(async ([host, h]) => {
          const profile = profiles.get(host);
          try {
            if (!profile) throw new Error(`the host ${host} is no longer set up here`);
            const ids = record.cells.filter((c) => c.host === host).map((c) => c.entryId);
            statuses.set(host, { status: await this.backend(profile).status(host, h.runRoot, ids), error: null });
          } catch (err) {
            statuses.set(host, { status: null, error: errorText(err) });
          }
        }),
      );
      if (followMoves(record, new Map([...statuses].map(([h, v]) => [h, v.status]))).changed) learned = true;
    }
    const cells = await Promise.all(
      record.cells.map(async (c) => {
        const state = await this.cellState(c, statuses.get(c.host));
        const moves = c.moves?.map((m) => ({ from: m.from, fromRunId: m.fromEntryId, to: m.to, at: m.at }));
        return moves ? { ...state, moves } : state;
      }),
    );
    // Remember what each answering host said, for when it cannot be reached.
    record.cells.forEach((c, i) => {
      const now = cells[i]!;
      if (!statuses.get(c.host)?.status || now.status === 'unknown') return;
      const last = { status: now.status, runId: now.runId, score: now.score ?? null };
      if (JSON.stringify(last) !== JSON.stringify(c.last)) {
        c.last = last;
        learned = true;
      }
    });
    if (learned) await this.save(record);
    const parsed = parseMatrixFile(record.matrixText, { hosts: Object.keys(record.hosts), maxRuns: Infinity });
    return {
      ...this.summary(record),
      budgetSeconds: parsed.ok ? parsed.matrix.budgetSeconds : 0,
      tasks: parsed.ok ? parsed.matrix.tasks : [],
      agents: parsed.ok ? parsed.matrix.agents.map((a) => ({ agent: a.agent, model: a.model })) : [],
      seeds: parsed.ok ? parsed.matrix.seeds : [],
      hostStates: Object.keys(record.hosts).map((name) => ({
        name,
        paused: statuses.get(name)?.status?.paused?.reason ?? null,
        error: statuses.get(name)?.error ?? null,
      })),
      cells,
    };
  }

  private async cellState(
    cell: ExperimentRecord['cells'][number],
    host: { status: QueueStatus | null; error: string | null } | undefined,
  ): Promise<ExperimentCell> {
    const base = { key: cell.key, task: cell.task, agent: cell.agent, model: cell.model, seed: cell.seed };
    const unknown = { ...base, host: cell.host, runId: cell.entryId, attempts: [] };
    if (!host?.status) {
      // The host went away: a queued run is stranded there (it starts when the host is back); a started one goes on
      // there, shown as last seen.
      const why = `${cell.host} cannot be reached: ${host?.error ?? 'not asked'}`;
      const last = cell.last;
      if (!last) return { ...unknown, status: 'unknown', reason: why };
      if (last.status === 'queued') {
        // Never moved from here while away: its dispatcher needs no network and may be starting it (rebalancer.ts).
        const stays = `${why}; queued there: it starts there, or moves to a free host once ${cell.host} answers`;
        return { ...unknown, runId: last.runId, status: 'stranded', reason: stays };
      }
      return {
        ...unknown,
        runId: last.runId,
        status: last.status,
        score: last.score ?? null,
        reason: `${why} (last seen ${last.status})`,
      };
    }
    const entry = host.status.entries.find((e) => e.id === cell.entryId);
    if (!entry) return { ...unknown, status: 'unknown', reason: "not in the host's queue any more" };
    const attempts = entry.attempts.map((a) => ({
      runId: a.runId,
      status: a.final ?? null,
      outcome: a.outcome ?? null,
      reason: a.reason ?? null,
    }));
    const current = entry.attempts.at(-1);
    const runId = current?.runId ?? cell.entryId;
    if (entry.state === 'pending' || entry.state === 'claimed') {
      const paused = host.status.paused?.reason ?? null;
      return {
        ...base,
        host: cell.host,
        runId,
        attempts,
        status: 'queued',
        // A SLURM job's entry says why SLURM keeps it pending (slurm-queue-state.ts).
        reason: paused ? `host paused: ${paused}` : typeof entry.note === 'string' ? entry.note : null,
      };
    }
    if (entry.state === 'withdrawn') return { ...base, host: cell.host, runId, attempts, status: 'withdrawn' };
    if (entry.state === 'held' || entry.state === 'moved') {
      // A move between hosts in progress (rebalancer.ts): queued nowhere yet, started nowhere.
      const from = cell.moves?.at(-1)?.from;
      const reason =
        entry.state === 'held' ? `moved here from ${from ?? 'another host'}` : 'being moved to another host';
      return { ...base, host: cell.host, runId, attempts, status: 'queued', reason };
    }
    const run = entry.run;
    const flagged = this.options.flagged ? await this.options.flagged(runId).catch(() => null) : null;
    return {
      ...base,
      host: cell.host,
      runId,
      attempts,
      status: run?.status ?? 'starting',
      score: run?.score ?? null,
      reason: run?.error ?? current?.reason ?? (typeof entry.note === 'string' ? entry.note : null),
      startedAt: run?.startedAt ?? null,
      deadline: run?.deadline ?? null,
      flagged,
    };
  }

  private async withdrawAll(record: ExperimentRecord): Promise<void> {
    const profiles = await this.profileMap();
    await Promise.all(
      Object.entries(record.hosts).map(async ([host, h]) => {
        const profile = profiles.get(host);
        if (!profile) return;
        const ids = record.cells.filter((c) => c.host === host).map((c) => c.entryId);
        await this.backend(profile).move(host, h.runRoot, { withdraw: ids });
      }),
    );
  }

  async stop(id: string): Promise<ExperimentDetail> {
    await this.get(id).catch(() => undefined); // follows moved cells to their hosts first
    const record = await this.read(id);
    await this.withdrawAll(record);
    record.stopped = true;
    await this.write(record);
    const detail = await this.get(id);
    const live = detail.cells.filter((c) => ['starting', 'running'].includes(c.status));
    await Promise.all(live.map((c) => this.options.stopRun(c.host, c.runId).catch(() => undefined)));
    this.options.onChanged(id);
    return this.get(id);
  }

  /** Moves queued runs to hosts of the matrix with free GPUs and empty queues (rebalancer.ts; docs/experiments.md). */
  async rebalance(id: string): Promise<RebalanceOutcome> {
    const record = await this.read(id);
    if (record.stopped) return { moved: [], notes: [`${id} is stopped: nothing moves`], queued: 0 };
    const profiles = await this.profileMap();
    const parsed = parseMatrixFile(record.matrixText, { hosts: [...profiles.keys()], maxRuns: Infinity });
    if (!parsed.ok) return { moved: [], notes: ["the matrix's hosts are not all set up here any more"], queued: 0 };
    const { matrix, cells } = parsed;
    // Runs move between hosts whose queue is the dispatcher's (a scheduler's queue, e.g. SLURM's, is its own).
    const movable = (host: string): boolean => {
      const profile = profiles.get(host);
      try {
        return profile !== undefined && this.backend(profile).movable;
      } catch {
        return false; // a kind of host with no queue backend here
      }
    };
    const io = sshRebalanceIo(this.options.launch, {
      ...(this.options.dispatcherTickSeconds ? { tickSeconds: this.options.dispatcherTickSeconds } : {}),
      enqueueHeld: (key, host) => {
        const cell = cells.find((c) => c.key === key);
        if (!cell) throw new AppError('INTERNAL', `The matrix has no cell ${key} any more`);
        return enqueueRun(this.options.launch, { ...this.queueInput(id, matrix, cell, host), held: true });
      },
    });
    const hosts = matrix.hosts.filter(movable);
    const outcome = await rebalanceExperiment(record, { id, hosts, gpusPerRun: matrix.gpusPerRun }, io);
    if (outcome.moved.length > 0) {
      await this.save(record);
      this.options.onChanged(id);
    }
    return outcome;
  }

  async resume(id: string): Promise<ExperimentDetail> {
    const record = await this.read(id);
    const profiles = await this.profileMap();
    await Promise.all(
      Object.entries(record.hosts).map(async ([host, h]) => {
        const profile = profiles.get(host);
        if (!profile) return;
        const backend = this.backend(profile);
        const ids = record.cells.filter((c) => c.host === host).map((c) => c.entryId);
        await backend.move(host, h.runRoot, { requeue: ids });
        await backend.resume(host, h.runRoot);
        await backend.drain(host, h.runRoot);
      }),
    );
    record.stopped = false;
    await this.write(record);
    this.options.onChanged(id);
    return this.get(id);
  }
}
