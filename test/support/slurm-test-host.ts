import { afterAll, beforeAll } from 'vitest';
import { startRunTestHost, sleep, type RunTestHost } from './run-test-host';
import { slurmUnavailableReason, startSlurmCluster, type SlurmCluster } from './slurm-cluster';
import { checkTestHostAvailability } from './test-host-availability';

/**
 * The real single-node SLURM cluster (slurm-cluster.ts) as a host `cluster` of the test sshd (`SetEnv SLURM_CONF`),
 * added with `--scheduler slurm --partition …`, for the integration tests of runs and experiments on SLURM.
 */

/** Why a SLURM suite cannot run here (no test host, no slurm-wlm, not root), printed once; null when it can. */
export function slurmSuiteSkipReason(suite: string): string | null {
  const hostReady = checkTestHostAvailability();
  const reason = hostReady.ok ? slurmUnavailableReason() : hostReady.reason;
  if (reason) process.stderr.write(`[slurm] skipping the ${suite} suite: ${reason}\n`);
  return reason;
}

export interface SlurmTestHost {
  cluster: SlurmCluster;
  t: RunTestHost;
  /** Jobs first (their TERM traps remove their containers), then the host, then the cluster's daemons. */
  stop(): Promise<void>;
}

export async function startSlurmTestHost(options: { gpus?: number } = {}): Promise<SlurmTestHost> {
  const cluster = await startSlurmCluster({ gpus: options.gpus ?? 1 });
  let t: RunTestHost;
  try {
    t = await startRunTestHost({
      nvidiaSmi: 'none',
      hostName: 'cluster',
      sshdConfig: [`SetEnv SLURM_CONF=${cluster.conf}`],
      addFlags: ['--scheduler', 'slurm', '--partition', cluster.partition],
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return {
    cluster,
    t,
    stop: async () => {
      cluster.client(['scancel', '--full', '-u', 'root']);
      await sleep(1_000);
      await t.cleanup();
      await cluster.stop();
    },
  };
}

/** Starts the SLURM test host before the suite and stops it after (vitest hooks); the host, once started. */
export function slurmTestHostHooks(options: { gpus?: number } = {}): () => SlurmTestHost {
  let host: SlurmTestHost | undefined;
  beforeAll(async () => {
    host = await startSlurmTestHost(options);
  }, 300_000);
  afterAll(async () => {
    await host?.stop();
  }, 60_000);
  return () => {
    if (!host) throw new Error('the SLURM test host did not start');
    return host;
  };
}
