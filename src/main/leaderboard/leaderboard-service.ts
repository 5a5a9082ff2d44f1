import { open, readFile } from 'node:fs/promises';
import type { LeaderboardFilterInput, RunComparison, CompareSide } from '../../shared/contract-leaderboard';
import type { PtbRecord, RunTimelineData, StepsPage } from '../../shared/contract-trajectory';
import { AppError } from '../../shared/errors';
import {
  buildLeaderboard,
  readAccuracy,
  type Leaderboard,
  type ScoreRunInput,
} from '../../shared/leaderboard/ptb-score';
import { isFinalRunStatus, runStatusSchema } from '../../shared/runs/run-status';
import { findBaseModel } from '../../shared/runs/task-catalog';
import { parseTaskFolderName } from '../../shared/trajectory/ptb-result';
import { listMirrors, RunMirror } from '../runs/run-mirror';
import { readPtbRecord, runVerdict } from '../runs/run-verdict';

/**
 * Gathers what the leaderboard and the run comparison need from the local records (`PTW_HOME/runs/<id>/`: our runs'
 * mirrors and imported PostTrainBench folders) and hands it to the pure scoring in `shared/leaderboard/ptb-score.ts`.
 * Nothing here connects to a host.
 */

/** What one run folder says, read once for both the leaderboard and a comparison. */
interface RunFacts {
  input: ScoreRunInput | null;
  /** Why the run is not on the leaderboard at all (not a PostTrainBench task, still going), for the comparison. */
  skipped: string | null;
  mirror: RunMirror;
  ptb: PtbRecord | null;
  metricsText: string | null;
  usedSeconds: number | null;
  gpuCount: number;
  label: string;
  status: string;
  budgetSeconds: number | null;
  startedAt: number | null;
  stoppedAt: number | null;
  stopReason: string | null;
  importedFrom: string | null;
}

/** `codex_non_api_high_gpt-5.4_10h_run1` → the configuration `codex_non_api_high_gpt-5.4_10h` and the seed `run1`. */
export function splitConfigName(name: string): { config: string; seed: string; gpus: number } {
  const tokens = name.split('_');
  const hoursAt = tokens.findIndex((t, i) => i > 0 && /^\d+(?:\.\d+)?h$/.test(t));
  if (hoursAt < 0) return { config: name, seed: 'run', gpus: 1 };
  let end = hoursAt + 1;
  let gpus = 1;
  const gpuToken = /^(\d+)gpu$/.exec(tokens[end] ?? '');
  if (gpuToken) {
    gpus = Number(gpuToken[1]);
    end++;
  }
  return { config: tokens.slice(0, end).join('_'), seed: tokens.slice(end).join('_') || 'run', gpus };
}

/** Claude's `result` event near the end of the trace: `total_cost_usd` and token counts (the tail only is read). */
export async function traceCost(file: string): Promise<{ costUsd: number | null; tokens: number | null }> {
  const none = { costUsd: null, tokens: null };
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return none;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').reverse();
    for (const line of lines) {
      if (!line.includes('"total_cost_usd"')) continue;
      const brace = line.indexOf('{');
      try {
        const event = JSON.parse(line.slice(brace)) as {
          total_cost_usd?: unknown;
          usage?: Record<string, unknown>;
        };
        if (typeof event.total_cost_usd !== 'number') continue;
        const usage = event.usage ?? {};
        const count = (k: string): number => (typeof usage[k] === 'number' ? (usage[k] as number) : 0);
        const tokens =
          count('input_tokens') +
          count('output_tokens') +
          count('cache_read_input_tokens') +
          count('cache_creation_input_tokens');
        return { costUsd: event.total_cost_usd, tokens: tokens > 0 ? tokens : null };
      } catch {
        continue;
      }
    }
    return none;
  } finally {
    await handle.close();
  }
}

