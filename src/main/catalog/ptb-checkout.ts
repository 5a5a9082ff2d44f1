import { z } from 'zod';
import { AppError } from '../../shared/errors';
import { shellQuote } from '../../shared/shell-quote';
import { renderPrompt } from '../../shared/runs/prompt-template';
import { findBenchmark, promptVars } from '../../shared/runs/task-catalog';
import type { HostSession } from '../hosts/host-exec-types';

/**
 * Reads a PostTrainBench checkout on a host (a clone of aisa-group/PostTrainBench): which benchmark task folders it
 * has, what each one puts in the agent's task folder, the prompt template and the chat templates. Everything goes
 * through `exec` on the host (one round trip), so the same code reads a local checkout and one over SSH. Nothing of
 * the checkout is copied into this project: the launcher copies files host-side, from the paths returned here.
 */

/**
 * The checkout layout, relative to its root, in one place. It follows the harness's own task-folder assembly
 * (`src/run_task.sh`): the agent's task folder gets the benchmark's `evaluate.py`, its `evaluation_code/`, the
 * shared `templates/`, and the contents of its `task_context/`; `evaluate_final_eval.py`, where a benchmark has
 * one, is what the final scoring runs and never reaches the agent.
 */
export const ptbLayout = {
  /** One folder per benchmark, named by its task id. */
  tasksDir: 'src/eval/tasks',
  task: {
    /** The evaluation entry the agent may run (with --limit), and the default final scorer. */
    evaluate: 'evaluate.py',
    /** A hardened scorer for the final evaluation only (optional). */
    finalEvaluate: 'evaluate_final_eval.py',
    /** The benchmark's name as the prompt gives it, e.g. `HealthBench Hard` (optional). */
    displayName: 'benchmark.txt',
    /** `{ "benchmark", "required_api_keys", … }` (optional). */
    info: 'info.json',
    /** Helper code evaluate.py imports; copied as a folder (optional). */
    helperDir: 'evaluation_code',
    /** Extra files for the agent; its contents go to the top of the task folder (optional). */
    contextDir: 'task_context',
  },
  /** Chat templates, copied to `templates/` in every task folder. */
  templatesDir: 'src/eval/templates',
  /** The prompt template: `{model}`, `{benchmark}`, `{num_hours}`, `{datetime}`, `{setup_other}`. */
  promptTemplate: 'src/eval/general/prompt.txt',
  /** Paths in the agent's task folder the rules forbid editing; bind-mounted read-only over their copies. */
  protectedInTaskFolder: ['evaluate.py', 'templates', 'evaluation_code'],
} as const;

/** Files read over exec are capped: they are names and small JSON, not data. */
const MAX_READ_BYTES = 64 * 1024;

export type PtbCheckoutReader = Pick<HostSession, 'exec'>;

/** One copy the launcher makes on the host: `from` (absolute, on the host) → `to` (relative to the task folder). */
export interface PtbCopy {
  from: string;
  to: string;
  kind: 'file' | 'dir';
}

export interface PtbTask {
  /** The task id: the folder name (`gsm8k`). */
  benchmark: string;
  /** How the prompt names it: benchmark.txt, else info.json's `benchmark`, else the catalog label, else the id. */
  displayName: string;
  /** Absolute path of the task folder on the host. */
  dir: string;
  /** What the final evaluation runs, relative to the task folder: evaluate_final_eval.py when present. */
  finalEvaluationEntry: string;
  /** Keys the benchmark's grader needs (info.json `required_api_keys`); they belong to the evaluator only. */
  requiredApiKeys: string[];
  /** Copied into both the agent's workspace and the clean task/ folder. */
  agentFiles: PtbCopy[];
  /** Copied into the clean task/ folder only (the final scorer). */
  evaluatorOnlyFiles: PtbCopy[];
  /** Relative paths in the task folder to protect (those of {@link ptbLayout.protectedInTaskFolder} that exist). */
  protectedPaths: string[];
  /** True when the task id is one of PostTrainBench's 7 headline benchmarks. */
  inCatalog: boolean;
}

export interface PtbCheckout {
  /** Absolute, symlinks resolved. */
  root: string;
  promptTemplate: { path: string; text: string };
  templates: { dir: string; files: string[] };
  tasks: PtbTask[];
  /** Task folders that cannot be run, and why (e.g. no evaluate.py). */
  skipped: { benchmark: string; dir: string; reason: string }[];
}

const infoSchema = z.looseObject({
  benchmark: z.string().optional(),
  required_api_keys: z.array(z.string()).optional(),
});

