import { z } from 'zod';

/**
 * Indexed terminal replay of a recorded run (issue 6).
 * Spread into the one contract in `contract.ts`; import nothing from there (it imports this file).
 *
 * The node side indexes a run's `terminal.cast` once (cached next to it): the cast is cut into segments of about
 * 512 KiB, and for each segment the terminal as it was at the segment's start is kept as a keyframe (the serialize
 * addon's escape sequences). To show any moment the renderer writes the nearest keyframe, then that segment's
 * events up to the moment: never the cast from the start. All times are seconds since the recording started.
 */

const runId = z.string().min(1);

/** A dropped cast travels as one message (the serve WebSocket takes 16 MiB frames, JSON may double the text). */
export const MAX_DROPPED_CAST_CHARS = 8 * 1024 * 1024;

export const replayHeaderSchema = z.object({
  version: z.union([z.literal(2), z.literal(3)]),
  cols: z.number().int().positive(),
  rows: z.number().int().positive(),
  /** Recording start (epoch ms) from the header's `timestamp`, when it has one: add a time to get a clock time. */
  startedAt: z.number().nullable(),
  idleTimeLimit: z.number().nullable(),
  title: z.string().nullable(),
  command: z.string().nullable(),
  termType: z.string().nullable(),
});
export type ReplayHeader = z.infer<typeof replayHeaderSchema>;

export const replaySegmentInfoSchema = z.object({
  n: z.number().int().nonnegative(),
  /** The time of the last event before this segment (0 for the first): its keyframe shows that moment. */
  tStart: z.number(),
  /** The time of this segment's last event. */
  tEnd: z.number(),
  byteStart: z.number().int().nonnegative(),
  byteEnd: z.number().int().nonnegative(),
});
export type ReplaySegmentInfo = z.infer<typeof replaySegmentInfoSchema>;

export const replayProblemSchema = z.object({ line: z.number().int().positive(), message: z.string() });

export const replayIndexSchema = z.object({
  id: z.string(),
  /** The cast this index was made from (the local mirror's copy). */
  file: z.string(),
  bytes: z.number().int().nonnegative(),
  header: replayHeaderSchema,
  /** Time of the last event, seconds. */
  duration: z.number(),
  eventCount: z.number().int().nonnegative(),
  segments: z.array(replaySegmentInfoSchema),
  markers: z.array(z.object({ t: z.number(), label: z.string(), byteOffset: z.number().int() })),
  resizes: z.array(z.object({ t: z.number(), cols: z.number().int(), rows: z.number().int() })),
  exit: z.object({ t: z.number(), status: z.string() }).nullable(),
  /** Lines that could not be read (skipped; the rest plays): the first 100, and how many in all. */
  problems: z.array(replayProblemSchema),
  problemCount: z.number().int().nonnegative(),
  /** How long indexing took (0 when the cached index was used). */
  buildMs: z.number(),
});
export type ReplayIndex = z.infer<typeof replayIndexSchema>;

/**
 * One segment: the keyframe and the events after it, as parallel arrays (cheap to validate and to send):
 * event i happened at `times[i]`, is of kind `codes[i]` (`o` output, `r` resize, `m` marker, `x` exit) and its
 * data is `data.slice(ends[i - 1] ?? 0, ends[i])`. Input events are left out: they do not change the screen.
 */
export const replaySegmentSchema = z.object({
  n: z.number().int().nonnegative(),
  tStart: z.number(),
  /** Terminal size at the segment's start (the keyframe is for this size). */
  cols: z.number().int().positive(),
  rows: z.number().int().positive(),
  keyframe: z.string(),
  times: z.array(z.number()),
  codes: z.string(),
  ends: z.array(z.number().int()),
  data: z.string(),
});
export type ReplaySegment = z.infer<typeof replaySegmentSchema>;

export const replayHitSchema = z.object({
  /** Time of the output event that completed the match: seek here and the text is on screen. */
  t: z.number(),
  /** Byte offset of that event's line in the cast, and its line number. */
  byteOffset: z.number().int().nonnegative(),
  line: z.number().int().positive(),
  /** The plain-text line around the match (escape sequences removed); untrusted, show as text. */
  excerpt: z.string(),
  matchStart: z.number().int().nonnegative(),
  matchLength: z.number().int().nonnegative(),
});
export type ReplayHit = z.infer<typeof replayHitSchema>;

export const replayCommands = {
  /** Indexes the run's terminal.cast (or reuses the cached index); `replay.indexProgress` events meanwhile. */
  'replay.open': { input: z.object({ id: runId }).strict(), output: replayIndexSchema },
  /**
   * Indexes any asciicast v2/v3 file on the machine running the app (no run needed); its `id` (`file-…`) then
   * works in `replay.open`, `replay.segment` and `replay.search` like a run id.
   */
  'replay.openFile': {
    input: z.object({ path: z.string().min(1, 'name an asciicast file (.cast)') }).strict(),
    output: replayIndexSchema,
  },
  /**
   * A cast dropped on (or chosen in) the page, sent as text: kept in `PTW_HOME/replay-files/dropped/` and indexed as
   * `replay.openFile` does. Bigger files are opened by path, which reads them where they are.
   */
  'replay.openDropped': {
    input: z
      .object({
        name: z.string().min(1).max(255),
        text: z
          .string()
          .max(MAX_DROPPED_CAST_CHARS, 'larger than 8 MiB: open it by path (Open recording…, ptw replay FILE)'),
      })
      .strict(),
    output: replayIndexSchema,
  },
  'replay.segment': {
    input: z.object({ id: runId, n: z.number().int().nonnegative() }).strict(),
    output: replaySegmentSchema,
  },
  /** Case-insensitive search of the whole output as text (escape sequences removed), streamed from disk. */
  'replay.search': {
    input: z
      .object({
        id: runId,
        query: z.string().min(1).max(1000),
        limit: z.number().int().positive().max(1000).default(200),
      })
      .strict(),
    output: z.object({ hits: z.array(replayHitSchema), truncated: z.boolean(), searchedBytes: z.number() }),
  },
} as const satisfies Record<string, { input: z.ZodType; output: z.ZodType }>;

export const replayEvents = {
  /** Indexing progress of a run's cast (a 1 GB cast takes tens of seconds). */
  'replay.indexProgress': z.object({
    id: z.string(),
    bytesDone: z.number(),
    bytesTotal: z.number(),
    done: z.boolean(),
  }),
} as const satisfies Record<string, z.ZodType>;
