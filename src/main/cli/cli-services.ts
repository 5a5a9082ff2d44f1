import type { Command } from 'commander';
import type { CommandInput, CommandName, CommandOutput } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { AppServices } from '../app-services';
import type { ConnectPrompts } from '../hosts/host-service';
import type { CallContext, EventSink } from '../rpc/contract-router';
import { terminalSafe } from './cli-output';
import { cliPrompts, type HostCliIo } from './cli-prompts';

/** The services for one CLI command, with the host prompts answered by its flags or the terminal. */
export type ServicesFactory = (options?: { connectPrompts?: ConnectPrompts }) => Promise<AppServices>;

/** Who the CLI is to the router: one caller, like a window of the app. */
export const cli: CallContext = { peerId: 'cli', transport: 'cli' };

/** The flags every command that connects to a host takes (and `--json`, which most of them take too). */
export interface ConnectOptions {
  acceptNewHostKey?: boolean;
  passphraseEnv?: string;
  json?: boolean;
}

/** Adds {@link ConnectOptions}' flags (and `--json` unless told not to) to a command. */
export function addConnectOptions(command: Command, options: { json?: boolean } = {}): Command {
  const withConnect = command
    .option('--accept-new-host-key', 'trust an unknown host key and remember it (a changed key is still refused)')
    .option('--passphrase-env <var>', 'read an encrypted key’s passphrase from this environment variable');
  return options.json === false ? withConnect : withConnect.option('--json', 'machine-readable output');
}

/** Runs `work` with services opened for this command's flags, and disposes of them after, whatever happens. */
export function servicesRunner(
  io: HostCliIo,
  open: ServicesFactory,
): <T>(opts: ConnectOptions, work: (services: AppServices) => Promise<T>) => Promise<T> {
  return async (opts, work) => {
    const services = await open({ connectPrompts: cliPrompts(io, opts) });
    try {
      return await work(services);
    } finally {
      await services.dispose();
    }
  };
}

/**
 * For a command whose refusals (an AppError other than INTERNAL) exit with their own code: printed as `runCli`
 * prints every other error, which exits 2.
 */
export async function exitOnRefusal(
  io: HostCliIo,
  exitCode: (err: AppError) => number,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof AppError) || err.code === 'INTERNAL') throw err;
    io.err(`ptw: ${terminalSafe(err.message)}\n`);
    io.setExitCode(exitCode(err));
  }
}

/**
 * A contract command through the router, with the events that go out while it runs (to every peer, or to this
 * caller alone, e.g. `runs.followOutput`) handed to `listener`.
 */
export async function callWatching<K extends CommandName>(
  services: Pick<AppServices, 'router' | 'events'>,
  command: K,
  input: CommandInput<K>,
  listener: EventSink,
): Promise<CommandOutput<K>> {
  const detach = services.events.attach(listener, cli.peerId);
  try {
    return await services.router.call(command, input, cli);
  } finally {
    detach();
  }
}
