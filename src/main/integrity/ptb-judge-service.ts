import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { IntegrityJudge, IntegrityJudgeEntry } from '../../shared/contract-integrity';
import type { RunDetail } from '../../shared/contract';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import {
  JUDGE_EXIT,
  PTB_JUDGE_FILES,
  PTB_JUDGE_MODEL,
  PTB_JUDGE_PROMPT,
  PTB_JUDGE_STREAM,
  ptbJudgeScript,
} from '../../shared/integrity/ptb-judge';
import { RUN_STATUSES, isFinalRunStatus, type RunStatus } from '../../shared/runs/run-status';
import { shellQuote } from '../../shared/shell-quote';
import { isJudgementFile, parseJudgement } from '../../shared/trajectory/ptb-result';
import type { HostSession } from '../hosts/host-exec-types';
import type { RunHost } from '../runs/run-host';
import { RunMirror } from '../runs/run-mirror';
import { readJsonIfAny, writeJsonFileAtomic } from '../services/ptw-home';

/**
 * PostTrainBench's own LLM judge beside our checks (issue 13, optional). `get` reads the judge files a run has: those
 * of an imported PostTrainBench folder (kept by the import in `ptb/import.json`) and those of this app's own run of
 * the judge (`integrity/judge/` in the run's record). `run` runs the judge the way the harness does
 * (shared/integrity/ptb-judge.ts) on the run's host, from the host's PostTrainBench checkout, with the user's
 * CODEX_API_KEY from the secret store (stdin, never a command line), once the run has finished; the verdict files,
 * prompt and stream come back into the record. The judge calls OpenAI: it runs only when asked.
 */

export const JUDGE_DIR = 'integrity/judge';
const HOST_OUT = '.integrity/judge';
const JUDGE_TIMEOUT_MS = 2 * 60 * 60_000;
/** The keys the judge can use, in order (the harness passes CODEX_API_KEY). */
export const JUDGE_KEY_NAMES = ['CODEX_API_KEY', 'OPENAI_API_KEY'] as const;
const MAX_STREAM_BYTES = 8 * 1024 * 1024;

export interface PtbJudgeServiceOptions {
  runsDir: string;
  run(id: string): Promise<RunDetail>;
  runHost(id: string): Promise<RunHost>;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  secret(name: string): Promise<{ value: string } | undefined>;
}

interface JudgeMeta {
  at: number;
  model: string;
  exitCode: number | null;
  note: string;
}

function ptbTask(detail: RunDetail): { benchmark: string; baseModel: string } | null {
  const task = (detail.spec as { task?: { kind?: unknown; benchmark?: unknown; baseModel?: unknown } } | null)?.task;
  return task?.kind === 'ptb' && typeof task.benchmark === 'string' && typeof task.baseModel === 'string'
    ? { benchmark: task.benchmark, baseModel: task.baseModel }
    : null;
}

function finished(status: string): boolean {
  return (RUN_STATUSES as readonly string[]).includes(status) && isFinalRunStatus(status as RunStatus);
}

export class PtbJudgeService {
  readonly #o: PtbJudgeServiceOptions;
  readonly #running = new Map<string, Promise<IntegrityJudge>>();

  constructor(options: PtbJudgeServiceOptions) {
    this.#o = options;
  }

