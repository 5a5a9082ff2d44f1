import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ptbImportResultSchema,
  ptbRecordSchema,
  type PtbImportResult,
  type PtbRecord,
} from '../../shared/contract-trajectory';
import { AppError } from '../../shared/errors';
import { getAgent, isAgentId } from '../../shared/runs/agent-catalog';
import { runStateSchema, type RunState } from '../../shared/runs/run-status';
import { parseAgentStream } from '../../shared/trajectory/agent-steps';
import {
  errorLogCause,
  isJudgementFile,
  looksLikeTaskFolder,
  MAX_TIME_TAKEN_SECONDS,
  parseAgentConfigName,
  parseJudgement,
  parseSolveDiagnostics,
  parseTaskFolderName,
  parseTimeTaken,
} from '../../shared/trajectory/ptb-result';
import { redactText, type NamedSecret } from '../../shared/redact';
import { redactKeyShapes } from '../../shared/trajectory/key-shapes';
import { eventTime, parseJsonLine, streamLines } from '../../shared/trajectory/stream-lines';
import { newRunId } from '../runs/launch-plan';
import { listMirrors } from '../runs/run-mirror';

/**
 * PostTrainBench result folders as runs in the app. Each becomes a local run record under `PTW_HOME/runs/<id>/` in
 * the mirror's format (docs/run-folder.md, "What the app keeps"), marked `imported` in sync.json so nothing tries
 * to sync it with a host:
 *
 * - `agent-stream.jsonl`: solve_out.txt as it is (timestamp prefixes and launcher lines included; the step parser
 *   reads both), `terminal.cast`: the same lines as asciicast v2 when the trace has timestamps to place them;
 * - `state.json` / `events.jsonl`: the outcome and the lifecycle the folder tells (start, stop, score);
 * - `eval/metrics.json`: metrics.json; `ptb/`: the folder's text files; `ptb/import.json`: the
 *   facts read from them (time taken, diagnostics, verdicts, error.log's cause).
 *
 * Every copy is redacted of the agents' keys this app holds and of API-key shapes (an early PostTrainBench agent
 * script echoed its key into the trace); nothing else is changed. The source folder is only read. final_model/ and
 * task/ are not copied (weights); final_model's file count and size are recorded.
 */

/** Files of a result folder copied into `ptb/` (small text; the trace goes to agent-stream.jsonl). */
const TEXT_FILES =
  /^(prompt\.txt|solve_parsed\.txt|solve_out.+\.txt|time_taken\.txt|output\.log|error\.log|judgement\.log|system_monitor\.log|metrics\.json|final_eval_\d+\.txt)$/;
const MARKERS = ['solve_out.txt', 'solve_parsed.txt', 'metrics.json', 'time_taken.txt', 'output.log', 'error.log'];
const MARKER_TEXT =
  'solve_out*.txt, solve_parsed.txt, metrics.json, time_taken.txt, output.log, error.log or a judge verdict';

/** A file the importer keys on: the harness's outputs, a trace saved under another name, a judge's verdict. */
function isMarker(name: string): boolean {
  return MARKERS.includes(name) || /^solve_out.*\.txt$/.test(name) || isJudgementFile(name);
}

function isCopied(name: string): boolean {
  return TEXT_FILES.test(name) || isJudgementFile(name);
}

/** The trace the steps come from: solve_out.txt, else another `solve_out*.txt`, else solve_parsed.txt. */
function pickTrace(files: ReadonlyMap<string, number>): string | null {
  if ((files.get('solve_out.txt') ?? 0) > 0) return 'solve_out.txt';
  const others = [...files.keys()]
    .filter((n) => /^solve_out.+\.txt$/.test(n) && (files.get(n) ?? 0) > 0)
    .sort((a, b) => (files.get(b) ?? 0) - (files.get(a) ?? 0) || a.localeCompare(b));
  if (others.length > 0) return others[0]!;
  if ((files.get('solve_parsed.txt') ?? 0) > 0) return 'solve_parsed.txt';
  return files.has('solve_out.txt') ? 'solve_out.txt' : null;
}

