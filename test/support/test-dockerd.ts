import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { createLocalDocker, type LocalDocker } from '../../src/main/docker/local-docker';
import { findProcessesMentioning, listDescendants, terminateChild, terminateProcess } from './process-tree';

const execFileAsync = promisify(execFile);

export type TestStorageDriver = 'overlay2' | 'vfs';

export interface TestDockerdOptions {
  /**
   * Force a storage driver. Default: overlay2, falling back to vfs when overlay2 cannot start
   * (e.g. the temp dir is itself on overlayfs). `PTW_TEST_DOCKER_STORAGE_DRIVER` sets it too.
   */
  storageDriver?: TestStorageDriver;
  startTimeoutMs?: number;
}

/**
 * Unix socket paths are limited to 108 bytes and containerd puts its sockets under the exec
 * root, so the temp dir must stay short whatever TMPDIR is.
 */
function shortTempBase(): string {
  const tmp = os.tmpdir();
  return tmp.length <= 16 ? tmp : '/tmp';
}

/** Resolves true when the daemon on `socketPath` answers GET /_ping with OK. */
export function pingDockerSocket(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Mount points at or under `dir` (from /proc/self/mountinfo), deepest first. */
export function mountsUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (const line of info.split('\n')) {
    const field = line.split(' ')[4];
    if (!field) continue;
    // mountinfo escapes space, tab, newline and backslash as octal.
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
    if (mountPoint === dir || mountPoint.startsWith(`${dir}/`)) found.add(mountPoint);
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything under `dir` (overlay layers, netns files) so it can be removed. */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (const mountPoint of mountsUnder(dir)) {
    await execFileAsync('umount', ['-l', mountPoint]).catch(() => undefined);
  }
}

/**
 * A private dockerd (own data root, exec root, socket and containerd namespace) that touches
 * no networking: no iptables, no bridge, so containers must use NetworkMode `none`.
 */
export class TestDockerd {
  readonly dir: string;
  readonly socketPath: string;
  readonly logPath: string;
  readonly pidFile: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  /** Also the containerd namespace, so this daemon's shims are findable (and never collide) even on a shared containerd. */
  readonly name: string;
  #storageDriver: TestStorageDriver = 'overlay2';
  #child: ChildProcess | undefined;
  #local: LocalDocker | undefined;

  private constructor(dir: string) {
    this.dir = dir;
    this.name = path.basename(dir);
    this.socketPath = path.join(dir, 'docker.sock');
    this.logPath = path.join(dir, 'dockerd.log');
    this.pidFile = path.join(dir, 'dockerd.pid');
    this.dataRoot = path.join(dir, 'data');
    this.execRoot = path.join(dir, 'exec');
  }

  static async start(opts: TestDockerdOptions = {}): Promise<TestDockerd> {
    const dir = await mkdtemp(path.join(shortTempBase(), 'ptw-d'));
    const dockerd = new TestDockerd(dir);
    const forced = opts.storageDriver ?? (process.env.PTW_TEST_DOCKER_STORAGE_DRIVER as TestStorageDriver | undefined);
    const timeoutMs = opts.startTimeoutMs ?? 60_000;
    try {
      // An empty config file, so a developer's /etc/docker/daemon.json cannot clash with our flags.
      await writeFile(path.join(dir, 'daemon.json'), '{}\n');
      try {
        await dockerd.#spawn(forced ?? 'overlay2', timeoutMs);
      } catch (err) {
        const log = dockerd.readLog();
        if (forced !== undefined || !/graphdriver|overlay/i.test(log)) throw err;
        await unmountAllUnder(dir);
        await rm(dockerd.dataRoot, { recursive: true, force: true });
        await dockerd.#spawn('vfs', timeoutMs);
      }
      return dockerd;
    } catch (err) {
      await dockerd.stop().catch(() => undefined);
      throw err;
    }
  }

  get pid(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('dockerd is not running');
    return pid;
  }

  get storageDriver(): TestStorageDriver {
    return this.#storageDriver;
  }

  /** dockerode on the local socket (the daemon as seen from the host itself). */
  get docker(): Dockerode {
    if (!this.#local) throw new Error('dockerd is not running');
    return this.#local.docker;
  }

  readLog(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Stops dockerd by PID (its shutdown stops containers and its own containerd), then ends
   * anything it left behind (containerd, shims and their containers), unmounts and removes the dir.
   */
  async stop(): Promise<void> {
    try {
      await this.#killContainers();
    } finally {
      this.#local?.dispose();
      this.#local = undefined;
    }
    try {
      const child = this.#child;
      const leftovers = new Set<number>();
      const collect = (): void => {
        if (child?.pid) for (const pid of listDescendants(child.pid)) leftovers.add(pid);
        // Shims re-parent themselves to PID 1 but name our exec root / namespace on their command line.
        for (const pid of findProcessesMentioning(this.name)) {
          leftovers.add(pid);
          for (const descendant of listDescendants(pid)) leftovers.add(descendant);
        }
        if (child?.pid) leftovers.delete(child.pid);
      };
      collect();
      if (child) await terminateChild(child, 20_000);
      this.#child = undefined;
      collect();
      await Promise.all([...leftovers].map((pid) => terminateProcess(pid, 3_000)));
    } finally {
      await unmountAllUnder(this.dir);
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /**
   * dockerd's shutdown gives each container its own stop timeout (10 s unless set), whatever
   * --shutdown-timeout says, and a shell as PID 1 ignores SIGTERM; SIGKILL them first instead.
   */
  async #killContainers(): Promise<void> {
    const docker = this.#local?.docker;
    if (!docker) return;
    const killAll = async (): Promise<void> => {
      const running = await docker.listContainers();
      await Promise.allSettled(running.map((c) => docker.getContainer(c.Id).kill({ signal: 'SIGKILL' })));
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      killAll().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5_000);
      }),
    ]);
    clearTimeout(timer);
  }

  async #spawn(storageDriver: TestStorageDriver, timeoutMs: number): Promise<void> {
    this.#storageDriver = storageDriver;
    await mkdir(this.dataRoot, { recursive: true });
    await mkdir(this.execRoot, { recursive: true });
    const logStart = this.readLog().length;
    const args = [
      `--config-file=${path.join(this.dir, 'daemon.json')}`,
      '--iptables=false',
      '--bridge=none',
      `--storage-driver=${storageDriver}`,
      `--data-root=${this.dataRoot}`,
      `--exec-root=${this.execRoot}`,
      `--pidfile=${this.pidFile}`,
      `--host=unix://${this.socketPath}`,
      `--containerd-namespace=${this.name}`,
      `--containerd-plugins-namespace=${this.name}-plugins`,
      // Caps how long shutdown waits overall; stop() kills containers before it gets that far.
      '--shutdown-timeout=2',
    ];
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn('dockerd', args, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    const deadline = Date.now() + timeoutMs;
    while (!(await pingDockerSocket(this.socketPath, 1_000))) {
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (spawnError || exited || Date.now() >= deadline) {
        if (!exited) await terminateChild(child, 5_000);
        this.#child = undefined;
        const why = spawnError?.message ?? (exited ? `exited with ${child.exitCode ?? child.signalCode}` : 'timed out');
        const log = this.readLog().slice(logStart);
        throw new Error(
          `dockerd (${storageDriver}) did not start (${why}); log ${this.logPath}:\n${log.slice(-3_000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.#local = createLocalDocker({ socketPath: this.socketPath });
  }
}

export function startTestDockerd(opts?: TestDockerdOptions): Promise<TestDockerd> {
  return TestDockerd.start(opts);
}
