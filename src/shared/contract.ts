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
  sshConfigCandidateSchema,
  sshConfigProblemSchema,
} from './hosts';
import { liveCommands, liveEvents } from './contract-live';
import { monitorCommands, monitorEvents } from './contract-monitor';
import { replayCommands, replayEvents } from './contract-replay';
import { ptbRecordSchema, trajectoryCommands, trajectoryEvents } from './contract-trajectory';
import { bundleCommands, bundleEvents } from './contract-bundle';
import { checkpointsCommands, checkpointsEvents } from './contract-checkpoints';
import { datasetsCommands, datasetsEvents } from './contract-datasets';
import { leaderboardCommands, leaderboardEvents } from './contract-leaderboard';
import { hostSetupCommands, hostSetupEvents } from './contract-host-setup';
import { integrityCommands, integrityEvents } from './contract-integrity';

/**
 * The one contract between the node side (main process, `ptw serve`) and the renderer.
 * Every command and event is declared here with its runtime schema; both transports
 * (Electron IPC and WebSocket) and both ends are typed from this file.
 */

export const themePreferenceSchema = z.enum(['system', 'light', 'dark']);

export const prefsSchema = z.object({
  theme: themePreferenceSchema,
});
export type Prefs = z.infer<typeof prefsSchema>;

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  /** Where all state lives (`PTW_HOME`). */
  home: z.string(),
  /** Which shell the renderer is talking to. */
  shell: z.enum(['electron', 'serve', 'cli']),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

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
  state: connectionStateSchema.optional(),
  /** The last preflight, if one ran in this app session or was saved. */
  lastCheck: z.object({ overall: checkStatusSchema, finishedAt: z.string() }).optional(),
});
export type HostSummary = z.infer<typeof hostSummarySchema>;