/** A path as shell source: `~/x` expands to the remote HOME, anything else is quoted verbatim. */
function shellPath(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shellQuote(path.slice(2))}`;
  return shellQuote(path);
}

/** The one script that lists the checkout: `KIND<TAB>path[<TAB>base64]` lines, paths relative to the root. */
function scanScript(root: string): string {
  const q = shellQuote;
  const t = ptbLayout.task;
  return [
    `root=${shellPath(root)}`,
    `cd -- "$root" 2>/dev/null || { printf 'E\\troot\\n'; exit 0; }`,
    `command -v base64 >/dev/null 2>&1 || { printf 'E\\tbase64\\n'; exit 0; }`,
    `printf 'R\\t%s\\n' "$(pwd -P)"`,
    `emit() { printf 'C\\t%s\\t' "$1"; head -c ${MAX_READ_BYTES} -- "$1" | base64 | tr -d '\\n'; printf '\\n'; }`,
    `entry() { if [ -d "$1" ]; then printf 'D\\t%s\\n' "$1"; elif [ -e "$1" ]; then printf 'F\\t%s\\n' "$1"; fi; }`,
    `if [ -f ${q(ptbLayout.promptTemplate)} ]; then emit ${q(ptbLayout.promptTemplate)}; fi`,
    `if [ -d ${q(ptbLayout.templatesDir)} ]; then entry ${q(ptbLayout.templatesDir)}; for f in ${q(ptbLayout.templatesDir)}/*; do entry "$f"; done; fi`,
    `if [ -d ${q(ptbLayout.tasksDir)} ]; then`,
    `  entry ${q(ptbLayout.tasksDir)}`,
    `  for d in ${q(ptbLayout.tasksDir)}/*/; do`,
    `    d=\${d%/}; [ -d "$d" ] || continue; entry "$d"`,
    `    for f in "$d"/* "$d"/${q(t.contextDir)}/*; do entry "$f"; done`,
    `    if [ -f "$d"/${q(t.displayName)} ]; then emit "$d"/${q(t.displayName)}; fi`,
    `    if [ -f "$d"/${q(t.info)} ]; then emit "$d"/${q(t.info)}; fi`,
    `  done`,
    `fi`,
  ].join('\n');
}

interface Scan {
  root: string;
  files: Set<string>;
  dirs: Set<string>;
  contents: Map<string, string>;
}

function layoutHint(root: string): string {
  return (
    `${root} does not look like a PostTrainBench checkout (a clone of aisa-group/PostTrainBench): expected ` +
    `${ptbLayout.tasksDir}/<benchmark>/${ptbLayout.task.evaluate}, ${ptbLayout.promptTemplate} and ` +
    `${ptbLayout.templatesDir}/. If the harness moved them, update ptbLayout in src/main/catalog/ptb-checkout.ts.`
  );
}

async function scan(reader: PtbCheckoutReader, root: string): Promise<Scan> {
  const result = await reader.exec(scanScript(root), { timeoutMs: 30_000 });
  if (result.code !== 0) {
    throw new AppError(
      'INTERNAL',
      `Listing the PostTrainBench checkout at ${root} failed (exit ${result.code ?? result.signal}): ${result.stderr.trim() || result.stdout.trim()}`,
      { retryable: true },
    );
  }
  const found: Scan = { root, files: new Set(), dirs: new Set(), contents: new Map() };
  for (const line of result.stdout.split('\n')) {
    if (line === '') continue;
    const [kind, path = '', data = ''] = line.split('\t');
    if (kind === 'E' && path === 'root') {
      throw new AppError('NOT_FOUND', `No PostTrainBench checkout at ${root}: that folder does not exist on the host.`);
    }
    if (kind === 'E' && path === 'base64') {
      throw new AppError(
        'INTERNAL',
        'The host has no `base64` command (GNU coreutils or busybox), needed to read files.',
      );
    }
    if (kind === 'R') found.root = path;
    else if (kind === 'D') found.dirs.add(path);
    else if (kind === 'F') found.files.add(path);
    else if (kind === 'C') found.contents.set(path, decodeBase64Utf8(data));
  }
  return found;
}

function decodeBase64Utf8(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}

const TASK_ID = /^[a-z0-9][a-z0-9_-]*$/;

function readTask(found: Scan, rel: string): PtbTask | { skip: string } {
  const benchmark = rel.slice(ptbLayout.tasksDir.length + 1);
  const abs = (p: string): string => `${found.root}/${p}`;
  const t = ptbLayout.task;
  if (!TASK_ID.test(benchmark))
    return { skip: `"${benchmark}" is not a task id (lower-case letters, digits, - and _)` };
  if (!found.files.has(`${rel}/${t.evaluate}`)) return { skip: `no ${t.evaluate} in ${abs(rel)}` };

  let info: z.infer<typeof infoSchema> | undefined;
  const infoText = found.contents.get(`${rel}/${t.info}`);
  if (infoText !== undefined) {
    try {
      info = infoSchema.parse(JSON.parse(infoText));
    } catch (err) {
      return { skip: `${abs(`${rel}/${t.info}`)} is not valid: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  const displayName =
    found.contents.get(`${rel}/${t.displayName}`)?.trim() ||
    info?.benchmark?.trim() ||
    findBenchmark(benchmark)?.label ||
    benchmark;

  const agentFiles: PtbCopy[] = [{ from: abs(`${rel}/${t.evaluate}`), to: t.evaluate, kind: 'file' }];
  if (found.dirs.has(`${rel}/${t.helperDir}`)) {
    agentFiles.push({ from: abs(`${rel}/${t.helperDir}`), to: t.helperDir, kind: 'dir' });
  }
  agentFiles.push({ from: abs(ptbLayout.templatesDir), to: 'templates', kind: 'dir' });
  const contextPrefix = `${rel}/${t.contextDir}/`;
  for (const path of [...found.files, ...found.dirs].sort()) {
    if (!path.startsWith(contextPrefix)) continue;
    const name = path.slice(contextPrefix.length);
    agentFiles.push({ from: abs(path), to: name, kind: found.dirs.has(path) ? 'dir' : 'file' });
  }
  const hasFinal = found.files.has(`${rel}/${t.finalEvaluate}`);
  const present = new Set(agentFiles.map((f) => f.to));
  return {
    benchmark,
    displayName,
    dir: abs(rel),
    finalEvaluationEntry: hasFinal ? t.finalEvaluate : t.evaluate,
    requiredApiKeys: info?.required_api_keys ?? [],
    agentFiles,
    evaluatorOnlyFiles: hasFinal ? [{ from: abs(`${rel}/${t.finalEvaluate}`), to: t.finalEvaluate, kind: 'file' }] : [],
    protectedPaths: ptbLayout.protectedInTaskFolder.filter((p) => present.has(p)),
    inCatalog: findBenchmark(benchmark) !== undefined,
  };
}

/**
 * Reads the checkout at `root` (absolute, or `~/…` on the host). Throws an AppError naming the missing path when
 * the folder is not a PostTrainBench checkout; task folders that cannot be run are listed in `skipped`.
 */
