import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { expect } from 'vitest';
import type { CaptureState } from './fake-nvidia-smi';
import { isProcessAlive, terminateChild, terminateProcess } from './process-tree';
import { runPtw, type CliResult } from './run-cli';
import { startGpuTestHost, type TestHost } from './test-host';
import { buildDebianImage } from './test-images';

/**
 * A GPU host for run tests, as a user would set one up: a real sshd + dockerd on this machine, a Debian image with
 * python3 (the rehearsal needs sh and python3), optionally a fake nvidia-smi replaying a real H100 capture on the
 * SSH session's PATH, and a PTW_HOME where `ptw host add` + `ptw host check --accept-new-host-key` made it known.
 * Cleanup stops every supervisor the runs started (by the pid in each run folder), removes their containers, stops
 * sshd and dockerd by pid and removes the temp dirs.
 */

export const PYTHON_IMAGE = 'ptw-test/debian-python3:1';
const bin = path.resolve(__dirname, '..', '..', 'bin', 'ptw.cjs');

export interface RunTestHost {
  work: string;
  host: TestHost;
  hostName: string;
  runRoot: string;
  /** HOME and PTW_HOME for `ptw`. */
  env: Record<string, string>;
  ptw(args: string[], extraEnv?: Record<string, string>, timeoutMs?: number): Promise<CliResult>;
  /** `ptw run start` of a rehearsal-task run on this host: the run id, or it throws with what ptw said. */
  startRun(run: TestRun, extraEnv?: Record<string, string>): Promise<string>;
  /** `ptw` as a child process the test controls (to kill it mid-run). */
  spawnPtw(args: string[], extraEnv?: Record<string, string>): PtwChild;
  runDir(id: string): string;
  /** The run's supervisor pid, from its pid file. */
  supervisorPid(id: string): number | undefined;
  docker: Dockerode;
  cleanup(): Promise<void>;
}

/** A run the integration tests start: the rehearsal task with the given agent. */
export interface TestRun {
  /** Default `rehearsal`. */
  agent?: 'rehearsal' | 'custom' | 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';
  /** For `custom`: the argv. */
  command?: string[];
  model?: string;
  image?: string;
  /** Default `2m`. */
  budget?: string;
  /** `--env KEY=VALUE` each. */
  env?: Record<string, string>;
  label?: string;
}

