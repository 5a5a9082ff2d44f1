import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HostConnection, type HostConnectionOptions } from '../../src/main/hosts/host-connection';
import { HostConnectionManager } from '../../src/main/hosts/host-connection-manager';
import { FileHostKeyTrust } from '../../src/main/hosts/host-key-trust';
import type { HostKeyTrust } from '../../src/main/hosts/host-key-trust-types';
import { sha256Fingerprint } from '../../src/main/hosts/ssh-host-key';
import { AppError } from '../../src/shared/errors';
import {
  type ConnectionState,
  type HostKeyDecision,
  type HostProfile,
  type HostProfileInput,
  hostProfileSchema,
} from '../../src/shared/hosts';
import { findFreePort } from '../support/free-port';
import { MemoryHostKeyTrust } from '../support/memory-host-key-trust';
import { isProcessAlive, listDescendantLevels, terminateChild, terminateTree } from '../support/process-tree';
import { describeWithTestHost } from '../support/test-host-availability';
import { startTestHost, type TestHost } from '../support/test-host';
import { publicKeyBlob, startTestSshd, type TestSshd } from '../support/test-sshd';

const execFileAsync = promisify(execFile);

/** Fast backoff so a reconnect takes a tenth of a second, not one. */
const FAST_RECONNECT = { initialDelayMs: 100, maxDelayMs: 400, jitter: 0 };

/** Lines sshd (LogLevel VERBOSE) writes once a client starts authenticating. */
const AUTH_LINE = /Accepted|Failed|userauth|Authentication refused|Postponed/;

let scratch: string;
/** An empty HOME: no ~/.ssh keys and no agent of whoever runs the tests leak in. */
let emptyHome: string;
const connections: HostConnection[] = [];
const startedPids: number[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'ptw-hc-'));
  emptyHome = path.join(scratch, 'home');
  await execFileAsync('mkdir', ['-p', emptyHome]);
});

afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.dispose()));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  // Every process a test started was stopped by that test.
  expect(startedPids.filter(isProcessAlive)).toEqual([]);
});

function profileFor(sshd: TestSshd, overrides: Partial<HostProfileInput> = {}): HostProfile {
  return hostProfileSchema.parse({
    name: 'gpu-test',
    kind: 'ssh',
    hostname: sshd.host,
    port: sshd.port,
    user: sshd.username,
    identityFiles: [sshd.privateKeyPath],
    ...overrides,
  });
}

function trustFor(...servers: TestSshd[]): MemoryHostKeyTrust {
  const trust = new MemoryHostKeyTrust(path.join(os.tmpdir(), 'ptw-test-known_hosts'));
  for (const s of servers) trust.add(s.host, s.port, s.hostPublicKey);
  return trust;
}

function options(overrides: Partial<HostConnectionOptions> & { trust: HostKeyTrust }): HostConnectionOptions {
  return {
    confirmHostKey: vi.fn(async (): Promise<HostKeyDecision> => 'refuse'),
    askPassphrase: vi.fn(async () => undefined),
    env: { HOME: emptyHome },
    readyTimeoutMs: 5_000,
    reconnect: FAST_RECONNECT,
    ...overrides,
  };
}

function connect(
  profile: HostProfile,
  opts: HostConnectionOptions,
): { conn: HostConnection; states: ConnectionState[] } {
  const conn = new HostConnection(profile, opts);
  connections.push(conn);
  const states: ConnectionState[] = [];
  conn.onState((s) => states.push(s));
  return { conn, states };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** sshd's per-connection processes: the listener's children. */
function sessionPids(sshd: TestSshd): number[] {
  return listDescendantLevels(sshd.pid)[0] ?? [];
}

function authLinesSince(sshd: TestSshd, offset: number): string[] {
  return sshd
    .readLog()
    .slice(offset)
    .split('\n')
    .filter((line) => AUTH_LINE.test(line));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function generateKey(file: string, passphrase: string): Promise<string> {
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'ptw-test', '-f', file]);
  return (await readFile(`${file}.pub`, 'utf8')).trim();
}