/** How deep a parsed JSON value nests (metrics.json is flat; thousands of levels is a broken or hostile file). */
function nestingDepth(value: unknown, limit: number): number {
  let depth = 0;
  let level: unknown[] = [value];
  while (level.length > 0 && depth <= limit) {
    const next: unknown[] = [];
    for (const v of level) if (v && typeof v === 'object') next.push(...Object.values(v as object));
    if (next.length === 0) break;
    depth++;
    level = next;
  }
  return depth;
}

/** A field's value as metrics.json writes it (JSON.parse turns 1e400 into Infinity). */
function writtenValue(text: string, key: string): string {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`"${escaped}"\\s*:\\s*([^,}\\s]{1,40})`).exec(text);
  return match ? match[1]! : 'not a finite number';
}
const MAX_TEXT_BYTES = 64 * 1024 * 1024;
/** A 10-hour trace with training logs inside command outputs runs to hundreds of MB; a JS string tops out near 512 MiB. */
const MAX_TRACE_BYTES = 256 * 1024 * 1024;
const MAX_DEPTH = 4;
export const IMPORT_HOST = 'posttrainbench';

async function readText(file: string, maxBytes = MAX_TEXT_BYTES): Promise<string | null> {
  try {
    const s = await stat(file);
    if (!s.isFile()) return null;
    if (s.size > maxBytes) {
      throw new AppError('INVALID_INPUT', `${file} is larger than ${maxBytes / 1024 / 1024} MiB; not imported`);
    }
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function writeAtomic(file: string, data: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}

interface FoundFolders {
  /** Folders holding any of the files the importer keys on. */
  results: string[];
  /** Folders named like a task folder (`<benchmark>_<org>_<model>_<id>`) that hold none of them, with what they do hold. */
  lookAlikes: Array<{ dir: string; names: string[] }>;
}

/** Result folders under `root` (or `root` itself), and the look-alikes that are not (to be reported, not dropped). */
async function findResultFolders(root: string): Promise<FoundFolders> {
  const found: FoundFolders = { results: [], lookAlikes: [] };
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && isMarker(e.name))) {
      found.results.push(dir);
      return;
    }
    if (depth > 0 && looksLikeTaskFolder(path.basename(dir))) {
      found.lookAlikes.push({ dir, names: entries.map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort() });
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'final_model' && e.name !== 'task') {
        await walk(path.join(dir, e.name), depth + 1);
      }
    }
  };
  await walk(root, 0);
  return found;
}

async function folderSize(dir: string): Promise<{ exists: boolean; files: number; totalBytes: number }> {
  const s = await lstat(dir).catch(() => null);
  if (!s?.isDirectory()) return { exists: false, files: 0, totalBytes: 0 };
  let files = 0;
  let totalBytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      // Links are not followed (an agent's link could point anywhere).
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        files++;
        totalBytes += (await lstat(p)).size;
      }
    }
  };
  await walk(dir);
  return { exists: true, files, totalBytes };
}

/**
 * metrics.json's flat numeric fields (what state.json's evaluation holds), when it has a finite `accuracy`; a field
 * that is not a finite number (1e400 reads as Infinity) is left out and named in `problems`.
 */
function flatMetrics(
  metrics: Record<string, unknown> | null,
  text: string,
  problems: string[],
): ({ accuracy: number } & Record<string, number>) | null {
  if (!metrics) return null;
  const flat: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v !== 'number') continue;
    if (Number.isFinite(v)) flat[k] = v;
    else problems.push(`metrics.json: ${k.slice(0, 80)} is ${writtenValue(text, k)}, not a finite number; left out`);
  }
  if (!('accuracy' in metrics)) {
    problems.push('metrics.json has no accuracy: the run is not scored');
    return null;
  }
  if (typeof flat.accuracy !== 'number') {
    if (typeof metrics.accuracy !== 'number')
      problems.push('metrics.json: accuracy is not a number; the run is not scored');
    return null;
  }
  return flat as { accuracy: number } & Record<string, number>;
}

