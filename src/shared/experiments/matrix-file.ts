import { isMap, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { hostNameSchema } from '../hosts';
import { AGENT_IDS } from '../runs/agent-catalog';
import { validateRunSpec, type RunSpec } from '../runs/run-spec';
import { BASE_MODELS, BENCHMARKS, findBaseModel } from '../runs/task-catalog';

/**
 * The experiment matrix file (issue 17): YAML naming tasks × agents × seeds, a budget and the hosts allowed. It is
 * read here, pure, for the New experiment screen's preview and for `ptw experiment start`; every problem names its
 * line. Each cell becomes an ordinary run spec (validated by the run spec's own rules), so a matrix can only ask
 * for what a single run could.
 *
 * ```yaml
 * name: qwen-sweep
 * tasks: [rehearsal, gsm8k:Qwen3-4B-Base]      # or benchmarks: [...] × baseModels: [...]
 * agents:
 *   - { agent: claude-code, model: claude-sonnet-4-6 }
 *   - { agent: custom, command: [sh, -c, "sleep 5"] }
 * seeds: 3                                       # or a list: [1, 2, 7]
 * budget: 10h
 * hosts: [gpu-box, lab-2]
 * gpusPerRun: 1                                  # optional
 * retries: { infrastructure: 2, agent: 0 }       # optional; a number means infrastructure failures only
 * priority: 0                                    # optional; higher runs first on a host
 * ```
 */

/** More cells than this is refused: a typo in `seeds` should not queue a month of GPU time. */
export const MAX_EXPERIMENT_RUNS = 2_000;
export const MAX_RETRIES = 10;

export interface MatrixProblem {
  /** 1-based line in the file; 0 when the file as a whole is meant. */
  line: number;
  /** Dotted path of the field, e.g. `agents.1.agent`; '' for the whole file. */
  path: string;
  message: string;
}

export interface RetryPolicy {
  /** Retries after an infrastructure failure (container lost, disk full, host rebooted). */
  infrastructure: number;
  /** Retries after the agent's own failure; PostTrainBench counts those as results, so 0 by default. */
  agent: number;
}

export interface MatrixAgent {
  agent: (typeof AGENT_IDS)[number];
  model: string;
  command?: string[];
}

export interface ExperimentMatrix {
  name: string;
  /** Task ids as `ptw task ls` prints them: `rehearsal` or `BENCHMARK:BASE_MODEL` (catalog id). */
  tasks: string[];
  agents: MatrixAgent[];
  seeds: number[];
  budgetSeconds: number;
  hosts: string[];
  gpusPerRun: number;
  retries: RetryPolicy;
  priority: number;
  image?: string;
  network?: boolean;
  env?: Record<string, string>;
}

/** One run of the matrix: its coordinates and the run spec (host left to placement). */
export interface MatrixCell {
  /** Stable within an experiment: `task|agent|model|seed`. */
  key: string;
  task: string;
  agent: string;
  model: string;
  seed: number;
  spec: Omit<RunSpec, 'host'>;
}

export interface MatrixContext {
  /** Host profile names the matrix may use. */
  hosts: readonly string[];
  /** Benchmarks that exist; PostTrainBench's seven when left out. */
  benchmarks?: readonly string[];
  maxRuns?: number;
}

export type MatrixParse =
  { ok: true; matrix: ExperimentMatrix; cells: MatrixCell[] } | { ok: false; problems: MatrixProblem[] };

const nonEmptyList = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item, { error: `${what} is a list` }).min(1, `${what} is empty`);

const taskIdSchema = z.string({ error: 'a task is an id such as rehearsal or gsm8k:Qwen3-4B-Base' }).trim().min(1);

const agentEntrySchema = z.object(
  {
    agent: z.string({ error: `agent is one of ${AGENT_IDS.join(', ')}` }).trim(),
    model: z.string({ error: 'model is a provider model id, e.g. claude-sonnet-4-6' }).trim().optional(),
    command: z.array(z.string(), { error: 'command is an argv list, e.g. [sh, -c, "sleep 5"]' }).optional(),
  },
  { error: 'each agent is a mapping { agent, model?, command? }' },
);

