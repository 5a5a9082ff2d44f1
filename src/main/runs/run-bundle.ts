import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { link, lstat, mkdir, mkdtemp, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import {
  BUNDLE_EXTENSION,
  BUNDLE_FORMAT,
  BUNDLE_SCHEMA_VERSION,
  bundleManifestSchema,
  type BundleExportResult,
  type BundleFile,
  type BundleImportResult,
  type BundleManifest,
} from '../../shared/contract-bundle';
import { AppError } from '../../shared/errors';
import type { NamedSecret } from '../../shared/redact';
import { redactBytes, redactCast, redactLines, type RedactedChunk } from './record-redaction';
import { attemptLogFile, isRunId, LOCAL_FILES, localPath, MIRRORED_FILES } from './run-layout';
import { processAlive, RunMirror, syncStateSchema } from './run-mirror';

/**
 * Run bundles (docs/runs.md, "Run bundles"): a run's local record as one gzip'd tar with a manifest, so a run can
 * be archived, shared and opened by another copy of the app with no access to its host.
 *
 * Export redacts every file again with the key values known now (the mirror was redacted with the key of the time),
 * stages the redacted files in a private temp folder to hash them, then writes `manifest.json` and the files, and
 * puts the bundle in place without overwriting anything. Import trusts nothing in the file: every entry is checked
 * (name, type, size, duplicates, listed in the manifest, hash) while it is extracted into a hidden folder under
 * `PTW_HOME/runs/`, which is renamed into place only when all of it checked out. The imported run's sync.json marks it
 * `imported`: it has no host to sync with.
 */

const MANIFEST_NAME = 'manifest.json';
const MANIFEST_MAX_BYTES = 1024 * 1024;
/** Larger than any real record (a 10-hour cast is well under a GiB), small enough to refuse a bomb early. */
export const BUNDLE_FILE_MAX_BYTES = 16 * 1024 ** 3;
export const BUNDLE_TOTAL_MAX_BYTES = 64 * 1024 ** 3;
/**
 * A bundle may expand to at most this many times its own size (records are text: a real one compresses 5–30×, a
 * cast of repeated progress bars more) or {@link BUNDLE_SMALL_ALLOWANCE_BYTES}, whichever is more, and never past
 * {@link BUNDLE_TOTAL_MAX_BYTES}: a 1 MB bundle cannot fill the disk with a gigabyte of zeros.
 */
export const BUNDLE_EXPANSION_MAX_RATIO = 200;
export const BUNDLE_SMALL_ALLOWANCE_BYTES = 64 * 1024 ** 2;
/** Staging folders under PTW_HOME/runs: `.import-<pid>-<random>`, so a later start knows whose they were. */
const STAGING_PREFIX = '.import-';

/** How many bytes a bundle of `compressedBytes` may expand to. */
export function bundleExpansionLimit(compressedBytes: number): number {
  return Math.min(
    BUNDLE_TOTAL_MAX_BYTES,
    Math.max(BUNDLE_SMALL_ALLOWANCE_BYTES, compressedBytes * BUNDLE_EXPANSION_MAX_RATIO),
  );
}

/**
 * Removes the staging folders of imports whose process is gone (killed mid-import): called when the app starts and
 * before each import. Another live process's import is left alone. Returns the folders removed.
 */
export async function cleanStaleImports(runsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(runsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(/^\.import-(\d+)-/.exec(name)?.[1] ?? NaN);
    // Folders from before the pid was in the name have none: nobody can be writing one that old any more.
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    await rm(path.join(runsDir, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
/** Record files are redacted this many bytes at a time, so a large cast never sits in memory whole. */
const CHUNK_BYTES = 8 * 1024 * 1024;

type FileKind = 'cast' | 'lines' | 'whole';

const PTB_FILE = /^ptb\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The folders a run's record files live in. */
const RECORD_DIRS = new Set(['eval', 'ptb']);

/** The record files a bundle may hold, and how each is redacted. Host bookkeeping (sync.json, locks) never goes. */
export function bundleFileKind(rel: string): FileKind | undefined {
  if (rel === LOCAL_FILES.runJson || rel === LOCAL_FILES.state || rel === LOCAL_FILES.manifest) return 'whole';
  const mirrored = MIRRORED_FILES.find((f) => f.local === rel) ?? attemptLogFile(rel);
  if (mirrored) return mirrored.kind;
  // A PostTrainBench import's copies of its result folder's text files (trajectory/ptb-import.ts).
  if (PTB_FILE.test(rel) && !rel.endsWith('.tmp')) return 'lines';
  return undefined;
}

/**
 * Why `name` cannot be a file of a run folder, or null. Relative POSIX paths only: nothing absolute, no `..`, no
 * backslashes or control characters (a bundle made on Windows by hand is refused rather than guessed at).
 */
export function unsafeEntryName(name: string): string | null {
  if (name === '') return 'has an empty name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  const parts = name.split('/');
  if (parts.some((p) => p === '..')) return 'escapes the run folder (..)';
  if (parts.some((p) => p === '.' || p === '')) return 'is not a normalised path';
  return null;
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

// --- export ------------------------------------------------------------------------------------------------------

export interface ExportBundleInput {
  runsDir: string;
  id: string;
  /** Where to write the bundle; must not exist. */
  file: string;
  secrets: readonly NamedSecret[];
  appVersion: string;
  now?: () => Date;
}

/** The record files of a mirror, relative POSIX paths, sorted (run.json first, as a reader would want). */
async function recordFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (RECORD_DIRS.has(child)) await walk(child);
        continue;
      }
      if (!bundleFileKind(child)) continue;
      if (!entry.isFile()) {
        throw new AppError('CONFLICT', `${localPath(dir, child)} is not a regular file; the run cannot be exported.`);
      }
      out.push(child);
    }
  };
  await walk('');
  const rank = (p: string): number => (p === LOCAL_FILES.runJson ? 0 : p === LOCAL_FILES.state ? 1 : 2);
  return out.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
}

/** Redacts `source` into `target` a chunk at a time; returns its size and hash. */
async function redactFile(
  source: string,
  target: string,
  kind: FileKind,
  secrets: readonly NamedSecret[],
  limit: number | undefined,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const input = await open(source, 'r');
  const output = await open(target, 'wx', 0o600);
  try {
    const emit = async (data: Buffer): Promise<void> => {
      if (data.length === 0) return;
      hash.update(data);
      size += data.length;
      await output.write(data);
    };
    const total = Math.min((await input.stat()).size, limit ?? Infinity);
    if (kind === 'whole') {
      const data = Buffer.alloc(total);
      const { bytesRead } = await input.read(data, 0, total, 0);
      await emit(redactBytes(data.subarray(0, bytesRead), secrets));
    } else {
      let carry: Buffer = Buffer.alloc(0);
      let position = 0;
      for (;;) {
        const fresh = Buffer.alloc(CHUNK_BYTES);
        const { bytesRead } = await input.read(fresh, 0, Math.min(CHUNK_BYTES, total - position), position);
        position += bytesRead;
        const final = bytesRead === 0 || position >= total;
        const chunk = Buffer.concat([carry, fresh.subarray(0, bytesRead)]);
        const redacted: RedactedChunk =
          kind === 'cast' ? redactCast(chunk, secrets, final) : redactLines(chunk, secrets, final);
        await emit(redacted.output);
        carry = chunk.subarray(redacted.consumed);
        if (final) break;
      }
    }
  } finally {
    await input.close();
    await output.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/** Puts `tmp` at `file` unless something is there already (a hard link fails on an existing name; rename would not). */
async function placeWithoutOverwrite(tmp: string, file: string): Promise<void> {
  try {
    await link(tmp, file);
    await unlink(tmp);
    return;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new AppError('CONFLICT', `${file} already exists; nothing was written.`);
    // A file system without hard links: check, then rename (a race with another writer is the user's own doing).
  }
  if (existsSync(file)) throw new AppError('CONFLICT', `${file} already exists; nothing was written.`);
  await rename(tmp, file);
}

export async function exportRunBundle(input: ExportBundleInput): Promise<BundleExportResult> {
  const mirror = new RunMirror(input.runsDir, input.id);
  const sync = await mirror.readSync();
  if (!sync) throw new AppError('NOT_FOUND', `No run ${input.id} here (ptw run ls lists runs).`);
  const file = path.resolve(input.file);
  if (existsSync(file)) throw new AppError('CONFLICT', `${file} already exists; choose another file name.`);
  const dir = path.dirname(file);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new AppError('INVALID_INPUT', `${dir} is not a folder; the bundle cannot be written there.`);
  }
  const state = await mirror.readState();
  const staging = await mkdtemp(path.join(os.tmpdir(), 'ptw-bundle-'));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.partial`);
  try {
    const files: BundleFile[] = [];
    for (const rel of await recordFiles(mirror.dir)) {
      const staged = path.join(staging, String(files.length));
      const kind = bundleFileKind(rel)!;
      // A run still being mirrored: appended records up to the last completed sync only (never a torn line).
      const limit = kind === 'whole' ? undefined : sync.files[rel]?.localBytes;
      const { size, sha256 } = await redactFile(mirror.file(rel), staged, kind, input.secrets, limit);
      files.push({ path: rel, size, sha256 });
    }
    if (!files.some((f) => f.path === LOCAL_FILES.runJson)) {
      throw new AppError('CONFLICT', `${mirror.file(LOCAL_FILES.runJson)} is missing; the run cannot be exported.`);
    }
    const createdAt = (input.now?.() ?? new Date()).toISOString();
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      schema: BUNDLE_SCHEMA_VERSION,
      appVersion: input.appVersion,
      runId: input.id,
      createdAt,
      source: { host: sync.host, hostRunDir: sync.hostRunDir },
      status: state?.status ?? 'unknown',
      redaction: {
        reappliedAtExport: true,
        secretNames: [...new Set(input.secrets.map((s) => s.name))].sort(),
      },
      files,
    };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    const mtime = new Date(createdAt);

    const pack = tar.pack();
    const writing = pipeline(pack, createGzip(), createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    writing.catch(() => undefined);
    // A failed write (a full disk) must fail the entry being added too, which would otherwise wait for it forever.
    const alongside = <T>(work: Promise<T>): Promise<T> => Promise.race([work, writing.then(() => work)]);
    const header = (name: string, size: number): Parameters<tar.Pack['entry']>[0] => ({
      name,
      size,
      mode: 0o644,
      mtime,
      type: 'file',
    });
    await alongside(
      new Promise<void>((resolve, reject) =>
        pack.entry(header(MANIFEST_NAME, Buffer.byteLength(manifestText)), manifestText, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
    );
    for (const [index, entry] of files.entries()) {
      const sink = pack.entry(header(entry.path, entry.size));
      await alongside(pipeline(createReadStream(path.join(staging, String(index))), sink));
    }
    pack.finalize();
    await writing;
    const written = await stat(tmp);
    const bundleHash = createHash('sha256');
    await pipeline(createReadStream(tmp), bundleHash);
    await placeWithoutOverwrite(tmp, file);
    return {
      file,
      bytes: written.size,
      sha256: bundleHash.digest('hex'),
      files: files.length,
      redactedSecretNames: manifest.redaction.secretNames,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(tmp, { force: true });
  }
}

/** `~/Downloads/<id>.ptwrun.tar.gz` when there is a Downloads folder, else `PTW_HOME/exports/`. */
export async function defaultBundlePath(home: string, id: string): Promise<string> {
  const downloads = path.join(os.homedir(), 'Downloads');
  const dir = (await stat(downloads).catch(() => undefined))?.isDirectory() ? downloads : path.join(home, 'exports');
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${id}${BUNDLE_EXTENSION}`);
  if (!existsSync(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = path.join(dir, `${id}-${n}${BUNDLE_EXTENSION}`);
    if (!existsSync(candidate)) return candidate;
  }
}

// --- import ------------------------------------------------------------------------------------------------------

/** Thrown for a bundle that is not what it says; the message names the bundle and the entry. */
function refused(bundle: string, why: string): AppError {
  return new AppError('INVALID_INPUT', `${bundle}: ${why}; nothing was imported.`);
}

async function readAll(stream: AsyncIterable<unknown>, max: number, what: () => AppError): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > max) throw what();
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** Parses and checks a manifest's text; every listed path must be a record file, each once. */
export function parseBundleManifest(bundle: string, text: string): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (err) {
    throw refused(bundle, `manifest.json is not JSON (${(err as Error).message})`);
  }
  const head = raw as { format?: unknown; schema?: unknown } | null;
  if (!head || typeof head !== 'object' || head.format !== BUNDLE_FORMAT) {
    throw refused(
      bundle,
      `manifest.json does not describe a PostTrain Workbench run bundle (format "${BUNDLE_FORMAT}")`,
    );
  }
  if (typeof head.schema === 'number' && head.schema > BUNDLE_SCHEMA_VERSION) {
    throw refused(
      bundle,
      `the bundle was made by a newer app (bundle schema ${head.schema}; this app reads ${BUNDLE_SCHEMA_VERSION}); update the app`,
    );
  }
  const parsed = bundleManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw refused(bundle, `manifest.json is malformed at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  const manifest = parsed.data;
  if (manifest.schema !== BUNDLE_SCHEMA_VERSION) {
    throw refused(
      bundle,
      `manifest.json has bundle schema ${manifest.schema}; this app reads ${BUNDLE_SCHEMA_VERSION}`,
    );
  }
  if (!isRunId(manifest.runId)) throw refused(bundle, `manifest.json names "${manifest.runId}", which is not a run id`);
  const seen = new Set<string>();
  let total = 0;
  for (const f of manifest.files) {
    const unsafe = unsafeEntryName(f.path);
    if (unsafe) throw refused(bundle, `manifest.json lists "${f.path}", which ${unsafe}`);
    if (!bundleFileKind(f.path))
      throw refused(bundle, `manifest.json lists "${f.path}", which is not a run record file`);
    if (seen.has(f.path)) throw refused(bundle, `manifest.json lists "${f.path}" twice`);
    seen.add(f.path);
    if (f.size > BUNDLE_FILE_MAX_BYTES) {
      throw refused(bundle, `manifest.json says "${f.path}" is ${f.size} bytes, more than a run record can be`);
    }
    total += f.size;
  }
  if (total > BUNDLE_TOTAL_MAX_BYTES) throw refused(bundle, `manifest.json adds up to ${total} bytes, too large`);
  if (!seen.has(LOCAL_FILES.runJson)) throw refused(bundle, 'manifest.json lists no run.json');
  return manifest;
}

/** Streams the bundle's entries; stops early when `onEntry` throws (the gzip stream is torn down with it). */
async function forEachEntry(
  bundle: string,
  onEntry: (header: tar.Header, stream: AsyncIterable<Buffer>, index: number) => Promise<'stop' | void>,
): Promise<void> {
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(bundle), createGunzip(), extract);
  // A damaged gzip fails the feed, but the entry being read is not always told (tar-stream leaves it open): the
  // handler is raced against the feed, and the entry destroyed so whatever reads it lets go of its files.
  let failFeed: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => (failFeed = reject));
  failed.catch(() => undefined);
  let feedError: unknown;
  feeding.catch((err: unknown) => {
    feedError = err;
    failFeed(err);
  });
  let current: tar.Extract extends AsyncIterable<infer E> ? E : never;
  let handling: Promise<unknown> | undefined;
  let index = 0;
  try {
    for await (const entry of extract) {
      current = entry;
      const work = onEntry(entry.header, entry as unknown as AsyncIterable<Buffer>, index++);
      handling = work;
      const verdict = await Promise.race([work, failed]);
      handling = undefined;
      // Whatever the handler did not read is drained, so the next entry can come.
      entry.resume();
      if (verdict === 'stop') {
        extract.destroy();
        return;
      }
    }
    await feeding;
  } catch (err) {
    if (handling) {
      current!.destroy(err instanceof Error ? err : new Error(String(err)));
      await handling.catch(() => undefined);
    }
    if (err instanceof AppError) throw err;
    await feeding.catch(() => undefined);
    const cause = feedError ?? err;
    const code = errnoCode(cause);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new AppError('NOT_FOUND', `${bundle} cannot be read: ${(cause as Error).message}`);
    }
    throw refused(bundle, `it is not a complete gzip'd tar (${(cause as Error).message})`);
  }
}

/** Reads only the manifest (the first entry). */
export async function readBundleManifest(bundle: string): Promise<BundleManifest> {
  let manifest: BundleManifest | undefined;
  await forEachEntry(bundle, async (header, stream, index) => {
    if (index !== 0 || header.name !== MANIFEST_NAME) {
      throw refused(bundle, `its first entry is "${header.name}", not manifest.json`);
    }
    const text = await readAll(stream, MANIFEST_MAX_BYTES, () => refused(bundle, 'manifest.json is over 1 MiB'));
    manifest = parseBundleManifest(bundle, text.toString('utf8'));
    return 'stop';
  });
  if (!manifest) throw refused(bundle, 'it is empty (no manifest.json)');
  return manifest;
}

export interface ImportBundleInput {
  runsDir: string;
  file: string;
  /** Recorded in sync.json's `imported.source`. */
  sourceLabel?: string;
  now?: () => number;
}

export async function importRunBundle(input: ImportBundleInput): Promise<BundleImportResult> {
  const bundle = path.resolve(input.file);
  const info = await stat(bundle).catch((err: unknown) => {
    throw new AppError('NOT_FOUND', `${bundle} cannot be read: ${(err as Error).message}`);
  });
  if (!info.isFile()) throw new AppError('INVALID_INPUT', `${bundle} is not a file.`);
  await mkdir(input.runsDir, { recursive: true, mode: 0o700 });
  await cleanStaleImports(input.runsDir);
  const staging = await mkdtemp(path.join(input.runsDir, `${STAGING_PREFIX}${process.pid}-`));
  const limit = bundleExpansionLimit(info.size);
  const overLimit = (bytes: number): AppError =>
    refused(
      bundle,
      `it expands to ${bytes} bytes from ${info.size}; a bundle may expand to at most ` +
        `${BUNDLE_EXPANSION_MAX_RATIO}× its size (or 64 MiB) and never past 64 GiB, so it was stopped before filling the disk`,
    );
  try {
    let manifest: BundleManifest | undefined;
    const expected = new Map<string, BundleFile>();
    const seen = new Set<string>();
    let total = 0;
    await forEachEntry(bundle, async (header, stream, index) => {
      const name = header.name;
      if (index === 0) {
        if (name !== MANIFEST_NAME) throw refused(bundle, `its first entry is "${name}", not manifest.json`);
        const text = await readAll(stream, MANIFEST_MAX_BYTES, () => refused(bundle, 'manifest.json is over 1 MiB'));
        manifest = parseBundleManifest(bundle, text.toString('utf8'));
        for (const f of manifest.files) expected.set(f.path, f);
        // Refused before a byte is written when the manifest itself says more than the bundle may hold.
        const declared = manifest.files.reduce((sum, f) => sum + f.size, 0);
        if (declared > limit) throw overLimit(declared);
        const target = path.join(input.runsDir, manifest.runId);
        if (existsSync(target)) {
          throw new AppError(
            'CONFLICT',
            `Run ${manifest.runId} already exists (${target}); ${bundle} was not imported, and the run was left as it is.`,
          );
        }
        return;
      }
      const clean = header.type === 'directory' ? name.replace(/\/$/, '') : name;
      const unsafe = unsafeEntryName(clean);
      if (unsafe) throw refused(bundle, `entry "${name}" ${unsafe}`);
      if (header.type === 'directory') {
        // Written by a hand-made tar; folders are made as files need them.
        if (!RECORD_DIRS.has(clean)) throw refused(bundle, `entry "${name}" is a folder no run has`);
        return;
      }
      if (header.type !== 'file' && header.type !== 'contiguous-file') {
        throw refused(bundle, `entry "${name}" is a ${header.type ?? 'special entry'}, not a regular file`);
      }
      if (name === MANIFEST_NAME || seen.has(name)) throw refused(bundle, `entry "${name}" appears twice`);
      seen.add(name);
      const listed = expected.get(name);
      if (!listed) throw refused(bundle, `entry "${name}" is not listed in manifest.json`);
      const size = header.size ?? 0;
      if (size !== listed.size) {
        throw refused(bundle, `entry "${name}" is ${size} bytes; manifest.json says ${listed.size}`);
      }
      total += size;
      if (total > BUNDLE_TOTAL_MAX_BYTES) throw refused(bundle, `its files add up to more than a run can be`);
      if (total > limit) throw overLimit(total);
      const target = localPath(staging, name);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      // Read by hand rather than piped: tar-stream's entries are streamx streams, which node's pipeline does not
      // always see end when the gzip under them fails.
      const hash = createHash('sha256');
      let bytes = 0;
      const out = await open(target, 'wx', 0o600);
      try {
        for await (const chunk of stream) {
          bytes += chunk.length;
          if (bytes > listed.size) throw refused(bundle, `entry "${name}" is longer than its header says`);
          hash.update(chunk);
          await out.write(chunk);
        }
      } finally {
        await out.close();
      }
      const sha256 = hash.digest('hex');
      if (bytes !== listed.size) {
        throw refused(bundle, `entry "${name}" has ${bytes} bytes; manifest.json says ${listed.size}`);
      }
      if (sha256 !== listed.sha256) {
        throw refused(
          bundle,
          `entry "${name}" does not match its SHA-256 in manifest.json (it was altered or damaged)`,
        );
      }
    });
    if (!manifest) throw refused(bundle, 'it is empty (no manifest.json)');
    const missing = manifest.files.filter((f) => !seen.has(f.path)).map((f) => f.path);
    if (missing.length > 0) throw refused(bundle, `manifest.json lists ${missing.join(', ')}, missing from the bundle`);
    await checkRunJson(bundle, staging, manifest.runId);

    const sync = syncStateSchema.parse({
      schema: 1,
      runId: manifest.runId,
      host: manifest.source.host,
      hostRunDir: manifest.source.hostRunDir,
      complete: true,
      supervisorAlive: false,
      imported: { kind: 'bundle', source: input.sourceLabel ?? bundle, at: input.now?.() ?? Date.now() },
    });
    await writeFile(localPath(staging, LOCAL_FILES.sync), `${JSON.stringify(sync, null, 2)}\n`, { mode: 0o600 });
    const target = path.join(input.runsDir, manifest.runId);
    if (existsSync(target)) {
      throw new AppError('CONFLICT', `Run ${manifest.runId} already exists (${target}); ${bundle} was not imported.`);
    }
    try {
      await rename(staging, target);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new AppError('CONFLICT', `Run ${manifest.runId} already exists (${target}); ${bundle} was not imported.`);
      }
      throw err;
    }
    return { id: manifest.runId, localDir: target, files: manifest.files.length, alreadyThere: false };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function checkRunJson(bundle: string, dir: string, runId: string): Promise<void> {
  const file = localPath(dir, LOCAL_FILES.runJson);
  if ((await lstat(file)).size > MANIFEST_MAX_BYTES) throw refused(bundle, 'run.json is over 1 MiB');
  let raw: unknown;
  try {
    raw = JSON.parse(await readText(file)) as unknown;
  } catch {
    throw refused(bundle, 'run.json is not JSON');
  }
  const id = (raw as { id?: unknown } | null)?.id;
  if (id !== runId) throw refused(bundle, `run.json is for run "${String(id)}", not ${runId} as manifest.json says`);
}

async function readText(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
