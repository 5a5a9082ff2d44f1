import { formatDuration } from '../../shared/runs/duration';
import { runEventSchema } from '../../shared/runs/run-status';
import { formatScore, stopReasonText } from './run-status-text';

/**
 * A run's story for the detail pane, from `events.jsonl` as `runs.get` returns it: launched → started → warnings
 * → stopped (reason, exit code) → evaluating → scored / failed. Events main could not parse are already listed in
 * the detail's `problems`; a type this version does not know is still shown, by name, so nothing disappears.
 */

export type TimelineTone = 'info' | 'ok' | 'warn' | 'fail' | 'muted';

export interface TimelineEntry {
  /** Stable within one list, for React keys. */
  readonly key: string;
  /** Epoch ms (host clock). */
  readonly t: number;
  /** The event type, or `launched` for the run's creation. */
  readonly kind: string;
  readonly title: string;
  readonly detail: string;
  readonly tone: TimelineTone;
}

export interface TimelineInput {
  /** The summary's createdAt (ISO): when the app launched the run. */
  readonly createdAt: string;
  readonly events: readonly Record<string, unknown>[];
  /** Formats an epoch-ms time for the reader (a deadline); injected so the derivation stays pure. */
  readonly formatTime: (ms: number) => string;
}

function stringField(event: Record<string, unknown>, name: string): string | null {
  const value = event[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function exitText(exitCode: number | null): string {
  if (exitCode === null) return 'exit code unknown';
  // 137 / 143: killed by SIGKILL / SIGTERM (128 + signal number), which is what a stop looks like from outside.
  if (exitCode === 137) return 'exit code 137 (SIGKILL)';
  if (exitCode === 143) return 'exit code 143 (SIGTERM)';
  return `exit code ${exitCode}`;
}

function by(who: string): string {
  return who === '' || who === 'app' ? '' : ` by ${who}`;
}

const INTEGRITY_KIND_TEXT: Record<string, string> = {
  contamination: 'test-set contamination',
  model_substitution: 'model substitution',
  eval_tampering: 'evaluation tampering',
  api_misuse: 'hosted API use',
  untrained: 'untrained model',
};

function integrityKindText(kind: string): string {
  return INTEGRITY_KIND_TEXT[kind] ?? kind;
}

/** One event as a timeline entry; null for events that are noise here (terminal resizes, sampling coming up). */
function entryFor(raw: Record<string, unknown>, formatTime: (ms: number) => string): Omit<TimelineEntry, 'key'> | null {
  const parsed = runEventSchema.safeParse(raw);
  if (!parsed.success) {
    const t = raw.t;
    const type = raw.type;
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof type !== 'string') return null;
    return { t, kind: type, title: type, detail: stringField(raw, 'message') ?? '', tone: 'muted' };
  }
  const event = parsed.data;
  const base = { t: event.t, kind: event.type };
  switch (event.type) {
    case 'supervisor-started':
      return {
        ...base,
        title: raw.resumed === true ? 'Supervisor resumed' : 'Supervisor started',
        detail: event.pid === undefined ? 'on the host' : `on the host, pid ${event.pid}`,
        tone: 'muted',
      };
    case 'agent-started':
      return { ...base, title: 'Agent started', detail: `deadline ${formatTime(event.deadline)}`, tone: 'info' };
    case 'warning':
      return {
        ...base,
        title: `${formatDuration(event.secondsLeft)} left`,
        detail: 'warning written to the agent’s terminal',
        tone: 'warn',
      };
    case 'intervention': {
      const who = by(event.by);
      switch (event.action) {
        case 'extend':
          return {
            ...base,
            title: `Extended${event.seconds === undefined ? '' : ` by ${formatDuration(event.seconds)}`}${who}`,
            detail: event.newDeadline === undefined ? '' : `new deadline ${formatTime(event.newDeadline)}`,
            tone: 'info',
          };
        case 'stop':
          return { ...base, title: `Stop requested${who}`, detail: '', tone: 'warn' };
        case 'kill':
          return { ...base, title: `Kill requested${who}`, detail: '', tone: 'warn' };
        case 'peek-shell':
          return { ...base, title: `Shell opened in the sandbox${who}`, detail: '', tone: 'muted' };
      }
      break;
    }
    case 'stopping':
      return {
        ...base,
        title: `Stopping: ${stopReasonText(event.reason)}`,
        detail: `sent ${event.signal}`,
        tone: 'muted',
      };
    case 'agent-stopped':
      return {
        ...base,
        title: `Agent stopped: ${stopReasonText(event.reason)}`,
        detail: exitText(event.exitCode),
        tone:
          event.reason === 'killed'
            ? 'warn'
            : event.reason === 'agent-exited' && event.exitCode !== 0
              ? 'warn'
              : 'info',
      };
    case 'gpu-sampling':
      return event.available
        ? null
        : {
            ...base,
            title: 'GPU sampling unavailable',
            detail: event.error ?? 'nvidia-smi did not answer',
            tone: 'muted',
          };
    case 'evaluation-started': {
      const attempts = raw.attempts;
      return {
        ...base,
        title: 'Evaluating',
        detail: typeof attempts === 'number' ? `up to ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}` : '',
        tone: 'info',
      };
    }
    case 'evaluation-attempt': {
      const error = stringField(raw, 'error');
      const outcome = event.timedOut ? 'timed out' : exitText(event.exitCode);
      return {
        ...base,
        title: `Evaluation attempt ${event.n}`,
        detail: [error ? `${outcome}: ${error}` : outcome, event.log].join(' · '),
        tone: event.exitCode === 0 && !event.timedOut && !error ? 'ok' : 'warn',
      };
    }
    case 'evaluation-finished':
      switch (event.outcome) {
        case 'scored':
          return {
            ...base,
            title: event.metrics ? `Scored ${formatScore(event.metrics.accuracy * 100)}` : 'Scored',
            detail: event.metrics ? `accuracy ${event.metrics.accuracy}` : '',
            tone: 'ok',
          };
        case 'evaluation-failed':
          return { ...base, title: 'Evaluation failed', detail: 'no attempt produced metrics.json', tone: 'fail' };
        case 'no-model':
          return {
            ...base,
            title: 'No model to evaluate',
            detail: 'final_model/ was missing or not a checkpoint',
            tone: 'fail',
          };
      }
      break;
    case 'supervisor-error':
      return { ...base, title: 'Supervisor error', detail: event.message, tone: 'fail' };
    case 'model-endpoint-problem':
      return { ...base, title: `Scripted model stopped at turn ${event.turn}`, detail: event.message, tone: 'fail' };
    case 'resize':
      return null;
    case 'sandbox-sanitized':
      // Shown as before it was declared (as an event of a type the timeline has no words for).
      return { ...base, title: event.type, detail: '', tone: 'muted' };
    case 'integrity-flag':
      // Marked where its evidence appeared (a file's mtime, a trace line's time), not when a pass noticed it.
      return event.severity === 'info'
        ? null
        : {
            t: event.evidenceAt,
            kind: event.type,
            title: `Integrity flag: ${integrityKindText(event.kind)}`,
            detail: event.summary,
            tone: event.severity === 'high' ? 'fail' : 'warn',
          };
    case 'integrity-pass':
      // Every few minutes while the agent works: only a pass that failed is worth a line.
      return event.error ? { ...base, title: 'Integrity pass failed', detail: event.error, tone: 'muted' } : null;
    case 'integrity-final':
      return {
        ...base,
        title: event.verdict ? `Integrity: ${event.verdict}` : 'Integrity final pass failed',
        detail: event.error ?? 'final pass over the agent’s files, before the score',
        tone: event.verdict === 'flagged' ? 'fail' : event.verdict === 'clean' ? 'ok' : 'muted',
      };
  }
  return null;
}

/** The entries in time order (events with equal times keep their file order). */
export function runTimeline(input: TimelineInput): TimelineEntry[] {
  const entries: Omit<TimelineEntry, 'key'>[] = [];
  const created = Date.parse(input.createdAt);
  if (!Number.isNaN(created)) {
    entries.push({
      t: created,
      kind: 'launched',
      title: 'Launched',
      detail: 'run folder and sandbox prepared',
      tone: 'info',
    });
  }
  for (const raw of input.events) {
    const entry = entryFor(raw, input.formatTime);
    if (entry) entries.push(entry);
  }
  return entries
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => a.entry.t - b.entry.t || a.i - b.i)
    .map(({ entry, i }) => ({ ...entry, key: `${i}-${entry.kind}` }));
}

/** `+1:02:03` after the agent's start (or the first entry), for the timeline's second column; empty before it. */
export function offsetText(t: number, origin: number): string {
  if (t < origin) return '';
  const seconds = Math.round((t - origin) / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `+${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/** The time offsets count from: the agent's start when there is one, else the first entry. */
export function timelineOrigin(entries: readonly TimelineEntry[]): number | null {
  return (entries.find((e) => e.kind === 'agent-started') ?? entries[0])?.t ?? null;
}
