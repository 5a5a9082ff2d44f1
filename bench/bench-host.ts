// A GPU host for benchmarks, set up as test/support/run-test-host.ts does (a real sshd + dockerd on this machine,
// a Debian image with python3, a PTW_HOME that knows and trusts the host), without the Vitest assertions that
// module uses, so a benchmark can run outside Vitest. Cleanup stops everything by PID.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive, terminateProcess } from '../test/support/process-tree';
import { runPtw, type CliResult } from '../test/support/run-cli';
import { startTestHost, type TestHost } from '../test/support/test-host';
import { buildDebianImage } from '../test/support/test-images';

export const BENCH_IMAGE = 'ptw-test/debian-python3:1';

export interface BenchHost {
  host: TestHost;
  hostName: string;
  runRoot: string;
  env: { HOME: string; PTW_HOME: string };
  ptw(args: string[], timeoutMs?: number): Promise<CliResult>;
  runDir(id: string): string;
  cleanup(): Promise<void>;
}

/** `ptw host add NAME` of the test host (its sshd, key and dockerd) with this run root and image. */
export function hostAddArgs(name: string, host: TestHost, runRoot: string, image: string): string[] {
  return [
    ...['host', 'add', name, '--ssh', `${host.sshd.username}@127.0.0.1:${host.sshd.port}`],
    ...['--identity', host.sshd.privateKeyPath, '--docker-socket', host.dockerd.socketPath],
    ...['--run-root', runRoot, '--image', image],
  ];
}

export async function startBenchHost(): Promise<BenchHost> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-bench-host-'));
  const runRoot = path.join(work, 'host-runs');
  const hostName = 'bench';
  let host: TestHost | undefined;
  const cleanup = async (): Promise<void> => {
    if (existsSync(runRoot)) {
      for (const name of readdirSync(runRoot)) {
        const pidFile = path.join(runRoot, name, '.supervisor', 'supervisor.pid');
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
        if (pid > 0 && isProcessAlive(pid)) await terminateProcess(pid, 5_000).catch(() => undefined);
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
    host = await startTestHost({ sshd: { extraConfig: ['SetEnv PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'] } });
    await buildDebianImage(host.dockerd.docker, BENCH_IMAGE, { packages: ['python3'] });
    await mkdir(path.join(work, 'home', '.ssh'), { recursive: true });
    const env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
    const add = await runPtw(hostAddArgs(hostName, host, runRoot, BENCH_IMAGE), env);
    if (add.code !== 0) throw new Error(`ptw host add failed: ${add.stderr}`);
    const check = await runPtw(['host', 'check', hostName, '--accept-new-host-key', '--json'], env, 120_000);
    if (!check.stderr.includes('Accepted (--accept-new-host-key)')) throw new Error(`host check: ${check.stderr}`);
    return {
      host,
      hostName,
      runRoot,
      env,
      ptw: (args, timeoutMs = 120_000) => runPtw(args, env, timeoutMs),
      runDir: (id) => path.join(runRoot, id),
      cleanup,
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}