/** The `ptw run start` argv for {@link TestRun} on `host`. */
export function runStartArgs(host: string, run: TestRun): string[] {
  return [
    'run',
    'start',
    '--host',
    host,
    '--task',
    'rehearsal',
    '--agent',
    run.agent ?? 'rehearsal',
    ...(run.command ? ['--command', JSON.stringify(run.command)] : []),
    ...(run.model ? ['--model', run.model] : []),
    ...(run.image ? ['--image', run.image] : []),
    '--budget',
    run.budget ?? '2m',
    ...(run.label ? ['--label', run.label] : []),
    ...Object.entries(run.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ];
}

/** `ptw run start` of {@link TestRun} on `host` through `ptw`: the run id, or it throws with what ptw said. */
export async function startTestRun(
  ptw: (args: string[]) => Promise<CliResult>,
  host: string,
  run: TestRun,
): Promise<string> {
  const started = await ptw(runStartArgs(host, run));
  if (started.code !== 0) throw new Error(`ptw run start failed (exit ${started.code}):\n${started.stderr}`);
  return started.stdout.trim();
}

export interface PtwChild {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export interface RunTestHostOptions {
  /** The fake nvidia-smi's state, or none at all (a CPU-only host). Default `idle`. */
  nvidiaSmi?: CaptureState | 'none';
  hostName?: string;
  /** The SSH port the profile uses (a proxy in front of sshd); sshd's own by default. */
  sshPort?: (sshdPort: number) => Promise<number>;
  /** Extra `ptw host add` flags. */
  addFlags?: string[];
  /** Extra sshd_config lines (e.g. `SetEnv SLURM_CONF=…` for a SLURM host). */
  sshdConfig?: string[];
}

export async function startRunTestHost(options: RunTestHostOptions = {}): Promise<RunTestHost> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-runs-'));
  const hostName = options.hostName ?? 'gpu1';
  const runRoot = path.join(work, 'host-runs');
  const children = new Set<ChildProcess>();
  let host: TestHost | undefined;
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled([...children].map((c) => terminateChild(c, 2_000)));
    // Supervisors are detached host processes: found by their pid files, stopped by pid.
    if (existsSync(runRoot)) {
      for (const name of readdirSync(runRoot)) {
        const pidFile = path.join(runRoot, name, '.supervisor', 'supervisor.pid');
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
        if (pid > 0 && isProcessAlive(pid) && /ptw-supervisor|ptw-host\.pyz/.test(readCmdline(pid))) {
          await terminateProcess(pid, 5_000).catch(() => undefined);
        }
      }
    }
    if (host) {
      const docker = host.dockerd.docker;
      const left = await docker.listContainers({ all: true, filters: { label: ['ptw.run'] } }).catch(() => []);
      await Promise.allSettled(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await host.stop();
    }
    await rm(work, { recursive: true, force: true });
  };
  try {
    host = await startGpuTestHost(work, {
      nvidiaSmi: options.nvidiaSmi ?? 'idle',
      pathDirs: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      ...(options.sshdConfig ? { sshdConfig: options.sshdConfig } : {}),
    });
    await buildDebianImage(host.dockerd.docker, PYTHON_IMAGE, { packages: ['python3'] });
    await mkdir(path.join(work, 'home', '.ssh'), { recursive: true });
    const env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
    const port = options.sshPort ? await options.sshPort(host.sshd.port) : host.sshd.port;
    const add = await runPtw(
      [
        'host',
        'add',
        hostName,
        '--ssh',
        `${host.sshd.username}@127.0.0.1:${port}`,
        '--identity',
        host.sshd.privateKeyPath,
        '--docker-socket',
        host.dockerd.socketPath,
        '--run-root',
        runRoot,
        '--image',
        PYTHON_IMAGE,
        ...(options.addFlags ?? []),
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    // Trusts the host key (preflight itself fails: the test dockerd has no NVIDIA runtime).
    const check = await runPtw(['host', 'check', hostName, '--accept-new-host-key', '--json'], env, 120_000);
    expect(check.stderr).toContain('Accepted (--accept-new-host-key)');
    const testHost = host;
    return {
      work,
      host: testHost,
      hostName,
      runRoot,
      env,
      docker: testHost.dockerd.docker,
      ptw: (args, extraEnv = {}, timeoutMs = 120_000) => runPtw(args, { ...env, ...extraEnv }, timeoutMs),
      startRun: (run, extraEnv = {}) =>
        startTestRun((args) => runPtw(args, { ...env, ...extraEnv }, 120_000), hostName, run),
      spawnPtw(args, extraEnv = {}) {
        const { SSH_AUTH_SOCK: _agent, ...base } = process.env;
        const child = spawn(process.execPath, [bin, ...args], {
          env: { ...base, ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.add(child);
        let stdout = '';
        let stderr = '';
        // setEncoding: a character split across two chunks stays whole.
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const exited = new Promise<number | null>((resolve) =>
          child.once('exit', (code) => {
            children.delete(child);
            resolve(code);
          }),
        );
        return { child, stdout: () => stdout, stderr: () => stderr, exited };
      },
      runDir: (id) => path.join(runRoot, id),
      supervisorPid(id) {
        const pidFile = path.join(runRoot, id, '.supervisor', 'supervisor.pid');
        if (!existsSync(pidFile)) return undefined;
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        return pid > 0 ? pid : undefined;
      },
      cleanup,
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** What the run's terminal showed: the cast's `o` data, concatenated. */
export function castText(castFile: string): string {
  const lines = readFileSync(castFile, 'utf8').split('\n').slice(1);
  let out = '';
  for (const line of lines) {
    if (!line) continue;
    const event = JSON.parse(line) as [number, string, string];
    if (event[1] === 'o') out += event[2];
  }
  return out;
}

/** Every file under `dir` (relative paths), for "the secret is in none of them" checks. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  if (existsSync(dir)) walk('');
  return out.sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
