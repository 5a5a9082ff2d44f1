import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  checkpointInfoSchema,
  diffEngineSchema,
  type CheckpointDiff,
  type CheckpointInfo,
  type CheckpointList,
} from '../../shared/contract-checkpoints';
import type { RunDetail } from '../../shared/contract';
import {
  diffFlags,
  diffTotals,
  tensorDiffFromHost,
  type HostTensorRecord,
} from '../../shared/checkpoints/checkpoint-diff';
import { AppError } from '../../shared/errors';
import type { HostProfile } from '../../shared/hosts';
import { shellQuote } from '../../shared/shell-quote';
import { locateResourcesDir } from '../catalog/rehearsal-resources';
import { HostPackageUploader } from '../host-package/host-package-upload';
import type { ExecOptions, ExecResult, HostSession } from '../hosts/host-exec-types';
import { hfCacheCandidates } from '../hosts/hf-cache';
import type { RunHost } from '../runs/run-host';

/**
 * Checkpoints of a run, found and diffed on its host by the host package's `inspect` subcommand
 * (resources/host/ptw_host/checkpoints/; Python standard library, and numpy when the host's python3 has it): the
 * weights stay there, only summaries cross SSH. The package (one zipapp) is uploaded into the run folder's
 * `.inspect/` next to the supervisor's files; a diff runs detached and writes JSON lines to a
 * file there that this side tails (the way run records are mirrored), so a long diff neither holds an exec channel
 * nor dies with a dropped connection.
 */

export interface DiffProgress {
  runId: string;
  a: string;
  b: string;
  tensorsDone: number;
  tensorsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface CheckpointServiceOptions {
  /** The run's record (its spec: the base model). */
  run(id: string): Promise<RunDetail>;
  /** The run's host and folder there, refused for a run with no live host (runs/run-host.ts). */
  runHost(id: string): Promise<RunHost>;
  session(host: string): Promise<HostSession>;
  profile(host: string): Promise<HostProfile>;
  resourcesDir?: string;
  /** How often a running diff's output is read. */
  pollMs?: number;
}

/** The host package's subcommand that finds and diffs checkpoints (resources/host/ptw_host/checkpoints/). */
export const INSPECT_SUBCOMMAND = 'inspect';
const INSPECT_DIR = '.inspect';
const CONFIG_FILES = [
  'adapter_config.json',
  'config.json',
  'generation_config.json',
  'tokenizer_config.json',
  'chat_template.jinja',
];
const MAX_CONFIG_BYTES = 1024 * 1024;
/** `hf:Org/Name`: any model in the host's HF cache; `base`: the run's base model. */
const HF_ID = /^hf:([A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*)$/;
/** A diff whose helper died without a last line is given up after the process is gone this long. */
const DEAD_GRACE_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the bytes that cross SSH (commands, their output, files both ways): the benchmark reports them. */
export class CountingSession {
  bytes = 0;
  constructor(private readonly inner: HostSession) {}

  async exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.bytes += Buffer.byteLength(command) + Buffer.byteLength(options?.stdin ?? '');
    const result = await this.inner.exec(command, options);
    this.bytes += Buffer.byteLength(result.stdout) + Buffer.byteLength(result.stderr);
    return result;
  }

  async writeFile(file: string, data: Buffer, options?: { mode?: number }): Promise<void> {
    this.bytes += data.length;
    await this.inner.writeFile(file, data, options);
  }

  async readFile(file: string, options?: { offset?: number; maxBytes?: number }): Promise<Buffer> {
    const data = await this.inner.readFile(file, options);
    this.bytes += data.length;
    return data;
  }
}

interface RunOnHost {
  runId: string;
  host: string;
  hostRunDir: string;
  baseModel: string | null;
  profile: HostProfile;
}

function baseModelOf(detail: RunDetail): string | null {
  const spec = detail.spec as { task?: { kind?: string; baseModel?: unknown } } | null;
  return spec?.task?.kind === 'ptb' && typeof spec.task.baseModel === 'string' ? spec.task.baseModel : null;
}

export function findCommand(
  pyzPath: string,
  runDir: string,
  caches: readonly string[],
  baseModel: string | null,
): string {
  const q = shellQuote;
  return [
    'python3',
    q(pyzPath),
    INSPECT_SUBCOMMAND,
    'find',
    q(runDir),
    ...caches.flatMap((c) => ['--hf-cache', q(c)]),
    ...(baseModel ? ['--base-model', q(baseModel)] : []),
  ].join(' ');
}

/** Starts the diff detached (its own session where setsid exists), output to `out`; prints its pid. */
export function startDiffCommand(input: {
  runDir: string;
  pyz: string;
  a: string;
  b: string;
  out: string;
  log: string;
}): string {
  const q = shellQuote;
  return [
    `cd ${q(input.runDir)} || exit 1`,
    'if command -v setsid >/dev/null 2>&1; then detach=setsid; else detach=nohup; fi',
    `$detach python3 ${q(input.pyz)} ${INSPECT_SUBCOMMAND} diff ${q(input.a)} ${q(input.b)} --out ${q(input.out)} < /dev/null > ${q(input.log)} 2>&1 &`,
    'echo $!',
  ].join('\n');
}

/** The engine the helper's `start` line names (absent from a helper older than the engines). */
export function startEngine(
  record: Record<string, unknown>,
): Pick<CheckpointDiff['stats'], 'engine' | 'numpyVersion' | 'engineNote'> {
  const engine = diffEngineSchema.safeParse(record.engine);
  if (!engine.success) return {};
  return {
    engine: engine.data,
    ...(typeof record.numpyVersion === 'string' ? { numpyVersion: record.numpyVersion } : {}),
    ...(typeof record.engineNote === 'string' ? { engineNote: record.engineNote } : {}),
  };
}

export class CheckpointService {
  readonly #options: CheckpointServiceOptions;
  #uploader: HostPackageUploader | undefined;

