import { z } from 'zod';

/**
 * The app itself: its version and where state lives, and the user's preferences.
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
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

const empty = z.object({}).strict();

export const appCommands = {
  'app.info': { input: empty, output: appInfoSchema },
  'prefs.get': { input: empty, output: prefsSchema },
  'prefs.set': { input: prefsSchema.partial().strict(), output: prefsSchema },
} as const;

export const appEvents = {
  /** Sent to every connected renderer when preferences change (from any window or CLI). */
  'prefs.changed': prefsSchema,
} as const;
