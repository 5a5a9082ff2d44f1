import path from 'node:path';
import { Command, Option } from 'commander';
import { appName, appVersion } from '../app-version';
import { createAppServices } from '../app-services';
import { resolvePtwHome } from '../services/ptw-home';
import { startServeServer } from '../transports/serve-server';
import { addHostCommand } from './host-commands';
import { addRunCommands } from './run-commands';
import { addCkptCommands } from './ckpt-commands';
import { addBundleCommands } from './bundle-commands';
import { addDataCommands } from './data-commands';
import { addHostSetupCommand } from './host-setup-commands';
import { addImportCommands } from './import-commands';
import { addLeaderboardCommands } from './leaderboard-commands';
import { addIntegrityCommands } from './integrity-commands';
import { addExperimentCommands } from './experiment-commands';
import { addReplayCommand } from './replay-commands';
import { terminalSafe } from './cli-output';
import { cli, type ServicesFactory } from './cli-services';
import type { AppServices } from '../app-services';
import type { ServeServer } from '../transports/serve-server';

/** Exit codes shared by every subcommand: 0 ok, 1 a check or run failed, 2 usage or connection error. */
export const exitCodes = { ok: 0, checkFailed: 1, usage: 2 } as const;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Where the built renderer lives relative to the bundled CLI (dist/main/cli.cjs → dist/renderer). */
export function defaultStaticDir(): string {
  return path.resolve(__dirname, '..', 'renderer');
}

export function buildCli(io: CliIo = defaultIo, setExitCode: (code: number) => void = () => undefined): Command {
  const program = new Command('ptw')
    .description(
      `${appName}: run, watch, score and inspect LLM post-training agents on GPU hosts.\nState lives under PTW_HOME (default ~/.posttrain-workbench).`,
    )
    .version(appVersion, '-v, --version')
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  program
    .command('serve')
    .description('Serve the app to a browser on this machine, behind a random token (prints the URL to open)')
    .addOption(
      new Option('--host <host>', 'address to bind; anything but loopback exposes the app to your network').default(
        '127.0.0.1',
      ),
    )
    .addOption(new Option('--port <port>', 'port to bind (0 picks a free one)').default('0').argParser(parsePort))
    .option('--static-dir <dir>', 'built renderer to serve', defaultStaticDir())
    .action(async (opts: { host: string; port: number | string; staticDir: string }) => {
      const home = resolvePtwHome();
      const services = await createAppServices({ home, shell: 'serve' });
      const server = await startServeServer({
        services,
        staticDir: opts.staticDir,
        host: opts.host,
        port: Number(opts.port),
      });
      io.out(`${appName} ${appVersion} is serving (state in ${home}).\n`);
      if (!['127.0.0.1', 'localhost', '::1'].includes(opts.host)) {
        io.err(`Warning: bound to ${opts.host}; anyone who can reach it and has the token controls your hosts.\n`);
      }
      io.out(`Open this URL in a browser:\n\n    ${server.url}\n\nPress Ctrl+C to stop.\n`);
      stopOnSignal(server, services);
    });

  program
    .command('info')
    .description('Show the version and where state lives')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const services = await openCli();
      const info = await services.router.call('app.info', {}, cli);
      const hosts = await services.router.call('hosts.list', {}, cli);
      const runs = await services.router.call('runs.list', {}, cli);
      if (opts.json) {
        io.out(JSON.stringify({ ...info, hosts: hosts.length, runs: runs.length }, null, 2) + '\n');
      } else {
        io.out(`${info.name} ${info.version}\nhome:  ${info.home}\nhosts: ${hosts.length}\nruns:  ${runs.length}\n`);
      }
      await services.dispose();
    });

  const hostIo = { ...io, setExitCode, isInteractive: Boolean(process.stdin.isTTY && process.stderr.isTTY) };
  const hostCommand = addHostCommand(program, hostIo, openCli);
  addHostSetupCommand(hostCommand, hostIo, openCli);
  addRunCommands(program, hostIo, openCli);
  addCkptCommands(program, hostIo, openCli);
  addBundleCommands(program, hostIo, openCli);
  addDataCommands(program, hostIo, openCli);
  addImportCommands(program, hostIo, openCli);
  addLeaderboardCommands(program, hostIo, openCli);
  addIntegrityCommands(program, hostIo, openCli);
  addExperimentCommands(program, hostIo, openCli);
  addReplayCommand(
    program,
    hostIo,
    () => createAppServices({ home: resolvePtwHome(), shell: 'serve' }),
    async (services, key, file) => {
      const server = await startServeServer({ services, staticDir: defaultStaticDir(), host: '127.0.0.1', port: 0 });
      // Beside the token in the fragment (never sent to a server): the page opens this recording.
      io.out(
        `Replaying ${terminalSafe(file)}. Open this URL in a browser:\n\n    ${server.url}&replay=${key}\n\nPress Ctrl+C to stop.\n`,
      );
      stopOnSignal(server, services);
    },
  );

  return program;
}

/** The services of one CLI command: state under PTW_HOME, host questions answered as its flags say. */
const openCli: ServicesFactory = (options) => createAppServices({ home: resolvePtwHome(), shell: 'cli', ...options });

/** A server that runs until Ctrl+C (or SIGTERM): then it closes, the services go, and the process exits. */
function stopOnSignal(server: Pick<ServeServer, 'close'>, services: AppServices): void {
  const stop = (): void => {
    void server
      .close()
      .then(() => services.dispose())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0..65535, got ${value}`);
  return n;
}

/** Entry used by bin/ptw.cjs. Returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const program = buildCli(io, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return exitCodes.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return exitCodes.usage;
    // A message may quote what an agent named (a checkpoint, a path): escaped like every other such output.
    io.err(`ptw: ${terminalSafe(err instanceof Error ? err.message : String(err))}\n`);
    return exitCodes.usage;
  }
}
