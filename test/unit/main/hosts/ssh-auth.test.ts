import path from 'node:path';
import { type AuthenticationType, type AuthHandlerMiddleware, type ParsedKey, utils } from 'ssh2';
import { describe, expect, it, vi } from 'vitest';
import {
  authFailure,
  createAuthHandler,
  DEFAULT_IDENTITY_FILES,
  expandHome,
  identityFilesFor,
  KeyVault,
  parsePrivateKey,
} from '../../../../src/main/hosts/ssh-auth';
import type { PassphrasePrompt } from '../../../../src/shared/hosts';

/**
 * A key pair that ssh2 reads back: about 3 in 1,000 encrypted ed25519 keys that ssh2's own generator writes fail its
 * parser with "Malformed OpenSSH private key" even with the right passphrase (a generator quirk, not ours), which made
 * this file fail now and then. Generated again until it reads (the fixture, not what is tested, is regenerated).
 */
function readableKeyPair(
  options: Parameters<typeof utils.generateKeyPairSync>[1],
  passphrase?: string,
): {
  private: string;
  public: string;
} {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', options);
    if (!(utils.parseKey(pair.private, passphrase) instanceof Error)) return pair;
  }
  throw new Error('ssh2 could not generate a key pair it can read back');
}

// One bcrypt round: the format of a real encrypted key, without the deliberate slowness.
const plain = readableKeyPair({ comment: 'plain' });
const encrypted = readableKeyPair({ passphrase: 'right', cipher: 'aes256-ctr', rounds: 1 }, 'right');

describe('identity files', () => {
  it('uses ssh defaults under HOME when the profile names none', () => {
    expect(DEFAULT_IDENTITY_FILES).toEqual(['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa']);
    expect(identityFilesFor([], '/home/me')).toEqual([
      { path: '/home/me/.ssh/id_ed25519', explicit: false },
      { path: '/home/me/.ssh/id_ecdsa', explicit: false },
      { path: '/home/me/.ssh/id_rsa', explicit: false },
    ]);
  });

  it('expands ~ in the profile files, keeps their order and drops repeats', () => {
    expect(expandHome('~', '/h')).toBe('/h');
    expect(expandHome('~other/x', '/h')).toBe('~other/x');
    expect(identityFilesFor(['~/.ssh/work', '/keys/a', path.join('/h', '.ssh/work')], '/h')).toEqual([
      { path: '/h/.ssh/work', explicit: true },
      { path: '/keys/a', explicit: true },
    ]);
  });
});

describe('parsePrivateKey', () => {
  it('tells a key, a locked key, a wrong passphrase and a non-key apart', () => {
    expect(parsePrivateKey(plain.private).status).toBe('ok');
    expect(parsePrivateKey(encrypted.private)).toEqual({ status: 'encrypted' });
    expect(parsePrivateKey(encrypted.private, 'wrong')).toEqual({ status: 'bad-passphrase' });
    const unlocked = parsePrivateKey(encrypted.private, 'right');
    expect(unlocked.status).toBe('ok');
    expect(parsePrivateKey(plain.public)).toMatchObject({
      status: 'invalid',
      reason: expect.stringMatching(/public key/),
    });
    expect(parsePrivateKey('not a key')).toMatchObject({ status: 'invalid' });
  });
});

type Sent = AuthenticationType | { type: string; username: string; agent?: unknown; key?: ParsedKey } | false;

/** Calls the handler as ssh2 does and resolves with the method it picks next. */
function step(handler: AuthHandlerMiddleware, authsLeft: AuthenticationType[] | null): Promise<Sent> {
  return new Promise((resolve) => {
    const returned = handler(authsLeft as AuthenticationType[], false, resolve as (m: unknown) => void);
    expect(returned).toBeUndefined();
  });
}

function files(contents: Record<string, string>): (file: string) => Promise<Buffer> {
  return async (file) => {
    const text = contents[file];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return Buffer.from(text);
  };
}

