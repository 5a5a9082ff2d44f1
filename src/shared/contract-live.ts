import { z } from 'zod';

/**
 * Live terminal stream of a running run with ack-based flow control, and the peek shell (issue 5).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 *
 * A stream belongs to the peer (window, WebSocket) that opened it: its `live.data` and `live.end` events go to that
 * peer only, and it is closed when the peer goes away. The viewer acknowledges what it has rendered (`live.ack`,
 * from xterm's write callback); main stops reading from the host while too much is unacknowledged.
 * Sizes (`bytes`, the flow-control window) count the characters of `data` (UTF-16 code units), which both ends
 * can measure without re-encoding.
 */

const streamId = z.string().min(1).max(100);
const terminalSize = {
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(500),
};

export const liveStreamSourceSchema = z.enum(['host', 'mirror']);

export const liveOpenResultSchema = z.object({
  streamId,
  /** `host`: followed live on the host; `mirror`: the run has ended and is served from the local bundle. */
  source: liveStreamSourceSchema,
  /** The terminal size the cast header recorded (the agent's TTY), when known. */
  cols: z.number().int().positive().nullable(),
  rows: z.number().int().positive().nullable(),
  /** The flow-control window: main pauses above `highWatermark` unacknowledged, resumes below `lowWatermark`. */
  highWatermark: z.number().int().positive(),
  lowWatermark: z.number().int().nonnegative(),
  /** Whether this stream catches up by snapshots (see `live.open` `catchUp`). */
  catchUp: z.boolean().optional(),
});
export type LiveOpenResult = z.infer<typeof liveOpenResultSchema>;

export const liveEndReasonSchema = z.enum([
  /** The run ended and everything its terminal recorded was sent. */
  'run-ended',
  /** The viewer (or the app) closed the stream. */
  'closed',
  /** The host connection dropped or the reading command failed; reopen from the last `offset`. */
  'disconnected',
  /** The peek shell's process exited. */
  'exited',
  'error',
]);
export type LiveEndReason = z.infer<typeof liveEndReasonSchema>;

export const liveDataEventSchema = z.object({
  streamId,
  /**
   * The output: UTF-8 bytes of whole characters (what main sends: it never decodes the host's bytes into a string
   * and back, and xterm takes bytes as they are), or text.
   */
  data: z.union([z.string(), z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'bytes (Uint8Array)')]),
  /**
   * The cast's byte offset up to which this stream has read (complete lines), for reopening where it left off
   * (`live.open` `fromOffset`); 0 for the peek shell, which has no record.
   */
  offset: z.number().int().nonnegative(),
  /**
   * Screen-state catch-up (issue 19): this viewer fell behind the recording, the output in between was skipped, and
   * `data` is the terminal now (the screen and recent scrollback, serialized by main's headless terminal, starting
   * with a full reset) at `cols` × `rows`. Replace the screen with it; live output follows from there.
   */
  snapshot: z
    .object({
      /** Bytes of output skipped before this snapshot, and since the stream opened. */
      skippedBytes: z.number().int().nonnegative(),
      totalSkippedBytes: z.number().int().nonnegative(),
      /** Where the skip ends: seconds into the cast, and epoch ms when the cast header has its start time. */
      castTime: z.number().nonnegative().nullable(),
      at: z.number().nullable(),
      cols: z.number().int().positive(),
      rows: z.number().int().positive(),
    })
    .optional(),
  /** A resize event of the recording, applied after `data`. */
  resize: z.object({ cols: z.number().int().positive(), rows: z.number().int().positive() }).optional(),
  /** A marker event of the recording (after `data`): its label, untrusted text. */
  marker: z.object({ label: z.string().max(10_000), castTime: z.number().nonnegative().nullable() }).optional(),
});
export type LiveDataEvent = z.infer<typeof liveDataEventSchema>;