describeWithTestHost('HostConnection (real sshd + dockerd)', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost();
  });

  afterAll(async () => {
    await host?.stop();
  });

  it('logs in with a key file after checking the host key, and shares one connection', async () => {
    const trust = trustFor(host.sshd);
    const logStart = host.sshd.readLog().length;
    const { conn, states } = connect(profileFor(host.sshd), options({ trust }));

    const [, , hello] = await Promise.all([conn.connect(), conn.connect(), conn.session().exec('echo hello')]);
    expect(hello).toEqual({ code: 0, stdout: 'hello\n', stderr: '' });
    expect(states.map((s) => s.status)).toEqual(['connecting', 'connected']);
    expect(trust.checks).toHaveLength(1);
    expect(trust.checks[0]).toMatchObject({ host: '127.0.0.1', port: host.sshd.port, keyType: 'ssh-ed25519' });
    expect(authLinesSince(host.sshd, logStart).filter((l) => l.includes('Accepted publickey'))).toHaveLength(1);

    const session = conn.session();
    expect(await session.exec('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await session.exec('kill -KILL $$')).toMatchObject({ code: null, signal: 'SIGKILL' });
    // More at once than OpenSSH's MaxSessions (10): the connection queues them instead of failing.
    const many = await Promise.all(Array.from({ length: 14 }, (_, i) => session.exec(`echo ${i}`)));
    expect(many.map((r) => r.stdout)).toEqual(Array.from({ length: 14 }, (_, i) => `${i}\n`));
    const timedOut = await failure(session.exec('sleep 5', { timeoutMs: 200 }));
    expect(timedOut.code).toBe('TIMEOUT');
    expect(timedOut.message).toContain('sleep 5');
    expect(await session.ping()).toBeGreaterThan(0);

    const sftp = await conn.sftp();
    const file = path.join(host.sshd.dir, 'sftp-probe.txt');
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(file, 'via sftp', (err) => (err ? reject(err) : resolve())),
    );
    expect(await readFile(file, 'utf8')).toBe('via sftp');
    sftp.end();

    // Everything above rode on one SSH connection.
    expect(sessionPids(host.sshd)).toHaveLength(1);
    expect(authLinesSince(host.sshd, logStart).filter((l) => l.includes('Accepted publickey'))).toHaveLength(1);

    await conn.dispose();
    expect(states.at(-1)?.status).toBe('disconnected');
    expect(conn.listenerCount).toBe(0);
    await vi.waitFor(() => expect(sessionPids(host.sshd)).toEqual([]));
    expect((await failure(conn.connect())).code).toBe('TRANSPORT_CLOSED');
  });

  it('authenticates with the ssh-agent named by the injected SSH_AUTH_SOCK', async () => {
    const socket = path.join(scratch, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    startedPids.push(agent.pid!);
    try {
      await vi.waitFor(() => expect(existsSync(socket)).toBe(true));
      // The agent's socket goes to ssh-add's own environment; process.env stays untouched.
      await execFileAsync('ssh-add', ['-q', host.sshd.privateKeyPath], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
      });
      const trust = trustFor(host.sshd);
      const env = { HOME: emptyHome, SSH_AUTH_SOCK: socket };
      const { conn } = connect(profileFor(host.sshd, { identityFiles: [] }), options({ trust, env }));
      expect((await conn.session().exec('echo agent')).stdout).toBe('agent\n');
      await conn.dispose();

      // The same agent with no keys: AUTH_FAILED says who we are and what was tried.
      await execFileAsync('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const { conn: empty, states } = connect(profileFor(host.sshd, { identityFiles: [] }), options({ trust, env }));
      const err = await failure(empty.connect());
      expect(err.code).toBe('AUTH_FAILED');
      expect(err.message).toContain(`${host.sshd.username}@127.0.0.1:${host.sshd.port}`);
      expect(err.message).toContain(`ssh-agent (${socket})`);
      expect(states.at(-1)).toMatchObject({ status: 'failed', error: { code: 'AUTH_FAILED', retryable: false } });
    } finally {
      await terminateChild(agent);
    }
    expect(isProcessAlive(agent.pid!)).toBe(false);
  });

  it('asks for an encrypted key\u2019s passphrase, again after a wrong one, and says so when none is given', async () => {
    const keyPath = path.join(scratch, 'id_encrypted');
    const publicKey = await generateKey(keyPath, 'correct horse');
    await appendFile(path.join(host.sshd.dir, 'authorized_keys'), `${publicKey}\n`);
    const trust = trustFor(host.sshd);
    const profile = profileFor(host.sshd, { identityFiles: [keyPath] });

    const askPassphrase = vi.fn<HostConnectionOptions['askPassphrase']>();
    askPassphrase.mockResolvedValueOnce('wrong').mockResolvedValueOnce('correct horse');
    const { conn } = connect(profile, options({ trust, askPassphrase }));
    await conn.connect();
    expect(askPassphrase.mock.calls.map(([p]) => ({ host: p.host, keyPath: p.keyPath, retry: p.retry }))).toEqual([
      { host: 'gpu-test', keyPath, retry: false },
      { host: 'gpu-test', keyPath, retry: true },
    ]);
    expect((await conn.session().exec('echo unlocked')).stdout).toBe('unlocked\n');
    await conn.dispose();

    const { conn: locked, states } = connect(profile, options({ trust }));
    const err = await failure(locked.connect());
    expect(err.code).toBe('PASSPHRASE_REQUIRED');
    expect(err.message).toContain(keyPath);
    expect(err.message).toMatch(/encrypted and no passphrase was given/);
    expect(states.map((s) => s.status)).toEqual(['connecting', 'failed']);

    // Keys the server does not know, and no keys at all.
    const strangerPath = path.join(scratch, 'id_stranger');
    await generateKey(strangerPath, '');
    const { conn: stranger } = connect(profileFor(host.sshd, { identityFiles: [strangerPath] }), options({ trust }));
    const refused = await failure(stranger.connect());
    expect(refused.code).toBe('AUTH_FAILED');
    expect(refused.message).toContain(`${host.sshd.username}@127.0.0.1:${host.sshd.port}`);
    expect(refused.message).toContain(strangerPath);
    const { conn: bare } = connect(profileFor(host.sshd, { identityFiles: [] }), options({ trust }));
    expect((await failure(bare.connect())).message).toMatch(/no credentials to offer.*SSH_AUTH_SOCK is not set/);
  });

  it('reaches the host through a ProxyJump hop, verifying both host keys before logging in to either', async () => {
    const jump = await startTestSshd();
    const closed = await startTestSshd({ extraConfig: ['AllowTcpForwarding no'] });
    try {
      const trust = new MemoryHostKeyTrust();
      const confirmHostKey = vi.fn<HostConnectionOptions['confirmHostKey']>(async () => 'once');
      const profile = profileFor(host.sshd, {
        proxyJump: [{ host: '127.0.0.1', port: jump.port }],
        identityFiles: [jump.privateKeyPath, host.sshd.privateKeyPath],
      });
      const { conn } = connect(profile, options({ trust, confirmHostKey }));
      expect((await conn.session().exec('echo via-jump')).stdout).toBe('via-jump\n');

      expect(confirmHostKey.mock.calls.map(([p]) => [p.host, p.address, p.fingerprint])).toEqual([
        ['gpu-test', `127.0.0.1:${jump.port}`, sha256Fingerprint(publicKeyBlob(jump.hostPublicKey))],
        ['gpu-test', `127.0.0.1:${host.sshd.port}`, sha256Fingerprint(publicKeyBlob(host.sshd.hostPublicKey))],
      ]);
      expect(trust.trusted.map((t) => [t.candidate.port, t.scope])).toEqual([
        [jump.port, 'once'],
        [host.sshd.port, 'once'],
      ]);
      expect(jump.readLog()).toContain('Accepted publickey');
      expect(sessionPids(jump)).toHaveLength(1);
      expect(sessionPids(host.sshd)).toHaveLength(1);

      // dispose ends the jump connection too.
      await conn.dispose();
      await vi.waitFor(() => {
        expect(sessionPids(jump)).toEqual([]);
        expect(sessionPids(host.sshd)).toEqual([]);
      });

      const viaClosed = profileFor(host.sshd, {
        proxyJump: [{ host: '127.0.0.1', port: closed.port }],
        identityFiles: [closed.privateKeyPath, host.sshd.privateKeyPath],
      });
      const { conn: refused } = connect(viaClosed, options({ trust: trustFor(closed, host.sshd) }));
      const err = await failure(refused.connect());
      expect(err.code).toBe('HOST_UNREACHABLE');
      expect(err.message).toContain(`jump host ${closed.username}@127.0.0.1:${closed.port} refuses TCP forwarding`);
    } finally {
      await Promise.all(connections.splice(0).map((c) => c.dispose()));
      await Promise.all([jump.stop(), closed.stop()]);
    }
  });

  it('drives Docker over the connection, and the same dockerode survives a reconnect', async () => {
    const trust = trustFor(host.sshd);
    const manager = new HostConnectionManager(options({ trust }));
    const seen: Array<[string, string]> = [];
    manager.onState((name, state) => seen.push([name, state.status]));
    try {
      const profile = profileFor(host.sshd, { dockerSocket: host.dockerd.socketPath });
      const session = await manager.open(profile);
      const docker = await session.docker();
      expect(await session.docker()).toBe(docker);

      const container = await docker.createContainer({
        Image: host.busyboxImage,
        Cmd: ['sh', '-c', 'echo from-busybox; echo oops >&2'],
        HostConfig: { NetworkMode: 'none' },
      });
      await container.start();
      expect(await container.wait()).toMatchObject({ StatusCode: 0 });
      const logs = await container.logs({ follow: true, stdout: true, stderr: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const errOut: Buffer[] = [];
      stdout.on('data', (c: Buffer) => out.push(c));
      stderr.on('data', (c: Buffer) => errOut.push(c));
      docker.modem.demuxStream(logs, stdout, stderr);
      await new Promise((resolve, reject) => logs.on('end', resolve).on('error', reject));
      expect(Buffer.concat(out).toString()).toBe('from-busybox\n');
      expect(Buffer.concat(errOut).toString()).toBe('oops\n');
      await container.remove();
      await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });

      // Kill the server side of the connection: it comes back by itself, under the same dockerode.
      const [sessionPid] = sessionPids(host.sshd);
      await terminateTree(sessionPid!);
      await vi.waitFor(
        () => expect(seen.map(([, s]) => s)).toEqual(['connecting', 'connected', 'reconnecting', 'connected']),
        { timeout: 5_000 },
      );
      expect(seen.every(([name]) => name === 'gpu-test')).toBe(true);
      expect((await docker.ping()).toString()).toBe('OK');

      // A profile at another address is another connection; the old one is disposed.
      const old = manager.get(profile);
      const moved = manager.get({ ...profile, port: profile.port! + 1 });
      expect(moved).not.toBe(old);
      await vi.waitFor(() => expect(old.state.status).toBe('disconnected'));
    } finally {
      await manager.disposeAll();
    }
    await vi.waitFor(() => expect(sessionPids(host.sshd)).toEqual([]));
  });

  it('reports DOCKER_UNAVAILABLE with the socket and the fix for a wrong socket and for a stopped dockerd', async () => {
    const trust = trustFor(host.sshd);
    const { conn: wrong } = connect(
      profileFor(host.sshd, { dockerSocket: '/nonexistent/docker.sock' }),
      options({ trust }),
    );
    const err = await failure(wrong.session().docker());
    expect(err.code).toBe('DOCKER_UNAVAILABLE');
    expect(err.message).toContain('/nonexistent/docker.sock');
    expect(err.message).toMatch(/dockerd is running/);
    expect(err.message).toMatch(/may open the socket/);
    // The SSH connection itself is fine.
    expect((await wrong.session().exec('echo ssh-ok')).stdout).toBe('ssh-ok\n');

    // Last in this suite: it stops the shared dockerd.
    await host.dockerd.stop();
    const { conn: stopped } = connect(
      profileFor(host.sshd, { dockerSocket: host.dockerd.socketPath }),
      options({ trust }),
    );
    const down = await failure(stopped.session().docker());
    expect(down.code).toBe('DOCKER_UNAVAILABLE');
    expect(down.message).toContain(host.dockerd.socketPath);
    expect(down.message).toMatch(/dockerd is running/);
  });
});

