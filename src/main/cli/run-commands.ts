import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { EventPayload, RunDetail, RunSummary } from '../../shared/contract';
import type { PtbRecord } from '../../shared/contract-trajectory';
import { AGENTS, formatArgvTemplate } from '../../shared/runs/agent-catalog';
import { formatByteSize, formatDuration, parseDuration } from '../../shared/runs/duration';
import { parseModelScript } from '../../shared/runs/model-script';
import { isScriptedAgent, SCRIPTED_SETUP } from '../../shared/runs/scripted-agents';
import { scriptFromClaudeStream } from '../../shared/trajectory/script-from-stream';
import { FINAL_RUN_STATUSES, type RunStatus } from '../../shared/runs/run-status';
import type { HostCliIo } from './cli-prompts';
import { collect, json, table, terminalSafe, usage } from './cli-output';
import {
  addConnectOptions as addConnectFlags,
  callWatching,
  cli,
  servicesRunner,
  type ServicesFactory,
  type ConnectOptions,
} from './cli-services';

/**
 * `ptw task …`, `ptw agent …` and `ptw run …`: the Runs screen's commands through the same router. Exit codes as
 * everywhere: 0 ok, 1 the run failed (or ended unscored), 2 usage, connection or waiting errors.
 */

const addConnectOptions = (command: Command): Command => addConnectFlags(command, { json: false });

/** `--task rehearsal`, `--task gsm8k:Qwen3-4B-Base` or `--task gsm8k --base-model Qwen/Qwen3-4B-Base`. */
export function parseTaskOption(task: string, baseModel?: string): Record<string, unknown> {
  const trimmed = task.trim();
  if (trimmed === 'rehearsal') {
    if (baseModel) throw usage('--base-model is for PostTrainBench tasks; the rehearsal has its own tiny model');
    return { kind: 'rehearsal' };
  }
  const colon = trimmed.indexOf(':');
  const benchmark = colon < 0 ? trimmed : trimmed.slice(0, colon);
  const model = colon < 0 ? baseModel : trimmed.slice(colon + 1);
  if (!model) {
    throw usage(`--task ${trimmed} needs a base model: --task ${benchmark}:Qwen3-4B-Base (or --base-model)`);
  }
  return { kind: 'ptb', benchmark, baseModel: model };
}

/** `0`, `0,1`, `none`. */
export function parseGpusOption(value: string): number[] {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  if (!/^\d+(,\d+)*$/.test(trimmed)) throw usage(`--gpus takes GPU indices such as 0 or 0,1 (or none), not '${value}'`);
  return trimmed.split(',').map(Number);
}

