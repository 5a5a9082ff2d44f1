import { z } from 'zod';

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
  shell: z.enum(['electron', 'serve']),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

export const hostSummarySchema = z.object({
  name: z.string(),
  kind: z.enum(['ssh', 'local']),
  /** `user@host:port` for SSH hosts, the socket path for local ones. */
  address: z.string(),
});
export type HostSummary = z.infer<typeof hostSummarySchema>;

export const runSummarySchema = z.object({
  id: z.string(),
  label: z.string(),
  host: z.string(),
  status: z.string(),
  createdAt: z.string(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

const empty = z.object({}).strict();

export const commands = {
  'app.info': { input: empty, output: appInfoSchema },
  'prefs.get': { input: empty, output: prefsSchema },
  'prefs.set': { input: prefsSchema.partial().strict(), output: prefsSchema },
  'hosts.list': { input: empty, output: z.array(hostSummarySchema) },
  'runs.list': { input: empty, output: z.array(runSummarySchema) },
} as const;

export const events = {
  /** Sent to every connected renderer when preferences change (from any window or CLI). */
  'prefs.changed': prefsSchema,
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
