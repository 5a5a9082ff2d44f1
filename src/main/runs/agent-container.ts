import path from 'node:path';
import type Dockerode from 'dockerode';
import { GPU_JOB_ULIMITS } from './sandbox-policy';

/**
 * The agent sandbox: the one Docker create request every run's agent container comes from (the launcher, and the
 * supervisor tests through test/support/supervisor-harness.ts). The supervisor starts it; see docs/run-folder.md.
 */

/** What the hardened agent sandbox is made of; everything except `secretEnv` is also recorded in run.json. */
export interface AgentContainerPlan {
  runId: string;
  /** Absolute run folder on the host. */
  runDir: string;
  image: string;
  /** argv run inside the sandbox (tini's child when `init` is on). */
  command: string[];
  /** Non-secret environment (agent extras, the user's extra env). */
  env: Record<string, string>;
  /** The agent's own key(s): enter the container's environment and nothing else the app writes. */
  secretEnv: Record<string, string>;
  /** GPU indices; empty runs without a GPU device request. */
  gpus: number[];
  /** Task paths the rules protect, relative to the task folder: mounted read-only over the agent's copies. */
  protectedFiles: string[];
  /** The host's Hugging Face cache, mounted read-only at /hf-cache when set. */
  hfCacheDir?: string;
  network: boolean;
  /**
   * A scripted run's model endpoint container (model-endpoint.ts): the agent joins its network namespace, reaching
   * the endpoint on 127.0.0.1 and, with the network off, nothing else.
   */
  networkContainer?: string;
  limits: { nanoCpus?: number; memoryBytes?: number; pidsLimit?: number; shmBytes?: number; diskBytes?: number };
  labels: Record<string, string>;
  /**
   * `uid:gid`, never root (sandbox-policy.ts): the agent owns `workspace/` and `home/` and nothing else, so no file
   * it writes can grant more than its own unprivileged id on the host.
   */
  user: string;
  /**
   * Docker's tini as PID 1 (default true): a process that is PID 1 ignores every signal it installs no handler
   * for, so without it the supervisor's SIGTERM would be ignored by most agents; tini also reaps zombies.
   */
  init?: boolean;
}

/**
 * The sandbox keeps no capability at all: its processes run as an unprivileged uid (which has none to keep), and an
 * exec as root into it (`docker exec -u 0`) gets none either, so it cannot chown, mknod or set other users' bits.
 */
export const agentCapabilities = [] as const;

export const sandboxPaths = {
  workspace: '/workspace',
  ptw: '/ptw',
  hfCache: '/hf-cache',
  home: '/home/agent',
} as const;

/** The name the agent's tools see for its user (there is no passwd entry for its uid in most images). */
export const SANDBOX_USER_NAME = 'agent';

/** The labels that make a container findable as a run's agent (docs/run-folder.md, "Container labels"). */
export function agentContainerLabels(input: {
  runId: string;
  runDir: string;
  specHash: string;
  budgetSeconds: number;
}): Record<string, string> {
  return {
    'ptw.run': input.runId,
    'ptw.role': 'agent',
    'ptw.run-dir': input.runDir,
    'ptw.spec-hash': input.specHash,
    'ptw.budget-seconds': String(input.budgetSeconds),
  };
}

/**
 * The Docker create request for an agent sandbox: TTY and open stdin (the supervisor attaches before it starts the
 * container), the run's own mounts only (never the Docker socket, never `record/` or `control/`; `ptw/` as a folder,
 * since the supervisor replaces `ptw/deadline` by rename, which a bind mount of the file would not show),
 * an unprivileged user with every capability dropped, no new privileges, tini as PID 1, limits (memory, /dev/shm,
 * the ulimits GPU jobs need), and GPU device requests.
 */
export function buildAgentContainerConfig(plan: AgentContainerPlan): Dockerode.ContainerCreateOptions {
  const bind = (source: string, target: string, readOnly: boolean): Dockerode.MountSettings => ({
    Type: 'bind',
    Source: source,
    Target: target,
    ReadOnly: readOnly,
  });
  const mounts = [
    bind(path.posix.join(plan.runDir, 'workspace'), sandboxPaths.workspace, false),
    // A writable HOME for the CLIs' settings and `pip install --user`, kept in the run folder for inspection.
    bind(path.posix.join(plan.runDir, 'home'), sandboxPaths.home, false),
    // The deadline, timer and prompt are the app's and the supervisor's: the agent reads them, never changes them.
    bind(path.posix.join(plan.runDir, 'ptw'), sandboxPaths.ptw, true),
    ...plan.protectedFiles.map((f) =>
      bind(path.posix.join(plan.runDir, 'task', f), path.posix.join(sandboxPaths.workspace, f), true),
    ),
    ...(plan.hfCacheDir ? [bind(plan.hfCacheDir, sandboxPaths.hfCache, true)] : []),
  ];
  const env = {
    ...plan.env,
    ...plan.secretEnv,
    PTW_RUN_ID: plan.runId,
    PTW_DEADLINE_FILE: `${sandboxPaths.ptw}/deadline`,
    HF_HOME: `${sandboxPaths.workspace}/.cache/huggingface`,
    HOME: sandboxPaths.home,
    USER: SANDBOX_USER_NAME,
    LOGNAME: SANDBOX_USER_NAME,
    ...(plan.hfCacheDir ? { PTW_HF_CACHE: sandboxPaths.hfCache } : {}),
    // No COLUMNS/LINES: the supervisor sets the TTY's size and may change it; a stale copy in the environment
    // would win over the real size in tools that read it first (busybox stty does).
    TERM: 'xterm-256color',
  };
  return {
    Image: plan.image,
    Cmd: plan.command,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: sandboxPaths.workspace,
    User: plan.user,
    Tty: true,
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Labels: plan.labels,
    HostConfig: {
      Mounts: mounts,
      CapDrop: ['ALL'],
      CapAdd: [...agentCapabilities],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      Init: plan.init ?? true,
      NetworkMode: plan.networkContainer ? `container:${plan.networkContainer}` : plan.network ? 'bridge' : 'none',
      PidsLimit: plan.limits.pidsLimit ?? 4096,
      ...(plan.limits.memoryBytes ? { Memory: plan.limits.memoryBytes, MemorySwap: plan.limits.memoryBytes } : {}),
      ...(plan.limits.nanoCpus ? { NanoCpus: plan.limits.nanoCpus } : {}),
      // Honoured only by storage drivers with quotas (overlay2 on xfs+pquota, btrfs, zfs); see RunLimits.diskBytes.
      ...(plan.limits.diskBytes ? { StorageOpt: { size: String(plan.limits.diskBytes) } } : {}),
      // PyTorch data loaders share tensors through /dev/shm; Docker's 64 MB default breaks them.
      ShmSize: plan.limits.shmBytes ?? 16 * 1024 ** 3,
      // With GPUs, the ulimits GPU jobs need (pinned memory, NCCL); Docker raises them as root, the user needs none.
      ...(plan.gpus.length > 0
        ? {
            DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: plan.gpus.map(String), Capabilities: [['gpu']] }],
            Ulimits: GPU_JOB_ULIMITS.map((u) => ({ ...u })),
          }
        : {}),
      // The supervisor removes it after reading its exit status; Docker must not do it first.
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
      // The supervisor's cast (attached before start) is the terminal's record. Docker's default json-file log
      // would keep a second, unrotated copy on the host's disk for the whole run, and encoding it costs dockerd
      // about a quarter of a core while the agent floods its terminal (bench:live).
      LogConfig: { Type: 'none', Config: {} },
    },
  };
}
