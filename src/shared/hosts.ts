import { z } from 'zod';

/**
 * GPU hosts as the contract sees them. A profile is what the user saved (by hand or imported from
 * ~/.ssh/config); connection state and preflight results are live facts reported by main.
 */

export const hostNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash and underscore; starting with a letter or digit');

/** One hop of a ProxyJump chain, `[user@]host[:port]`, as ssh -J takes it. */
export const jumpHopSchema = z.object({
  host: z.string().min(1),
  user: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
});
export type JumpHop = z.infer<typeof jumpHopSchema>;

/** How a SLURM host runs a run's container inside its job (docs/slurm.md). */
export const slurmRuntimeSchema = z.enum(['docker', 'podman', 'apptainer', 'enroot']);
export type SlurmRuntime = z.infer<typeof slurmRuntimeSchema>;

/** A word sbatch takes as an option value (partition, account, QoS, GRES spec): no spaces, quotes or shell syntax. */
const sbatchWord = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:,+=-]*$/, 'letters, digits and . _ : , + = - only');

/**
 * A host whose runs are SLURM jobs (docs/slurm.md): reached over SSH like any host (its login node), each run is an
 * `sbatch` job with the run folder on the cluster's shared filesystem (the run root). Absent: runs start directly.
 */
export const slurmSchedulerSchema = z.object({
  kind: z.literal('slurm'),
  partition: sbatchWord.optional(),
  account: sbatchWord.optional(),
  qos: sbatchWord.optional(),
  runtime: slurmRuntimeSchema.default('docker'),
  /** The GPU request per GPU of the run, as `--gres=` takes it (`gpu:1` by default; e.g. `gpu:h100:1`). */
  gpuGres: sbatchWord.optional(),
});
export type SlurmScheduler = z.infer<typeof slurmSchedulerSchema>;

export const hostProfileSchema = z.object({
  name: hostNameSchema,
  kind: z.enum(['ssh', 'local']),
  /** SSH: the address to connect to (ssh_config HostName). */
  hostname: z.string().optional(),
  user: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** Private key files, tried in order after the ssh-agent's keys. `~` is expanded. */
  identityFiles: z.array(z.string()).default([]),
  /** ProxyJump chain, outermost first. */
  proxyJump: z.array(jumpHopSchema).default([]),
  /** The host's Docker socket (SSH: on the host; local: on this machine). */
  dockerSocket: z.string().default('/var/run/docker.sock'),
  /** Where run folders go on the host. */
  runRoot: z.string().default('~/posttrain-runs'),
  /** Images a run on this host needs (agent sandbox, evaluator); preflight checks they are present. The first is
   * the default image for runs that name none. */
  requiredImages: z.array(z.string()).default([]),
  /** A PostTrainBench checkout on the host, for the task catalog. */
  ptbCheckout: z.string().optional(),
  /** The host's Hugging Face cache, mounted read-only into sandboxes at /hf-cache. */
  hfCache: z.string().optional(),
  /** A folder of benchmark test sets (`<benchmark>.jsonl|parquet`) the integrity checks compare against. */
  testSets: z.string().optional(),
  /** Where imported from, e.g. `~/.ssh/config:12`. */
  source: z.string().optional(),
  /** Runs go through a batch scheduler (SLURM) instead of starting directly. */
  scheduler: slurmSchedulerSchema.optional(),
});
export type HostProfile = z.infer<typeof hostProfileSchema>;
export type HostProfileInput = z.input<typeof hostProfileSchema>;

export const connectionStateSchema = z.object({
  status: z.enum(['disconnected', 'connecting', 'connected', 'reconnecting', 'failed']),
  /** Set with `failed` and `reconnecting`: what went wrong, with the error code. */
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  /** With `reconnecting`: when the next attempt starts (ISO time) and which attempt it is. */
  nextAttemptAt: z.string().optional(),
  attempt: z.number().int().optional(),
  since: z.string(),
});
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const checkStatusSchema = z.enum(['pending', 'running', 'pass', 'warn', 'fail', 'skip']);
export type CheckStatus = z.infer<typeof checkStatusSchema>;

export const preflightCheckSchema = z.object({
  /** Stable id, e.g. `ssh`, `docker`, `nvidia-runtime`, `gpus`, `gpu-container`, `gpu-busy`, `disk`, `images`. */
  id: z.string(),
  title: z.string(),
  status: checkStatusSchema,
  /** What was found, one line (e.g. `Docker 27.3.1, API 1.47`). */
  summary: z.string().default(''),
  /** Further lines: per-GPU rows, per-image rows. */
  details: z.array(z.string()).default([]),
  /** With warn / fail: the fix to try, concretely. */
  fix: z.string().optional(),
  durationMs: z.number().optional(),
});
export type PreflightCheck = z.infer<typeof preflightCheckSchema>;

export const gpuInfoSchema = z.object({
  index: z.number().int(),
  name: z.string(),
  uuid: z.string(),
  memoryTotalMiB: z.number(),
  driverVersion: z.string(),
});
export type GpuInfo = z.infer<typeof gpuInfoSchema>;

export const preflightReportSchema = z.object({
  host: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  checks: z.array(preflightCheckSchema),
  gpus: z.array(gpuInfoSchema).default([]),
  /** GPU indices with no compute process on them: the default pick for a run. */
  freeGpus: z.array(z.number().int()).default([]),
  overall: checkStatusSchema,
});
export type PreflightReport = z.infer<typeof preflightReportSchema>;

export const hostKeyPromptSchema = z.object({
  promptId: z.string(),
  host: z.string(),
  /** The address actually verified (a jump hop has its own). */
  address: z.string(),
  keyType: z.string(),
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: z.string(),
});
export type HostKeyPrompt = z.infer<typeof hostKeyPromptSchema>;

export const hostKeyDecisionSchema = z.enum(['once', 'always', 'refuse']);
export type HostKeyDecision = z.infer<typeof hostKeyDecisionSchema>;

export const passphrasePromptSchema = z.object({
  promptId: z.string(),
  host: z.string(),
  keyPath: z.string(),
  /** Set when a previous passphrase was wrong. */
  retry: z.boolean(),
});
export type PassphrasePrompt = z.infer<typeof passphrasePromptSchema>;

/** One `Host` entry of an ssh_config, flattened to what a profile needs. */
export const sshConfigCandidateSchema = z.object({
  alias: z.string(),
  hostname: z.string(),
  user: z.string().optional(),
  port: z.number().int().optional(),
  identityFiles: z.array(z.string()),
  proxyJump: z.array(jumpHopSchema),
  /** `file:line` of the Host line. */
  source: z.string(),
});
export type SshConfigCandidate = z.infer<typeof sshConfigCandidateSchema>;

export const sshConfigProblemSchema = z.object({ file: z.string(), line: z.number().int(), message: z.string() });
export type SshConfigProblem = z.infer<typeof sshConfigProblemSchema>;
