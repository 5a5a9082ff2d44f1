import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { FileHostKeyTrust, SESSION_SOURCE } from '../../../../src/main/hosts/host-key-trust';
import type { HostKeyCandidate } from '../../../../src/main/hosts/host-key-trust-types';
import { fingerprintSha256 } from '../../../../src/main/hosts/known-hosts';

interface GeneratedKey {
  readonly type: string;
  readonly blob: Buffer;
  readonly base64: string;
}

function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa'): GeneratedKey {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const [keyType = '', base64 = ''] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return { type: keyType, blob: Buffer.from(base64, 'base64'), base64 };
}

const candidate = (host: string, key: GeneratedKey, port = 22): HostKeyCandidate => ({
  host,
  port,
  keyType: key.type,
  key: key.blob,
});

describe('FileHostKeyTrust', () => {
  let keysDir: string;
  let keyA: GeneratedKey;
  let keyB: GeneratedKey;
  let keyEcdsa: GeneratedKey;
  beforeAll(async () => {
    keysDir = await mkdtemp(path.join(os.tmpdir(), 'ptw-trust-keys-'));
    keyA = generateKey(keysDir, 'a', 'ed25519');
    keyB = generateKey(keysDir, 'b', 'ed25519');
    keyEcdsa = generateKey(keysDir, 'c', 'ecdsa');
  });
  afterAll(async () => {
    await rm(keysDir, { recursive: true, force: true });
  });

  let dir: string;
  let userFile: string;
  let userFile2: string;
  let appFile: string;
  const make = () => new FileHostKeyTrust({ userKnownHostsFiles: [userFile, userFile2], appKnownHostsFile: appFile });
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-trust-'));
    await mkdir(path.join(dir, 'home', '.ssh'), { recursive: true });
    userFile = path.join(dir, 'home', '.ssh', 'known_hosts');
    userFile2 = path.join(dir, 'home', '.ssh', 'known_hosts2');
    // PTW_HOME itself does not exist yet: the first `always` creates it.
    appFile = path.join(dir, 'ptw-home', 'known_hosts');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('defaults to ~/.ssh/known_hosts and ~/.ssh/known_hosts2', () => {
    expect(FileHostKeyTrust.defaultUserKnownHostsFiles('/home/r')).toEqual([
      '/home/r/.ssh/known_hosts',
      '/home/r/.ssh/known_hosts2',
    ]);
    const trust = new FileHostKeyTrust({ appKnownHostsFile: appFile });
    expect(trust.files).toEqual([...FileHostKeyTrust.defaultUserKnownHostsFiles(os.homedir()), appFile]);
  });

  it('is unknown when no file exists', async () => {
    expect(await make().check(candidate('gpu.example.com', keyA))).toEqual({ status: 'unknown' });
    expect(await make().problems()).toEqual([]);
  });

  it('trusts a key from the user known_hosts, with its file and line', async () => {
    await writeFile(userFile, `# mine\ngpu.example.com ssh-ed25519 ${keyA.base64}\n`);
    expect(await make().check(candidate('gpu.example.com', keyA))).toEqual({
      status: 'trusted',
      source: `${userFile}:2`,
    });
  });

  it("remembers 'always' in an owner-only app file that a fresh instance (and ssh-keygen) reads", async () => {
    await writeFile(userFile, `other.example.com ssh-ed25519 ${keyB.base64}\n`);
    const userBefore = await readFile(userFile);
    const first = make();
    expect(await first.check(candidate('gpu.example.com', keyA, 2222))).toEqual({ status: 'unknown' });
    await first.trust(candidate('gpu.example.com', keyA, 2222), 'always');

    expect(await make().check(candidate('gpu.example.com', keyA, 2222))).toEqual({
      status: 'trusted',
      source: `${appFile}:1`,
    });
    // The port is part of the name: the same host on 22 is still unknown.
    expect(await make().check(candidate('gpu.example.com', keyA))).toEqual({ status: 'unknown' });

    expect((await stat(appFile)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(appFile))).mode & 0o077).toBe(0);
    const written = await readFile(appFile, 'utf8');
    expect(written).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 [A-Za-z0-9+/=]+\n$/);
    expect(written).not.toContain('gpu.example.com');
    const found = execFileSync('ssh-keygen', ['-F', '[gpu.example.com]:2222', '-f', appFile], { encoding: 'utf8' });
    expect(found).toContain(keyA.base64);

    // The user's own files are never written.
    expect(await readFile(userFile)).toEqual(userBefore);
    await expect(stat(userFile2)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("does not append a key that is already recorded, and appends after a file's missing final newline", async () => {
    await mkdir(path.dirname(appFile), { recursive: true });
    await writeFile(appFile, `hand.example.com ssh-ed25519 ${keyB.base64}`, { mode: 0o644 });
    const trust = make();
    await trust.trust(candidate('gpu.example.com', keyA), 'always');
    await trust.trust(candidate('gpu.example.com', keyA), 'always');
    const lines = (await readFile(appFile, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`hand.example.com ssh-ed25519 ${keyB.base64}`);
    expect(lines[2]).toBe('');
    // A file found readable by others is tightened when we write to it.
    expect((await stat(appFile)).mode & 0o777).toBe(0o600);
    expect(await make().check(candidate('hand.example.com', keyB))).toMatchObject({ status: 'trusted' });
  });

  it("keeps 'once' in memory for this instance only", async () => {
    const trust = make();
    await trust.trust(candidate('gpu.example.com', keyA), 'once');
    expect(await trust.check(candidate('gpu.example.com', keyA))).toEqual({
      status: 'trusted',
      source: SESSION_SOURCE,
    });
    expect(await trust.check(candidate('gpu.example.com', keyB))).toMatchObject({ status: 'changed' });
    expect(await make().check(candidate('gpu.example.com', keyA))).toEqual({ status: 'unknown' });
    await expect(stat(appFile)).rejects.toMatchObject({ code: 'ENOENT' });

    // Upgrading a session key to `always` writes it.
    await trust.trust(candidate('gpu.example.com', keyA), 'always');
    expect(await make().check(candidate('gpu.example.com', keyA))).toMatchObject({ status: 'trusted' });
  });

  it('reports a changed key with the recorded fingerprint, and refuses to trust it', async () => {
    await writeFile(userFile, `gpu.example.com,10.0.0.7 ssh-ed25519 ${keyA.base64}\n`);
    const trust = make();
    const verdict = await trust.check(candidate('gpu.example.com', keyB));
    expect(verdict).toEqual({
      status: 'changed',
      source: `${userFile}:1`,
      knownFingerprints: [fingerprintSha256(keyA.blob)],
    });
    const refused = trust.trust(candidate('gpu.example.com', keyB), 'always');
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({ code: 'HOST_KEY_CHANGED' });
    await expect(trust.trust(candidate('gpu.example.com', keyB), 'once')).rejects.toMatchObject({
      code: 'HOST_KEY_CHANGED',
    });
    await expect(stat(appFile)).rejects.toMatchObject({ code: 'ENOENT' });
    // Another key type for the same host is not a change: it is new.
    expect(await trust.check(candidate('gpu.example.com', keyEcdsa))).toEqual({ status: 'unknown' });
  });

  it('lets changed or revoked anywhere beat trusted elsewhere', async () => {
    await mkdir(path.dirname(appFile), { recursive: true });
    await writeFile(appFile, `gpu.example.com ssh-ed25519 ${keyA.base64}\n`);
    await writeFile(userFile, `gpu.example.com ssh-ed25519 ${keyB.base64}\n`);
    expect(await make().check(candidate('gpu.example.com', keyA))).toEqual({
      status: 'changed',
      source: `${userFile}:1`,
      knownFingerprints: [fingerprintSha256(keyB.blob)],
    });

    await writeFile(userFile2, `@revoked * ssh-ed25519 ${keyA.base64}\n`);
    const trust = make();
    expect(await trust.check(candidate('gpu.example.com', keyA))).toEqual({
      status: 'revoked',
      source: `${userFile2}:1`,
    });
    await expect(trust.trust(candidate('gpu.example.com', keyA), 'once')).rejects.toMatchObject({
      code: 'HOST_KEY_REVOKED',
    });
  });

  it('reads the files afresh on every check', async () => {
    const trust = make();
    expect(await trust.check(candidate('gpu.example.com', keyA))).toEqual({ status: 'unknown' });
    await writeFile(userFile, `gpu.example.com ssh-ed25519 ${keyA.base64}\n`);
    expect(await trust.check(candidate('gpu.example.com', keyA))).toMatchObject({ status: 'trusted' });
    // As after `ssh-keygen -R gpu.example.com` and a re-keyed host being recorded by ssh.
    await writeFile(userFile, `gpu.example.com ssh-ed25519 ${keyB.base64}\n`);
    expect(await trust.check(candidate('gpu.example.com', keyA))).toMatchObject({ status: 'changed' });
  });

  it('reports invalid lines and unreadable files through problems(), and still checks the rest', async () => {
    await writeFile(
      userFile,
      [
        `gpu.example.com ssh-ed25519 ${keyA.base64}`,
        'broken.example.com ssh-ed25519',
        `@cert-authority *.example.com ssh-ed25519 ${keyB.base64}`,
        '',
      ].join('\n'),
    );
    await mkdir(userFile2); // a folder where a file should be: unreadable as a file
    const trust = make();
    expect(await trust.check(candidate('gpu.example.com', keyA))).toMatchObject({ status: 'trusted' });
    const problems = await trust.problems();
    expect(problems).toEqual([
      { source: userFile, line: 2, message: 'key type ssh-ed25519 has no key data' },
      {
        source: userFile,
        line: 3,
        message: '@cert-authority lines are not supported (host certificates are not verified); line ignored',
      },
      { source: userFile2, line: 0, message: expect.stringMatching(/^cannot read known hosts file: .*EISDIR/) },
    ]);
  });

  it('rejects a candidate whose label disagrees with its key blob', async () => {
    const mislabelled = { ...candidate('gpu.example.com', keyA), keyType: 'ssh-rsa' };
    await expect(make().check(mislabelled)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/labelled ssh-rsa but the key is ssh-ed25519/),
    });
    const garbage = { host: 'gpu.example.com', port: 22, keyType: 'ssh-ed25519', key: Buffer.from('nope') };
    await expect(make().trust(garbage, 'always')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('serialises concurrent appends into whole lines', async () => {
    const trust = make();
    await Promise.all([
      trust.trust(candidate('a.example.com', keyA), 'always'),
      trust.trust(candidate('b.example.com', keyB), 'always'),
      trust.trust(candidate('c.example.com', keyEcdsa), 'always'),
    ]);
    const lines = (await readFile(appFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(3);
    const fresh = make();
    for (const [host, key] of [
      ['a.example.com', keyA],
      ['b.example.com', keyB],
      ['c.example.com', keyEcdsa],
    ] as const) {
      expect(await fresh.check(candidate(host, key))).toMatchObject({ status: 'trusted' });
    }
  });

  it('surfaces a failure to write the app file', async () => {
    // A file where the folder should be makes mkdir fail.
    await writeFile(path.join(dir, 'ptw-home'), '');
    await chmod(path.join(dir, 'ptw-home'), 0o600);
    await expect(make().trust(candidate('gpu.example.com', keyA), 'always')).rejects.toMatchObject({
      code: expect.stringMatching(/EEXIST|ENOTDIR/),
    });
  });
});
