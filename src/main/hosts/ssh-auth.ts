import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type AnyAuthMethod, type AuthHandlerMiddleware, type NextAuthHandler, type ParsedKey, utils } from 'ssh2';
import { AppError } from '../../shared/errors';
import type { PassphrasePrompt } from '../../shared/hosts';

/** What `ssh` tries when no IdentityFile is configured (the key types ssh2 can use). */
export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'] as const;

/** ssh stops asking after three wrong passphrases for one key (NumberOfPasswordPrompts); so do we. */
export const MAX_PASSPHRASE_TRIES = 3;

export function expandHome(file: string, homeDir: string): string {
  if (file === '~') return homeDir;
  if (file.startsWith('~/')) return path.join(homeDir, file.slice(2));
  return file;
}

export interface IdentityFile {
  /** Absolute path, `~` expanded. */
  readonly path: string;
  /** Named by the profile (a missing one is worth reporting) rather than one of the defaults. */
  readonly explicit: boolean;
}

/** The profile's identity files, or ssh's defaults when it names none. */
export function identityFilesFor(profileFiles: readonly string[], homeDir: string): IdentityFile[] {
  const explicit = profileFiles.length > 0;
  const files = explicit ? profileFiles : DEFAULT_IDENTITY_FILES;
  const seen = new Set<string>();
  const out: IdentityFile[] = [];
  for (const file of files) {
    const resolved = expandHome(file, homeDir);
    if (seen.has(resolved)) continue;
    seen.add(resolved);
    out.push({ path: resolved, explicit });
  }
  return out;
}

export type ParsedPrivateKey =
  | { readonly status: 'ok'; readonly key: ParsedKey }
  | { readonly status: 'encrypted' }
  | { readonly status: 'bad-passphrase' }
  | { readonly status: 'invalid'; readonly reason: string };

