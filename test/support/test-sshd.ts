import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConnectConfig } from 'ssh2';
import { findFreePort } from './free-port';
import {
  isProcessAlive,
  listDescendantLevels,
  terminateChild,
  terminateDescendants,
  terminateTree,
} from './process-tree';

const execFileAsync = promisify(execFile);

export const SSHD_BINARY = '/usr/sbin/sshd';

export interface TestSshdOptions {
  /**
   * Extra sshd_config lines. sshd keeps the first value it reads, so these go before ours and
   * override them; from a `Match` line on they go last, where Match blocks must be.
   */
  extraConfig?: string[];
  /** How long to wait for sshd to listen. */
  startTimeoutMs?: number;
}

/** The key blob inside an OpenSSH public key line (`ssh-ed25519 AAAA... comment`), as ssh2's hostVerifier receives it. */
export function publicKeyBlob(publicKeyLine: string): Buffer {
  const base64 = publicKeyLine.trim().split(/\s+/)[1];
  if (!base64) throw new Error(`not an OpenSSH public key line: ${publicKeyLine}`);
  return Buffer.from(base64, 'base64');
}

async function generateKey(keyPath: string, comment: string): Promise<void> {
  await rm(keyPath, { force: true });
  await rm(`${keyPath}.pub`, { force: true });
  await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', keyPath]);
}

/**
 * A throwaway OpenSSH server on 127.0.0.1 that accepts one generated user key for the current
 * user. Everything (keys, config, pid file, log) lives in `dir`, removed by `stop()`.
 */
export class TestSshd {
  readonly host = '127.0.0.1';
  readonly username = os.userInfo().username;
  readonly dir: string;
  readonly configPath: string;
  readonly hostKeyPath: string;
  readonly privateKeyPath: string;
  readonly privateKey: Buffer;
  /** The user's public key line, as written to authorized_keys. */
  readonly publicKey: string;
  /** sshd's stderr (`-e`, LogLevel VERBOSE): auth attempts, forwarding requests, errors. */
  readonly logPath: string;
  #port = 0;
  #hostPublicKey = '';
  #child: ChildProcess | undefined;
  /** Per-connection sshd processes left running by `rotateHostKey()`'s restart; `stop()` ends them. */
  readonly #orphanSessions = new Set<number>();
  readonly #startTimeoutMs: number;

  private constructor(dir: string, keys: { privateKey: Buffer; publicKey: string }, startTimeoutMs: number) {
    this.dir = dir;
    this.configPath = path.join(dir, 'sshd_config');
    this.hostKeyPath = path.join(dir, 'ssh_host_ed25519_key');
    this.privateKeyPath = path.join(dir, 'id_ed25519');
    this.logPath = path.join(dir, 'sshd.log');
    this.privateKey = keys.privateKey;
    this.publicKey = keys.publicKey;
    this.#startTimeoutMs = startTimeoutMs;
  }