async function runFacts(mirror: RunMirror): Promise<RunFacts | null> {
  const [runJson, state, sync] = await Promise.all([mirror.readRunJson(), mirror.readState(), mirror.readSync()]);
  if (!runJson) return null;
  const ptb = await readPtbRecord(mirror);
  const metricsText = await readFile(mirror.file('eval/metrics.json'), 'utf8').catch(() => null);
  const spec = runJson.spec;
  const parsedStatus = state ? runStatusSchema.safeParse(state.status) : null;
  const status = parsedStatus === null ? 'starting' : parsedStatus.success ? parsedStatus.data : 'unknown';
  const imported = sync?.imported ?? null;
  const split = ptb ? splitConfigName(ptb.agentConfig) : null;
  const specGpus = (spec as { gpus?: unknown }).gpus;
  const gpuCount = split?.gpus ?? (Array.isArray(specGpus) && specGpus.length > 0 ? specGpus.length : 1);
  const usedSeconds =
    ptb?.timeTakenSeconds ?? (state?.startedAt ? ((state.stoppedAt ?? Date.now()) - state.startedAt) / 1000 : null);
  const budgetSeconds = spec.budgetSeconds ?? runJson.supervisor.budgetSeconds ?? null;
  const facts: RunFacts = {
    input: null,
    skipped: null,
    mirror,
    ptb,
    metricsText,
    usedSeconds,
    gpuCount,
    label: spec.label ?? mirror.id,
    status,
    budgetSeconds,
    startedAt: state?.startedAt ?? null,
    stoppedAt: state?.stoppedAt ?? null,
    stopReason: state?.stopReason ?? null,
    importedFrom: imported ? `${imported.kind}: ${imported.source}` : null,
  };
  if (spec.task.kind !== 'ptb') {
    facts.skipped = `a ${spec.task.kind} run, not a PostTrainBench cell`;
    return facts;
  }
  if (status === 'starting' || status === 'unknown' || !isFinalRunStatus(status)) {
    facts.skipped = `still ${status}: it is scored once it has finished`;
    return facts;
  }
  const cost = await traceCost(mirror.file('agent-stream.jsonl'));
  const taskFolder = ptb ? parseTaskFolderName(ptb.folder.split('/').pop() ?? '') : null;
  const createdMs = Date.parse(runJson.createdAt);
  facts.input = {
    runId: mirror.id,
    createdAt: runJson.createdAt,
    origin: ptb && imported?.kind === 'ptb' ? 'ptb' : 'own',
    agent: spec.agent.id,
    model: spec.agent.model ?? '',
    budgetSeconds,
    variant: ptb && split ? split.config : '',
    seed: ptb && split ? split.seed : null,
    order: taskFolder?.clusterId ? Number(taskFolder.clusterId) : Number.isFinite(createdMs) ? createdMs : 0,
    benchmark: spec.task.benchmark ?? '',
    baseModel: spec.task.baseModel ?? '',
    result: readAccuracy(metricsText),
    verdict: await runVerdict(mirror, ptb),
    gpuHours: usedSeconds !== null ? (usedSeconds * gpuCount) / 3600 : null,
    costUsd: cost.costUsd,
    tokens: cost.tokens,
  };
  return facts;
}

function numericMetrics(text: string | null): Record<string, number> {
  if (text === null) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    return Object.fromEntries(
      Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])),
    );
  } catch {
    return {};
  }
}

export class LeaderboardService {
  constructor(
    private readonly deps: {
      runsDir: string;
      /** Steps and the GPU series of a run, for the comparison (the trajectory feature reads them). */
      trajectory: {
        steps(input: { id: string; offset: number; limit: number }): Promise<StepsPage>;
        timeline(id: string): Promise<RunTimelineData>;
      };
    },
  ) {}

  async leaderboard(filter: LeaderboardFilterInput = {}): Promise<Leaderboard> {
    const inputs: ScoreRunInput[] = [];
    const unreadable: Leaderboard['problems'] = [];
    for (const mirror of await listMirrors(this.deps.runsDir)) {
      try {
        const facts = await runFacts(mirror);
        if (!facts) unreadable.push({ runId: mirror.id, message: 'run.json cannot be read: the run is left out' });
        else if (facts.input) inputs.push(facts.input);
      } catch (err) {
        unreadable.push({ runId: mirror.id, message: `${(err as Error).message}: the run is left out` });
      }
    }
    try {
      const board = buildLeaderboard(inputs, filter);
      return { ...board, problems: [...unreadable, ...board.problems] };
    } catch (err) {
      if (err instanceof RangeError) throw new AppError('INVALID_INPUT', err.message);
      throw err;
    }
  }

