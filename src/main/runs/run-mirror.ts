import { createHash } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { finalModelManifestSchema, type FinalModelManifest } from '../../shared/contract';
import { integrityVerdictSchema, type IntegrityVerdict } from '../../shared/contract-integrity';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { isFinalRunStatus, type RunState } from '../../shared/runs/run-status';
import type { HostSession } from '../hosts/host-exec-types';
import { manifestScript, parseSyncStat, syncStatScript, type SyncStat } from './host-scripts';
import { runJsonSchema, type ParsedRunJson } from './launch-plan';
import {
  attemptLogFile,
  INTEGRITY_VERDICT_FILE,
  isRunId,
  LOCAL_FILES,
  localPath,
  MIRRORED_FILES,
  type MirroredFile,
} from './run-layout';
import { redactBytes, redactCast, redactLines } from './record-redaction';
import { parseRunState, type SyncFacts } from './run-summary';

/**
 * The local mirror of one run: `PTW_HOME/runs/<id>/`, a run bundle that catches up with the host's run folder
 * incrementally. Append-only records are copied from a byte offset, complete lines only, so a connection cut
 * mid-read resumes where it was with nothing lost or repeated; `sync.json` holds the offsets. Everything written
 * here is redacted of the agent's key first.
 *
 * Crash safety: sync.json also holds each local file's length as of the last completed sync. A sync that died
 * after appending but before saving sync.json leaves a local file longer than recorded; the next sync cuts it back
 * and reads those bytes again. One process syncs a run at a time (`sync.lock` holds its pid).
 */

const fileEntrySchema = z.object({
  hostOffset: z.number().int().nonnegative(),
  localBytes: z.number().int().nonnegative(),
  /** For whole files: the host's size and mtime when copied. */
  size: z.number().optional(),
  mtime: z.number().optional(),
});
type FileEntry = z.infer<typeof fileEntrySchema>;

export const syncStateSchema = z.object({
  schema: z.literal(1),
  runId: z.string(),
  host: z.string(),
  hostRunDir: z.string(),
  files: z.record(z.string(), fileEntrySchema).default({}),
  syncedAt: z.number().nullable().default(null),
  error: z.string().nullable().default(null),
  errorAt: z.number().nullable().default(null),
  /** Final status seen, the supervisor gone, every record copied, the manifest made: nothing more will come. */
  complete: z.boolean().default(false),
  hostClockOffsetMs: z.number().nullable().default(null),
  supervisorAlive: z.boolean().nullable().default(null),
  supervisorPid: z.number().nullable().default(null),
  /** SHA-256 of the key values redaction used (never the values): tells when the key changed since. */
  secretsSha256: z.string().nullable().default(null),
  /** When this app last restarted the run's supervisor with --resume. */
  lastResumeAt: z.number().nullable().default(null),
  problems: z.array(z.string()).default([]),
  /**
   * Set for a run brought in from a file (a run bundle, a PostTrainBench result) rather than mirrored from a host:
   * it has no host to sync with, so sync, control and background rediscovery leave it alone.
   */
  imported: z
    .object({
      kind: z.enum(['bundle', 'ptb']),
      source: z.string(),
      at: z.number(),
      /** How long the agent ran, when the source says (a PostTrainBench time_taken.txt) even without a start time. */
      ranSeconds: z.number().nonnegative().nullable().optional(),
    })
    .nullable()
    .default(null),
});
export type SyncState = z.infer<typeof syncStateSchema>;

export interface SyncResult {
  /** Another process holds the run's sync lock; nothing was done. */
  skipped: boolean;
  /** Something new reached the local record. */
  changed: boolean;
  state: RunState | null;
  supervisorAlive: boolean;
  complete: boolean;
  /** The run folder no longer exists on the host. */
  gone: boolean;
  /** Every record was copied up to the host's size as of this sync (none was left behind by the per-sync cap). */
  caughtUp: boolean;
  /** Set when this sync copied a new integrity verdict the supervisor wrote: its word (null when unreadable). */
  integrityVerdict?: IntegrityVerdict['verdict'] | null;
}

/**
 * A sync that copied nothing and found no supervisor: skipped (another process syncs it, or there is no host to
 * sync with) or gone from the host. A complete record has all the host will ever have (caught up).
 */
export function quietSync(
  state: RunState | null,
  how: { skipped: boolean; complete: boolean; gone: boolean },
): SyncResult {
  return { ...how, changed: false, state, supervisorAlive: false, caughtUp: how.complete };
}

/** How much one sync copies at most, so a long backlog does not hold the loop (the next sync goes on). */
const MAX_BYTES_PER_READ = 8 * 1024 * 1024;
const MAX_BYTES_PER_SYNC = 64 * 1024 * 1024;

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return null;
  }
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await rename(tmp, file);
}

