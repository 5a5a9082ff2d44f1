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

/**
 * Bulk events (a live terminal's output) go from `ptw serve` to the page as binary frames rather than JSON text:
 * the output travels as plain UTF-8, with no JSON escaping on the server (an ESC byte would become six) and no JSON
 * parse of it in the page, the two costliest steps per byte on that path (bench:live). Each frame:
 * byte 0 = {@link BULK_FRAME_KIND}; bytes 1–4 = the header's length (unsigned, big-endian); the header (UTF-8 JSON:
 * the event message with the bulk field left out, `bulk` naming it and `bulkAs` saying whether it was bytes or
 * text); then the field's UTF-8. A field that is bytes (a `Uint8Array`) always goes this way and arrives as bytes,
 * never decoded; a text field only from {@link BULK_MIN_CHARS} characters, and arrives as text. Every other message
 * stays a JSON text frame. Electron IPC is unaffected (structured clone carries both).
 */
export const bulkTextFields: Readonly<Record<string, string>> = { 'live.data': 'data' };
/** Below this many characters a bulk text field goes as JSON like everything else. */
export const BULK_MIN_CHARS = 1024;
export const BULK_FRAME_KIND = 1;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The bulk field to send as a binary frame for this event and payload, if it has one (bytes, or long text). */
export function bulkFieldOf(event: string, payload: unknown): { field: string; value: string | Uint8Array } | null {
  const field = bulkTextFields[event];
  if (!field || !isRecord(payload)) return null;
  const value = payload[field];
  if (value instanceof Uint8Array) return { field, value };
  return typeof value === 'string' && value.length >= BULK_MIN_CHARS ? { field, value } : null;
}

/**
 * A binary frame back into the event message it carries (not yet checked against {@link serverMessageSchema});
 * null for a frame that is not a well-formed bulk frame. A bytes field comes back as a view into `bytes`.
 */
export function decodeBulkFrame(bytes: Uint8Array, decodeUtf8: (bytes: Uint8Array) => string): unknown {
  if (bytes.length < 5 || bytes[0] !== BULK_FRAME_KIND) return null;
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (5 + headerLength > bytes.length) return null;
  let header: unknown;
  try {
    header = JSON.parse(decodeUtf8(bytes.subarray(5, 5 + headerLength)));
  } catch {
    return null;
  }
  if (!isRecord(header) || header.t !== 'evt' || typeof header.event !== 'string' || !isRecord(header.payload)) {
    return null;
  }
  const field = bulkTextFields[header.event];
  if (!field || header.bulk !== field) return null;
  const body = bytes.subarray(5 + headerLength);
  return {
    t: 'evt',
    event: header.event,
    payload: { ...header.payload, [field]: header.bulkAs === 'bytes' ? body : decodeUtf8(body) },
  };
}
