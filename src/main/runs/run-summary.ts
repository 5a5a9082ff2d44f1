import type { RunSummary } from '../../shared/contract';
import {
  isFinalRunStatus,
  isSupervisorAlive,
  runStateSchema,
  runStatusSchema,
  type RunState,
} from '../../shared/runs/run-status';
import { agentLabel, shortBaseModel, taskLabel, type ParsedRunJson } from './launch-plan';

/** What the local mirror knows about the sync (the parts of sync.json a summary needs). */
export interface SyncFacts {
  host: string;
  syncedAt: number | null;
  error: string | null;
  /** Host clock minus ours, from the last sync; null before one. */
  hostClockOffsetMs: number | null;
  /** What the last sync saw of the supervisor process (null: never looked). */
  supervisorAlive: boolean | null;
  /** The file the run was imported from, for a run that has no host to sync with. */
  imported?: { kind: 'bundle' | 'ptb'; source: string; ranSeconds?: number | null } | null;
}

/** state.json, if it reads as one; anything else is treated as absent (the run then says `unknown`). */
export function parseRunState(raw: unknown): RunState | null {
  const parsed = runStateSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * A run's summary from its local record. Pure: the run list, `runs.changed` and `ptw run ls` all come from here.
 * `now` is this machine's clock; the heartbeat is compared on the host's, using the offset measured at the last sync.
 */
export function summarizeRun(input: {
  id: string;
  runJson: ParsedRunJson | null;
  state: RunState | null;
  sync: SyncFacts | null;
  now: number;
  /** The integrity verdict ({@link runVerdict}): true flagged, false clean, null unchecked; absent when not read. */
  flagged?: boolean | null;
}): RunSummary {
  const { runJson, state, sync } = input;
  const base: RunSummary = {
    id: input.id,
    label: runJson?.spec.label ?? '',
    host: sync?.host ?? runJson?.spec.host ?? '',
    status: 'unknown',
    createdAt: runJson?.createdAt ?? '',
    task: runJson ? taskLabel(runJson.spec.task) : '',
    agent: runJson ? agentLabel(runJson.spec.agent) : '',
    syncedAt: sync?.syncedAt ?? null,
    syncError: sync?.error ?? null,
    imported: sync?.imported ? { kind: sync.imported.kind, source: sync.imported.source } : null,
    ...(runJson ? taskParts(runJson.spec) : {}),
    ...(input.flagged !== undefined ? { flagged: input.flagged } : {}),
    ...(runJson?.launch?.agentVersion ? { agentVersion: runJson.launch.agentVersion } : {}),
    ...(runJson?.experiment ? { experiment: { id: runJson.experiment.id, name: runJson.experiment.name } } : {}),
  };
  if (!runJson) return { ...base, status: 'unreadable' };
  const summary: RunSummary = { ...base, budgetSeconds: runJson.supervisor.budgetSeconds };
  if (!state) return { ...summary, status: 'starting' };
  const status = runStatusSchema.parse(state.status);
  const final = isFinalRunStatus(status);
  const hostNow = input.now + (sync?.hostClockOffsetMs ?? 0);
  const accuracy = state.evaluation.metrics?.accuracy;
  return {
    ...summary,
    status,
    startedAt: state.startedAt,
    deadline: state.deadline,
    stoppedAt: state.stoppedAt,
    stopReason: state.stopReason,
    score: status === 'scored' && typeof accuracy === 'number' ? accuracy * 100 : null,
    supervisorAlive: final ? false : sync?.supervisorAlive !== false && isSupervisorAlive(state, hostNow),
    error: state.error ?? null,
    ...(sync?.imported && typeof sync.imported.ranSeconds === 'number' ? { ranSeconds: sync.imported.ranSeconds } : {}),
  };
}

/** The benchmark, base model, agent and agent model apart (the labels join them), for the run list's filters. */
function taskParts(
  spec: ParsedRunJson['spec'],
): Pick<RunSummary, 'benchmark' | 'baseModel' | 'agentId' | 'agentModel'> {
  const task = spec.task;
  const model = spec.agent.model?.trim();
  return {
    benchmark: task.kind === 'ptb' ? (task.benchmark ?? '') : task.kind,
    ...(task.kind === 'ptb' && task.baseModel ? { baseModel: shortBaseModel(task.baseModel) } : {}),
    agentId: spec.agent.id,
    ...(model ? { agentModel: model } : {}),
  };
}
