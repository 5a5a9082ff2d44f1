import type { Command } from 'commander';
import type { PtbImportResult } from '../../shared/contract-trajectory';
import type { HostCliIo } from './cli-prompts';
import { table } from './cli-output';
import { cli, servicesRunner, type ServicesFactory } from './cli-services';

/**
 * `ptw import ptb PATH [--json]`: PostTrainBench result folders (one, or every one under a results tree) as runs in
 * the app, through the same contract command as the Runs screen's import. Prints each run imported (id, task,
 * agent, status, score, steps) and each folder skipped with why. Exit 0 when everything found was imported (or
 * already was), 1 when a folder was skipped for another reason or none was found, 2 when PATH cannot be read.
 */

export function formatPtbImport(result: PtbImportResult): string {
  let out = '';
  if (result.imported.length > 0) {
    out += `Imported ${result.imported.length} ${result.imported.length === 1 ? 'run' : 'runs'}:\n`;
    out += table([
      ['ID', 'FOLDER', 'TASK', 'AGENT', 'STATUS', 'SCORE', 'STEPS'],
      ...result.imported.map((r) => [
        r.id,
        r.folder,
        r.task,
        r.agent,
        r.status,
        r.score === null ? '' : r.score.toFixed(1),
        String(r.steps),
      ]),
    ]);
  } else {
    out += 'Nothing imported.\n';
  }
  for (const s of result.skipped) out += `skipped ${s.folder}: ${s.reason}\n`;
  return out;
}

export function addImportCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const command = program.command('import').description('Bring results recorded elsewhere into the app as runs');
  command
    .command('ptb')
    .description(
      'Import a PostTrainBench result folder, or every result folder under a results tree ' +
        '(trace, metrics, time taken, judge verdicts, diagnostics, error.log’s cause)',
    )
    .argument('<path>', 'a result folder ({task}_{Org}_{Model}_{id}/) or a results tree containing them')
    .option('--json', 'machine-readable output')
    .action(async (target: string, opts: { json?: boolean }) => {
      // PATH that cannot be read is a refusal that reaches runCli: printed, exit 2.
      const result = await servicesRunner(io, open)({}, (s) =>
        s.router.call('trajectory.importPtb', { path: target }, cli),
      );
      io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatPtbImport(result));
      const failed = result.skipped.some((s) => !s.reason.startsWith('already imported'));
      if (failed || (result.imported.length === 0 && result.skipped.length === 0)) io.setExitCode(1);
    });
}
