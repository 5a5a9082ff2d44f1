import { readFile, stat } from 'node:fs/promises';
import {
  ptbRecordSchema,
  type AgentStep,
  type PtbImportResult,
  type PtbRecord,
  type RunTimelineData,
  type StepKind,
  type StepsPage,
} from '../../shared/contract-trajectory';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { getAgent, isAgentId, STREAM_FORMATS, type StreamFormat } from '../../shared/runs/agent-catalog';
import { parseGpuCsv } from '../../shared/runs/gpu-csv';
import { parseAgentStream, type ParsedAgentStream } from '../../shared/trajectory/agent-steps';
import { RunMirror } from '../runs/run-mirror';
import { CastLineTimes } from './cast-line-times';
import { importPtbResults } from './ptb-import';
import { integrityTimelineEvents } from '../runs/integrity-marks';

/**
 * Structured steps and the one timeline of a run, read from its local record (`PTW_HOME/runs/<id>/`): the agent's
 * stream parsed in the dialect its agent prints, timed by the line's own prefix or timestamp, else by the terminal
 * recording; GPU samples, lifecycle events and budget marks beside them. Parsed streams are cached per run until
 * the files change (a live run's stream grows with every sync).
 */

const MAX_GPU_POINTS = 2000;

interface CacheEntry {
  key: string;
  parsed: ParsedAgentStream;
}

function dialectOf(agent: { id: string; streamFormat?: unknown } | undefined): StreamFormat | null {
  if (!agent) return null;
  // `custom`, and an imported agent the app does not run (PostTrainBench's cursor_cli…), say their dialect in the spec.
  if (agent.id === 'custom' || !isAgentId(agent.id)) {
    return STREAM_FORMATS.includes(agent.streamFormat as StreamFormat) ? (agent.streamFormat as StreamFormat) : null;
  }
  return getAgent(agent.id).streamFormat;
}

async function fileKey(file: string): Promise<string> {
  const s = await stat(file).catch(() => null);
  return s ? `${s.size}:${s.mtimeMs}` : 'none';
}

export class TrajectoryService {
  private readonly cache = new Map<string, CacheEntry>();
  /** Per run, the cast read so far (a live run's cast grows: only the new part is read). */
  private readonly castTimes = new Map<string, CastLineTimes>();

  constructor(
    private readonly runsDir: string,
    private readonly options: {
      /** Key values to redact from imported results (the agents' keys as this app has them). */
      secrets?: () => Promise<NamedSecret[]>;
    } = {},
  ) {}

  private async mirror(id: string): Promise<RunMirror> {
    const mirror = new RunMirror(this.runsDir, id);
    if (!(await mirror.exists()))
      throw new AppError('NOT_FOUND', `No local record of run ${id} (ptw run ls lists runs)`);
    return mirror;
  }

  private async parsed(mirror: RunMirror): Promise<ParsedAgentStream> {
    const streamFile = mirror.file('agent-stream.jsonl');
    const castFile = mirror.file('terminal.cast');
    const key = `${await fileKey(streamFile)}|${await fileKey(castFile)}`;
    const hit = this.cache.get(mirror.id);
    if (hit && hit.key === key) return hit.parsed;
    const [text, runJson] = await Promise.all([readStream(streamFile), mirror.readRunJson()]);
    const agent = runJson?.spec.agent as { id: string; streamFormat?: unknown } | undefined;
    // The n-th line of agent-stream.jsonl is the n-th JSON line of the terminal: its cast event's time.
    let timer = this.castTimes.get(mirror.id);
    if (!timer) this.castTimes.set(mirror.id, (timer = new CastLineTimes(castFile)));
    const times = await timer.read().catch(() => [] as readonly number[]);
    const parsed = parseAgentStream(text, {
      dialect: dialectOf(agent),
      lineTime: (line) => times[line - 1] ?? null,
    });
    this.cache.set(mirror.id, { key, parsed });
    return parsed;
  }

