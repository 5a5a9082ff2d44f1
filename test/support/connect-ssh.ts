import { Client, type ConnectConfig } from 'ssh2';

/** The SSH connection failed before it was ready; `level` is ssh2's stage (e.g. `client-authentication`). */
export class SshConnectError extends Error {
  readonly address: string;
  readonly level: string | undefined;

  constructor(address: string, message: string, options: { cause?: unknown; level?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SshConnectError';
    this.address = address;
    this.level = options.level;
  }
}

/**
 * Opens an SSH connection and resolves once it is authenticated. Minimal on purpose: the
 * connection manager replaces it. After it resolves, the caller owns the client and must
 * listen for its 'error' (an unhandled one would crash the process) and call `end()`.
 */
export function connectSsh(config: ConnectConfig): Promise<Client> {
  const address = `${config.host ?? 'localhost'}:${config.port ?? 22}`;
  const client = new Client();
  return new Promise<Client>((resolve, reject) => {
    const cleanup = (): void => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onReady = (): void => {
      cleanup();
      resolve(client);
    };
    const onError = (err: Error & { level?: string }): void => {
      cleanup();
      // Keep a listener: ssh2 can emit a second error while tearing the socket down.
      client.on('error', () => {});
      client.end();
      reject(
        new SshConnectError(address, `SSH connection to ${address} failed: ${err.message}`, {
          cause: err,
          ...(err.level === undefined ? {} : { level: err.level }),
        }),
      );
    };
    const onClose = (): void => {
      cleanup();
      reject(new SshConnectError(address, `SSH connection to ${address} closed before it was ready`));
    };
    client.on('ready', onReady).on('error', onError).on('close', onClose);
    try {
      client.connect(config);
    } catch (err) {
      // ssh2 throws synchronously for bad config, e.g. an unparsable private key.
      onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
