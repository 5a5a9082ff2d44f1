import readline from 'node:readline';
import type { HostKeyDecision } from '../../shared/hosts';
import type { ConnectPrompts } from '../hosts/host-service';

/** What every `ptw` command writes to and how it ends. */
export interface HostCliIo {
  out(text: string): void;
  err(text: string): void;
  /** Exit code for the command that just ran (commander actions cannot return one). */
  setExitCode(code: number): void;
  isInteractive: boolean;
}

/** Host-key and passphrase questions answered by flags, or on the terminal when there is one. */
export function cliPrompts(
  io: Pick<HostCliIo, 'err' | 'isInteractive'>,
  opts: { acceptNewHostKey?: boolean; passphraseEnv?: string },
): ConnectPrompts {
  return {
    async confirmHostKey(prompt): Promise<HostKeyDecision> {
      io.err(
        `The authenticity of host '${prompt.address}' can't be established.\n${prompt.keyType} key fingerprint is ${prompt.fingerprint}.\n`,
      );
      if (opts.acceptNewHostKey) {
        io.err('Accepted (--accept-new-host-key) and remembered in the app’s known_hosts.\n');
        return 'always';
      }
      if (io.isInteractive) {
        const answer = await ask('Trust this key and remember it? [y/N] ', false);
        if (/^y(es)?$/i.test(answer.trim())) return 'always';
      } else {
        io.err(
          'Refused. Verify the fingerprint with the host’s administrator, then re-run with --accept-new-host-key.\n',
        );
      }
      return 'refuse';
    },
    async askPassphrase(prompt): Promise<string | undefined> {
      if (opts.passphraseEnv) {
        const value = process.env[opts.passphraseEnv];
        if (value === undefined) io.err(`--passphrase-env ${opts.passphraseEnv}: that variable is not set.\n`);
        // Asking again with the same wrong value would loop: give up on this key instead.
        return prompt.retry ? undefined : value;
      }
      if (!io.isInteractive) return undefined;
      return ask(`${prompt.retry ? 'Wrong passphrase. ' : ''}Passphrase for ${prompt.keyPath}: `, true);
    },
  };
}

/** Reads a line from the terminal; `hidden` keeps a passphrase off the screen. */
function ask(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(question)) write(s);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer);
    });
  });
}
