import type { Command } from 'commander';
import type {
  IntegrityEvidence,
  IntegrityJudge,
  IntegrityModels,
  IntegrityState,
} from '../../shared/contract-integrity';
import { flagKey, verdictExitCode } from '../../shared/integrity/integrity-verdict';
import { parseModelPairArg } from '../../shared/integrity/model-pairs';
import { judgeBeside } from '../../shared/integrity/ptb-judge';
import type { HostCliIo } from './cli-prompts';
import { collect, json, table, terminalSafe, usage } from './cli-output';
import { addConnectOptions, servicesRunner, type ServicesFactory, cli, type ConnectOptions } from './cli-services';

/**
 * `ptw integrity check|show|decide|models|judge`: the Integrity tab's commands, in-process through the router. `check` runs the
 * checks where the run is (its host; this machine for an imported run) and prints `{ run, verdict, flags, checks }`
 * with --json. Exit codes: 0 clean, 1 flagged, 2 could not check (a check not run, usage, connection).
 * Everything in a flag came from the agent's files: printed through terminalSafe.
 */

interface CheckOptions extends ConnectOptions {
  references?: string;
  testSets?: string;
  ptbCheckout?: string;
}

const safe = terminalSafe;

function evidenceLine(e: IntegrityEvidence): string[] {
  const where = e.file ? `${e.file}${e.line ? `:${e.line}` : ''}` : '';
  if (e.type === 'test-item') {
    const pct = (x: unknown): string => (typeof x === 'number' ? `${Math.round(x * 100)}%` : '—');
    return [
      `${where}  item ${e.item ?? '?'}${e.itemId ? ` (${e.itemId})` : ''}: ${pct(e.coverage)} covered, IDF 5-gram ${pct(e.idf5)}`,
      `    item:    ${(e.itemText ?? '').replace(/\s+/g, ' ').slice(0, 160)}`,
      `    matched: ${(e.span ?? '').slice(0, 160)}`,
    ];
  }
  const head = [where, e.why ?? ''].filter(Boolean).join('  ');
  const body = (e.text ?? '').split('\n').slice(0, 40);
  return [...(head ? [head] : []), ...body.map((l) => `    ${l}`)];
}

export function formatIntegrity(state: IntegrityState): string {
  const record = state.record;
  if (!record) return `No integrity pass for ${state.runId} yet (ptw integrity check ${state.runId}).\n`;
  const v = record.verdict;
  const decided = new Map(state.decisions.map((d) => [d.flag, d]));
  const lines = [
    `run:      ${v.run}`,
    `verdict:  ${v.verdict.toUpperCase()}`,
    `checked:  ${new Date(record.checkedAt).toISOString()} (${record.where}, ${record.seconds.toFixed(1)} s) over ${record.source}`,
    '',
    ...v.checks.map((c) => `${c.status.padEnd(8)} ${c.kind.padEnd(19)} ${c.reason}`),
  ];
  for (const flag of v.flags) {
    const key = flagKey(flag);
    const d = decided.get(key);
    lines.push(
      '',
      `[${flag.severity}] ${flag.kind}: ${flag.summary}`,
      `    flag ${key}${d ? ` — ${d.decision}${d.note ? `: ${d.note}` : ''}` : ''}`,
    );
    for (const e of flag.evidence.slice(0, 10)) lines.push(...evidenceLine(e).map((l) => `  ${l}`));
    if (flag.evidence.length > 10) lines.push(`  (${flag.evidence.length - 10} more; --json lists them)`);
  }
  if (record.skippedCount > 0) {
    lines.push('', `${record.skippedCount} file(s) not read:`);
    for (const s of record.skipped.slice(0, 20)) lines.push(`  ${s.file}: ${s.reason}`);
  }
  for (const j of state.judge) {
    lines.push(
      `PostTrainBench judge ${j.file}: ${j.flagged === null ? 'no verdict' : j.flagged ? 'FLAGGED' : 'clean'}`,
    );
  }
  return safe(lines.join('\n')) + '\n';
}

export function formatModels(models: IntegrityModels): string {
  const rows = models.pairs.map((p) => [p.base, p.instruct, p.source]);
  return `${terminalSafe(table([['BASE', 'INSTRUCT', 'SOURCE'], ...rows]))}user pairs are kept in ${models.file}\n`;
}

/** The judge's verdicts beside our checks; a disagreement is marked. */
export function formatJudge(judge: IntegrityJudge, state: IntegrityState): string {
  const lines: string[] = [];
  if (judge.ran) {
    lines.push(
      `PostTrainBench judge (${judge.ran.model}) ran ${new Date(judge.ran.at).toISOString()}, exit ${judge.ran.exitCode ?? 'signal'}`,
    );
    if (judge.ran.note) lines.push(...judge.ran.note.split('\n').map((l) => `    ${l}`));
  }
  if (judge.entries.length === 0) lines.push(`No judge verdict for ${judge.runId}.`);
  for (const row of judgeBeside(state.record?.verdict ?? null, judge.entries)) {
    const theirs = row.entry.flagged === null ? 'no verdict' : row.entry.flagged ? 'FLAGGED' : 'clean';
    const ours = row.ours ? `ours (${row.ours.kind}): ${row.ours.says}` : 'no check of ours answers it';
    lines.push(
      `${row.disagrees ? '≠ ' : '  '}${row.entry.check}: judge ${theirs}; ${ours}  [${row.entry.source} ${row.entry.file}]`,
    );
    if (row.entry.problem) lines.push(`    ${row.entry.problem}`);
  }
  return safe(lines.join('\n')) + '\n';
}