describe('createAuthHandler', () => {
  it('offers the agent, then each usable key, asking again after a wrong passphrase', async () => {
    const askPassphrase = vi.fn<(p: PassphrasePrompt) => Promise<string | undefined>>();
    askPassphrase.mockResolvedValueOnce('wrong').mockResolvedValueOnce('right');
    const phases: string[] = [];
    const vault = new KeyVault();
    const { authHandler, log } = createAuthHandler({
      username: 'me',
      hostName: 'gpu',
      agentSocket: '/run/agent.sock',
      identityFiles: [
        { path: '/k/missing', explicit: true },
        { path: '/k/locked', explicit: true },
        { path: '/k/public', explicit: true },
        { path: '/k/plain', explicit: true },
      ],
      vault,
      askPassphrase,
      onPrompt: (phase) => phases.push(phase),
      isAborted: () => false,
      readKeyFile: files({ '/k/locked': encrypted.private, '/k/public': plain.public, '/k/plain': plain.private }),
    });

    expect(await step(authHandler, null)).toEqual({ type: 'agent', username: 'me', agent: '/run/agent.sock' });
    const second = await step(authHandler, ['publickey']);
    expect(second).toMatchObject({ type: 'publickey', username: 'me' });
    expect(askPassphrase.mock.calls.map(([p]) => [p.host, p.keyPath, p.retry])).toEqual([
      ['gpu', '/k/locked', false],
      ['gpu', '/k/locked', true],
    ]);
    expect(phases).toEqual(['start', 'end', 'start', 'end']);
    expect(vault.get('/k/locked')).toBe((second as { key: ParsedKey }).key);
    expect(await step(authHandler, ['publickey'])).toMatchObject({ type: 'publickey', key: expect.anything() });
    expect(await step(authHandler, ['publickey'])).toBe(false);

    expect(log.tried).toEqual(['ssh-agent (/run/agent.sock)', '/k/locked', '/k/plain']);
    expect(log.notes).toEqual(['/k/missing: not found', '/k/public: not usable (a public key, not a private key)']);
  });

  it('reuses a key decrypted earlier in the connection without asking', async () => {
    const vault = new KeyVault();
    const unlocked = parsePrivateKey(encrypted.private, 'right');
    if (unlocked.status !== 'ok') throw new Error('fixture');
    vault.set('/k/locked', unlocked.key);
    const askPassphrase = vi.fn(async () => 'right');
    const { authHandler } = createAuthHandler({
      username: 'me',
      hostName: 'gpu',
      agentSocket: undefined,
      identityFiles: [{ path: '/k/locked', explicit: true }],
      vault,
      askPassphrase,
      isAborted: () => false,
      readKeyFile: files({}),
    });
    expect(await step(authHandler, null)).toMatchObject({ key: unlocked.key });
    expect(askPassphrase).not.toHaveBeenCalled();
    vault.clear();
    expect(vault.size).toBe(0);
  });

  it('skips a key whose passphrase is not given, and gives up after three wrong ones', async () => {
    const declined = createAuthHandler({
      username: 'me',
      hostName: 'gpu',
      agentSocket: undefined,
      identityFiles: [{ path: '/k/locked', explicit: true }],
      vault: new KeyVault(),
      askPassphrase: async () => undefined,
      isAborted: () => false,
      readKeyFile: files({ '/k/locked': encrypted.private }),
    });
    expect(await step(declined.authHandler, null)).toBe(false);
    expect(declined.log.passphraseDeclined).toEqual(['/k/locked']);

    const askPassphrase = vi.fn(async () => 'wrong');
    const wrong = createAuthHandler({
      username: 'me',
      hostName: 'gpu',
      agentSocket: undefined,
      identityFiles: [{ path: '/k/locked', explicit: true }],
      vault: new KeyVault(),
      askPassphrase,
      isAborted: () => false,
      readKeyFile: files({ '/k/locked': encrypted.private }),
    });
    expect(await step(wrong.authHandler, null)).toBe(false);
    expect(askPassphrase).toHaveBeenCalledTimes(3);
    expect(wrong.log.notes).toEqual(['/k/locked: 3 wrong passphrases']);
  });

  it('stays quiet about missing default keys and stops when the server takes no public keys', async () => {
    const { authHandler, log } = createAuthHandler({
      username: 'me',
      hostName: 'gpu',
      agentSocket: undefined,
      identityFiles: identityFilesFor([], '/nowhere'),
      vault: new KeyVault(),
      askPassphrase: async () => undefined,
      isAborted: () => false,
      readKeyFile: files({ '/nowhere/.ssh/id_rsa': plain.private }),
    });
    expect(await step(authHandler, null)).toMatchObject({ type: 'publickey' });
    expect(log.notes).toEqual([]);
    expect(await step(authHandler, ['password', 'keyboard-interactive'])).toBe(false);
    expect(log.serverMethods).toEqual(['password', 'keyboard-interactive']);
  });
});

describe('authFailure', () => {
  const who = 'me@gpu-1:22';
  const files = identityFilesFor([], '/h');

  it('names user@host and every method tried', () => {
    const err = authFailure(
      who,
      {
        tried: ['ssh-agent (/a.sock)', '/h/.ssh/id_rsa'],
        notes: ['/k: not found'],
        passphraseDeclined: [],
        serverMethods: undefined,
      },
      files,
    );
    expect(err).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(err.message).toContain('Could not log in to me@gpu-1:22');
    expect(err.message).toContain('ssh-agent (/a.sock), /h/.ssh/id_rsa');
    expect(err.message).toContain('Not used: /k: not found.');
    expect(err.message).toContain('authorized_keys');
  });

  it('says when there was nothing to offer', () => {
    const err = authFailure(who, { tried: [], notes: [], passphraseDeclined: [], serverMethods: undefined }, files);
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain('no credentials to offer');
    expect(err.message).toContain('/h/.ssh/id_ed25519, /h/.ssh/id_ecdsa, /h/.ssh/id_rsa');
  });

  it('asks for the passphrase when a locked key was skipped', () => {
    const err = authFailure(
      who,
      { tried: ['/h/.ssh/id_rsa'], notes: [], passphraseDeclined: ['/h/.ssh/id_ed25519'], serverMethods: undefined },
      files,
    );
    expect(err).toMatchObject({ code: 'PASSPHRASE_REQUIRED', retryable: false });
    expect(err.message).toContain('/h/.ssh/id_ed25519 is encrypted and no passphrase was given');
    expect(err.message).toContain('The server refused /h/.ssh/id_rsa');
  });

  it('says the server takes no public keys', () => {
    const err = authFailure(who, { tried: [], notes: [], passphraseDeclined: [], serverMethods: ['password'] }, files);
    expect(err.message).toContain('does not accept public keys (it offers: password)');
  });
});
