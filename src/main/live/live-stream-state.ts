import type { EscapeCarry } from './escape-carry';
import type { FlowWindow } from './flow-control';

/** One viewer's stream as the live stream service keeps it: its source, flow window and screen-state catch-up. */

export interface CatchUpOptions {
  /** A viewer whose oldest unacknowledged output was sent longer ago than this is behind. */
  readonly maxLagMs: number;
  /** A viewer with more than this unacknowledged (sent or waiting to be) is behind. */
  readonly maxBytes: number;
}

/**
 * 100 ms or 256 KiB. Issue 19 proposed about a quarter second or 1 MiB; bench:live measured the lag under a flood at
 * 1.3 s with 1 MiB (and 8 MiB queued for the screen worker), 0.46 s with 1 MiB (1 MiB queued), 0.23 s with these
 * (a viewer must render what it has before a snapshot helps, and 1 MiB is ~200 ms of rendering on a slow machine).
 */
export const defaultCatchUp: CatchUpOptions = { maxLagMs: 100, maxBytes: 256 * 1024 };

export type CastControl = { resize: { cols: number; rows: number } } | { marker: { label: string; castTime: number } };

/**
 * A run's followed recording (issue 19), shared by every catch-up viewer of that run: one reader of the cast (one
 * `tail -F` on the host, or the mirror's file) from its start, one redactor, one headless terminal fed every byte.
 * Each viewer joins it with its own flow window and catch-up state; the last one to leave closes it.
 */
export interface RunFollow {
  readonly key: string;
  readonly runId: string;
  readonly origin: 'host' | 'mirror';
  readonly header: { width: number | null; height: number | null; timestamp?: number | null | undefined };
  readonly screen: number;
  readonly viewers: Set<LiveStream>;
  source: StreamSource | undefined;
  /** Cast bytes read so far, and the offset past the last whole line (what the screen has been given). */
  position: number;
  readOffset: number;
  readonly escapes: EscapeCarry;
  /** Seconds into the cast of the latest output read. */
  castTime: number | null;
  /** The source is paused because the headless terminal has too much to parse. */
  screenPaused: boolean;
  /** The source ended (its viewers are finishing): a new viewer gets a new follow. */
  sourceDone: boolean;
  closed: boolean;
  endTimer: NodeJS.Timeout | undefined;
}

/**
 * A catch-up viewer's state: `live` sends every byte; `skipping` drops output while the viewer renders what it has;
 * `snapshotting` waits for the headless terminal's snapshot, keeping what arrives meanwhile to send after it.
 */
export interface CatchUpState {
  readonly follow: RunFollow;
  /** The viewer's `fromOffset`: output before it went to the screen only (the viewer had it before a drop). */
  readonly from: number;
  mode: 'live' | 'skipping' | 'snapshotting';
  skipped: number;
  totalSkipped: number;
  /** Output (and resizes, markers) read while the snapshot is made: they follow it. Whether too much came to keep. */
  after: Array<Buffer | CastControl>;
  afterBytes: number;
  stale: boolean;
  /** When output was sent: the flow window's sent total after it, and the time. */
  sentAt: Array<{ end: number; at: number }>;
  /** The stream's end, held until the viewer is back in `live` (its last snapshot sent). */
  endWhenLive?: () => void;
  /** A viewer that joined a follow already past its point: its first snapshot carries all the screen's scrollback. */
  joined: boolean;
  /**
   * The cast offset of what the viewer was last sent: while skipping, the read offset runs ahead of its screen, and
   * a viewer that reopens from there would miss the skipped part's effect (markers sent meanwhile carry this one).
   */
  sentOffset: number;
}

/** What a stream reads from: paused and resumed by the flow window, closed at the end. */
export interface StreamSource {
  pause(): void;
  resume(): void;
  close(): void;
}

export interface LiveStream {
  readonly id: string;
  readonly peerId: string;
  readonly runId: string;
  readonly kind: 'terminal' | 'peek';
  readonly window: FlowWindow;
  source: StreamSource | undefined;
  offset: number;
  /** Output read and not yet sent (UTF-8, whole characters), and its size in bytes. */
  pending: Buffer[];
  pendingLength: number;
  flushTimer: NodeJS.Timeout | undefined;
  endTimer: NodeJS.Timeout | undefined;
  ended: boolean;
  stopWatchingPeer: () => void;
  /** Terminal streams with screen-state catch-up. */
  catchUp?: CatchUpState;
  /** Peek shell only. */
  input?: (data: string) => void;
  resize?: (cols: number, rows: number) => Promise<void>;
}

/** Largest single `live.data` message in bytes: a flood is cut into pieces this big (at character boundaries). */
export const MAX_MESSAGE_BYTES = 256 * 1024;
