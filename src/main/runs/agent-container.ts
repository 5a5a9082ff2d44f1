import type Dockerode from 'dockerode';

/** What the hardened agent sandbox is made of; everything except `secretEnv` is also recorded in run.json. */
export interface AgentContainerPlan {
  runId: string;
  /** Absolute run folder on the host. */
  runDir: string;
  image: string;
  /** argv run inside the sandbox. */
  command: string[];
  /** Non-secret environment (agent extras, the user's extra env). */
  env: Record<string, string>;
  /** The agent's own key(s): enter the container's environment and nothing else the app writes. */
  secretEnv: Record<string, string>;
  /** GPU indices; empty runs without a GPU device request. */
  gpus: number[];
  /** Task files the rules protect, relative to the task folder: mounted read-only over the agent's copies. */
  protectedFiles: string[];
  /** The host's Hugging Face cache, mounted read-only at /hf-cache when set. */
  hfCacheDir?: string;
  network: boolean;
  limits: { nanoCpus?: number; memoryBytes?: number; pidsLimit?: number; shmBytes?: number };
  tty: { cols: number; rows: number };
  labels: Record<string, string>;
}

/** Linux capabilities a root process in the sandbox keeps after `cap-drop ALL`: enough for pip, apt and file ownership. */
export const agentCapabilities = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'] as const;

export const sandboxPaths = { workspace: '/workspace', ptw: '/ptw', hfCache: '/hf-cache' } as const;

/**
 * The Docker create request for an agent sandbox: TTY, the run's own mounts only (never the Docker socket, never
 * `record/` or `control/`), all capabilities dropped but a few, no new privileges, limits, and GPU device requests.
 */
export function buildAgentContainerConfig(plan: AgentContainerPlan): Dockerode.ContainerCreateOptions {
  const binds = [
    `${plan.runDir}/workspace:${sandboxPaths.workspace}:rw`,
    `${plan.runDir}/ptw:${sandboxPaths.ptw}:ro`,
    ...plan.protectedFiles.map((f) => `${plan.runDir}/task/${f}:${sandboxPaths.workspace}/${f}:ro`),
    ...(plan.hfCacheDir ? [`${plan.hfCacheDir}:${sandboxPaths.hfCache}:ro`] : []),
  ];
  const env = {
    ...plan.env,
    ...plan.secretEnv,
    PTW_RUN_ID: plan.runId,
    PTW_DEADLINE_FILE: `${sandboxPaths.ptw}/deadline`,
    HF_HOME: `${sandboxPaths.workspace}/.cache/huggingface`,
    ...(plan.hfCacheDir ? { PTW_HF_CACHE: sandboxPaths.hfCache } : {}),
    TERM: 'xterm-256color',
    COLUMNS: String(plan.tty.cols),
    LINES: String(plan.tty.rows),
  };
  return {
    Image: plan.image,
    Cmd: plan.command,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: sandboxPaths.workspace,
    Tty: true,
    OpenStdin: true,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Labels: plan.labels,
    HostConfig: {
      Binds: binds,
      CapDrop: ['ALL'],
      CapAdd: [...agentCapabilities],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      NetworkMode: plan.network ? 'bridge' : 'none',
      PidsLimit: plan.limits.pidsLimit ?? 4096,
      ...(plan.limits.memoryBytes ? { Memory: plan.limits.memoryBytes, MemorySwap: plan.limits.memoryBytes } : {}),
      ...(plan.limits.nanoCpus ? { NanoCpus: plan.limits.nanoCpus } : {}),
      // PyTorch data loaders share tensors through /dev/shm; Docker's 64 MB default breaks them.
      ShmSize: plan.limits.shmBytes ?? 16 * 1024 ** 3,
      ...(plan.gpus.length > 0
        ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: plan.gpus.map(String), Capabilities: [['gpu']] }] }
        : {}),
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
  };
}