  private async ptbRecord(mirror: RunMirror): Promise<PtbRecord | null> {
    const raw = await readFile(mirror.file('ptb/import.json'), 'utf8').catch(() => null);
    if (!raw) return null;
    try {
      const parsed = ptbRecordSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async steps(input: {
    id: string;
    offset: number;
    limit: number;
    kinds?: StepKind[] | undefined;
  }): Promise<StepsPage> {
    const mirror = await this.mirror(input.id);
    const parsed = await this.parsed(mirror);
    const kinds = input.kinds && input.kinds.length > 0 ? new Set(input.kinds) : null;
    const matching: AgentStep[] = kinds ? parsed.steps.filter((s) => kinds.has(s.kind)) : parsed.steps;
    return {
      dialect: parsed.dialect ?? 'none',
      total: matching.length,
      offset: input.offset,
      steps: matching.slice(input.offset, input.offset + input.limit).map(preview),
      totals: parsed.totals,
      timed: parsed.steps.some((s) => s.t !== null),
      ptb: await this.ptbRecord(mirror),
    };
  }

  async step(id: string, index: number): Promise<AgentStep> {
    const parsed = await this.parsed(await this.mirror(id));
    const step = parsed.steps[index];
    if (!step) throw new AppError('NOT_FOUND', `Run ${id} has no step ${index} (it has ${parsed.steps.length})`);
    return step;
  }

  async timeline(id: string): Promise<RunTimelineData> {
    const mirror = await this.mirror(id);
    const [parsed, state, eventsText, gpuText, cast] = await Promise.all([
      this.parsed(mirror),
      mirror.readState(),
      readFile(mirror.file('events.jsonl'), 'utf8').catch(() => ''),
      readFile(mirror.file('gpu.csv'), 'utf8').catch(() => ''),
      stat(mirror.file('terminal.cast')).catch(() => null),
    ]);
    const events: Record<string, unknown>[] = [];
    for (const line of eventsText.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (
          value &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          typeof (value as { t?: unknown }).t === 'number'
        ) {
          events.push(value as Record<string, unknown>);
        }
      } catch {
        // runs.get lists the line among the record's problems.
      }
    }
    // Integrity flags (issue 13) where their evidence appeared, beside the lifecycle events.
    events.push(...(await integrityTimelineEvents(mirror.file('integrity/record.json'), events)));
    const warnings = events
      .filter((e) => e.type === 'warning' && typeof e.secondsLeft === 'number')
      .map((e) => ({ t: e.t as number, secondsLeft: e.secondsLeft as number }));
    const gpu = gpuSeries(gpuText);

    // Loops, not Math.min(...all): a long run has more points than a call takes arguments.
    let min: number | null = null;
    let max: number | null = null;
    const see = (t: number): void => {
      if (min === null || t < min) min = t;
      if (max === null || t > max) max = t;
    };
    for (const s of parsed.steps) if (s.t !== null) see(s.t);
    for (const e of events) see(e.t as number);
    for (const g of gpu) see(g.t);
    const start = state?.startedAt ?? min;
    const end = state?.stoppedAt && max !== null ? Math.max(state.stoppedAt, max) : (state?.stoppedAt ?? max);
    return {
      start,
      end,
      deadline: state?.deadline ?? null,
      hasTerminal: cast !== null && cast.isFile() && cast.size > 0,
      steps: parsed.steps.map((s) => ({ index: s.index, t: s.t, kind: s.kind })),
      gpu,
      events,
      warnings,
    };
  }

  importPtb(input: string): Promise<PtbImportResult> {
    return importPtbResults(this.runsDir, input, this.options.secrets ? { secrets: this.options.secrets } : {});
  }
}

/** A JS string tops out near 512 MiB: the stream is read whole, so larger ones are refused with that reason. */
const MAX_STREAM_BYTES = 480 * 1024 * 1024;

async function readStream(file: string): Promise<string> {
  const s = await stat(file).catch(() => null);
  if (!s) return '';
  if (s.size > MAX_STREAM_BYTES) {
    throw new AppError(
      'INVALID_INPUT',
      `${file} is ${Math.round(s.size / 1024 / 1024)} MiB; the Steps view reads agent streams up to 480 MiB`,
    );
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new AppError('INTERNAL', `Reading ${file} failed: ${(err as Error).message}`);
  }
}

/** What a list page carries of a long field: the start (the whole is one `trajectory.step` away). */
const PREVIEW_CHARS = 2_000;

function cut(text: string): string {
  return `${text.slice(0, PREVIEW_CHARS)}…`;
}

/** A step as a list page carries it: long text, command, input and output cut, `truncated` set. */
function preview(step: AgentStep): AgentStep {
  let truncated = false;
  const out: AgentStep = { ...step };
  for (const key of ['text', 'command', 'output'] as const) {
    const value = out[key];
    if (typeof value === 'string' && value.length > PREVIEW_CHARS) {
      out[key] = cut(value);
      truncated = true;
    }
  }
  if (out.input !== undefined && typeof out.input !== 'string') {
    const text = JSON.stringify(out.input) ?? '';
    if (text.length > PREVIEW_CHARS) {
      out.input = cut(text);
      truncated = true;
    }
  } else if (typeof out.input === 'string' && out.input.length > PREVIEW_CHARS) {
    out.input = cut(out.input);
    truncated = true;
  }
  return truncated ? { ...out, truncated } : out;
}

/** gpu.csv as one series: mean utilisation and summed memory of the run's GPUs per sample, bucketed to at most 2000. */
function gpuSeries(text: string): RunTimelineData['gpu'] {
  const byTime = new Map<number, { util: number; n: number; mem: number }>();
  for (const s of parseGpuCsv(text.endsWith('\n') || text === '' ? text : `${text}\n`).samples) {
    const entry = byTime.get(s.t) ?? { util: 0, n: 0, mem: 0 };
    entry.util += s.utilizationGpuPct ?? 0;
    entry.n += 1;
    entry.mem += s.memoryUsedMiB ?? 0;
    byTime.set(s.t, entry);
  }
  const points = [...byTime]
    .sort((a, b) => a[0] - b[0])
    .map(([t, e]) => ({ t, utilization: e.util / e.n, memoryUsedMiB: e.mem }));
  if (points.length <= MAX_GPU_POINTS) return points;
  const size = Math.ceil(points.length / MAX_GPU_POINTS);
  const out: RunTimelineData['gpu'] = [];
  for (let i = 0; i < points.length; i += size) {
    const chunk = points.slice(i, i + size);
    out.push({
      t: chunk[0]!.t,
      utilization: chunk.reduce((a, p) => a + p.utilization, 0) / chunk.length,
      memoryUsedMiB: Math.max(...chunk.map((p) => p.memoryUsedMiB)),
    });
  }
  return out;
}
