import path from 'node:path';
import type { Command } from 'commander';
import { formatByteSize } from '../../shared/runs/duration';
import type { AppError } from '../../shared/errors';
import type { AppServices } from '../app-services';
import type { HostCliIo } from './cli-prompts';
import { json } from './cli-output';
import { cli, exitOnRefusal, servicesRunner, type ServicesFactory } from './cli-services';

/**
 * `ptw bundle export ID FILE` and `ptw bundle import FILE`: a run as one file (format in runs/run-bundle.ts), through
 * the same contract commands as the app. Exit 0 done, 1 refused (the run or the bundle is not fit: the message says
 * which entry and why), 2 usage.
 */

/** A bundle that is not fit exits 1; a bad path 2. */
const refusalExit = (err: AppError): number =>
  err.code === 'INVALID_INPUT' && /^Invalid input/.test(err.message) ? 2 : 1;

export function addBundleCommands(program: Command, io: HostCliIo, open: ServicesFactory): void {
  const bundle = program.command('bundle').description('Export a run as one file, or import one');

  const withServices = servicesRunner(io, open);
  const attempt = (work: (services: AppServices) => Promise<void>): Promise<void> =>
    exitOnRefusal(io, refusalExit, () => withServices({}, work));

  bundle
    .command('export')
    .description(
      "Write a run's record (terminal cast, agent stream, events, GPU samples, evaluation, final_model manifest) " +
        'as one .ptwrun.tar.gz with a manifest of SHA-256 hashes; keys are redacted again on the way out',
    )
    .argument('<id>', 'the run')
    .argument('<file>', 'the bundle to write (never overwritten)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, file: string, opts: { json?: boolean }) => {
      await attempt(async (services) => {
        const result = await services.router.call('bundle.export', { id, file: path.resolve(file) }, cli);
        if (opts.json) return io.out(json(result));
        io.out(`${result.file}\n`);
        io.err(
          `Exported ${id}: ${result.files} files, ${formatByteSize(result.bytes)}, sha256 ${result.sha256}` +
            (result.redactedSecretNames.length ? ` (redacted again: ${result.redactedSecretNames.join(', ')})` : '') +
            '\n',
        );
      });
    });

  bundle
    .command('import')
    .description('Import a run bundle as a run with no host (every hash checked; an existing run is never replaced)')
    .argument('<file>', 'the bundle to read')
    .option('--json', 'machine-readable output')
    .action(async (file: string, opts: { json?: boolean }) => {
      await attempt(async (services) => {
        const result = await services.router.call('bundle.import', { file: path.resolve(file) }, cli);
        if (opts.json) return io.out(json(result));
        io.out(`${result.id}\n`);
        io.err(
          `Imported ${result.id} (${result.files} files) into ${result.localDir}. See it with: ptw run show ${result.id}\n`,
        );
      });
    });
}
