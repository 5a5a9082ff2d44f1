import { z } from 'zod';
import { getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import { formatByteSize, formatDuration } from '../../shared/runs/duration';
import { runSpecSchema, type RunSpec } from '../../shared/runs/run-spec';
import { findBaseModel, findBenchmark, REHEARSAL_TASK } from '../../shared/runs/task-catalog';

/**
 * The spec a run was launched with (run.json, as `runs.get` returns it) as label/value rows for the detail pane.
 * The stored spec is already normalised, so parsing it again changes nothing; a spec this version cannot read is
 * reported rather than half-shown.
 */

export interface SpecRow {
  readonly label: string;
  readonly value: string;
  /** Ids, paths, model names: shown in a monospace font. */
  readonly mono: boolean;
}

export type SpecSummary =
  { readonly ok: true; readonly rows: SpecRow[] } | { readonly ok: false; readonly reason: string };

export function taskText(task: RunSpec['task']): string {
  if (task.kind === 'rehearsal') return REHEARSAL_TASK.label;
  const benchmark = findBenchmark(task.benchmark)?.label ?? task.benchmark;
  return `${benchmark} · ${findBaseModel(task.baseModel)?.hfId ?? task.baseModel}`;
}

function agentText(agent: RunSpec['agent']): string {
  const label = isAgentId(agent.id) ? getAgent(agent.id).label : agent.id;
  return agent.model && agent.id !== 'rehearsal' ? `${label} · ${agent.model}` : label;
}

function limitsText(limits: RunSpec['limits']): string {
  const parts: string[] = [];
  if (limits.cpus !== undefined) parts.push(`${limits.cpus} CPUs`);
  if (limits.memoryBytes !== undefined) parts.push(`${formatByteSize(limits.memoryBytes)} memory`);
  if (limits.pidsLimit !== undefined) parts.push(`${limits.pidsLimit} processes`);
  if (limits.diskBytes !== undefined) parts.push(`${formatByteSize(limits.diskBytes)} disk`);
  return parts.length > 0 ? parts.join(' · ') : 'none set';
}

/** What an imported run's spec holds (the task, the agent as its source named it, the budget): nothing to launch. */
const importedSpecSchema = z.object({
  task: z.object({ kind: z.string(), benchmark: z.string().optional(), baseModel: z.string().optional() }),
  agent: z.object({ id: z.string(), model: z.string().optional(), streamFormat: z.string().optional() }),
  budgetSeconds: z.number().optional(),
});

function importedSpecSummary(spec: unknown): SpecSummary | null {
  const parsed = importedSpecSchema.safeParse(spec);
  if (!parsed.success) return null;
  const { task, agent, budgetSeconds } = parsed.data;
  const rows: SpecRow[] = [
    {
      label: 'Task',
      value:
        task.kind === 'ptb'
          ? `${findBenchmark(task.benchmark ?? '')?.label ?? task.benchmark ?? '?'} · ${task.baseModel || 'base model not named'}`
          : task.kind,
      mono: false,
    },
    {
      label: 'Agent',
      value: `${isAgentId(agent.id) ? getAgent(agent.id).label : agent.id}${agent.model ? ` · ${agent.model}` : ''}`,
      mono: false,
    },
  ];
  if (agent.streamFormat) rows.push({ label: 'Stream', value: agent.streamFormat, mono: true });
  if (budgetSeconds !== undefined) rows.push({ label: 'Budget', value: formatDuration(budgetSeconds), mono: false });
  return { ok: true, rows };
}

/**
 * `imported`: where the run came from. PostTrainBench results were not launched by an app: their spec is shown from
 * what it holds (no GPUs, image, network or limits of ours). A bundle's spec is a launch spec, shown whole when it
 * reads as one. `agentVersion`: what the agent CLI in the run's image said it is at launch (run.json
 * `launch.agentVersion`), shown under the agent.
 */
export function specSummary(
  spec: unknown,
  options: { imported?: 'ptb' | 'bundle' | null; agentVersion?: string } = {},
): SpecSummary {
  const loose = options.imported ? importedSpecSummary(spec) : null;
  if (loose && options.imported === 'ptb') return loose;
  const parsed = runSpecSchema.safeParse(spec);
  if (!parsed.success) {
    if (loose) return loose;
    return {
      ok: false,
      reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'spec'}: ${i.message}`).join('; '),
    };
  }
  const s = parsed.data;
  const rows: SpecRow[] = [
    { label: 'Task', value: taskText(s.task), mono: false },
    { label: 'Agent', value: agentText(s.agent), mono: false },
  ];
  if (options.agentVersion) rows.push({ label: 'Agent version', value: options.agentVersion, mono: true });
  if (s.agent.id === 'custom') rows.push({ label: 'Command', value: s.agent.command.join(' '), mono: true });
  rows.push(
    { label: 'Budget', value: formatDuration(s.budgetSeconds), mono: false },
    { label: 'GPUs', value: s.gpus.length > 0 ? s.gpus.join(', ') : 'first free at launch', mono: false },
    { label: 'Image', value: s.image ?? 'the host’s default', mono: s.image !== undefined },
    { label: 'Network', value: s.network ? 'on' : 'off', mono: false },
    { label: 'Limits', value: limitsText(s.limits), mono: false },
  );
  const env = Object.keys(s.env);
  if (env.length > 0) rows.push({ label: 'Extra env', value: env.join(', '), mono: true });
  return { ok: true, rows };
}
