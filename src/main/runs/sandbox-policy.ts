/**
 * Who the agent and the evaluator run as on the GPU host, and the resources they get by default
 * (docs/run-folder.md, "The sandbox and the host"). Pure: the launcher feeds it what the host probe saw.
 *
 * The rule that makes a root escape impossible by construction: nothing in a run's containers runs as the host's
 * root (on a rootful Docker: never uid 0 in the container; on a rootless one, uid 0 there is the SSH user). A
 * process that is uid 0 in the container owns the files it creates on the host's bind mounts even with every
 * capability dropped, so a `chmod 4755` on a copy of a shell would leave a setuid-root binary on the host. An
 * unprivileged uid can only ever make files that grant that same uid, inside a run folder no other host user can
 * enter (0700).
 */

/**
 * The uid (and gid) a run's containers get when the SSH user is root: a fixed unprivileged id from the range
 * Debian's policy keeps for ids allocated on demand (60000–64999), so it matches no login on the host.
 */
export const SANDBOX_ROOTLESS_ID = 61000;

export interface SandboxUser {
  uid: number;
  gid: number;
  /** `uid:gid`, as Docker's `User` takes it. */
  user: string;
  /** Whether the run folder's writable parts must be handed to this id (the SSH user is root). */
  chown: boolean;
}

/**
 * The SSH user's own uid and gid when it is not root (the files the agent writes are then the user's own, as if it
 * had run the agent itself), else {@link SANDBOX_ROOTLESS_ID}.
 */
export function sandboxUserFor(host: {
  uid: number | null;
  gid: number | null;
  /**
   * Docker runs rootless (`docker info` SecurityOptions `name=rootless`): the container's root is the SSH user on
   * the host and every other container uid a subordinate id that cannot write the user's workspace, so the sandbox
   * runs as the container's root, which is the unprivileged SSH user outside.
   */
  rootlessDocker?: boolean;
}): SandboxUser {
  if (host.rootlessDocker) return { uid: 0, gid: 0, user: '0:0', chown: false };
  const own = host.uid !== null && host.uid > 0 && host.gid !== null && host.gid > 0;
  const uid = own ? host.uid! : SANDBOX_ROOTLESS_ID;
  const gid = own ? host.gid! : SANDBOX_ROOTLESS_ID;
  return { uid, gid, user: `${uid}:${gid}`, chown: !own };
}

const GiB = 1024 ** 3;

/** The part of a host's memory a run gets when its spec names none (its GPUs' share, less some for the host). */
export const DEFAULT_MEMORY_SHARE = 0.85;
/** No run gets less than this by default (a small host still runs the rehearsal and a 1.7B model's training). */
export const MIN_DEFAULT_MEMORY_BYTES = 2 * GiB;
/** PyTorch data loaders and NCCL share tensors through /dev/shm; Docker's 64 MB default breaks them. */
export const MAX_DEFAULT_SHM_BYTES = 16 * GiB;

export interface SandboxLimits {
  memoryBytes: number | undefined;
  shmBytes: number;
  /** Where each number came from, for run.json and the launch's warnings. */
  source: { memory: 'spec' | 'host' | 'none'; shm: 'spec' | 'host' };
}

/**
 * Default memory limit and `/dev/shm` size from the host's RAM: a run on `g` of the host's `G` GPUs gets `g/G` of
 * its memory (all of it on a CPU-only host), times {@link DEFAULT_MEMORY_SHARE}, so runs placed side by side on
 * one host cannot starve each other or the host; `/dev/shm` gets half of that, at most 16 GiB. A spec's own
 * numbers always win. Unknown host memory means no memory limit, as before.
 */
export function sandboxLimits(input: {
  memTotalBytes: number | null;
  hostGpuCount: number;
  runGpuCount: number;
  spec: { memoryBytes?: number | undefined; shmBytes?: number | undefined };
}): SandboxLimits {
  let memoryBytes = input.spec.memoryBytes;
  let memorySource: SandboxLimits['source']['memory'] = memoryBytes === undefined ? 'none' : 'spec';
  if (memoryBytes === undefined && input.memTotalBytes !== null && input.memTotalBytes > 0) {
    const share =
      input.hostGpuCount > 0 && input.runGpuCount > 0 ? Math.min(1, input.runGpuCount / input.hostGpuCount) : 1;
    const wanted = Math.floor(input.memTotalBytes * share * DEFAULT_MEMORY_SHARE);
    memoryBytes = Math.min(input.memTotalBytes, Math.max(MIN_DEFAULT_MEMORY_BYTES, wanted));
    memorySource = 'host';
  }
  const shmFromHost =
    memoryBytes === undefined
      ? MAX_DEFAULT_SHM_BYTES
      : Math.max(64 * 1024 ** 2, Math.min(MAX_DEFAULT_SHM_BYTES, Math.floor(memoryBytes / 2)));
  const shmBytes = input.spec.shmBytes ?? shmFromHost;
  return {
    memoryBytes,
    shmBytes,
    source: { memory: memorySource, shm: input.spec.shmBytes === undefined ? 'host' : 'spec' },
  };
}

/**
 * Ulimits a GPU training job needs in the sandbox, as NVIDIA's containers recommend: unlimited locked memory
 * (pinned host buffers for fast copies, NCCL) and a 64 MiB stack. Docker sets them when it creates the container;
 * the process inside needs no capability for them.
 */
export const GPU_JOB_ULIMITS = [
  { Name: 'memlock', Soft: -1, Hard: -1 },
  { Name: 'stack', Soft: 64 * 1024 ** 2, Hard: 64 * 1024 ** 2 },
] as const;
