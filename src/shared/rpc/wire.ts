import { z } from 'zod';
import { appErrorSchema } from '../errors';

/** Messages on the WebSocket transport. Electron IPC carries the same `input` and `result` values. */

export const wireResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({ ok: z.literal(false), error: appErrorSchema }),
]);
export type WireResult = z.infer<typeof wireResultSchema>;

export const clientMessageSchema = z.object({
  t: z.literal('req'),
  id: z.number().int().nonnegative(),
  token: z.string(),
  cmd: z.string(),
  input: z.unknown(),
});
export type ClientMessage = z.infer<typeof clientMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('res'), id: z.number().int().nonnegative(), result: wireResultSchema }),
  z.object({ t: z.literal('evt'), event: z.string(), payload: z.unknown() }),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Close codes the server uses, so the client can tell the user why. */
export const wsCloseCodes = {
  unauthorized: 4401,
  badMessage: 4400,
} as const;
