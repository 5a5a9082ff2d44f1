import type { z } from 'zod';
import { appCommands, appEvents } from './contract-app';
import { hostsCommands, hostsEvents } from './contract-hosts';
import { runsCommands, runsEvents } from './contract-runs';
import { catalogCommands } from './contract-catalog';
import { secretsCommands } from './contract-secrets';
import { liveCommands, liveEvents } from './contract-live';
import { monitorCommands, monitorEvents } from './contract-monitor';
import { replayCommands, replayEvents } from './contract-replay';
import { trajectoryCommands, trajectoryEvents } from './contract-trajectory';
import { bundleCommands, bundleEvents } from './contract-bundle';
import { checkpointsCommands, checkpointsEvents } from './contract-checkpoints';
import { datasetsCommands, datasetsEvents } from './contract-datasets';
import { leaderboardCommands, leaderboardEvents } from './contract-leaderboard';
import { hostSetupCommands, hostSetupEvents } from './contract-host-setup';
import { integrityCommands, integrityEvents } from './contract-integrity';
import { experimentsCommands, experimentsEvents } from './contract-experiments';

/**
 * The one contract between the node side (main process, `ptw serve`) and the renderer.
 * Every command and event is declared with its runtime schema in its feature's `contract-<feature>.ts` and spread
 * in here; both transports (Electron IPC and WebSocket) and both ends are typed from this file.
 */

// The core features' schemas, for the many importers that know them from here.
export { themePreferenceSchema, prefsSchema, appInfoSchema, type Prefs, type AppInfo } from './contract-app';
export { hostSummarySchema, sshConfigPreviewSchema, type HostSummary, type SshConfigPreview } from './contract-hosts';
export {
  runSummarySchema,
  finalModelManifestSchema,
  runDetailSchema,
  type RunSummary,
  type FinalModelManifest,
  type RunDetail,
} from './contract-runs';
export { catalogTaskSchema, type CatalogTask } from './contract-catalog';

export const commands = {
  ...appCommands,
  ...hostsCommands,
  ...runsCommands,
  ...catalogCommands,
  ...secretsCommands,
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
  ...experimentsCommands,
} as const;

export const events = {
  ...appEvents,
  ...hostsEvents,
  ...runsEvents,
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
  ...experimentsEvents,
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