/** The trace's lines with their times: the line's prefix, else the event's own time field (epoch ms too). */
function timedLines(trace: string): Array<{ text: string; t: number | null }> {
  return streamLines(trace).map((line) => {
    if (line.t !== null) return { text: line.text, t: line.t };
    const parsed = line.text.length < 1_000_000 ? parseJsonLine(line.text) : null;
    return { text: line.text, t: parsed?.ok ? eventTime(parsed.value) : null };
  });
}

/** The trace's lines as an asciicast v2 recording, placed by their times; null when no line has one. */
function castFromTrace(lines: ReadonlyArray<{ text: string; t: number | null }>): {
  cast: string;
  start: number;
  end: number;
} | null {
  const first = lines.find((l) => l.t !== null)?.t ?? null;
  if (first === null) return null;
  let last = first;
  const out = [
    JSON.stringify({ version: 2, width: 120, height: 40, timestamp: first / 1000, env: { TERM: 'xterm-256color' } }),
  ];
  for (const line of lines) {
    // A line without a time (or one before the last) keeps its place: output only moves forward.
    if (line.t !== null && line.t > last) last = line.t;
    out.push(JSON.stringify([Number(((last - first) / 1000).toFixed(6)), 'o', `${line.text}\r\n`]));
  }
  return { cast: `${out.join('\n')}\n`, start: first, end: last };
}

interface ImportOne {
  id: string;
  record: PtbRecord;
  status: string;
  score: number | null;
  steps: number;
  task: string;
  agent: string;
}

/** Redacts what the app copies: known key values literally, then anything shaped like an API key. */
class ImportRedactor {
  count = 0;
  constructor(private readonly secrets: readonly NamedSecret[]) {}

  text(input: string): string {
    const literal = redactText(input, this.secrets);
    if (literal !== input) this.count += this.secrets.reduce((n, s) => n + (input.split(s.value).length - 1), 0);
    const shaped = redactKeyShapes(literal);
    this.count += shaped.count;
    return shaped.text;
  }
}