/** Whether a process of this machine is alive (one we may not signal is alive too). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function secretsHash(secrets: readonly NamedSecret[]): string | null {
  if (secrets.length === 0) return null;
  const hash = createHash('sha256');
  for (const s of [...secrets].sort((a, b) => a.name.localeCompare(b.name))) hash.update(`${s.name}\0${s.value}\0`);
  return hash.digest('hex');
}

export class RunMirror {
  readonly dir: string;

  constructor(
    readonly runsDir: string,
    readonly id: string,
  ) {
    if (!isRunId(id)) throw new AppError('INVALID_INPUT', `"${id}" is not a run id (r-YYYYMMDD-HHMMSS-xxxx)`);
    this.dir = path.join(runsDir, id);
  }

  /** Starts a mirror for a run the app launched or found on a host; run.json as the host has it. */
  static async create(
    runsDir: string,
    input: { id: string; host: string; hostRunDir: string; runJsonText: string },
  ): Promise<RunMirror> {
    const mirror = new RunMirror(runsDir, input.id);
    await mkdir(mirror.dir, { recursive: true, mode: 0o700 });
    await writeAtomic(mirror.file(LOCAL_FILES.runJson), input.runJsonText);
    const existing = await mirror.readSync();
    if (!existing) {
      await mirror.writeSync(
        syncStateSchema.parse({ schema: 1, runId: input.id, host: input.host, hostRunDir: input.hostRunDir }),
      );
    }
    return mirror;
  }

  file(rel: string): string {
    return localPath(this.dir, rel);
  }

  async exists(): Promise<boolean> {
    return (await this.readSync()) !== undefined;
  }

  async readSync(): Promise<SyncState | undefined> {
    const raw = await readJson(this.file(LOCAL_FILES.sync));
    if (raw === undefined) return undefined;
    const parsed = syncStateSchema.safeParse(raw);
    if (!parsed.success)
      throw new AppError('CONFLICT', `${this.file(LOCAL_FILES.sync)} is damaged; remove it to resync`);
    return parsed.data;
  }

  async readRunJson(): Promise<ParsedRunJson | null> {
    const parsed = runJsonSchema.safeParse(await readJson(this.file(LOCAL_FILES.runJson)));
    return parsed.success ? parsed.data : null;
  }

  async readRawState(): Promise<unknown> {
    return (await readJson(this.file(LOCAL_FILES.state))) ?? null;
  }

  async readState(): Promise<RunState | null> {
    return parseRunState(await this.readRawState());
  }

  async readManifest(): Promise<FinalModelManifest | null> {
    const parsed = finalModelManifestSchema.safeParse(await readJson(this.file(LOCAL_FILES.manifest)));
    return parsed.success ? parsed.data : null;
  }

  async syncFacts(): Promise<SyncFacts | null> {
    const sync = await this.readSync().catch(() => undefined);
    if (!sync) return null;
    return {
      host: sync.host,
      syncedAt: sync.syncedAt,
      error: sync.error,
      hostClockOffsetMs: sync.hostClockOffsetMs,
      supervisorAlive: sync.supervisorAlive,
      imported: sync.imported,
    };
  }

  /** Records why the host could not be reached; what is already recorded stays as it is. */
  async recordError(message: string): Promise<void> {
    await this.withLock(async () => {
      const sync = await this.readSync();
      if (!sync) return;
      await this.writeSync({ ...sync, error: message, errorAt: Date.now() });
    });
  }

  async markResumed(at: number): Promise<void> {
    await this.withLock(async () => {
      const sync = await this.readSync();
      if (sync) await this.writeSync({ ...sync, lastResumeAt: at });
    });
  }

  /**
   * Catches up with the host: state.json, every record from its offset, evaluation files, and (once the run has
   * ended) the final_model manifest. Redacts `secrets` from all of it.
   */
  async sync(session: HostSession, secrets: readonly NamedSecret[]): Promise<SyncResult> {
    const result = await this.withLock(() => this.syncLocked(session, secrets));
    return result ?? quietSync(null, { skipped: true, complete: false, gone: false });
  }

  private async syncLocked(session: HostSession, secrets: readonly NamedSecret[]): Promise<SyncResult> {
    const sync = await this.readSync();
    if (!sync) throw new AppError('NOT_FOUND', `No local record of run ${this.id}`);
    const started = Date.now();
    const listed = await session.exec(syncStatScript(sync.hostRunDir), { timeoutMs: 30_000 });
    if (listed.code !== 0) {
      throw new AppError(
        'INTERNAL',
        `Reading run ${this.id} on ${sync.host} failed (exit ${listed.code ?? listed.signal}): ${listed.stderr.trim()}`,
        { retryable: true },
      );
    }
    const stat = parseSyncStat(listed.stdout);
    const next: SyncState = { ...sync, files: { ...sync.files }, problems: [...sync.problems] };
    const problem = (message: string): void => {
      if (!next.problems.includes(message)) next.problems.push(message);
    };
    if (stat.gone) {
      next.error = `The run folder ${sync.hostRunDir} is gone from ${sync.host}; the local record is all that is left.`;
      next.errorAt = Date.now();
      // Nothing more can come: the syncer leaves it alone from now on.
      next.complete = true;
      await this.writeSync(next);
      const state = await this.readState();
      return quietSync(state, { skipped: false, complete: true, gone: true });
    }

    const hash = secretsHash(secrets);
    if (sync.secretsSha256 && hash && hash !== sync.secretsSha256) {
      problem('The agent’s key changed since this run was first mirrored; later output is redacted with the new key.');
    }
    next.secretsSha256 = hash ?? sync.secretsSha256;

    let changed = false;
    let state: RunState | null = null;
    if (stat.stateText !== null) {
      state = parseRunState(safeJson(stat.stateText));
      const localText = redactBytes(Buffer.from(stat.stateText, 'utf8'), secrets);
      const current = await readFile(this.file(LOCAL_FILES.state)).catch(() => null);
      if (!current || !current.equals(localText)) {
        await writeAtomic(this.file(LOCAL_FILES.state), localText);
        changed = true;
      }
    } else {
      state = await this.readState();
    }
    const final = state !== null && isFinalRunStatus(state.status) && !stat.supervisorAlive;

    let budget = MAX_BYTES_PER_SYNC;
    let caughtUp = true;
    let integrityVerdict: IntegrityVerdict['verdict'] | null | undefined;
    try {
      for (const file of this.filesToMirror(stat)) {
        const host = stat.files.get(file.host);
        if (!host) continue;
        const entry = next.files[file.local] ?? { hostOffset: 0, localBytes: 0 };
        const hostPath = path.posix.join(sync.hostRunDir, file.host);
        if (file.kind === 'whole') {
          if (entry.size === host.size && entry.mtime === host.mtime) continue;
          const data = redactBytes(await session.readFile(hostPath), secrets);
          await writeAtomic(this.file(file.local), data);
          next.files[file.local] = {
            hostOffset: host.size,
            localBytes: data.length,
            size: host.size,
            mtime: host.mtime,
          };
          changed = true;
          if (file.local === INTEGRITY_VERDICT_FILE) {
            const parsed = integrityVerdictSchema.safeParse(safeJson(data.toString('utf8')));
            integrityVerdict = parsed.success ? parsed.data.verdict : null;
          }
          continue;
        }
        const appended = await this.appendFrom(session, file, hostPath, entry, host.size, secrets, final, budget);
        budget -= appended.read;
        next.files[file.local] = appended.entry;
        if (appended.entry.localBytes !== entry.localBytes) changed = true;
        if (appended.problem) problem(appended.problem);
        if (appended.entry.hostOffset < host.size) caughtUp = false;
      }
    } catch (err) {
      // Keep what was copied before the failure: each entry matches the bytes already appended.
      await this.writeSync({ ...next, error: (err as Error).message, errorAt: Date.now() });
      throw err;
    }

    let manifest = await this.readManifest();
    if (final && caughtUp && !manifest) {
      manifest = await this.fetchManifest(session, sync.hostRunDir);
      changed = true;
    }

    next.complete = final && caughtUp && manifest !== null;
    next.syncedAt = Date.now();
    next.error = null;
    next.errorAt = null;
    // The host's clock has whole seconds; the midpoint of the exec is the best guess of when it was read.
    next.hostClockOffsetMs = stat.hostNow === null ? null : stat.hostNow + 500 - (started + next.syncedAt) / 2;
    next.supervisorAlive = stat.supervisorAlive;
    next.supervisorPid = stat.supervisorPid;
    await this.writeSync(next);
    return {
      skipped: false,
      changed,
      state,
      supervisorAlive: stat.supervisorAlive,
      complete: next.complete,
      gone: false,
      caughtUp,
      ...(integrityVerdict === undefined ? {} : { integrityVerdict }),
    };
  }

  private filesToMirror(stat: SyncStat): MirroredFile[] {
    const attempts = [...stat.files.keys()]
      .map(attemptLogFile)
      .filter((f): f is MirroredFile => f !== undefined)
      .sort((a, b) => a.host.localeCompare(b.host, 'en', { numeric: true }));
    return [...MIRRORED_FILES, ...attempts];
  }

  /** Appends what the host has beyond `entry.hostOffset`, complete lines only (all of it once `final`). */
  private async appendFrom(
    session: HostSession,
    file: MirroredFile,
    hostPath: string,
    entry: FileEntry,
    hostSize: number,
    secrets: readonly NamedSecret[],
    final: boolean,
    budget: number,
  ): Promise<{ entry: FileEntry; read: number; problem?: string }> {
    const local = this.file(file.local);
    let current = { ...entry };
    const size = await stat(local).then(
      (s) => s.size,
      () => 0,
    );
    if (size > current.localBytes) {
      // A sync died between appending and saving sync.json: those bytes are read again.
      await truncate(local, current.localBytes);
    } else if (size < current.localBytes) {
      // Someone cut the local copy: start it over (redaction is deterministic, so it comes back the same).
      await rm(local, { force: true });
      current = { hostOffset: 0, localBytes: 0 };
    }
    if (hostSize < current.hostOffset) {
      return {
        entry: current,
        read: 0,
        problem: `${file.host} on the host is shorter (${hostSize} bytes) than what was already copied (${current.hostOffset}); the local copy is kept.`,
      };
    }
    let read = 0;
    let want = MAX_BYTES_PER_READ;
    await mkdir(path.dirname(local), { recursive: true });
    // The bundle has every file the host has, empty ones too.
    if (current.localBytes === 0) await appendBytes(local, Buffer.alloc(0));
    while (current.hostOffset < hostSize && read < budget) {
      const length = Math.min(want, hostSize - current.hostOffset);
      const data = await session.readFile(hostPath, { offset: current.hostOffset, maxBytes: length });
      if (data.length === 0) break;
      read += data.length;
      const last = current.hostOffset + data.length >= hostSize;
      const chunk =
        file.kind === 'cast' ? redactCast(data, secrets, final && last) : redactLines(data, secrets, final && last);
      if (chunk.consumed === 0) {
        // A line longer than one read: read more at once, else wait for the rest of it.
        if (data.length === length && !last) {
          want *= 2;
          continue;
        }
        break;
      }
      if (chunk.output.length > 0) await appendBytes(local, chunk.output);
      current = {
        hostOffset: current.hostOffset + chunk.consumed,
        localBytes: current.localBytes + chunk.output.length,
      };
      if (chunk.consumed < data.length && last) break;
    }
    return { entry: current, read };
  }

  private async fetchManifest(session: HostSession, hostRunDir: string): Promise<FinalModelManifest> {
    const result = await session.exec(manifestScript(hostRunDir), { timeoutMs: 30 * 60_000 });
    const parsed = finalModelManifestSchema.safeParse(safeJson(result.stdout));
    if (result.code !== 0 || !parsed.success) {
      throw new AppError(
        'INTERNAL',
        `Listing final_model on the host failed (exit ${result.code ?? result.signal}): ${(result.stderr || result.stdout).trim().slice(0, 500)}`,
        { retryable: true },
      );
    }
    await writeAtomic(this.file(LOCAL_FILES.manifest), `${JSON.stringify(parsed.data, null, 2)}\n`);
    return parsed.data;
  }

  private async writeSync(sync: SyncState): Promise<void> {
    await writeAtomic(this.file(LOCAL_FILES.sync), `${JSON.stringify(sync, null, 2)}\n`);
  }

  /**
   * Runs `work` holding the run's sync lock; undefined when another process holds it. Within this process, callers
   * (from any RunMirror of the same folder) queue behind each other instead.
   */
  private async withLock<T>(work: () => Promise<T>): Promise<T | undefined> {
    for (let busy = inflight.get(this.dir); busy; busy = inflight.get(this.dir)) await busy.catch(() => undefined);
    const run = (async (): Promise<T | undefined> => {
      const lock = this.file(LOCAL_FILES.lock);
      await mkdir(this.dir, { recursive: true });
      if (!(await acquireLock(lock))) return undefined;
      try {
        return await work();
      } finally {
        await rm(lock, { force: true });
      }
    })();
    inflight.set(this.dir, run);
    try {
      return await run;
    } finally {
      if (inflight.get(this.dir) === run) inflight.delete(this.dir);
    }
  }
}

/** This process's lock holders, by mirror folder. */
const inflight = new Map<string, Promise<unknown>>();

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function appendBytes(file: string, data: Buffer): Promise<void> {
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(data);
  } finally {
    await handle.close();
  }
}

/** An exclusive lock file holding our pid; a lock whose holder is dead (or is us, from before a restart) is taken. */
async function acquireLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (holder > 0 && holder !== process.pid && processAlive(holder)) return false;
      await rm(lock, { force: true });
    }
  }
  return false;
}

/** Every run mirrored under `runsDir`, by id (folders that are not run ids are ignored). */
export async function listMirrors(runsDir: string): Promise<RunMirror[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter(isRunId).map((id) => new RunMirror(runsDir, id));
}