const retriesSchema = z.union(
  [
    z.number().int().min(0).max(MAX_RETRIES),
    z.strictObject({
      infrastructure: z.number().int().min(0).max(MAX_RETRIES).optional(),
      agent: z.number().int().min(0).max(MAX_RETRIES).optional(),
    }),
  ],
  { error: `retries is a count (0–${MAX_RETRIES}, for infrastructure failures) or { infrastructure: N, agent: M }` },
);

const matrixFileSchema = z.strictObject(
  {
    name: z
      .string({ error: 'name is the experiment name, one line of text' })
      .trim()
      .min(1, 'name is empty')
      .max(80, 'keep the name under 80 characters')
      .regex(/^[^\p{Cc}]*$/u, 'the name is one line of text'),
    tasks: nonEmptyList(taskIdSchema, 'tasks').optional(),
    benchmarks: nonEmptyList(z.string().trim().min(1), 'benchmarks').optional(),
    baseModels: nonEmptyList(z.string().trim().min(1), 'baseModels').optional(),
    agents: nonEmptyList(agentEntrySchema, 'agents'),
    seeds: z
      .union([
        z.number().int('seeds is a whole number').min(1, 'seeds is at least 1'),
        nonEmptyList(z.number().int('a seed is a whole number').min(0, 'a seed is 0 or more'), 'seeds'),
      ])
      .default(1),
    budget: z.union([z.string(), z.number()], { error: 'budget is a duration such as 10h, 90m or 1h30m' }),
    hosts: nonEmptyList(z.string().trim().pipe(hostNameSchema), 'hosts'),
    gpusPerRun: z
      .number({ error: 'gpusPerRun is a whole number of GPUs' })
      .int('gpusPerRun is a whole number of GPUs')
      .min(1, 'gpusPerRun is at least 1')
      .max(16)
      .default(1),
    retries: retriesSchema.default(0),
    priority: z.number({ error: 'priority is a whole number' }).int('priority is a whole number').default(0),
    image: z.string().trim().min(1).optional(),
    network: z.union([z.boolean(), z.enum(['on', 'off'])]).optional(),
    /** Extra, non-secret environment for every run's agent (checked as a run spec's `env`). */
    env: z.record(z.string(), z.string(), { error: 'env is a mapping of NAME: value' }).optional(),
  },
  { error: 'the matrix file is a YAML mapping with name, tasks, agents, seeds, budget and hosts' },
);

/** Where a path of the document is: the line of the value, or of the nearest parent that exists. */
function lineFinder(doc: ReturnType<typeof parseDocument>, counter: LineCounter) {
  return (path: readonly (string | number)[]): number => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : (doc.getIn(path.slice(0, n), true) as YamlNode | undefined);
      if (node && typeof node === 'object' && 'range' in node && node.range) {
        return counter.linePos(node.range[0]).line;
      }
      // A key whose value is null has no node: find the key itself in its parent mapping.
      const parent = n <= 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
      if (n > 0 && isMap(parent)) {
        const pair = parent.items.find((p) => String((p.key as { value?: unknown })?.value) === String(path[n - 1]));
        const key = pair?.key as YamlNode | undefined;
        if (key?.range) return counter.linePos(key.range[0]).line;
      }
    }
    return 0;
  };
}