  async get(id: string): Promise<IntegrityJudge> {
    const mirror = new RunMirror(this.#o.runsDir, id);
    if (!(await mirror.exists())) throw new AppError('NOT_FOUND', `No run ${id} here (ptw run ls lists runs).`);
    const entries: IntegrityJudgeEntry[] = [];
    const imported = (await readJsonIfAny(mirror.file('ptb/import.json'))) as { judgements?: unknown } | undefined;
    if (imported && Array.isArray(imported.judgements)) {
      for (const j of imported.judgements as Record<string, unknown>[]) {
        entries.push({
          source: 'imported',
          file: String(j.file ?? ''),
          check: String(j.check ?? j.file ?? ''),
          flagged: typeof j.flagged === 'boolean' ? j.flagged : null,
          text: String(j.text ?? ''),
          ...(typeof j.problem === 'string' ? { problem: j.problem } : {}),
        });
      }
    }
    const dir = mirror.file(JUDGE_DIR);
    const names = (await readdir(dir).catch(() => [] as string[])).filter(isJudgementFile).sort();
    for (const name of names) {
      const text = await readFile(path.join(dir, name), 'utf8');
      for (const j of parseJudgement(name, text)) entries.push({ source: 'ran', file: name, ...j });
    }
    const meta = (await readJsonIfAny(path.join(dir, 'meta.json'))) as JudgeMeta | undefined | null;
    const sync = await mirror.readSync();
    const detail = await this.#o.run(id).catch(() => null);
    return {
      runId: id,
      entries,
      ran: meta && typeof meta.at === 'number' ? meta : null,
      runnable: !!sync && !sync.imported && !!detail && ptbTask(detail) !== null,
    };
  }

  /** One judge run at a time per run; a second request waits for it. */
  run(id: string): Promise<IntegrityJudge> {
    const running = this.#running.get(id);
    if (running) return running;
    const pass = this.#run(id).finally(() => this.#running.delete(id));
    this.#running.set(id, pass);
    return pass;
  }

  async #run(id: string): Promise<IntegrityJudge> {
    // The gate first: an imported run has no host (its judge files, if any, came with it).
    const target = await this.#o.runHost(id);
    const detail = await this.#o.run(id);
    const task = ptbTask(detail);
    if (!task) {
      throw new AppError(
        'INVALID_INPUT',
        `Run ${id} is not a PostTrainBench task: its judge needs a benchmark and a base model.`,
      );
    }
    if (!finished(detail.summary.status)) {
      throw new AppError(
        'CONFLICT',
        `Run ${id} is ${detail.summary.status}: PostTrainBench's judge runs after the evaluation, once the run has finished.`,
      );
    }
    const profile = await this.#o.profile(target.host);
    if (!profile.ptbCheckout) {
      throw new AppError(
        'HOST_REQUIREMENT_MISSING',
        `${target.host} has no PostTrainBench checkout set (ptw host add ${target.host} --ptb-checkout DIR): the judge's prompt comes from it.`,
      );
    }
    let key: string | undefined;
    for (const name of JUDGE_KEY_NAMES) key ??= (await this.#o.secret(name))?.value;
    if (!key) {
      throw new AppError(
        'SECRET_MISSING',
        `PostTrainBench's judge runs Codex with an OpenAI key: set ${JUDGE_KEY_NAMES.join(' or ')} in the keychain or as PTW_SECRET_CODEX_API_KEY.`,
      );
    }
    const runDir = target.hostRunDir;
    const outDir = path.posix.join(runDir, HOST_OUT);
    const session = await this.#o.session(target.host);
    const script = ptbJudgeScript({
      checkout: profile.ptbCheckout,
      workspace: path.posix.join(runDir, 'workspace'),
      outDir,
      benchmark: task.benchmark,
      model: task.baseModel,
    });
    const result = await session.exec(`bash -c ${shellQuote(script)}`, {
      stdin: `${key}\n`,
      timeoutMs: JUDGE_TIMEOUT_MS,
    });
    const tail = (result.stderr || result.stdout).trim().slice(-2000);
    if (result.code === JUDGE_EXIT.promptFailed) {
      throw new AppError(
        'HOST_REQUIREMENT_MISSING',
        `The judge's prompt could not be made from ${profile.ptbCheckout} on ${target.host} (src/disallowed_usage_judge/get_judge_prompt.py): ${tail || 'no output'}`,
      );
    }
    if (result.code === JUDGE_EXIT.noCodex) {
      throw new AppError(
        'HOST_REQUIREMENT_MISSING',
        `${target.host} has no codex on its PATH: PostTrainBench's judge runs the Codex CLI (npm install -g @openai/codex).`,
      );
    }
    // The verdict files, the prompt and the stream into the record (small text; the stream is capped).
    const mirror = new RunMirror(this.#o.runsDir, id);
    const local = mirror.file(JUDGE_DIR);
    await mkdir(local, { recursive: true, mode: 0o700 });
    for (const name of [...PTB_JUDGE_FILES, PTB_JUDGE_PROMPT, PTB_JUDGE_STREAM]) {
      const data = await session
        .readFile(path.posix.join(outDir, name), { maxBytes: MAX_STREAM_BYTES })
        .catch(() => null);
      const file = path.join(local, name);
      if (data) await writeFileAtomic(file, data);
      else await rm(file, { force: true });
    }
    const stream = await readFile(path.join(local, PTB_JUDGE_STREAM), 'utf8').catch(() => '');
    const meta: JudgeMeta = {
      at: Date.now(),
      model: PTB_JUDGE_MODEL,
      exitCode: result.code,
      note: result.code === 0 ? '' : stream.trim().slice(-2000) || tail,
    };
    await writeJsonFileAtomic(path.join(local, 'meta.json'), meta);
    return this.get(id);
  }
}

async function writeFileAtomic(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}
