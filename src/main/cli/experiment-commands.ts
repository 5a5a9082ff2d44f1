import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ExperimentCell, ExperimentDetail } from '../../shared/contract-experiments';
import { AppError } from '../../shared/errors';
import { formatDuration } from '../../shared/runs/duration';
import type { HostCliIo } from './cli-prompts';
import { json, table, terminalSafe } from './cli-output';
import { addConnectOptions, cli, servicesRunner, type ConnectOptions, type ServicesFactory } from './cli-services';

/**
 * `ptw experiment start FILE | ls | show ID | stop ID | resume ID | rebalance ID` (issue 17; docs/experiments.md): a run matrix
 * queued over several hosts, through the contract router like every other command. `show --json` is the contract
 * scripts use: `{ id, cells: [{ task, agent, model, seed, host, runId, status }] }` and more fields.
 */

function cellNote(c: ExperimentCell): string {
  if (c.status === 'scored') return c.score === null || c.score === undefined ? '' : c.score.toFixed(2);
  if (c.flagged) return 'flagged';
  return c.reason ?? '';
}

export function formatExperiment(e: ExperimentDetail): string {
  let text = `${e.name} (${e.id})${e.stopped ? ' — stopped' : ''}\n`;
  text += `${e.runs} runs, ${formatDuration(e.budgetSeconds)} each, ${e.gpuHours.toFixed(1)} GPU-hours at most\n`;
  for (const h of e.hostStates) {
    if (h.paused) text += `host ${h.name}: paused: ${h.paused}\n`;
    if (h.error) text += `host ${h.name}: not reachable: ${h.error}\n`;
  }
  const counts = new Map<string, number>();
  for (const c of e.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  text += `${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n\n`;
  text += table([
    ['TASK', 'AGENT', 'MODEL', 'SEED', 'HOST', 'RUN', 'STATUS', 'NOTE'],
    ...e.cells.map((c) => [c.task, c.agent, c.model, String(c.seed), c.host, c.runId, c.status, cellNote(c)]),
  ]);
  return terminalSafe(text);
}

export function addExperimentCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const withServices = servicesRunner(io, open);
  const experiment = program
    .command('experiment')
    .description('A run matrix (YAML) queued over the GPUs of several hosts, drained by each host without the app');

  addConnectOptions(
    experiment
      .command('start')
      .argument('<file>', 'the matrix file (YAML: name, tasks, agents, seeds, budget, hosts; docs/experiments.md)')
      .description('Check the matrix, split it over its hosts by free GPUs, queue the runs there; prints the id'),
  ).action(async (file: string, opts: ConnectOptions) => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new AppError('INVALID_INPUT', `Cannot read the matrix file ${file}: ${(err as Error).message}`);
    }
    await withServices(opts, async (s) => {
      const { id } = await s.router.call('experiments.start', { text, file }, cli);
      io.out(opts.json ? json({ id }) : `${id}\n`);
    });
  });

  experiment
    .command('ls')
    .description('The experiments started from here')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withServices({}, async (s) => {
        const list = await s.router.call('experiments.list', {}, cli);
        if (opts.json) return io.out(json(list));
        if (list.length === 0) return io.out('No experiments yet (ptw experiment start FILE).\n');
        io.out(
          terminalSafe(
            table([
              ['ID', 'NAME', 'RUNS', 'GPU-HOURS', 'HOSTS', 'CREATED', ''],
              ...list.map((e) => [
                e.id,
                e.name,
                String(e.runs),
                e.gpuHours.toFixed(1),
                e.hosts.join(','),
                e.createdAt,
                e.stopped ? 'stopped' : '',
              ]),
            ]),
          ),
        );
      });
    });

  const detailCommand = (name: 'show' | 'stop' | 'resume', description: string) =>
    addConnectOptions(experiment.command(name).argument('<id>', 'an experiment id (ptw experiment ls)'))
      .description(description)
      .action(async (id: string, opts: ConnectOptions) => {
        await withServices(opts, async (s) => {
          const command =
            name === 'show' ? 'experiments.get' : name === 'stop' ? 'experiments.stop' : 'experiments.resume';
          const detail = await s.router.call(command, { id }, cli);
          io.out(opts.json ? json(detail) : formatExperiment(detail));
        });
      });
  detailCommand('show', "Every cell's host, run and status, read from the hosts' queues and run folders");
  detailCommand('stop', 'Take back the queued runs and stop the running ones');
  detailCommand('resume', "Queue the taken-back runs again, lift the hosts' pauses, restart the dispatchers");

  addConnectOptions(experiment.command('rebalance').argument('<id>', 'an experiment id (ptw experiment ls)'))
    .description('Move queued (not started) runs to hosts of the matrix with free GPUs and nothing queued')
    .action(async (id: string, opts: ConnectOptions) => {
      await withServices(opts, async (s) => {
        const outcome = await s.router.call('experiments.rebalance', { id }, cli);
        if (opts.json) return io.out(json(outcome));
        const lines = outcome.moved.map((m) => `moved ${m.key}: ${m.from} ${m.fromRunId} -> ${m.to} ${m.runId}`);
        if (lines.length === 0) lines.push(`nothing to move (${outcome.queued} queued)`);
        io.out(terminalSafe(`${[...lines, ...outcome.notes].join('\n')}\n`));
      });
    });
}