/** `KEY=VALUE` pairs. */
export function parseEnvOptions(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usage(`--env takes KEY=VALUE, not '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

interface StartOptions extends ConnectOptions {
  host?: string;
  task?: string;
  baseModel?: string;
  agent?: string;
  model?: string;
  command?: string;
  budget?: string;
  gpus?: string;
  image?: string;
  label?: string;
  env: string[];
  network?: string;
  /** `--scripted` (true) or `--scripted SCRIPT.json`. */
  scripted?: string | boolean;
  memory?: string;
  shm?: string;
  spec?: string;
  json?: boolean;
}

/** The run spec from `--spec FILE` and the flags (flags win). */
export async function specFromOptions(opts: StartOptions): Promise<Record<string, unknown>> {
  let spec: Record<string, unknown> = {};
  if (opts.spec) {
    try {
      spec = JSON.parse(await readFile(opts.spec, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw usage(`--spec ${opts.spec}: ${(err as Error).message}`);
    }
  }
  if (opts.host) spec.host = opts.host;
  if (opts.task) spec.task = parseTaskOption(opts.task, opts.baseModel);
  if (opts.agent || opts.model || opts.command) {
    const agent = { ...((spec.agent as Record<string, unknown> | undefined) ?? {}) };
    if (opts.agent) agent.id = opts.agent;
    if (opts.model) agent.model = opts.model;
    if (opts.command) {
      try {
        agent.command = JSON.parse(opts.command) as unknown;
      } catch {
        throw usage('--command takes a JSON argv list, e.g. \'["my-agent", "--model", "{model}", "{prompt}"]\'');
      }
    }
    spec.agent = agent;
  }
  if (opts.budget) spec.budgetSeconds = opts.budget;
  if (opts.gpus !== undefined) spec.gpus = parseGpusOption(opts.gpus);
  if (opts.image) spec.image = opts.image;
  if (opts.label) spec.label = opts.label;
  if (opts.env.length > 0) spec.env = { ...((spec.env as Record<string, string>) ?? {}), ...parseEnvOptions(opts.env) };
  if (opts.memory !== undefined || opts.shm !== undefined) {
    spec.limits = {
      ...((spec.limits as Record<string, unknown> | undefined) ?? {}),
      ...(opts.memory !== undefined ? { memoryBytes: opts.memory } : {}),
      ...(opts.shm !== undefined ? { shmBytes: opts.shm } : {}),
    };
  }
  if (opts.network !== undefined) {
    if (opts.network !== 'on' && opts.network !== 'off') throw usage(`--network is on or off, not '${opts.network}'`);
    spec.network = opts.network;
  }
  if (opts.scripted !== undefined && opts.scripted !== false) await applyScripted(spec, opts.scripted);
  if (!spec.host) throw usage('name the host: --host NAME (ptw host ls lists them)');
  if (!spec.task) throw usage('name the task: --task rehearsal, or --task BENCHMARK:BASE_MODEL (ptw task ls --host H)');
  if (!spec.agent) throw usage('name the agent: --agent rehearsal|claude-code|codex|gemini-cli|opencode|custom');
  return spec;
}

/** `--scripted [SCRIPT.json]`: the real CLI against the scripted model (docs/model-script.md). */
async function applyScripted(spec: Record<string, unknown>, file: string | true): Promise<void> {
  const agent = { ...((spec.agent as Record<string, unknown> | undefined) ?? {}) };
  const id = typeof agent.id === 'string' ? agent.id : '';
  if (!isScriptedAgent(id)) {
    throw usage(`--scripted rehearses a real agent CLI: --agent ${Object.keys(SCRIPTED_SETUP).join('|')}`);
  }
  let scripted: Record<string, unknown> = {};
  if (typeof file === 'string') {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw usage(`--scripted ${file}: ${(err as Error).message}`);
    }
    const parsed = parseModelScript(text, file);
    if (!parsed.ok) throw usage(parsed.error);
    if (parsed.script.agent && parsed.script.agent !== id) {
      throw usage(`${file} is a script for ${parsed.script.agent}, not ${id}: its tool calls use that CLI's tools`);
    }
    scripted = { script: parsed.script };
  }
  agent.scripted = scripted;
  agent.model ??= SCRIPTED_SETUP[id].model;
  spec.agent = agent;
}

function iso(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString() : '—';
}

const stopReasonText: Record<string, string> = {
  budget: 'the budget ran out',
  'agent-exited': 'the agent exited',
  'user-stop': 'stopped by the user',
  killed: 'killed by the user',
  'model-problem': 'stopped after the scripted model’s problem',
};

/** One line saying how the run ended (or where it stands). */
export function outcomeLine(run: RunSummary): string {
  const parts = [`run ${run.id} ${run.status}`];
  if (run.status === 'scored' && typeof run.score === 'number') parts.push(`score ${run.score.toFixed(1)}`);
  if (run.stopReason) {
    const ran =
      typeof run.startedAt === 'number' && typeof run.stoppedAt === 'number'
        ? ` after ${formatDuration((run.stoppedAt - run.startedAt) / 1000)}`
        : '';
    parts.push(`${stopReasonText[run.stopReason] ?? run.stopReason}${ran}`);
  }
  if (run.error) parts.push(run.error);
  if (run.syncError) parts.push(`last sync failed: ${run.syncError}`);
  return `${parts.join('; ')}\n`;
}