export function addIntegrityCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const withServices = servicesRunner(io, open);
  const integrity = program
    .command('integrity')
    .description('Reward-hacking checks: contamination, model substitution, evaluation tampering, API misuse');

  addConnectOptions(
    integrity
      .command('check')
      .argument('<run>', 'run id (ptw run ls)')
      .description(
        'Run every check where the run is (its host, or here for an imported run); exit 0 clean, 1 flagged, 2 could not check',
      )
      .option('--references <dir>', 'a Hugging Face cache holding the base and instruct models')
      .option('--test-sets <dir>', 'a folder of <benchmark>.jsonl|parquet test sets')
      .option('--ptb-checkout <dir>', 'a PostTrainBench checkout (clean task files, test data where shipped)'),
  ).action(async (run: string, opts: CheckOptions) => {
    const state = await withServices(opts, (s) =>
      s.router.call(
        'integrity.check',
        {
          id: run,
          ...(opts.references ? { references: opts.references } : {}),
          ...(opts.testSets ? { testSets: opts.testSets } : {}),
          ...(opts.ptbCheckout ? { ptbCheckout: opts.ptbCheckout } : {}),
        },
        cli,
      ),
    );
    const verdict = state.record!.verdict;
    io.out(opts.json ? json(verdict) : formatIntegrity(state));
    io.setExitCode(verdictExitCode(verdict.verdict));
  });

  addConnectOptions(
    integrity.command('show').argument('<run>', 'run id').description('The last verdict, decisions and judge files'),
  ).action(async (run: string, opts: ConnectOptions) => {
    const state = await withServices(opts, (s) => s.router.call('integrity.get', { id: run }, cli));
    io.out(opts.json ? json(state) : formatIntegrity(state));
    io.setExitCode(state.record ? verdictExitCode(state.record.verdict.verdict) : 2);
  });

  integrity
    .command('models')
    .description('The base ↔ instruct table the model-substitution check compares final_model against')
    .option('--add <pair>', 'add or replace a pair, BASE=INSTRUCT (ORG/NAME each; repeatable)', collect, [])
    .option('--remove <base>', 'remove a pair you added (repeatable)', collect, [])
    .option('--json', 'machine-readable output')
    .action(async (opts: { add: string[]; remove: string[]; json?: boolean }) => {
      const add = opts.add.map((arg) => {
        try {
          return parseModelPairArg(arg);
        } catch (err) {
          throw usage(`--add: ${(err as Error).message}`);
        }
      });
      const models = await withServices({}, (s) =>
        s.router.call('integrity.models', { add, remove: opts.remove }, cli),
      );
      io.out(opts.json ? json(models) : formatModels(models));
    });

  addConnectOptions(
    integrity
      .command('judge')
      .argument('<run>', 'run id')
      .option(
        '--run',
        "run PostTrainBench's judge now, on the run's host (sends the workspace to OpenAI; needs CODEX_API_KEY)",
      )
      .description(
        "Optional: PostTrainBench's own LLM judge beside our verdict (its files, or a run of it on the host)",
      ),
  ).action(async (run: string, opts: ConnectOptions & { run?: boolean }) => {
    const [judge, state] = await withServices(opts, async (s) => [
      await s.router.call(opts.run ? 'integrity.runJudge' : 'integrity.judge', { id: run }, cli),
      await s.router.call('integrity.get', { id: run }, cli),
    ]);
    io.out(opts.json ? json(judge) : formatJudge(judge, state));
  });

  integrity
    .command('decide')
    .argument('<run>', 'run id')
    .argument('<flag>', 'the flag as `ptw integrity show` names it (kind:hash)')
    .argument('<decision>', 'confirmed, dismissed, or clear')
    .option('--note <text>', 'why', '')
    .option('--json', 'machine-readable output')
    .description('Record a person’s decision on a flag, with a note (kept in the local record)')
    .action(async (run: string, flag: string, decision: string, opts: { note: string; json?: boolean }) => {
      if (!['confirmed', 'dismissed', 'clear'].includes(decision)) {
        throw usage(`the decision is confirmed, dismissed or clear, not '${decision}'`);
      }
      const state = await withServices({}, (s) =>
        s.router.call(
          'integrity.decide',
          {
            id: run,
            flag,
            decision: decision === 'clear' ? null : (decision as 'confirmed' | 'dismissed'),
            note: opts.note,
          },
          cli,
        ),
      );
      io.out(opts.json ? json(state) : formatIntegrity(state));
    });
}