describeWithTestHost('HostConnection host keys and reconnects (own sshd)', () => {
  let sshd: TestSshd;

  beforeAll(async () => {
    sshd = await startTestSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('refuses an unknown or revoked host key before any credential is offered', async () => {
    const logStart = sshd.readLog().length;
    const trust = new MemoryHostKeyTrust();
    const askPassphrase = vi.fn(async () => undefined);
    const { conn, states } = connect(profileFor(sshd), options({ trust, askPassphrase }));
    const err = await failure(conn.connect());
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toContain(sha256Fingerprint(publicKeyBlob(sshd.hostPublicKey)));
    expect(trust.trusted).toEqual([]);

    const revoked = new MemoryHostKeyTrust().add(sshd.host, sshd.port, sshd.hostPublicKey).revoke(sshd.hostPublicKey);
    const { conn: bad } = connect(profileFor(sshd), options({ trust: revoked }));
    expect((await failure(bad.connect())).code).toBe('HOST_KEY_REVOKED');

    // Identity faults are final: no reconnect is scheduled.
    await sleep(300);
    expect(states.map((s) => s.status)).toEqual(['connecting', 'failed']);
    expect(states[1]?.error).toMatchObject({ code: 'HOST_KEY_UNKNOWN', retryable: false });
    expect(askPassphrase).not.toHaveBeenCalled();
    expect(authLinesSince(sshd, logStart)).toEqual([]);
  });

  it('reconnects by itself after the server side is killed, without asking for the passphrase again', async () => {
    const keyPath = path.join(scratch, 'id_reconnect');
    await appendFile(path.join(sshd.dir, 'authorized_keys'), `${await generateKey(keyPath, 'pw')}\n`);
    const askPassphrase = vi.fn(async () => 'pw');
    const { conn, states } = connect(
      profileFor(sshd, { identityFiles: [keyPath] }),
      options({ trust: trustFor(sshd), askPassphrase }),
    );
    await conn.connect();
    const [before] = sessionPids(sshd);
    expect(before).toBeDefined();

    await terminateTree(before!);
    await vi.waitFor(
      () => expect(states.map((s) => s.status)).toEqual(['connecting', 'connected', 'reconnecting', 'connected']),
      { timeout: 5_000 },
    );
    expect(states[2]).toMatchObject({ attempt: 1, error: { code: 'HOST_UNREACHABLE', retryable: true } });
    expect(Date.parse(states[2]!.nextAttemptAt!)).toBeGreaterThan(0);
    expect((await conn.session().exec('echo back')).stdout).toBe('back\n');
    expect(sessionPids(sshd)).not.toContain(before);
    // The decrypted key stayed in memory for the connection's life.
    expect(askPassphrase).toHaveBeenCalledTimes(1);

    await conn.dispose();
    await vi.waitFor(() => expect(sessionPids(sshd)).toEqual([]));
  });

  it('notices a server that stops answering by keepalive, and reconnects', async () => {
    const { conn, states } = connect(
      profileFor(sshd),
      options({ trust: trustFor(sshd), keepaliveIntervalMs: 150, keepaliveCountMax: 2 }),
    );
    await conn.connect();
    const [session] = sessionPids(sshd);
    // Freeze (not kill) the server side: the TCP connection stays open, only keepalives go unanswered.
    const frozen = [session!, ...listDescendantLevels(session!).flat()];
    // A short-lived child (the `true` of a ping) may be gone by now: ESRCH is not a failure of the test.
    const signal = (pid: number, sig: NodeJS.Signals): void => {
      try {
        process.kill(pid, sig);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    };
    try {
      for (const pid of frozen) signal(pid, 'SIGSTOP');
      await vi.waitFor(
        () => expect(states.map((s) => s.status)).toEqual(['connecting', 'connected', 'reconnecting', 'connected']),
        { timeout: 5_000 },
      );
      expect(states[2]?.error?.message).toMatch(/Keepalive timeout/);
      expect((await conn.session().exec('echo thawed')).stdout).toBe('thawed\n');
    } finally {
      for (const pid of frozen) signal(pid, 'SIGCONT');
      await terminateTree(session!);
    }
    await conn.dispose();
    await vi.waitFor(() => expect(sessionPids(sshd)).toEqual([]));
  });

  it('records a key accepted "always" in known_hosts, refuses the rotated key, and never reconnects after that', async () => {
    const knownHosts = path.join(scratch, 'ptw-home', 'known_hosts');
    const trust = new FileHostKeyTrust({ userKnownHostsFiles: [], appKnownHostsFile: knownHosts });
    const confirmHostKey = vi.fn<HostConnectionOptions['confirmHostKey']>(async () => 'always');
    const { conn, states } = connect(profileFor(sshd), options({ trust, confirmHostKey }));
    await conn.connect();
    expect(await readFile(knownHosts, 'utf8')).toContain(sshd.hostPublicKey.split(' ')[1]);
    const oldFingerprint = sha256Fingerprint(publicKeyBlob(sshd.hostPublicKey));
    const [session] = sessionPids(sshd);

    const logStart = sshd.readLog().length;
    await sshd.rotateHostKey();
    const newFingerprint = sha256Fingerprint(publicKeyBlob(sshd.hostPublicKey));
    // The old session survived the restart; killing it makes the connection try to come back.
    await terminateTree(session!);
    await vi.waitFor(() => expect(conn.state.status).toBe('failed'), { timeout: 5_000 });
    expect(states.map((s) => s.status)).toEqual(['connecting', 'connected', 'reconnecting', 'failed']);
    const changed = conn.state.error!;
    expect(changed).toMatchObject({ code: 'HOST_KEY_CHANGED', retryable: false });
    expect(changed.message).toContain(oldFingerprint);
    expect(changed.message).toContain(newFingerprint);
    expect(changed.message).toContain(`recorded in ${knownHosts}:1`);
    const fix = /`(ssh-keygen -R [^`]+)`/.exec(changed.message)?.[1];
    expect(fix).toBe(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${knownHosts}`);

    await sleep(600);
    expect(states).toHaveLength(4);
    expect(confirmHostKey).toHaveBeenCalledTimes(1);
    // Nor does using the session: only an explicit connect() may try again.
    const connectionsSoFar = sshd.readLog().split('Connection from').length;
    expect((await failure(conn.session().exec('true'))).code).toBe('HOST_KEY_CHANGED');
    expect(sshd.readLog().split('Connection from').length).toBe(connectionsSoFar);

    const { conn: next } = connect(profileFor(sshd), options({ trust, confirmHostKey }));
    expect((await failure(next.connect())).code).toBe('HOST_KEY_CHANGED');
    expect(confirmHostKey).toHaveBeenCalledTimes(1);
    // Nothing after the rotation got as far as authentication.
    expect(authLinesSince(sshd, logStart)).toEqual([]);

    // The advised fix works: with the old line removed the key is merely unknown, and asked about.
    await execFileAsync('sh', ['-c', `${fix!} 2>/dev/null`]);
    await next.connect();
    expect(confirmHostKey).toHaveBeenCalledTimes(2);
    expect(confirmHostKey.mock.calls[1]![0].fingerprint).toBe(newFingerprint);
  });
});