  constructor(options: CheckpointServiceOptions) {
    this.#options = options;
  }

  #packages(): HostPackageUploader {
    this.#uploader ??= new HostPackageUploader(() => this.#options.resourcesDir ?? locateResourcesDir());
    return this.#uploader;
  }

  async #runOnHost(runId: string): Promise<RunOnHost> {
    // The gate first: an imported run's detail must not even be synced on the way.
    const { host, hostRunDir } = await this.#options.runHost(runId);
    const detail = await this.#options.run(runId);
    return {
      runId,
      host,
      hostRunDir,
      baseModel: baseModelOf(detail),
      profile: await this.#options.profile(host),
    };
  }

  /** The host package in the run folder's .inspect/ (uploaded once per process and run folder). */
  #upload(session: CountingSession, run: RunOnHost): Promise<string> {
    return this.#packages().ensure(session, run.host, path.posix.join(run.hostRunDir, INSPECT_DIR));
  }

  async #find(
    session: CountingSession,
    run: RunOnHost,
    script: string,
    baseModel: string | null,
  ): Promise<CheckpointList> {
    const result = await session.exec(findCommand(script, run.hostRunDir, hfCacheCandidates(run.profile), baseModel), {
      timeoutMs: 120_000,
    });
    if (result.code === 127 || /python3: (command )?not found/.test(result.stderr)) {
      throw new AppError('HOST_REQUIREMENT_MISSING', `${run.host} has no python3, which inspecting checkpoints needs.`);
    }
    if (result.code !== 0) {
      throw new AppError('INTERNAL', `Listing checkpoints on ${run.host} failed: ${result.stderr.trim().slice(-2000)}`);
    }
    let parsed: { checkpoints?: unknown[]; base?: unknown; problems?: string[] };
    try {
      parsed = JSON.parse(result.stdout) as typeof parsed;
    } catch {
      throw new AppError(
        'INTERNAL',
        `ptw-host.pyz ${INSPECT_SUBCOMMAND} on ${run.host} printed something that is not JSON.`,
      );
    }
    const checkpoints = (parsed.checkpoints ?? []).map((c) => checkpointInfoSchema.parse(c));
    const base = parsed.base ? checkpointInfoSchema.parse(parsed.base) : null;
    return {
      runId: run.runId,
      hostRunDir: run.hostRunDir,
      baseModel,
      checkpoints: checkpoints.sort((x, y) => y.mtime - x.mtime || x.id.localeCompare(y.id)),
      base,
      problems: parsed.problems ?? [],
    };
  }

  /** Checkpoints under the run's workspace, and the run's base model in the host's HF cache. */
  async list(runId: string, options: { baseModel?: string } = {}): Promise<CheckpointList> {
    const run = await this.#runOnHost(runId);
    const session = new CountingSession(await this.#options.session(run.host));
    const script = await this.#upload(session, run);
    return this.#find(session, run, script, options.baseModel ?? run.baseModel);
  }

  async diff(
    runId: string,
    aId: string,
    bId: string,
    options: { onProgress?: (p: DiffProgress) => void; signal?: AbortSignal; bRun?: string | undefined } = {},
  ): Promise<CheckpointDiff> {
    const other = options.bRun !== undefined && options.bRun !== runId ? options.bRun : null;
    if (aId === bId && !other) throw new AppError('INVALID_INPUT', `Pick two different checkpoints (both are ${aId}).`);
    const fromCache = (id: string): boolean => id === 'base' || HF_ID.test(id);
    if (fromCache(aId) && fromCache(bId)) {
      throw new AppError('INVALID_INPUT', `Only one side of a diff can come from the HF cache (${aId}, ${bId}).`);
    }
    const run = await this.#runOnHost(runId);
    const hf = [aId, bId].map((id) => HF_ID.exec(id)?.[1]).find(Boolean);
    const baseModel = hf ?? run.baseModel;
    if ((aId === 'base' || bId === 'base') && !run.baseModel) {
      throw new AppError(
        'INVALID_INPUT',
        `Run ${runId} has no base model (it is not a PostTrainBench task); name one as hf:ORG/NAME.`,
      );
    }
    // Another run's checkpoint: the same gate, and the same host (the weights never leave it).
    const runB = other ? await this.#runOnHost(other) : run;
    if (runB.host !== run.host) {
      throw new AppError(
        'INVALID_INPUT',
        `Run ${runId} is on ${run.host} and run ${other} on ${runB.host}: a weight diff runs on one host, where both checkpoints are.`,
      );
    }
    const session = new CountingSession(await this.#options.session(run.host));
    const script = await this.#upload(session, run);
    const list = await this.#find(session, run, script, baseModel);
    const listB = other ? await this.#find(session, runB, script, baseModel) : list;
    const resolveIn = (list: CheckpointList, runId: string, id: string): CheckpointInfo => {
      const found =
        id === 'base' || HF_ID.test(id)
          ? list.base
          : list.checkpoints.find((c) => c.id === id || c.id === id.replace(/\/+$/, ''));
      if (!found) {
        const known = list.checkpoints.map((c) => c.id).join(', ') || 'none';
        const why = id === 'base' || HF_ID.test(id) ? ` (${list.problems.join('; ')})` : ` (found: ${known})`;
        throw new AppError('NOT_FOUND', `No checkpoint ${id} in run ${runId} on ${run.host}${why}`);
      }
      if (found.problems.length > 0)
        throw new AppError('INVALID_INPUT', `Cannot diff ${id}: ${found.problems.join('; ')}`);
      return id === 'base' || HF_ID.test(id) ? { ...found, id } : found;
    };
    const a = resolveIn(list, runId, aId);
    const inB = resolveIn(listB, other ?? runId, bId);
    // The other run's checkpoint is named with its run, so the diff says whose it is.
    const b = other ? { ...inB, id: `${other}:${inB.id}` } : inB;

    const token = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const out = path.posix.join(run.hostRunDir, INSPECT_DIR, `diff-${token}.jsonl`);
    const log = path.posix.join(run.hostRunDir, INSPECT_DIR, `diff-${token}.log`);
    const started = await session.exec(
      startDiffCommand({ runDir: run.hostRunDir, pyz: script, a: a.path, b: b.path, out, log }),
    );
    const pid = Number(started.stdout.trim().split('\n').at(-1));
    if (started.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
      throw new AppError(
        'INTERNAL',
        `Could not start the diff on ${run.host}: ${started.stderr.trim() || started.stdout.trim()}`,
      );
    }
    const records: HostTensorRecord[] = [];
    let done: { seconds: number; bytesRead: number } | undefined;
    let jobs = 1;
    let engine: Pick<CheckpointDiff['stats'], 'engine' | 'numpyVersion' | 'engineNote'> = {};
    try {
      let offset = 0;
      let pending = '';
      let deadSince: number | undefined;
      while (!done) {
        if (options.signal?.aborted) throw new AppError('CONFLICT', 'The diff was cancelled.');
        const chunk = await session.readFile(out, { offset }).catch((err: unknown) => {
          if (err instanceof AppError && err.code === 'NOT_FOUND') return Buffer.alloc(0);
          throw err;
        });
        offset += chunk.length;
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.trim()) continue;
          const record = JSON.parse(line) as { type: string } & Record<string, unknown>;
          if (record.type === 'tensor') records.push(record as unknown as HostTensorRecord);
          else if (record.type === 'start') {
            jobs = Number(record.jobs) || 1;
            engine = startEngine(record);
          } else if (record.type === 'progress') {
            options.onProgress?.({
              runId,
              a: aId,
              b: bId,
              tensorsDone: Number(record.tensorsDone),
              tensorsTotal: Number(record.tensorsTotal),
              bytesDone: Number(record.bytesDone),
              bytesTotal: Number(record.bytesTotal),
            });
          } else if (record.type === 'error') {
            throw new AppError('INVALID_INPUT', `Diffing ${aId} and ${bId} on ${run.host}: ${String(record.message)}`);
          } else if (record.type === 'done') {
            done = { seconds: Number(record.seconds), bytesRead: Number(record.bytesRead) };
          }
        }
        if (done) break;
        if (chunk.length === 0) {
          const alive = await session.exec(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`);
          if (alive.stdout.trim() === 'gone') {
            deadSince ??= Date.now();
            if (Date.now() - deadSince > DEAD_GRACE_MS) {
              const tail = await session.readFile(log, { maxBytes: 4096 }).catch(() => Buffer.alloc(0));
              throw new AppError(
                'INTERNAL',
                `The diff on ${run.host} stopped without a result: ${tail.toString('utf8').trim() || 'no output'}`,
              );
            }
          }
          await sleep(this.#options.pollMs ?? 250);
        }
      }
    } finally {
      if (!done) await session.exec(`kill ${pid} 2>/dev/null; true`).catch(() => undefined);
      await session.exec(`rm -f -- ${shellQuote(out)} ${shellQuote(log)}`).catch(() => undefined);
    }

    const configs = await Promise.all(
      CONFIG_FILES.filter((name) => a.configFiles.includes(name) || b.configFiles.includes(name)).map(async (name) => {
        const read = async (c: CheckpointInfo): Promise<string | null> =>
          c.configFiles.includes(name)
            ? (await session.readFile(path.posix.join(c.path, name), { maxBytes: MAX_CONFIG_BYTES })).toString('utf8')
            : null;
        return { name, a: await read(a), b: await read(b) };
      }),
    );
    const tensors = records.map(tensorDiffFromHost).sort((x, y) => x.name.localeCompare(y.name));
    return {
      runId,
      a,
      b,
      tensors,
      flags: diffFlags(a, b, tensors),
      configs,
      totals: diffTotals(tensors),
      stats: { seconds: done!.seconds, bytesRead: done!.bytesRead, bytesTransferred: session.bytes, jobs, ...engine },
    };
  }
}