  static async start(opts: TestSshdOptions = {}): Promise<TestSshd> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-sshd-'));
    try {
      const userKeyPath = path.join(dir, 'id_ed25519');
      await generateKey(userKeyPath, 'ptw-test-user');
      const keys = {
        privateKey: await readFile(userKeyPath),
        publicKey: (await readFile(`${userKeyPath}.pub`, 'utf8')).trim(),
      };
      const sshd = new TestSshd(dir, keys, opts.startTimeoutMs ?? 15_000);
      await generateKey(sshd.hostKeyPath, 'ptw-test-host');
      sshd.#hostPublicKey = (await readFile(`${sshd.hostKeyPath}.pub`, 'utf8')).trim();
      await writeFile(path.join(dir, 'authorized_keys'), `${keys.publicKey}\n`, { mode: 0o600 });
      ensurePrivilegeSeparationDir();
      // The port is only free "a moment ago"; retry if something grabbed it first.
      for (let attempt = 1; ; attempt++) {
        sshd.#port = await findFreePort(sshd.host);
        await writeFile(sshd.configPath, sshd.#config(opts.extraConfig ?? []));
        try {
          await sshd.#spawn();
          break;
        } catch (err) {
          if (attempt >= 3 || !/Address already in use/.test(sshd.readLog())) throw err;
        }
      }
      return sshd;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get port(): number {
    return this.#port;
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('sshd is not running');
    return pid;
  }

  /** The host key's public line (`ssh-ed25519 AAAA... ptw-test-host`); changes after `rotateHostKey()`. */
  get hostPublicKey(): string {
    return this.#hostPublicKey;
  }

  readLog(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** ssh2 settings that log in as the test user and accept only this server's current host key. */
  connectConfig(overrides: Partial<ConnectConfig> = {}): ConnectConfig {
    const expected = publicKeyBlob(this.#hostPublicKey);
    return {
      host: this.host,
      port: this.#port,
      username: this.username,
      privateKey: this.privateKey,
      hostVerifier: (key: Buffer) => key.equals(expected),
      readyTimeout: 10_000,
      ...overrides,
    };
  }

  /**
   * Replaces the host key and restarts sshd on the same port, as an admin reinstalling a host
   * would. Existing connections keep running (as with a real restart) until `stop()`.
   */
  async rotateHostKey(): Promise<void> {
    await this.#stopListener({ keepSessions: true });
    await generateKey(this.hostKeyPath, 'ptw-test-host');
    this.#hostPublicKey = (await readFile(`${this.hostKeyPath}.pub`, 'utf8')).trim();
    await this.#spawn();
  }

  /** Stops sshd and every session it forked (by PID), then removes the temp dir. */
  async stop(): Promise<void> {
    try {
      await this.#stopListener({ keepSessions: false });
      await Promise.all([...this.#orphanSessions].map((pid) => terminateTree(pid, 2_000)));
      this.#orphanSessions.clear();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  async #stopListener({ keepSessions }: { keepSessions: boolean }): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    if (keepSessions) {
      // SIGTERM to the listener leaves its forked sessions running, as a real restart does.
      for (const pid of listDescendantLevels(child.pid)[0] ?? []) this.#orphanSessions.add(pid);
    } else {
      // Sessions first, so the listener is still there to reap them.
      await terminateDescendants(child.pid, 2_000);
    }
    await terminateChild(child);
    this.#child = undefined;
    for (const pid of this.#orphanSessions) if (!isProcessAlive(pid)) this.#orphanSessions.delete(pid);
  }

  #config(extra: string[]): string {
    const d = this.dir;
    const matchAt = extra.findIndex((line) => /^\s*Match\s/i.test(line));
    const before = matchAt < 0 ? extra : extra.slice(0, matchAt);
    const after = matchAt < 0 ? [] : extra.slice(matchAt);
    return [
      ...before,
      `ListenAddress ${this.host}`,
      `Port ${this.#port}`,
      `HostKey ${this.hostKeyPath}`,
      `PidFile ${path.join(d, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(d, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      'UsePAM no',
      // The temp dir lives under a world-writable /tmp, which StrictModes would reject.
      'StrictModes no',
      'LogLevel VERBOSE',
      ...after,
      '',
    ].join('\n');
  }

  async #spawn(): Promise<void> {
    // After a restart the log already holds the previous "listening" line; only look past it.
    const logStart = this.readLog().length;
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(SSHD_BINARY, ['-D', '-e', '-f', this.configPath], {
        stdio: ['ignore', 'ignore', logFd],
      });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    const listening = `Server listening on ${this.host} port ${this.#port}.`;
    const deadline = Date.now() + this.#startTimeoutMs;
    // Wait for sshd's own "listening" line rather than probing the port, which would leave
    // a stray "Connection closed [preauth]" in the log that tests read.
    while (!this.readLog().slice(logStart).includes(listening)) {
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (spawnError || exited || Date.now() >= deadline) {
        if (!exited) await terminateChild(child, 1_000);
        this.#child = undefined;
        const why = spawnError?.message ?? (exited ? `exited with ${child.exitCode ?? child.signalCode}` : 'timed out');
        throw new Error(`sshd did not start (${why}); log ${this.logPath}:\n${this.readLog().slice(-2_000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** sshd refuses to start without its privilege-separation dir; it is only creatable as root. */
function ensurePrivilegeSeparationDir(): void {
  if (existsSync('/run/sshd')) return;
  if (process.getuid?.() !== 0) throw new Error('/run/sshd is missing and only root can create it');
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

export function startTestSshd(opts?: TestSshdOptions): Promise<TestSshd> {
  return TestSshd.start(opts);
}