export const runSummarySchema = z.object({
  id: z.string(),
  label: z.string(),
  host: z.string(),
  /** A RunStatus from src/shared/runs/run-status.ts, or `unreadable` / `unknown` when the record cannot say. */
  status: z.string(),
  createdAt: z.string(),
  /** e.g. `gsm8k · Qwen3-4B-Base` or `rehearsal`. */
  task: z.string().default(''),
  /** e.g. `claude-code · claude-opus-4-6`. */
  agent: z.string().default(''),
  budgetSeconds: z.number().optional(),
  /** Epoch ms, from the host's supervisor (the source of truth for the countdown). */
  startedAt: z.number().nullable().optional(),
  deadline: z.number().nullable().optional(),
  stoppedAt: z.number().nullable().optional(),
  stopReason: z.string().nullable().optional(),
  /** How long the agent ran, for an imported run whose source says so (time_taken) even when it has no start time. */
  ranSeconds: z.number().nullable().optional(),
  /** metrics.json `accuracy` × 100, once scored. */
  score: z.number().nullable().optional(),
  /** Whether the host's supervisor has been heard from in the last 20 s (live runs only). */
  supervisorAlive: z.boolean().optional(),
  /** Why the run failed to start (state.json `error`), when it did. */
  error: z.string().nullable().optional(),
  /** When the local record last caught up with the host (epoch ms). */
  syncedAt: z.number().nullable().optional(),
  /** Why the last catch-up with the host failed (e.g. the host is unreachable); null when it worked. */
  syncError: z.string().nullable().optional(),
  /**
   * Set when the run came from a file (a run bundle, a PostTrainBench result), not a host: `host` is where it ran,
   * and nothing (workspace, checkpoints, datasets) can be read there.
   */
  imported: z
    .object({ kind: z.enum(['bundle', 'ptb']), source: z.string() })
    .nullable()
    .optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/** `final-model-manifest.json`: the agent's final_model/ as found on the host (the weights stay there). */
export const finalModelManifestSchema = z.object({
  schema: z.literal(1),
  /** Absolute path of final_model/ on the host. */
  root: z.string(),
  computedAt: z.number(),
  exists: z.boolean(),
  /** Why there is nothing to list (no folder, a symlink out of the workspace…). */
  reason: z.string().nullable().optional(),
  files: z.array(z.object({ path: z.string(), size: z.number(), sha256: z.string() })),
  /** Links are listed, never followed (a link out of the workspace would hash a host file of the agent's choice). */
  symlinks: z.array(z.object({ path: z.string(), target: z.string() })).default([]),
  totalBytes: z.number(),
});
export type FinalModelManifest = z.infer<typeof finalModelManifestSchema>;

export const runDetailSchema = z.object({
  summary: runSummarySchema,
  /** The validated run spec as stored in run.json (no secrets). */
  spec: z.unknown(),
  /** state.json as last read from the host, when there is one. */
  state: z.unknown().nullable(),
  /** events.jsonl, parsed; malformed lines are in `problems`, never dropped silently. */
  events: z.array(z.record(z.string(), z.unknown())),
  problems: z.array(z.object({ source: z.string(), line: z.number(), message: z.string() })),
  metrics: z.record(z.string(), z.unknown()).nullable(),
  /** Where the run lives on the host and in the local mirror. */
  hostRunDir: z.string(),
  localDir: z.string(),
  /** The final_model/ manifest, once the run has ended and it was computed on the host. */
  finalModel: finalModelManifestSchema.nullable().optional(),
  /** What an imported PostTrainBench folder said (verdicts with justifications, time taken, the trace used). */
  ptb: ptbRecordSchema.nullable().optional(),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

const empty = z.object({}).strict();

const hostName = z.object({ name: hostNameSchema }).strict();
const runId = z.object({ id: z.string().min(1) }).strict();

export const catalogTaskSchema = z.object({
  kind: z.enum(['ptb', 'rehearsal']),
  benchmark: z.string().optional(),
  displayName: z.string(),
  /** Keys the evaluator needs (LLM-graded benchmarks). */
  requiredApiKeys: z.array(z.string()).default([]),
});
export type CatalogTask = z.infer<typeof catalogTaskSchema>;

const secretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment-variable name such as ANTHROPIC_API_KEY');

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

export const commands = {
  'app.info': { input: empty, output: appInfoSchema },
  'prefs.get': { input: empty, output: prefsSchema },
  'prefs.set': { input: prefsSchema.partial().strict(), output: prefsSchema },
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
  'runs.list': { input: empty, output: z.array(runSummarySchema) },
  /** Validates the spec, prepares the run folder on the host, creates the sandbox and starts the host supervisor. */
  'runs.start': { input: z.object({ spec: z.unknown() }).strict(), output: runSummarySchema },
  /** The run's record: spec, state, lifecycle events, metrics (synced from the host first when it is reachable). */
  'runs.get': { input: runId, output: runDetailSchema },
  'runs.stop': { input: runId, output: runSummarySchema },
  'runs.kill': { input: runId, output: runSummarySchema },
  'runs.extend': {
    input: z
      .object({
        id: z.string(),
        seconds: z
          .number()
          .int()
          .positive()
          .max(7 * 24 * 3600),
      })
      .strict(),
    output: runSummarySchema,
  },
  /** PostTrainBench tasks found in the host's checkout, plus the built-in rehearsal task. */
  'catalog.tasks': { input: hostName, output: z.array(catalogTaskSchema) },
  /** Which agent keys are available and from where (never their values). */
  'secrets.status': {
    input: z.object({ names: z.array(secretName) }).strict(),
    output: z.object({
      writable: z.boolean(),
      secrets: z.array(z.object({ name: z.string(), source: z.enum(['environment', 'keychain']).nullable() })),
    }),
  },
  /** Stores a key in the OS keychain (desktop app only); the value is never sent back. */
  'secrets.set': {
    input: z.object({ name: secretName, value: z.string().min(1) }).strict(),
    output: z.object({ stored: z.boolean() }),
  },
  'secrets.delete': { input: z.object({ name: secretName }).strict(), output: z.object({ deleted: z.boolean() }) },
  ...liveCommands,
  ...monitorCommands,
  ...replayCommands,
  ...trajectoryCommands,
  ...bundleCommands,
  ...checkpointsCommands,
  ...datasetsCommands,
  ...leaderboardCommands,
  ...integrityCommands,
  ...hostSetupCommands,
} as const;

export const events = {
  /** Sent to every connected renderer when preferences change (from any window or CLI). */
  'prefs.changed': prefsSchema,
  /** The host list changed (added, removed, imported, connection state, last check). */
  'hosts.changed': z.array(hostSummarySchema),
  'hosts.preflightProgress': z.object({ name: z.string(), check: preflightCheckSchema }),
  /** An unknown host key: answer with `hosts.answerHostKey`. */
  'hosts.hostKeyPrompt': hostKeyPromptSchema,
  /** An encrypted key needs its passphrase: answer with `hosts.answerPassphrase`. */
  'hosts.passphrasePrompt': passphrasePromptSchema,
  /** A prompt was answered or abandoned (e.g. in another window): close its dialog. */
  'hosts.promptClosed': z.object({ promptId: z.string() }),
  /** The run list changed (a run started, changed status, was synced). */
  'runs.changed': z.array(runSummarySchema),
  ...liveEvents,
  ...monitorEvents,
  ...replayEvents,
  ...trajectoryEvents,
  ...bundleEvents,
  ...checkpointsEvents,
  ...datasetsEvents,
  ...leaderboardEvents,
  ...integrityEvents,
  ...hostSetupEvents,
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = z.output<Commands[K]['output']>;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]>;

export const commandNames = Object.keys(commands) as CommandName[];
export const eventNames = Object.keys(events) as EventName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(commands, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(events, name);
}