export const liveBehindEventSchema = z.object({
  streamId,
  /**
   * Bytes of the host's cast this stream has not read yet: the agent wrote faster than this viewer renders (a flood),
   * and what it shows is that far behind. Sent when it passes {@link LIVE_BEHIND_REPORT_BYTES}, while it stays
   * above, and once as 0 when the viewer has caught up.
   */
  bytes: z.number().int().nonnegative(),
});
export type LiveBehindEvent = z.infer<typeof liveBehindEventSchema>;
/**
 * The largest side (columns or rows) a live terminal takes: main's headless terminal and the viewer both clamp a
 * recorded resize to it, so their screens still match (a 2000 × 2000 resize is already 4 M cells).
 */
export const LIVE_MAX_TERMINAL_SIZE = 2000;

/** Below this a viewer counts as caught up (a few frames of ordinary output in flight). */
export const LIVE_BEHIND_REPORT_BYTES = 256 * 1024;

export const liveEndEventSchema = z.object({
  streamId,
  reason: liveEndReasonSchema,
  /** What happened, for the user (a malformed cast line with its offset, the error that cut the stream). */
  message: z.string().optional(),
});
export type LiveEndEvent = z.infer<typeof liveEndEventSchema>;

export const peekOpenResultSchema = z.object({
  streamId,
  /** The command running in the sandbox (e.g. `/bin/bash`). */
  shell: z.string(),
  containerId: z.string(),
  /** The `peek-shell-…json` control request recorded as the intervention. */
  request: z.string(),
  highWatermark: z.number().int().positive(),
  lowWatermark: z.number().int().nonnegative(),
});
export type PeekOpenResult = z.infer<typeof peekOpenResultSchema>;

export const liveCommands = {
  /** Follows a run's terminal (asciicast `o` events, redacted) from a byte offset of its cast (0: the beginning). */
  'live.open': {
    input: z
      .object({
        id: z.string().min(1),
        fromOffset: z.number().int().nonnegative().optional(),
        /**
         * Where `fromOffset` counts in: the host's cast (`host`) or the redacted local bundle (`mirror`). Left out:
         * the bundle once the run has ended and is complete, the host otherwise.
         */
        source: liveStreamSourceSchema.optional(),
        /**
         * Screen-state catch-up: a viewer behind the recording (100 ms or 256 KiB unrendered) gets a
         * snapshot of the screen instead of the backlog (`snapshot` in `live.data`). Default: on for the host, off
         * for a finished run's bundle. Off: every byte is sent, paced by the viewer's acks.
         */
        catchUp: z.boolean().optional(),
      })
      .strict(),
    output: liveOpenResultSchema,
  },
  /** What the viewer has rendered since its last ack. */
  'live.ack': {
    input: z
      .object({
        streamId,
        bytes: z
          .number()
          .int()
          .positive()
          .max(2 ** 40),
      })
      .strict(),
    output: z.object({ unacked: z.number().int().nonnegative() }),
  },
  'live.close': { input: z.object({ streamId }).strict(), output: z.object({ closed: z.boolean() }) },
  /**
   * Opens an interactive shell in the run's agent container (Docker exec with a TTY). Recorded on the host as an
   * intervention (`peek-shell`) before the shell starts. Its output arrives as `live.data` like a terminal stream.
   */
  'live.peekOpen': {
    input: z.object({ id: z.string().min(1), ...terminalSize }).strict(),
    output: peekOpenResultSchema,
  },
  /** Keystrokes for a peek shell (terminal streams are read-only). */
  'live.input': {
    input: z
      .object({
        streamId,
        data: z
          .string()
          .min(1)
          .max(64 * 1024),
      })
      .strict(),
    output: z.object({ written: z.number().int().nonnegative() }),
  },
  'live.resize': {
    input: z.object({ streamId, ...terminalSize }).strict(),
    output: z.object({ resized: z.boolean() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const liveEvents = {
  /** A chunk of a stream's output; sent only to the peer that opened the stream. */
  'live.data': liveDataEventSchema,
  /** How far a terminal stream is behind the host's recording (checked every 2 s); to the stream's peer only. */
  'live.behind': liveBehindEventSchema,
  /** The stream is over; nothing more comes for this `streamId`. */
  'live.end': liveEndEventSchema,
} as const satisfies Record<string, z.ZodType>;