export async function readPtbCheckout(reader: PtbCheckoutReader, root: string): Promise<PtbCheckout> {
  const found = await scan(reader, root);
  const missing = (path: string): AppError =>
    new AppError('NOT_FOUND', `${found.root}/${path} is missing. ${layoutHint(found.root)}`);
  if (!found.dirs.has(ptbLayout.tasksDir)) throw missing(ptbLayout.tasksDir);
  const promptText = found.contents.get(ptbLayout.promptTemplate);
  if (promptText === undefined) throw missing(ptbLayout.promptTemplate);
  if (!found.dirs.has(ptbLayout.templatesDir)) throw missing(ptbLayout.templatesDir);

  const tasks: PtbTask[] = [];
  const skipped: PtbCheckout['skipped'] = [];
  const taskDirs = [...found.dirs].filter(
    (d) => d.startsWith(`${ptbLayout.tasksDir}/`) && !d.includes('/', ptbLayout.tasksDir.length + 1),
  );
  for (const rel of taskDirs.sort()) {
    const task = readTask(found, rel);
    if ('skip' in task)
      skipped.push({
        benchmark: rel.slice(ptbLayout.tasksDir.length + 1),
        dir: `${found.root}/${rel}`,
        reason: task.skip,
      });
    else tasks.push(task);
  }
  if (tasks.length === 0) {
    throw new AppError(
      'NOT_FOUND',
      `${found.root}/${ptbLayout.tasksDir} has no task folder with an ${ptbLayout.task.evaluate}. ${layoutHint(found.root)}`,
    );
  }
  const templatePrefix = `${ptbLayout.templatesDir}/`;
  return {
    root: found.root,
    promptTemplate: { path: `${found.root}/${ptbLayout.promptTemplate}`, text: promptText },
    templates: {
      dir: `${found.root}/${ptbLayout.templatesDir}`,
      files: [...found.files]
        .filter((f) => f.startsWith(templatePrefix))
        .map((f) => f.slice(templatePrefix.length))
        .sort(),
    },
    tasks,
    skipped,
  };
}

/** The task folder for `benchmark`, or a NOT_FOUND error listing what the checkout has. */
export function findPtbTask(checkout: PtbCheckout, benchmark: string): PtbTask {
  const task = checkout.tasks.find((t) => t.benchmark === benchmark);
  if (task) return task;
  const skipped = checkout.skipped.find((s) => s.benchmark === benchmark);
  if (skipped) throw new AppError('NOT_FOUND', `The ${benchmark} task cannot be run: ${skipped.reason}.`);
  throw new AppError(
    'NOT_FOUND',
    `The checkout at ${checkout.root} has no ${benchmark} task; it has ${checkout.tasks.map((t) => t.benchmark).join(', ')}.`,
  );
}

/** The prompt for one cell, rendered from the checkout's template as the harness would. */
export function renderPtbPrompt(
  checkout: PtbCheckout,
  input: { benchmark: string; baseModel: string; budgetSeconds: number; gpuCount: number; now: Date },
): string {
  const task = findPtbTask(checkout, input.benchmark);
  return renderPrompt(
    checkout.promptTemplate.text,
    promptVars({
      model: input.baseModel,
      benchmark: task.displayName,
      budgetSeconds: input.budgetSeconds,
      gpuCount: input.gpuCount,
      now: input.now,
    }),
  );
}
