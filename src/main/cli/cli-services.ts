import type { Command } from 'commander';
import type { AppServices } from '../app-services';
import type { ConnectPrompts } from '../hosts/host-service';
import { cliPrompts, type HostCliIo } from './host-commands';

/** The services for one CLI command, with the host prompts answered by its flags or the terminal. */
export type ServicesFactory = (options?: { connectPrompts?: ConnectPrompts }) => Promise<AppServices>;

/** The flags every command that connects to a host takes. */
export interface ConnectOptions {
  acceptNewHostKey?: boolean;
  passphraseEnv?: string;
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
