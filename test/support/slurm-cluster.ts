import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from './free-port';
import { isProcessAlive, terminateProcess } from './process-tree';

/**
 * A real single-node SLURM cluster on this machine (slurm-wlm's slurmctld + slurmd, and munged), as measured in
 * /work/shared/SLURM.md: everything under a temp folder on 127.0.0.1, no systemd, no cgroups, two GPUs faked as GRES
 * with /dev/null-backed device files, no accounting (sacct needs slurmdbd + MariaDB). Each daemon runs in the
 * foreground as our child and is stopped by its PID: slurmd before slurmctld (slurmd ignores TERM while it retries
 * registering with a dead controller), then munged.
 */

export const SLURM_INSTALL = 'sudo apt-get install -y slurm-wlm munge';
const BINARIES = [
  '/usr/sbin/slurmctld',
  '/usr/sbin/slurmd',
  '/usr/sbin/munged',
  '/usr/sbin/mungekey',
  '/usr/bin/sbatch',
];

/** Why this machine cannot run the test cluster, or null when it can. */
export function slurmUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'the SLURM test cluster needs Linux';
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) return `the SLURM test cluster is missing ${missing.join(', ')} (${SLURM_INSTALL})`;
  if (process.getuid?.() !== 0) return 'the SLURM test cluster runs its daemons as root';
  return null;
}

export interface SlurmCluster {
  dir: string;
  /** SLURM_CONF for clients (sbatch, squeue, scontrol, scancel): set it in their environment. */
  conf: string;
  partition: string;
  gpus: number;
  /** Runs a client command here with SLURM_CONF set. */
  client(argv: string[]): { code: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

interface Daemon {
  name: string;
  pid: number;
}

async function waitFor(
  what: string,
  check: () => boolean,
  timeoutMs: number,
  log: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`SLURM test cluster: ${what} not ready in ${timeoutMs} ms\n${await log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startSlurmCluster(options: { gpus?: number } = {}): Promise<SlurmCluster> {
  const gpus = options.gpus ?? 2;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-slurm-'));
  const daemons: Daemon[] = [];
  const b = (...parts: string[]): string => path.join(dir, ...parts);
  const stop = async (): Promise<void> => {
    // slurmd first, then slurmctld, then munged (SLURM.md, "slurmd after slurmctld died").
    for (const name of ['slurmd', 'slurmctld', 'munged']) {
      for (const d of daemons.filter((x) => x.name === name))
        await terminateProcess(d.pid, 5_000).catch(() => undefined);
    }
    daemons.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const sub of ['munge/etc', 'munge/run', 'munge/lib', 'etc', 'state', 'spool', 'log', 'dev']) {
      await mkdir(b(sub), { recursive: true });
    }
    // munged refuses a socket folder others cannot enter (every folder above it); the key folders stay private.
    await chmod(dir, 0o755);
    await chmod(b('munge'), 0o755);
    await chmod(b('munge/run'), 0o755);
    await chmod(b('munge/etc'), 0o700);
    await chmod(b('munge/lib'), 0o700);
    const key = b('munge/etc/munge.key');
    const made = spawnSync('/usr/sbin/mungekey', ['-c', '-k', key], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mungekey failed: ${made.stderr}`);
    await chmod(key, 0o400);
    // GRES File= must be a character device: symlinks to /dev/null are.
    for (let i = 0; i < gpus; i++) await symlink('/dev/null', b('dev', `nvidia${i}`));

    const [ctldPort, slurmdPort] = [await findFreePort(), await findFreePort()];
    const socket = b('munge/run/munge.socket.2');
    const conf = b('etc/slurm.conf');
    await writeFile(
      conf,
      [
        'ClusterName=ptwtest',
        'SlurmctldHost=localhost(127.0.0.1)',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        `StateSaveLocation=${b('state')}`,
        `SlurmdSpoolDir=${b('spool')}`,
        `SlurmctldPidFile=${b('state/slurmctld.pid')}`,
        `SlurmdPidFile=${b('spool/slurmd.pid')}`,
        `SlurmctldLogFile=${b('log/slurmctld.log')}`,
        `SlurmdLogFile=${b('log/slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core_Memory',
        'DefMemPerCPU=500',
        'MpiDefault=none',
        'MailProg=/bin/true',
        'ReturnToService=2',
        'MinJobAge=300',
        'KillWait=10',
        'SchedulerParameters=sched_interval=1',
        'GresTypes=gpu',
        'JobCompType=jobcomp/none',
        'AccountingStorageType=accounting_storage/none',
        `NodeName=localhost NodeAddr=127.0.0.1 CPUs=${Math.max(2, os.cpus().length)} RealMemory=4000 Gres=gpu:h100:${gpus} State=UNKNOWN`,
        'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
        '',
      ].join('\n'),
    );
    await writeFile(
      b('etc/gres.conf'),
      `AutoDetect=off\nNodeName=localhost Name=gpu Type=h100 File=${b('dev', `nvidia[0-${gpus - 1}]`)}\n`,
    );
    const env = { ...process.env, SLURM_CONF: conf };
    const start = (name: string, argv: string[]): void => {
      const out = openSync(b('log', `${name}.out`), 'a');
      const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', out, out], detached: false });
      closeSync(out);
      child.unref();
      if (child.pid === undefined) throw new Error(`starting ${name} failed`);
      daemons.push({ name, pid: child.pid });
    };
    const logs = async (): Promise<string> => {
      const parts = await Promise.all(
        ['munged.out', 'slurmctld.out', 'slurmd.out', 'slurmctld.log', 'slurmd.log'].map(
          async (f) => `--- ${f}\n${(await readFile(b('log', f), 'utf8').catch(() => '')).slice(-1500)}`,
        ),
      );
      return parts.join('\n');
    };
    const client = (argv: string[]): { code: number; stdout: string; stderr: string } => {
      const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', timeout: 15_000 });
      return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    const alive = (name: string): boolean => daemons.some((d) => d.name === name && isProcessAlive(d.pid));

    start('munged', [
      '/usr/sbin/munged',
      '-F',
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--log-file=${b('log/munged.log')}`,
      `--pid-file=${b('munge/run/munged.pid')}`,
      `--seed-file=${b('munge/lib/munged.seed')}`,
    ]);
    await waitFor('munged', () => existsSync(socket) || !alive('munged'), 10_000, logs);
    if (!alive('munged')) throw new Error(`munged exited\n${await logs()}`);
    start('slurmctld', ['/usr/sbin/slurmctld', '-D', '-i']);
    await waitFor(
      'slurmctld',
      () => !alive('slurmctld') || /UP/.test(client(['scontrol', 'ping']).stdout),
      15_000,
      logs,
    );
    if (!alive('slurmctld')) throw new Error(`slurmctld exited\n${await logs()}`);
    start('slurmd', ['/usr/sbin/slurmd', '-D', '-N', 'localhost']);
    await waitFor(
      'slurmd (node idle)',
      () => !alive('slurmd') || client(['sinfo', '-h', '-o', '%T']).stdout.trim() === 'idle',
      20_000,
      logs,
    );
    if (!alive('slurmd')) throw new Error(`slurmd exited\n${await logs()}`);
    return { dir, conf, partition: 'debug', gpus, client, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