/** `file:line: path: message`, one per line. */
export function formatMatrixProblems(problems: readonly MatrixProblem[], file = 'matrix'): string {
  return problems
    .map((p) => `${file}${p.line > 0 ? `:${p.line}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`)
    .join('\n');
}

/** The budget as the run spec reads it (the same words, the same limits). */
function parseBudget(value: string | number): { ok: true; value: number } | { ok: false; message: string } {
  const checked = validateRunSpec({
    host: 'placeholder',
    task: { kind: 'rehearsal' },
    agent: { id: 'rehearsal' },
    budgetSeconds: value,
  });
  if (checked.ok) return { ok: true, value: checked.spec.budgetSeconds };
  return { ok: false, message: checked.problems.map((p) => p.message).join('; ') };
}

/** Reads and checks a matrix file; on success, its cells in a stable order (task, agent, seed). */
export function parseMatrixFile(text: string, context: MatrixContext): MatrixParse {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        line: e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line,
        path: '',
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
      })),
    };
  }
  const lineOf = lineFinder(doc, counter);
  const parsed = matrixFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const message =
          unknownKeys.length > 0
            ? `unknown field${unknownKeys.length > 1 ? 's' : ''} ${unknownKeys.join(', ')} (known: ${Object.keys(matrixFileSchema.shape).join(', ')})`
            : issue.message;
        return {
          line: lineOf(unknownKeys.length > 0 ? [...path, unknownKeys[0]!] : path),
          path: path.join('.'),
          message,
        };
      }),
    };
  }
  const file = parsed.data;
  const problems: MatrixProblem[] = [];
  const problem = (path: (string | number)[], message: string) =>
    problems.push({ line: lineOf(path), path: path.join('.'), message });

  const benchmarks = context.benchmarks ?? BENCHMARKS.map((b) => b.id);
  const checkBenchmark = (id: string, path: (string | number)[]): boolean => {
    if (benchmarks.includes(id)) return true;
    problem(path, `unknown benchmark "${id}" (known: ${benchmarks.join(', ')})`);
    return false;
  };
  const checkModel = (id: string, path: (string | number)[]): string | null => {
    const model = findBaseModel(id);
    if (model) return model.id;
    problem(path, `unknown base model "${id}" (known: ${BASE_MODELS.map((m) => m.id).join(', ')})`);
    return null;
  };

  // Tasks: listed ids, or benchmarks × baseModels, never both.
  const tasks: string[] = [];
  if (file.tasks && (file.benchmarks || file.baseModels)) {
    problem(['benchmarks'], 'give either tasks or benchmarks × baseModels, not both');
  } else if (file.tasks) {
    file.tasks.forEach((id, i) => {
      if (id === 'rehearsal') return void tasks.push(id);
      const [bench, model, extra] = id.split(':');
      if (!bench || !model || extra !== undefined) {
        return void problem(
          ['tasks', i],
          `"${id}" is not a task id: rehearsal, or BENCHMARK:BASE_MODEL such as gsm8k:Qwen3-4B-Base`,
        );
      }
      const benchOk = checkBenchmark(bench, ['tasks', i]);
      const modelId = checkModel(model, ['tasks', i]);
      if (benchOk && modelId) tasks.push(`${bench}:${modelId}`);
    });
  } else if (file.benchmarks && file.baseModels) {
    const models = file.baseModels.map((m, i) => checkModel(m, ['baseModels', i]));
    file.benchmarks.forEach((bench, i) => {
      if (!checkBenchmark(bench, ['benchmarks', i])) return;
      for (const model of models) if (model) tasks.push(`${bench}:${model}`);
    });
  } else {
    problem(
      [],
      'name the tasks: tasks: [rehearsal, gsm8k:Qwen3-4B-Base, …], or benchmarks: [...] with baseModels: [...]',
    );
  }
  const duplicateTask = tasks.find((t, i) => tasks.indexOf(t) !== i);
  if (duplicateTask) problem(['tasks'], `${duplicateTask} is listed twice`);

  const agents: MatrixAgent[] = [];
  file.agents.forEach((entry, i) => {
    if (!(AGENT_IDS as readonly string[]).includes(entry.agent)) {
      return void problem(['agents', i, 'agent'], `unknown agent "${entry.agent}" (known: ${AGENT_IDS.join(', ')})`);
    }
    const checked = validateRunSpec({
      host: 'placeholder',
      task: { kind: 'rehearsal' },
      agent: { id: entry.agent, model: entry.model, ...(entry.command ? { command: entry.command } : {}) },
    });
    if (!checked.ok) {
      for (const p of checked.problems) {
        const field = p.path.replace(/^agent\.?/, '');
        const key = field === 'id' ? 'agent' : field.split('.')[0] || 'agent';
        const missing = key === 'model' && entry.model === undefined;
        problem(
          ['agents', i, key],
          missing
            ? `${entry.agent} needs its model: name the model the agent should use, e.g. claude-sonnet-4-6`
            : p.message,
        );
      }
      return;
    }
    agents.push({
      agent: checked.spec.agent.id,
      model: checked.spec.agent.model,
      ...(checked.spec.agent.id === 'custom' ? { command: checked.spec.agent.command } : {}),
    });
  });
  const agentKeys = agents.map((a) => `${a.agent}|${a.model}|${JSON.stringify(a.command ?? null)}`);
  const dupAgent = agentKeys.findIndex((k, i) => agentKeys.indexOf(k) !== i);
  if (dupAgent >= 0)
    problem(['agents', dupAgent], `${agents[dupAgent]!.agent} ${agents[dupAgent]!.model} is listed twice`);

  if (file.env) {
    const checked = validateRunSpec({
      host: 'placeholder',
      task: { kind: 'rehearsal' },
      agent: { id: 'rehearsal' },
      env: file.env,
    });
    if (!checked.ok) for (const p of checked.problems) problem(p.path.split('.').slice(0, 2), p.message);
  }

  const seeds = typeof file.seeds === 'number' ? Array.from({ length: file.seeds }, (_, i) => i + 1) : file.seeds;
  if (new Set(seeds).size !== seeds.length) problem(['seeds'], 'list each seed once');

  const budget = parseBudget(file.budget);
  if (!budget.ok) problem(['budget'], `budget "${file.budget}" does not parse: ${budget.message}`);

  file.hosts.forEach((host, i) => {
    if (!context.hosts.includes(host)) {
      problem(
        ['hosts', i],
        `unknown host "${host}" (${context.hosts.length > 0 ? `known: ${context.hosts.join(', ')}` : 'no host is set up yet'}; add it with ptw host add)`,
      );
    }
  });
  if (new Set(file.hosts).size !== file.hosts.length) problem(['hosts'], 'list each host once');

  const maxRuns = context.maxRuns ?? MAX_EXPERIMENT_RUNS;
  const count = tasks.length * agents.length * seeds.length;
  if (problems.length === 0 && count > maxRuns) {
    problem(
      ['seeds'],
      `${tasks.length} tasks × ${agents.length} agents × ${seeds.length} seeds = ${count} runs, more than the ${maxRuns} an experiment may hold; split it`,
    );
  }
  if (problems.length > 0 || !budget.ok) return { ok: false, problems: problems.sort((a, b) => a.line - b.line) };

  const retries: RetryPolicy =
    typeof file.retries === 'number'
      ? { infrastructure: file.retries, agent: 0 }
      : { infrastructure: file.retries.infrastructure ?? 0, agent: file.retries.agent ?? 0 };
  const network = file.network === undefined ? undefined : file.network === true || file.network === 'on';
  const matrix: ExperimentMatrix = {
    name: file.name,
    tasks,
    agents,
    seeds,
    budgetSeconds: budget.value,
    hosts: file.hosts,
    gpusPerRun: file.gpusPerRun,
    retries,
    priority: file.priority,
    ...(file.image ? { image: file.image } : {}),
    ...(network === undefined ? {} : { network }),
    ...(file.env ? { env: file.env } : {}),
  };
  return { ok: true, matrix, cells: expandMatrix(matrix) };
}

/** The matrix's runs: task × agent × seed, each an ordinary run spec without its host. */
export function expandMatrix(matrix: ExperimentMatrix): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const task of matrix.tasks) {
    for (const agent of matrix.agents) {
      for (const seed of matrix.seeds) {
        const [benchmark, baseModel] = task.split(':');
        const checked = validateRunSpec({
          host: 'placeholder',
          task: task === 'rehearsal' ? { kind: 'rehearsal' } : { kind: 'ptb', benchmark, baseModel },
          agent: { id: agent.agent, model: agent.model, ...(agent.command ? { command: agent.command } : {}) },
          budgetSeconds: matrix.budgetSeconds,
          ...(matrix.image ? { image: matrix.image } : {}),
          // A rehearsal needs no internet (as for a single run, run-launcher.ts applyTaskDefaults).
          network: matrix.network ?? task !== 'rehearsal',
          env: { ...matrix.env, PTW_SEED: String(seed) },
          label: `${matrix.name} · seed ${seed}`.slice(0, 120),
        });
        if (!checked.ok) throw new Error(`matrix cell ${task} ${agent.agent}: ${checked.problems[0]?.message}`);
        const { host: _host, ...spec } = checked.spec;
        cells.push({
          key: `${task}|${agent.agent}|${agent.model}|${seed}`,
          task,
          agent: agent.agent,
          model: agent.model,
          seed,
          spec,
        });
      }
    }
  }
  return cells;
}

/** What the New experiment screen previews: runs and GPU-hours at full budget. */
export function matrixCost(matrix: ExperimentMatrix, cellCount: number): { runs: number; gpuHours: number } {
  return { runs: cellCount, gpuHours: (cellCount * matrix.gpusPerRun * matrix.budgetSeconds) / 3_600 };
}
