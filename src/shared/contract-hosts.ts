import { z } from 'zod';
import {
  checkStatusSchema,
  connectionStateSchema,
  hostKeyDecisionSchema,
  hostKeyPromptSchema,
  hostNameSchema,
  hostProfileSchema,
  passphrasePromptSchema,
  preflightCheckSchema,
  preflightReportSchema,
  slurmSchedulerSchema,
  sshConfigCandidateSchema,
  sshConfigProblemSchema,
} from './hosts';

/**
 * GPU hosts: profiles (by hand or from ssh_config), connections with their host-key and passphrase questions, and
 * preflight. Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 */

export const hostSummarySchema = z.object({
  name: z.string(),
  kind: z.enum(['ssh', 'local']),
  /** `user@host:port` for SSH hosts, the socket path for local ones. */
  address: z.string(),
  /** The ProxyJump chain as ssh -J writes it, empty when direct. */
  jump: z.string().default(''),
  dockerSocket: z.string().default('/var/run/docker.sock'),
  runRoot: z.string().default(''),
  identityFiles: z.array(z.string()).default([]),
  requiredImages: z.array(z.string()).default([]),
  source: z.string().optional(),
  /** SLURM hosts: the scheduler settings (runs are sbatch jobs). */
  scheduler: slurmSchedulerSchema.optional(),
  state: connectionStateSchema.optional(),
  /** The last preflight, if one ran in this app session or was saved. */
  lastCheck: z.object({ overall: checkStatusSchema, finishedAt: z.string() }).optional(),
});
export type HostSummary = z.infer<typeof hostSummarySchema>;

export const sshConfigPreviewSchema = z.object({
  file: z.string(),
  candidates: z.array(sshConfigCandidateSchema),
  problems: z.array(sshConfigProblemSchema),
  /** Host lines that give no profile, with why (`Host *` patterns, names a profile cannot have). */
  notImported: z.array(sshConfigProblemSchema).default([]),
  /** Aliases that already exist as profiles (importing again replaces them). */
  existing: z.array(z.string()),
});
export type SshConfigPreview = z.infer<typeof sshConfigPreviewSchema>;

const empty = z.object({}).strict();
const hostName = z.object({ name: hostNameSchema }).strict();

export const hostsCommands = {
  'hosts.list': { input: empty, output: z.array(hostSummarySchema) },
  /** Adds or replaces a profile by hand. */
  'hosts.add': { input: hostProfileSchema.omit({ source: true }), output: hostSummarySchema },
  'hosts.remove': { input: hostName, output: z.object({ removed: z.boolean() }) },
  /** Reads an ssh_config (default ~/.ssh/config) and lists what could be imported, with any problems by line. */
  'hosts.previewSshConfig': {
    input: z.object({ file: z.string().optional() }).strict(),
    output: sshConfigPreviewSchema,
  },
  'hosts.importSshConfig': {
    input: z.object({ file: z.string().optional(), aliases: z.array(z.string()).min(1) }).strict(),
    output: z.array(hostSummarySchema),
  },
  /** Connects (or reuses the connection); host-key and passphrase questions arrive as events meanwhile. */
  'hosts.connect': { input: hostName, output: connectionStateSchema },
  'hosts.disconnect': { input: hostName, output: connectionStateSchema },
  /** Runs preflight; each check also arrives as a `hosts.preflightProgress` event while it runs. */
  'hosts.check': { input: hostName, output: preflightReportSchema },
  'hosts.lastCheck': { input: hostName, output: preflightReportSchema.nullable() },
  'hosts.answerHostKey': {
    input: z.object({ promptId: z.string(), decision: hostKeyDecisionSchema }).strict(),
    output: z.object({ accepted: z.boolean() }),
  },
  /** The passphrase is used in memory for this connection only; it is never written anywhere. */
  'hosts.answerPassphrase': {
    input: z.object({ promptId: z.string(), passphrase: z.string().optional() }).strict(),
    output: z.object({ accepted: z.boolean() }),
  },
} as const;

export const hostsEvents = {
  /** The host list changed (added, removed, imported, connection state, last check). */
  'hosts.changed': z.array(hostSummarySchema),
  'hosts.preflightProgress': z.object({ name: z.string(), check: preflightCheckSchema }),
  /** An unknown host key: answer with `hosts.answerHostKey`. */
  'hosts.hostKeyPrompt': hostKeyPromptSchema,
  /** An encrypted key needs its passphrase: answer with `hosts.answerPassphrase`. */
  'hosts.passphrasePrompt': passphrasePromptSchema,
  /** A prompt was answered or abandoned (e.g. in another window): close its dialog. */
  'hosts.promptClosed': z.object({ promptId: z.string() }),
} as const;