  private async side(id: string): Promise<{ side: CompareSide; facts: RunFacts }> {
    let mirror: RunMirror;
    try {
      mirror = new RunMirror(this.deps.runsDir, id);
    } catch (err) {
      throw new AppError('INVALID_INPUT', (err as Error).message);
    }
    const facts = await runFacts(mirror);
    if (!facts) throw new AppError('NOT_FOUND', `No readable local record of run ${id} (ptw run ls lists runs)`);
    const runJson = await mirror.readRunJson();
    const spec = runJson!.spec;
    const [page, timeline, manifest] = await Promise.all([
      this.deps.trajectory.steps({ id, offset: 0, limit: 1 }).catch(() => null),
      this.deps.trajectory.timeline(id).catch(() => null),
      mirror.readManifest(),
    ]);
    const gpu = timeline?.gpu ?? [];
    const result = readAccuracy(facts.metricsText);
    const prompt = facts.ptb
      ? await readFile(mirror.file('ptb/prompt.txt'), 'utf8').catch(() => null)
      : await readFile(mirror.file('prompt.txt'), 'utf8').catch(() => null);
    const promptSha = (runJson as { launch?: { promptSha256?: unknown } }).launch?.promptSha256;
    const verdict = facts.input?.verdict ?? (await runVerdict(mirror, facts.ptb));
    const sync = await mirror.readSync();
    const onHost = sync && !sync.imported && sync.hostRunDir ? sync : null;
    const side: CompareSide = {
      id,
      label: facts.label,
      status: facts.status,
      imported: facts.importedFrom,
      host: onHost?.host ?? null,
      hostRunDir: onHost?.hostRunDir ?? null,
      agent: spec.agent.id,
      model: spec.agent.model ?? '',
      benchmark: spec.task.benchmark ?? spec.task.kind,
      baseModel: findBaseModel(spec.task.baseModel ?? '')?.id ?? spec.task.baseModel ?? '',
      budgetSeconds: facts.budgetSeconds,
      usedSeconds: facts.usedSeconds,
      startedAt: facts.startedAt,
      stoppedAt: facts.stoppedAt,
      stopReason: facts.stopReason,
      score: result.kind === 'accuracy' ? result.accuracy * 100 : null,
      metrics: numericMetrics(facts.metricsText),
      resultNote: result.kind === 'none' ? result.reason : facts.skipped,
      verdict,
      judgements: facts.ptb?.judgements ?? [],
      gpuCount: facts.gpuCount,
      gpuHours: facts.usedSeconds !== null ? (facts.usedSeconds * facts.gpuCount) / 3600 : null,
      gpu: {
        samples: gpu.length,
        meanUtilization: gpu.length > 0 ? gpu.reduce((s, g) => s + g.utilization, 0) / gpu.length : null,
        maxMemoryMiB: gpu.length > 0 ? gpu.reduce((m, g) => Math.max(m, g.memoryUsedMiB), 0) : null,
      },
      steps: {
        total: page?.totals.steps ?? 0,
        toolCalls: page?.totals.toolCalls ?? 0,
        byKind: page?.totals.byKind ?? {},
        inputTokens: page?.totals.inputTokens ?? 0,
        outputTokens: page?.totals.outputTokens ?? 0,
        costUsd: page?.totals.costUsd ?? null,
      },
      prompt,
      promptNote:
        prompt !== null
          ? null
          : typeof promptSha === 'string'
            ? `the prompt stays on the host (ptw/prompt.txt, sha256 ${promptSha.slice(0, 12)}…)`
            : 'no prompt in the local record',
      finalModel: manifest
        ? { exists: manifest.exists, files: manifest.files.length, totalBytes: manifest.totalBytes, hashed: true }
        : facts.ptb
          ? { ...facts.ptb.finalModel, hashed: false }
          : null,
    };
    return { side, facts };
  }

  async compare(a: string, b: string): Promise<RunComparison> {
    if (a === b) throw new AppError('INVALID_INPUT', 'Pick two different runs to compare');
    const [left, right] = await Promise.all([this.side(a), this.side(b)]);
    const names = [...new Set([...Object.keys(left.side.metrics), ...Object.keys(right.side.metrics)])].sort();
    const metrics = names.map((name) => {
      const x = left.side.metrics[name] ?? null;
      const y = right.side.metrics[name] ?? null;
      return { name, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
    });
    const notes: string[] = [];
    const sameCell = left.side.benchmark === right.side.benchmark && left.side.baseModel === right.side.baseModel;
    if (!sameCell) {
      notes.push(
        `different cells (${left.side.benchmark} × ${left.side.baseModel} and ${right.side.benchmark} × ${right.side.baseModel}): scores are not comparable`,
      );
    }
    const [ma, mb] = await Promise.all([left.facts.mirror.readManifest(), right.facts.mirror.readManifest()]);
    let finalModels: RunComparison['finalModels'] = null;
    if (ma?.exists && mb?.exists) {
      const hashA = new Map(ma.files.map((f) => [f.path, f.sha256]));
      const hashB = new Map(mb.files.map((f) => [f.path, f.sha256]));
      let same = 0;
      let differ = 0;
      for (const [p, h] of hashA) {
        const other = hashB.get(p);
        if (other === undefined) continue;
        if (other === h) same++;
        else differ++;
      }
      const onlyA = [...hashA.keys()].filter((p) => !hashB.has(p)).sort();
      const onlyB = [...hashB.keys()].filter((p) => !hashA.has(p)).sort();
      finalModels = { identical: differ === 0 && onlyA.length === 0 && onlyB.length === 0, same, differ, onlyA, onlyB };
    } else {
      notes.push(
        'final models not compared file by file: a run has no final_model manifest (imported folders keep only file counts; the weights stay where they were)',
      );
    }
    return { a: left.side, b: right.side, sameCell, metrics, finalModels, notes };
  }
}