describe('HostConnection to unreachable hosts', () => {
  it('names host and port when the port is closed', async () => {
    const port = await findFreePort();
    const profile = hostProfileSchema.parse({
      name: 'closed',
      kind: 'ssh',
      hostname: '127.0.0.1',
      port,
      user: 'nobody',
    });
    const { conn, states } = connect(profile, options({ trust: new MemoryHostKeyTrust() }));
    const err = await failure(conn.connect());
    expect(err).toMatchObject({ code: 'HOST_UNREACHABLE', retryable: true });
    expect(err.message).toContain(`nobody@127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
    // A first connect that fails is reported, not retried behind the user's back.
    await sleep(250);
    expect(states.map((s) => s.status)).toEqual(['connecting', 'failed']);
  });

  it('gives up after readyTimeout on a server that accepts TCP and never answers', async () => {
    const held = new Set<net.Socket>();
    const server = net.createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const profile = hostProfileSchema.parse({
        name: 'blackhole',
        kind: 'ssh',
        hostname: '127.0.0.1',
        port,
        user: 'nobody',
      });
      const { conn } = connect(profile, options({ trust: new MemoryHostKeyTrust(), readyTimeoutMs: 500 }));
      const started = Date.now();
      const err = await failure(conn.connect());
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(err.code).toBe('HOST_UNREACHABLE');
      expect(err.message).toContain(`Could not reach nobody@127.0.0.1:${port} within 0.5 s`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