export function formatRunTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'No runs yet. Try: ptw run start --host H --task rehearsal --agent rehearsal\n';
  return table([
    ['ID', 'HOST', 'STATUS', 'TASK', 'AGENT', 'CREATED', 'SCORE'],
    ...runs.map((r) => [
      r.id,
      r.host,
      r.status + (r.syncError ? ' (stale)' : ''),
      r.task,
      r.agent,
      r.createdAt,
      typeof r.score === 'number' ? r.score.toFixed(1) : '',
    ]),
  ]);
}

export function formatRunDetail(detail: RunDetail): string {
  const s = detail.summary;
  const lines = [
    `Run ${s.id}${s.label ? `  (${s.label})` : ''}`,
    `host:        ${s.host}  ${detail.hostRunDir}`,
    `task:        ${s.task}`,
    `agent:       ${s.agent}${s.agentVersion ? ` (${s.agentVersion})` : ''}`,
    `status:      ${s.status}${s.supervisorAlive === false && !FINAL_RUN_STATUSES.includes(s.status as RunStatus) ? ' (supervisor not heard from)' : ''}`,
    `budget:      ${typeof s.budgetSeconds === 'number' ? formatDuration(s.budgetSeconds) : '—'}`,
    `created:     ${s.createdAt}`,
    `started:     ${iso(s.startedAt)}`,
    `deadline:    ${iso(s.deadline)}`,
    `stopped:     ${iso(s.stoppedAt)}${s.stopReason ? ` (${stopReasonText[s.stopReason] ?? s.stopReason})` : ''}`,
  ];
  const ran = ranSecondsOf(s);
  if (ran !== null) {
    const budget = typeof s.budgetSeconds === 'number' ? ` of ${formatDuration(s.budgetSeconds)} budget` : '';
    lines.push(`ran:         ${formatDuration(ran)}${budget}`);
  }
  const state = detail.state as { exitCode?: number | null; evaluation?: { outcome?: string | null } } | null;
  if (state?.exitCode !== undefined && state.exitCode !== null) lines.push(`exit code:   ${state.exitCode}`);
  if (state?.evaluation?.outcome) lines.push(`evaluation:  ${state.evaluation.outcome}`);
  if (typeof s.score === 'number') lines.push(`score:       ${s.score.toFixed(2)}`);
  if (detail.metrics) {
    const flat = Object.entries(detail.metrics)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k}=${String(v)}`);
    lines.push(`metrics:     ${flat.join(' ')}`);
  }
  if (s.error) lines.push(`error:       ${s.error}`);
  for (const event of detail.events) {
    if (event.type === 'model-endpoint-problem') lines.push(`problem:     scripted model: ${String(event.message)}`);
  }
  const model = detail.finalModel;
  if (model) {
    lines.push(
      `final model: ${model.exists ? `${model.files.length} file(s), ${formatByteSize(model.totalBytes)} (stays on the host)` : (model.reason ?? 'none')}`,
    );
  }
  if (detail.ptb) lines.push(...ptbLines(detail.ptb));
  lines.push(`local:       ${detail.localDir}`);
  lines.push(`synced:      ${iso(s.syncedAt)}${s.syncError ? `  (last sync failed: ${s.syncError})` : ''}`);
  for (const p of detail.problems) lines.push(`problem:     ${p.source}${p.line ? `:${p.line}` : ''}: ${p.message}`);
  return lines.join('\n') + '\n';
}

/** How long the agent ran: stop − start, else what an imported run's source says (time_taken). */
function ranSecondsOf(s: RunSummary): number | null {
  if (typeof s.startedAt === 'number' && typeof s.stoppedAt === 'number')
    return Math.max(0, (s.stoppedAt - s.startedAt) / 1000);
  return typeof s.ranSeconds === 'number' ? s.ranSeconds : null;
}

const visible = terminalSafe;

/** One line per fact an imported PostTrainBench folder gave, each judge's verdict with its justification. */
function ptbLines(ptb: PtbRecord): string[] {
  // Judges and folders are untrusted text: control characters (ESC…) are shown escaped, never sent to the terminal.
  const indent = (text: string) => text.split(/\r?\n/).map(visible).join('\n             ');
  const lines = [
    `ptb folder:  ${visible(ptb.source)}`,
    `time taken:  ${ptb.timeTaken === null ? 'not recorded' : `${visible(ptb.timeTaken)}${ptb.timeTakenSeconds === null ? ' (not read)' : ''}`}`,
    `trace:       ${visible(ptb.trace ?? 'none')}`,
  ];
  if (ptb.errorCause) lines.push(`error.log:   ${visible(ptb.errorCause)}`);
  for (const j of ptb.judgements) {
    const verdict = j.flagged === null ? 'no verdict' : j.flagged ? 'FLAGGED' : 'clean';
    lines.push(`judge:       ${visible(j.check)}: ${verdict} (${visible(j.file)})`);
    if (j.text) lines.push(`             ${indent(j.text)}`);
  }
  if (ptb.judgements.length === 0) lines.push('judge:       no verdict files in the folder');
  for (const p of ptb.problems) lines.push(`ptb problem: ${visible(p)}`);
  return lines;
}

function exitCodeFor(run: RunSummary): number {
  return run.status === 'scored' ? 0 : 1;
}

function timeoutOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseDuration(value);
  if (!parsed.ok) throw usage(`--timeout: ${parsed.message}`);
  return parsed.value * 1000;
}

export function addRunCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const withServices = servicesRunner(io, open);

  // --- ptw task -------------------------------------------------------------------------------------------
  const task = program.command('task').description('Tasks a run can be given');
  addConnectOptions(
    task
      .command('ls')
      .description("List the tasks on a host: its PostTrainBench checkout's benchmarks, and the built-in rehearsal")
      .requiredOption('--host <name>', 'the host whose checkout to read')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ConnectOptions & { host: string; json?: boolean }) => {
    const tasks = await withServices(opts, (s) => s.router.call('catalog.tasks', { name: opts.host }, cli));
    if (opts.json) return io.out(json(tasks));
    io.out(
      table([
        ['TASK', 'KIND', 'NAME', 'GRADER KEYS'],
        ...tasks.map((t) => [
          t.kind === 'rehearsal' ? 'rehearsal' : `${t.benchmark ?? ''}:BASE_MODEL`,
          t.kind,
          t.displayName,
          t.requiredApiKeys.join(', '),
        ]),
      ]),
    );
  });

  // --- ptw agent ------------------------------------------------------------------------------------------
  const agent = program.command('agent').description('Agents a run can start');
  agent
    .command('ls')
    .description('List the agents, how each is invoked, and whether its key is set')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withServices({}, async (s) =>
        Promise.all(
          AGENTS.map(async (a) => {
            const names = a.credentials.flatMap((c) => c.secretNames);
            const { secrets: status } = await s.router.call('secrets.status', { names }, cli);
            const available = status.find((x) => x.source !== null);
            return {
              id: a.id,
              label: a.label,
              binary: a.binary,
              command: a.argv ? formatArgvTemplate(a.argv) : null,
              streamFormat: a.streamFormat,
              modelRequired: a.modelRequired,
              exampleModels: a.exampleModels,
              credentials: a.credentials.map((c) => ({
                env: c.env,
                label: c.label,
                secretNames: c.secretNames,
                source: status.find((x) => c.secretNames.includes(x.name) && x.source !== null)?.source ?? null,
              })),
              keyAvailable: a.credentials.length === 0 ? true : available !== undefined,
            };
          }),
        ),
      );
      if (opts.json) return io.out(json(rows));
      io.out(
        table([
          ['AGENT', 'NAME', 'KEY', 'MODELS'],
          ...rows.map((r) => [
            r.id,
            r.label,
            r.credentials.length === 0
              ? 'none needed'
              : r.keyAvailable
                ? `set (${r.credentials.find((c) => c.source)?.source ?? ''})`
                : `missing: ${r.credentials.map((c) => `PTW_SECRET_${c.secretNames[0]}`).join(' or ')}`,
            r.exampleModels.join(', '),
          ]),
        ]),
      );
    });
  agent
    .command('script-from-trace')
    .description(
      'Print a model script (docs/model-script.md) replaying the assistant turns of a Claude Code stream-json trace ' +
        "(a run's agent-stream.jsonl, or PostTrainBench's solve_out.txt); use it with ptw run start --scripted FILE",
    )
    .argument('<trace>')
    .action(async (trace: string) => {
      let text: string;
      try {
        text = await readFile(trace, 'utf8');
      } catch (err) {
        throw usage(`${trace}: ${(err as Error).message}`);
      }
      const made = scriptFromClaudeStream(text, trace);
      if (!made.ok) throw usage(made.error);
      io.out(json(made.script));
    });

  // --- ptw run --------------------------------------------------------------------------------------------
  const run = program.command('run').description('Start, list, watch and control runs');

  addConnectOptions(
    run
      .command('start')
      .description(
        'Launch a run on a host; prints its id. It goes on without this process (ptw run watch ID follows it)',
      )
      .option('--host <name>', 'the host to run on')
      .option('--task <task>', 'rehearsal, or BENCHMARK:BASE_MODEL (e.g. gsm8k:Qwen3-4B-Base)')
      .option('--base-model <model>', 'the base model for a benchmark task (instead of BENCHMARK:BASE_MODEL)')
      .option('--agent <agent>', 'rehearsal, claude-code, codex, gemini-cli, opencode or custom')
      .option('--model <model>', "the agent's model, e.g. claude-opus-4-6")
      .option('--command <json>', 'for --agent custom: the argv as JSON, with {model}, {prompt}, {prompt_file}')
      .option('--budget <duration>', 'time budget, e.g. 10h, 90m, 20s (rehearsal: 5m, else 10h)')
      .option('--gpus <list>', 'GPU indices, e.g. 0 or 0,1 (default: the first free one; the rehearsal needs none)')
      .option('--image <image>', "the sandbox image (default: the host's first required image)")
      .option('--label <text>', 'a note for lists')
      .option('--env <KEY=VALUE>', 'extra non-secret environment for the agent (repeatable)', collect, [])
      .option('--network <on|off>', 'internet access for the agent (rehearsal: off, else on)')
      .option(
        '--scripted [script]',
        'rehearse the real agent CLI against a scripted model (docs/model-script.md); default: its rehearsal script',
      )
      .option('--memory <size>', "the sandbox's memory limit, e.g. 64g (default: its GPUs' share of the host's RAM)")
      .option('--shm <size>', "the sandbox's /dev/shm, e.g. 16g (default: half the memory limit, at most 16g)")
      .option('--spec <file>', 'a run spec as JSON; the flags above override its fields')
      .option('--json', 'print the run summary as JSON instead of the id'),
  ).action(async (opts: StartOptions) => {
    const spec = await specFromOptions(opts);
    const { warnings = [], ...summary } = await withServices(opts, (s) => s.router.call('runs.start', { spec }, cli));
    for (const w of warnings) io.err(`warning: ${w}\n`);
    io.out(opts.json ? json(summary) : `${summary.id}\n`);
    if (summary.status === 'failed') {
      io.err(`ptw: the run could not start: ${summary.error ?? 'see ptw run show ' + summary.id}\n`);
      io.setExitCode(1);
    } else if (!opts.json) {
      io.err(`Started on ${summary.host}. Follow it with: ptw run watch ${summary.id}\n`);
    }
  });

  addConnectOptions(
    run
      .command('ls')
      .description('List runs: those recorded here and, unless --no-sync, any found on your hosts')
      .option('--no-sync', 'list the local records only, without asking the hosts')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: ConnectOptions & { sync: boolean; json?: boolean }) => {
    const runs = await withServices(opts, async (s) => {
      if (opts.sync) {
        for (const report of await s.router.call('runs.discover', {}, cli)) {
          if (report.error !== undefined) io.err(`${report.host}: ${report.error}\n`);
          else for (const p of report.problems) io.err(`${report.host}: ${p}\n`);
        }
      }
      return s.router.call('runs.list', {}, cli);
    });
    io.out(opts.json ? json(runs) : formatRunTable(runs));
  });

  addConnectOptions(
    run
      .command('show')
      .description('Show a run: status, times, stop reason, metrics (synced from the host first when it answers)')
      .argument('<id>')
      .option('--no-sync', 'show the local record without asking the host')
      .option('--json', 'machine-readable output'),
  ).action(async (id: string, opts: ConnectOptions & { sync: boolean; json?: boolean }) => {
    const detail = await withServices(opts, (s) => s.router.call('runs.get', { id, sync: opts.sync }, cli));
    if (detail.summary.syncError) io.err(`note: showing the local record; ${detail.summary.syncError}\n`);
    io.out(opts.json ? json(detail) : formatRunDetail(detail));
  });

  const follow =
    (watch: boolean) => async (id: string, opts: ConnectOptions & { timeout?: string; json?: boolean }) => {
      const timeoutMs = timeoutOption(opts.timeout);
      const summary = await withServices(opts, (s) =>
        callWatching(
          s,
          'runs.follow',
          { id, output: watch, ...(timeoutMs === undefined ? {} : { timeoutMs }) },
          (event, payload) => {
            if (event === 'runs.followOutput') io.out((payload as EventPayload<'runs.followOutput'>).data);
            else if (event === 'runs.followNote') io.err(`ptw: ${(payload as EventPayload<'runs.followNote'>).text}\n`);
          },
        ),
      );
      if (opts.json) io.out(json(summary));
      io.err(outcomeLine(summary));
      io.setExitCode(exitCodeFor(summary));
    };

  addConnectOptions(
    run
      .command('watch')
      .description(
        "Print the run's terminal from the beginning as it arrives, until the run has ended (exit 0 scored, 1 not)",
      )
      .argument('<id>')
      .option('--timeout <duration>', 'give up waiting after this long (exit 2)'),
  ).action(follow(true));

  addConnectOptions(
    run
      .command('wait')
      .description('Wait until the run has ended and its record is complete (exit 0 scored, 1 not, 2 gave up)')
      .argument('<id>')
      .option('--timeout <duration>', 'give up waiting after this long (exit 2)')
      .option('--json', 'print the final summary as JSON'),
  ).action(follow(false));

  const controls = [
    {
      action: 'stop',
      doing: 'Stopping',
      description: 'Stop the agent (SIGTERM, SIGKILL after the grace period); the evaluation still runs',
      json: 'print the run summary as JSON',
    },
    { action: 'kill', doing: 'Killing', description: 'Kill the agent at once (SIGKILL)', json: 'JSON output' },
  ] as const;
  for (const { action, doing, description, json: jsonHelp } of controls) {
    addConnectOptions(run.command(action).description(description).argument('<id>').option('--json', jsonHelp)).action(
      async (id: string, opts: ConnectOptions): Promise<void> => {
        const summary = await withServices(opts, (s) => s.router.call(`runs.${action}`, { id }, cli));
        io.out(opts.json ? json(summary) : `${doing} ${id}: the supervisor confirmed.\n`);
      },
    );
  }
  addConnectOptions(
    run
      .command('extend')
      .description('Give the agent more time, e.g. ptw run extend ID 30m')
      .argument('<id>')
      .argument('<duration>')
      .option('--json', 'print the run summary as JSON'),
  ).action(async (id: string, duration: string, opts: ConnectOptions) => {
    const parsed = parseDuration(duration);
    if (!parsed.ok) throw usage(parsed.message);
    const summary = await withServices(opts, (s) => s.router.call('runs.extend', { id, seconds: parsed.value }, cli));
    io.out(
      opts.json
        ? json(summary)
        : `Extended ${id} by ${formatDuration(parsed.value)}: the deadline is now ${iso(summary.deadline)}.\n`,
    );
  });
}