async function importFolder(
  runsDir: string,
  folder: string,
  now: Date,
  secrets: readonly NamedSecret[],
): Promise<ImportOne> {
  const redactor = new ImportRedactor(secrets);
  const taskName = path.basename(folder);
  const configName = path.basename(path.dirname(folder));
  const config = parseAgentConfigName(configName);
  const task = parseTaskFolderName(taskName);
  const problems: string[] = [];

  const entries = await readdir(folder, { withFileTypes: true });
  const sizes = new Map<string, number>();
  for (const e of entries) {
    if (e.isFile()) sizes.set(e.name, (await stat(path.join(folder, e.name)).catch(() => null))?.size ?? 0);
  }
  const names = [...sizes.keys()].sort();

  const traceFile = pickTrace(sizes);
  const trace = redactor.text(
    traceFile === null ? '' : ((await readText(path.join(folder, traceFile), MAX_TRACE_BYTES)) ?? ''),
  );
  if (trace === '')
    problems.push('no agent trace to show: solve_out.txt (or solve_out*.txt, solve_parsed.txt) is missing or empty');
  else if (traceFile !== 'solve_out.txt')
    problems.push(`the steps come from ${traceFile} (there is no solve_out.txt with content)`);

  const metricsRaw = await readText(path.join(folder, 'metrics.json'));
  const metricsText = metricsRaw === null ? null : redactor.text(metricsRaw);
  let metrics: Record<string, unknown> | null = null;
  if (metricsText !== null) {
    try {
      const value = JSON.parse(metricsText) as unknown;
      if (!value || typeof value !== 'object' || Array.isArray(value))
        problems.push('metrics.json is not a JSON object');
      else if (nestingDepth(value, 64) > 64) problems.push('metrics.json nests more than 64 levels deep; not read');
      else metrics = value as Record<string, unknown>;
    } catch (err) {
      problems.push(`metrics.json is not valid JSON (${(err as Error).message.slice(0, 200)})`);
    }
  }
  const flat = flatMetrics(metrics, metricsText ?? '', problems);

  const timeTakenRaw = await readText(path.join(folder, 'time_taken.txt'));
  const timeTaken = timeTakenRaw === null ? null : timeTakenRaw.trim().slice(0, 200);
  const timeTakenSeconds = timeTaken === null ? null : parseTimeTaken(timeTaken);
  if (timeTaken !== null && timeTakenSeconds === null) {
    problems.push(
      /^\s*\d+:\d{1,2}:\d{1,2}(?:\.\d+)?\s*$/.test(timeTaken)
        ? `time_taken.txt says "${timeTaken.slice(0, 40)}", longer than ${MAX_TIME_TAKEN_SECONDS / 86400} days; not used`
        : `time_taken.txt says "${JSON.stringify(timeTaken.slice(0, 40)).slice(1, -1)}", not HH:MM:SS; not used`,
    );
  }
  const diagnostics = parseSolveDiagnostics(redactor.text((await readText(path.join(folder, 'output.log'))) ?? ''));
  const errorLogRaw = await readText(path.join(folder, 'error.log'));
  const errorLog = errorLogRaw === null ? null : redactor.text(errorLogRaw);
  const errorCause = errorLog === null ? null : errorLogCause(errorLog);

  const judgements: PtbRecord['judgements'] = [];
  for (const name of names.filter(isJudgementFile)) {
    const raw = await readText(path.join(folder, name));
    const text = raw === null ? null : redactor.text(raw);
    if (text === null) continue;
    for (const j of parseJudgement(name, text)) {
      judgements.push({ file: name, ...j });
      if (j.problem) problems.push(`${name}: ${j.problem}`);
    }
  }
  const finalModel = await folderSize(path.join(folder, 'final_model'));

  const dialect = config.builtIn && isAgentId(config.agent) ? getAgent(config.agent).streamFormat : null;
  const parsed = parseAgentStream(trace, { dialect });
  const lines = timedLines(trace);
  const cast = castFromTrace(lines);
  const startedAt = cast?.start ?? null;
  const stoppedAt =
    startedAt !== null && timeTakenSeconds !== null ? startedAt + timeTakenSeconds * 1000 : (cast?.end ?? null);
  const budgetSeconds = config.budgetHours !== null ? Math.round(config.budgetHours * 3600) : 10 * 3600;

  const status = flat ? 'scored' : !finalModel.exists ? 'no-model' : 'evaluation-failed';
  const stopReason = errorCause?.startsWith('Terminated')
    ? 'budget'
    : (stoppedAt !== null || timeTakenSeconds !== null) && !errorCause
      ? 'agent-exited'
      : null;
  const importedAt = now.getTime();

  const record: PtbRecord = ptbRecordSchema.parse({
    source: folder,
    folder: `${configName}/${taskName}`,
    agentConfig: configName,
    method: config.method,
    trace: trace === '' ? null : traceFile,
    timesFrom: startedAt !== null ? 'trace' : 'none',
    timeTaken,
    timeTakenSeconds,
    metrics,
    diagnostics,
    judgements,
    errorCause,
    files: names,
    finalModel,
    problems,
    redacted: 0,
  });

  const id = newRunId(new Date(startedAt ?? importedAt), randomBytes(3).toString('hex'));
  const spec = {
    host: IMPORT_HOST,
    task: task.baseModel
      ? { kind: 'ptb', benchmark: task.benchmark, baseModel: task.baseModel }
      : { kind: 'ptb', benchmark: task.benchmark },
    // A scaffold the app does not run keeps the method folder's name and the dialect its stream showed.
    agent: config.builtIn
      ? { id: config.agent, model: config.model }
      : { id: config.agent, model: config.model, streamFormat: parsed.dialect ?? 'none' },
    budgetSeconds,
    label: `PTB ${configName}/${taskName}`.slice(0, 120),
  };
  const runJson = {
    schema: 1,
    id,
    createdAt: new Date(startedAt ?? importedAt).toISOString(),
    spec,
    supervisor: { agentContainerId: null, budgetSeconds },
    import: { kind: 'ptb', source: folder, importedAt },
  };
  // Checked before anything is written: a folder goes in whole, or is reported with why, never half.
  const state: RunState = runStateSchema.parse({
    status,
    supervisorPid: null,
    heartbeatAt: stoppedAt ?? importedAt,
    agentContainerId: null,
    startedAt,
    deadline: startedAt !== null ? startedAt + budgetSeconds * 1000 : null,
    warningsSent: [],
    stoppedAt,
    stopReason,
    exitCode: null,
    evaluation: { attempts: metricsText !== null ? 1 : 0, outcome: status, metrics: flat },
  });
  // The lifecycle the folder tells, so the timeline and the Overview have it (marked as derived by the import).
  const events: Record<string, unknown>[] = [];
  if (startedAt !== null) {
    events.push({
      t: startedAt,
      type: 'agent-started',
      deadline: startedAt + budgetSeconds * 1000,
      source: 'ptb-import',
    });
  }
  if (stoppedAt !== null && stopReason) {
    events.push({ t: stoppedAt, type: 'agent-stopped', reason: stopReason, exitCode: null, source: 'ptb-import' });
  }
  if (stoppedAt !== null) {
    events.push({ t: stoppedAt, type: 'evaluation-finished', outcome: status, metrics: flat, source: 'ptb-import' });
  }
  const score = flat ? flat.accuracy * 100 : null;

  const dir = path.join(runsDir, id);
  const tmpDir = path.join(runsDir, `.import-${id}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  try {
    const p = (rel: string) => path.join(tmpDir, ...rel.split('/'));
    await writeAtomic(p('run.json'), `${JSON.stringify(runJson, null, 2)}\n`);
    await writeAtomic(p('state.json'), `${JSON.stringify(state, null, 2)}\n`);
    await writeAtomic(p('events.jsonl'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await writeAtomic(p('agent-stream.jsonl'), trace);
    if (cast) await writeAtomic(p('terminal.cast'), cast.cast);
    if (metricsText !== null) await writeAtomic(p('eval/metrics.json'), metricsText);
    for (const name of names.filter(isCopied)) {
      const text = await readText(path.join(folder, name));
      if (text !== null) await writeAtomic(p(`ptb/${name}`), redactor.text(text));
    }
    record.redacted = redactor.count;
    await writeAtomic(p('ptb/import.json'), `${JSON.stringify(record, null, 2)}\n`);
    await writeAtomic(
      p('sync.json'),
      `${JSON.stringify(
        {
          schema: 1,
          runId: id,
          host: IMPORT_HOST,
          hostRunDir: folder,
          files: {},
          syncedAt: importedAt,
          error: null,
          errorAt: null,
          complete: true,
          hostClockOffsetMs: null,
          supervisorAlive: false,
          supervisorPid: null,
          secretsSha256: null,
          lastResumeAt: null,
          problems,
          imported: {
            kind: 'ptb',
            source: folder,
            at: importedAt,
            ranSeconds: ranSeconds(timeTakenSeconds, startedAt, stoppedAt),
          },
        },
        null,
        2,
      )}\n`,
    );
    // The record appears whole or not at all.
    await rename(tmpDir, dir);
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
  return {
    id,
    record,
    status,
    score,
    steps: parsed.steps.length,
    task: task.baseModel ? `${task.benchmark} · ${task.baseModel.split('/').pop()}` : task.benchmark,
    agent: config.model ? `${config.agent} · ${config.model}` : config.agent,
  };
}

/** How long the agent ran: time_taken.txt, else the trace's first to last time. */
function ranSeconds(timeTaken: number | null, startedAt: number | null, stoppedAt: number | null): number | null {
  if (timeTaken !== null) return timeTaken;
  return startedAt !== null && stoppedAt !== null ? Math.max(0, (stoppedAt - startedAt) / 1000) : null;
}

/** Sources already imported, so a second import of the same tree skips them. */
async function importedSources(runsDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const mirror of await listMirrors(runsDir)) {
    const raw = await readFile(mirror.file('sync.json'), 'utf8').catch(() => null);
    if (!raw) continue;
    try {
      const sync = JSON.parse(raw) as { imported?: { kind?: string; source?: string } | null };
      if (sync.imported?.kind === 'ptb' && sync.imported.source) out.set(sync.imported.source, mirror.id);
    } catch {
      // A damaged sync.json is the run list's to report.
    }
  }
  return out;
}

export async function importPtbResults(
  runsDir: string,
  input: string,
  options: { now?: () => Date; secrets?: () => Promise<NamedSecret[]> } = {},
): Promise<PtbImportResult> {
  const now = options.now ?? (() => new Date());
  const secrets = (await options.secrets?.().catch(() => [])) ?? [];
  const root = path.resolve(input);
  const s = await stat(root).catch(() => null);
  if (!s)
    throw new AppError('NOT_FOUND', `${root} does not exist (give a PostTrainBench result folder or a results tree)`);
  if (!s.isDirectory())
    throw new AppError('INVALID_INPUT', `${root} is a file; give a result folder or a results tree`);
  await mkdir(runsDir, { recursive: true, mode: 0o700 });
  const found = await findResultFolders(root);
  const result: PtbImportResult = { imported: [], skipped: [] };
  const relative = (folder: string) => path.relative(path.dirname(path.dirname(folder)), folder) || folder;
  for (const look of found.lookAlikes) {
    const shown =
      look.names.slice(0, 8).join(', ') + (look.names.length > 8 ? `, … (${look.names.length} entries)` : '');
    result.skipped.push({
      folder: relative(look.dir),
      reason: `named like a task folder but holds none of ${MARKER_TEXT}${look.names.length > 0 ? ` (it holds ${shown})` : ' (it is empty)'}`,
    });
  }
  if (found.results.length === 0) {
    if (result.skipped.length === 0) {
      result.skipped.push({
        folder: root,
        reason: `no result folders found (a result folder holds ${MARKER_TEXT}; looked ${MAX_DEPTH} levels deep)`,
      });
    }
    return ptbImportResultSchema.parse(result);
  }
  const known = await importedSources(runsDir);
  for (const folder of found.results) {
    const rel = relative(folder);
    const already = known.get(folder);
    if (already) {
      result.skipped.push({ folder: rel, reason: `already imported as ${already}` });
      continue;
    }
    const files = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const hasTrace = files.some(
      (e) => e.isFile() && (/^solve_out.*\.txt$/.test(e.name) || e.name === 'solve_parsed.txt'),
    );
    const hasMetrics = files.some((e) => e.isFile() && e.name === 'metrics.json');
    if (!hasTrace && !hasMetrics) {
      result.skipped.push({
        folder: rel,
        reason:
          'neither solve_out.txt (the trace; nor solve_out*.txt or solve_parsed.txt) nor metrics.json (the score): nothing to show',
      });
      continue;
    }
    try {
      const one = await importFolder(runsDir, folder, now(), secrets);
      result.imported.push({
        id: one.id,
        folder: rel,
        task: one.task,
        agent: one.agent,
        status: one.status,
        score: one.score,
        steps: one.steps,
      });
    } catch (err) {
      result.skipped.push({ folder: rel, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  result.skipped.sort((x, y) => x.folder.localeCompare(y.folder));
  return ptbImportResultSchema.parse(result);
}