/** ssh2's parseKey, told apart: needs a passphrase, wrong passphrase, not a private key, or a key. */
export function parsePrivateKey(data: Buffer | string, passphrase?: string): ParsedPrivateKey {
  // The typings say ParsedKey | Error; OpenSSH's format can also give an array (one key per file today).
  const parsed = utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error;
  if (parsed instanceof Error) {
    if (passphrase === undefined && /no passphrase given/i.test(parsed.message)) return { status: 'encrypted' };
    if (passphrase !== undefined && /passphrase|integrity check|decrypt/i.test(parsed.message)) {
      return { status: 'bad-passphrase' };
    }
    return { status: 'invalid', reason: parsed.message };
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return { status: 'invalid', reason: 'no key in the file' };
  if (!key.isPrivateKey()) return { status: 'invalid', reason: 'a public key, not a private key' };
  return { status: 'ok', key };
}

/**
 * Decrypted private keys, in memory only, for one connection's life (so an automatic reconnect
 * does not ask again). Passphrases themselves are never kept, on disk or in memory.
 */
export class KeyVault {
  readonly #keys = new Map<string, ParsedKey>();

  get(file: string): ParsedKey | undefined {
    return this.#keys.get(file);
  }

  set(file: string, key: ParsedKey): void {
    this.#keys.set(file, key);
  }

  get size(): number {
    return this.#keys.size;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/** What one authentication attempt offered and skipped, for the AUTH_FAILED message. */
export interface AuthAttemptLog {
  /** Methods offered to the server, in order (`ssh-agent (/run/agent.sock)`, key paths). */
  readonly tried: string[];
  /** Not offered, and why (`/k/id_rsa: not found`). */
  readonly notes: string[];
  /** Encrypted keys skipped because no passphrase was given. */
  readonly passphraseDeclined: string[];
  /** The server's remaining methods when it stopped accepting publickey, if it did. */
  serverMethods: string[] | undefined;
}

export interface AuthHandlerOptions {
  readonly username: string;
  /** The profile's name, shown in the passphrase prompt. */
  readonly hostName: string;
  /** SSH_AUTH_SOCK; tried first when set. */
  readonly agentSocket: string | undefined;
  readonly identityFiles: readonly IdentityFile[];
  readonly vault: KeyVault;
  readonly askPassphrase: (prompt: PassphrasePrompt) => Promise<string | undefined>;
  /** Called around each prompt, so the connect timeout does not run while a person types. */
  readonly onPrompt?: (phase: 'start' | 'end') => void;
  readonly isAborted: () => boolean;
  readonly readKeyFile?: (file: string) => Promise<Buffer>;
}

type Candidate = { kind: 'agent'; socket: string } | { kind: 'file'; file: IdentityFile };

/**
 * ssh2's `authHandler`: the agent first, then each identity file in order, decrypting encrypted
 * keys with a passphrase asked of the user (again, with `retry`, after a wrong one). ssh2 only asks
 * for a method after the host key was accepted, so nothing here runs for a host we refused.
 */
export function createAuthHandler(options: AuthHandlerOptions): {
  authHandler: AuthHandlerMiddleware;
  log: AuthAttemptLog;
} {
  const log: AuthAttemptLog = { tried: [], notes: [], passphraseDeclined: [], serverMethods: undefined };
  const readKeyFile = options.readKeyFile ?? ((file: string) => readFile(file));
  const queue: Candidate[] = [
    ...(options.agentSocket ? [{ kind: 'agent' as const, socket: options.agentSocket }] : []),
    ...options.identityFiles.map((file) => ({ kind: 'file' as const, file })),
  ];
  let index = 0;

  const ask = async (keyPath: string, retry: boolean): Promise<string | undefined> => {
    options.onPrompt?.('start');
    try {
      return await options.askPassphrase({ promptId: randomUUID(), host: options.hostName, keyPath, retry });
    } finally {
      options.onPrompt?.('end');
    }
  };

  const loadKey = async (file: IdentityFile): Promise<ParsedKey | undefined> => {
    const cached = options.vault.get(file.path);
    if (cached) return cached;
    let data: Buffer;
    try {
      data = await readKeyFile(file.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The defaults are only guesses; a missing one is not news.
      if (code === 'ENOENT' && !file.explicit) return undefined;
      log.notes.push(`${file.path}: ${code === 'ENOENT' ? 'not found' : (err as Error).message}`);
      return undefined;
    }
    let parsed = parsePrivateKey(data);
    for (let tries = 0; parsed.status === 'encrypted' || parsed.status === 'bad-passphrase'; tries++) {
      if (tries >= MAX_PASSPHRASE_TRIES) {
        log.notes.push(`${file.path}: ${MAX_PASSPHRASE_TRIES} wrong passphrases`);
        return undefined;
      }
      if (options.isAborted()) return undefined;
      const passphrase = await ask(file.path, parsed.status === 'bad-passphrase');
      if (passphrase === undefined) {
        log.passphraseDeclined.push(file.path);
        return undefined;
      }
      parsed = parsePrivateKey(data, passphrase);
    }
    if (parsed.status === 'invalid') {
      log.notes.push(`${file.path}: not usable (${parsed.reason})`);
      return undefined;
    }
    options.vault.set(file.path, parsed.key);
    return parsed.key;
  };

  const authHandler: AuthHandlerMiddleware = (authsLeft, _partialSuccess, next) => {
    const send = (method: AnyAuthMethod | false): void => {
      if (options.isAborted()) return;
      try {
        // `false` ends authentication (ssh2's documented "no more methods"); the typings omit it.
        (next as (method: Parameters<NextAuthHandler>[0] | false) => void)(method);
      } catch {
        // The connection died while we were reading a key or waiting for a passphrase; its
        // close or error event reports that.
      }
    };
    void (async () => {
      // authsLeft is null on the first call, then the server's remaining methods.
      if (authsLeft && !authsLeft.includes('publickey')) {
        log.serverMethods = [...authsLeft];
        send(false);
        return;
      }
      while (index < queue.length) {
        if (options.isAborted()) return;
        const candidate = queue[index++]!;
        if (candidate.kind === 'agent') {
          log.tried.push(`ssh-agent (${candidate.socket})`);
          send({ type: 'agent', username: options.username, agent: candidate.socket });
          return;
        }
        const key = await loadKey(candidate.file);
        if (key) {
          log.tried.push(candidate.file.path);
          send({ type: 'publickey', username: options.username, key });
          return;
        }
      }
      send(false);
    })().catch((err: unknown) => {
      log.notes.push((err as Error).message);
      send(false);
    });
  };
  return { authHandler, log };
}

/** AUTH_FAILED (or PASSPHRASE_REQUIRED when the only way in was a key left locked), naming user@host and every method. */
export function authFailure(who: string, log: AuthAttemptLog, identityFiles: readonly IdentityFile[]): AppError {
  const notes = log.notes.length > 0 ? ` Not used: ${log.notes.join('; ')}.` : '';
  const server = log.serverMethods
    ? ` The server does not accept public keys (it offers: ${log.serverMethods.join(', ') || 'nothing'}).`
    : '';
  if (log.passphraseDeclined.length > 0) {
    const refused = log.tried.length > 0 ? ` The server refused ${log.tried.join(', ')}.` : '';
    return new AppError(
      'PASSPHRASE_REQUIRED',
      `Could not log in to ${who}: ${log.passphraseDeclined.join(', ')} ${log.passphraseDeclined.length > 1 ? 'are' : 'is'} encrypted and no passphrase was given.${refused}${notes}${server} ` +
        `Enter the key's passphrase when asked, or add the key to ssh-agent (ssh-add).`,
    );
  }
  if (log.tried.length === 0) {
    const looked = identityFiles.map((f) => f.path).join(', ') || 'no identity files';
    return new AppError(
      'AUTH_FAILED',
      `Could not log in to ${who}: no credentials to offer (no ssh-agent: SSH_AUTH_SOCK is not set; no usable private key among ${looked}).${notes}${server} ` +
        `Start ssh-agent and ssh-add your key, or set the key file in the host's profile.`,
    );
  }
  return new AppError(
    'AUTH_FAILED',
    `Could not log in to ${who}: the server refused every method tried (${log.tried.join(', ')}).${notes}${server} ` +
      `Check that your public key is in ~/.ssh/authorized_keys of that user on the host, or set the right key file in the host's profile.`,
  );
}
