import type { Command } from 'commander';
import type { CompareSide, LeaderboardData, RunComparison } from '../../shared/contract-leaderboard';
import { formatByteSize, formatDuration } from '../../shared/runs/duration';
import type { HostCliIo } from './cli-prompts';
import { collect, json, table } from './cli-output';
import { cli, servicesRunner, type ServicesFactory } from './cli-services';

/**
 * `ptw leaderboard` and `ptw run compare A B`: the Leaderboard page and the Runs list's comparison, in-process,
 * through the contract router like every other command. Both read the local records only (no host). Exit codes:
 * 0 ok, 2 usage (an unknown benchmark or base model, a run that does not exist).
 */

const points = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined ? '—' : x.toFixed(digits);

export function formatLeaderboard(board: LeaderboardData): string {
  let text = '';
  const rows = board.rows;
  if (!rows.some((r) => r.kind === 'agent'))
    text += 'No scored PostTrainBench runs yet (ptw import ptb PATH, or ptw run start).\n';
  let rank = 0;
  text += table([
    ['#', 'AGENT', 'SCORE', '±STD', 'N', ...board.benchmarks.map((b) => b.toUpperCase()), 'NOTES'],
    ...rows.map((r) => {
      const fallbacks = Object.values(r.cells).filter((c) => c.fallbackSeeds > 0).length;
      const flagged = Object.values(r.cells).filter((c) => c.flagged).length;
      const notes = [
        r.kind === 'agent' && !r.complete ? 'incomplete' : '',
        r.kind === 'agent' && fallbacks > 0 ? `${fallbacks} cell(s) fall back` : '',
        flagged > 0 ? `${flagged} flagged` : '',
      ].filter(Boolean);
      return [
        r.kind === 'agent' ? String(++rank) : '-',
        r.label,
        points(r.score),
        r.std === null ? '' : points(r.std),
        r.kind === 'agent' ? String(r.n) : '',
        ...board.benchmarks.map((b) => points(r.benchmarks[b]?.mean)),
        notes.join(', '),
      ];
    }),
  ]);
  const weights = board.benchmarks.map((b) => `${b} ${(board.weights[b] ?? 0).toFixed(4)}`).join(', ');
  text += `weights (from the baselines): ${weights}\n`;
  if (board.baseModels.length < 4) text += `base models: ${board.baseModels.join(', ')}\n`;
  for (const p of board.problems) text += `problem: ${p.runId}: ${p.message}\n`;
  return text;
}

function sideLines(s: CompareSide): Record<string, string> {
  return {
    run: s.id,
    label: s.label,
    cell: `${s.benchmark} × ${s.baseModel}`,
    agent: [s.agent, s.model].filter(Boolean).join(' · '),
    status: s.status + (s.imported ? ' (imported)' : ''),
    score: s.score === null ? `— ${s.resultNote ?? ''}`.trim() : points(s.score, 2),
    'time used':
      s.usedSeconds === null
        ? '—'
        : `${formatDuration(Math.round(s.usedSeconds))}${s.budgetSeconds ? ` of ${formatDuration(s.budgetSeconds)} (${Math.round((100 * s.usedSeconds) / s.budgetSeconds)}%)` : ''}`,
    'GPU hours': s.gpuHours === null ? '—' : `${s.gpuHours.toFixed(2)} (${s.gpuCount} GPU)`,
    'GPU utilisation':
      s.gpu.meanUtilization === null
        ? '— (no samples)'
        : `${s.gpu.meanUtilization.toFixed(0)}% mean, ${s.gpu.samples} samples`,
    steps: `${s.steps.total} (${s.steps.toolCalls} tool calls)`,
    tokens: `${s.steps.inputTokens} in, ${s.steps.outputTokens} out`,
    cost: s.steps.costUsd === null ? '—' : `$${s.steps.costUsd.toFixed(2)}`,
    verdict: `${s.verdict.state} (${s.verdict.source})${s.verdict.reasons.length ? `: ${s.verdict.reasons.join('; ')}` : ''}`,
    'final model': s.finalModel
      ? s.finalModel.exists
        ? `${s.finalModel.files} files, ${formatByteSize(s.finalModel.totalBytes)}`
        : 'none'
      : '—',
    prompt: s.prompt === null ? (s.promptNote ?? '—') : `${s.prompt.length} characters`,
  };
}

export function formatComparison(c: RunComparison): string {
  const a = sideLines(c.a);
  const b = sideLines(c.b);
  let text = table([['', 'A', 'B'], ...Object.keys(a).map((k) => [k, a[k]!, b[k]!])]);
  if (c.metrics.length > 0) {
    text +=
      '\n' +
      table([
        ['METRIC', 'A', 'B', 'B − A'],
        ...c.metrics.map((m) => [m.name, points(m.a, 4), points(m.b, 4), points(m.delta, 4)]),
      ]);
  }
  if (c.finalModels) {
    const f = c.finalModels;
    text += f.identical
      ? 'final models: identical (every file has the same SHA-256)\n'
      : `final models: ${f.same} file(s) the same, ${f.differ} differ, ${f.onlyA.length} only in A, ${f.onlyB.length} only in B\n`;
  }
  if (c.a.prompt !== null && c.b.prompt !== null) {
    text += c.a.prompt === c.b.prompt ? 'prompts: the same\n' : 'prompts: differ (--json has both)\n';
  }
  for (const n of c.notes) text += `note: ${n}\n`;
  return text;
}

/** Adds `ptw leaderboard` and `ptw run compare` (the `run` command must exist already). */
export function addLeaderboardCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  // A refusal (an unknown benchmark, a run that does not exist) reaches runCli: printed, exit 2.
  const withServices = servicesRunner(io, open);

  program
    .command('leaderboard')
    .description(
      "PostTrainBench's weighted score over every run here (own and imported), ranked, with the reference rows",
    )
    .option('--benchmark <id>', 'only this benchmark (repeatable)', collect, [])
    .option('--base-model <id>', 'only this base model (repeatable; Qwen3-4B-Base or Qwen/Qwen3-4B-Base)', collect, [])
    .option('--json', 'machine-readable output')
    .action(async (opts: { benchmark: string[]; baseModel: string[]; json?: boolean }) => {
      await withServices({}, async (s) => {
        const board = await s.router.call(
          'leaderboard.get',
          {
            ...(opts.benchmark.length ? { benchmarks: opts.benchmark } : {}),
            ...(opts.baseModel.length ? { baseModels: opts.baseModel } : {}),
          },
          cli,
        );
        io.out(opts.json ? json(board) : formatLeaderboard(board));
      });
    });

  const run = program.commands.find((c) => c.name() === 'run');
  if (!run) throw new Error('addLeaderboardCommands: add the run command first');
  run
    .command('compare')
    .argument('<a>', 'a run id (ptw run ls)')
    .argument('<b>', 'another run id')
    .description('Two runs side by side: score and metrics, time against budget, GPU, steps, verdicts, prompts')
    .option('--json', 'machine-readable output')
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      await withServices({}, async (s) => {
        const comparison = await s.router.call('runs.compare', { a, b }, cli);
        io.out(opts.json ? json(comparison) : formatComparison(comparison));
      });
    });
}
