import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAppServices } from '../../../../src/main/app-services';
import { bundleExpansionLimit, cleanStaleImports, readBundleManifest } from '../../../../src/main/runs/run-bundle';
import { startServeServer } from '../../../../src/main/transports/serve-server';
import { LocalHostSession } from '../../../../src/main/hosts/local-host-session';
import { BundleService, EXAMPLE_BUNDLE } from '../../../../src/main/runs/bundle-service';
import { RunService } from '../../../../src/main/runs/run-service';
import { locateResourcesDir } from '../../../../src/main/catalog/rehearsal-resources';
import { bundleDownloadPath, bundleManifestSchema, type BundleManifest } from '../../../../src/shared/contract-bundle';
import { AppError } from '../../../../src/shared/errors';
import { hostProfileSchema } from '../../../../src/shared/hosts';

/**
 * Run bundles end to end on this machine: a run folder on a `local` host is mirrored by the real RunService (with the
 * agent's key known, so the mirror is redacted), exported, and imported into an empty PTW_HOME; then bundles made by
 * hand with one thing wrong each are refused with the entry named, leaving nothing behind.
 */

const ID = 'r-20261123-120000-ab12';
const KEY = 'sk-ant-api03-bundletestkey-0123456789';
const MARK = '[REDACTED:ANTHROPIC_API_KEY]';
const GRADER_KEY = 'sk-proj-graderkey-abcdefghijklmnop';

let base: string;
let session: LocalHostSession;
const services: RunService[] = [];

beforeEach(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'ptw-bundle-'));
  session = new LocalHostSession(path.join(base, 'no-docker.sock'));
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.dispose()));
  session.dispose();
  await rm(base, { recursive: true, force: true });
});

const castHeader =
  '{"version": 2, "width": 120, "height": 40, "timestamp": 1763899200, "env": {"TERM": "xterm-256color"}}\n';
const out = (t: number, data: string): string => `[${t.toFixed(6)}, "o", ${JSON.stringify(data)}]\n`;

async function hostRun(runRoot: string): Promise<string> {
  const dir = path.join(runRoot, ID);
  for (const sub of ['record', 'eval', '.supervisor', 'workspace/final_model']) {
    await mkdir(path.join(dir, sub), { recursive: true });
  }
  await writeFile(
    path.join(dir, 'run.json'),
    JSON.stringify({
      schema: 1,
      id: ID,
      createdAt: '2026-11-23T12:00:00.000Z',
      spec: { host: 'box', task: { kind: 'rehearsal' }, agent: { id: 'claude-code', model: 'm' }, label: 'bundled' },
      specHash: 'x',
      supervisor: { agentContainerId: 'c0ffee', budgetSeconds: 300 },
      launch: { secretNames: ['ANTHROPIC_API_KEY'], evaluationSecretNames: ['OPENAI_API_KEY'] },
    }),
  );
  await writeFile(
    path.join(dir, 'state.json'),
    JSON.stringify({
      status: 'scored',
      supervisorPid: 999_999,
      heartbeatAt: 1_000,
      agentContainerId: 'c0ffee',
      startedAt: 1,
      deadline: 300_001,
      warningsSent: [],
      stoppedAt: 200_000,
      stopReason: 'agent-exited',
      exitCode: 0,
      evaluation: { attempts: 1, outcome: 'scored', metrics: { accuracy: 0.75 } },
    }),
  );
  await writeFile(
    path.join(dir, 'record', 'events.jsonl'),
    '{"t": 1, "type": "agent-started", "deadline": 2}\n{"t": 3, "type": "agent-exited", "code": 0}\n' +
      `{"t": 4, "type": "note", "text": "${KEY}"}\n`,
  );
  await writeFile(
    path.join(dir, 'record', 'terminal.cast'),
    castHeader +
      out(0.1, 'hello \u001b[1mworld\u001b[0m\r\n') +
      `[0.2, "r", "100x30"]\n` +
      out(1.5, `key ${KEY}\r\n`) +
      // Split across two output events, as a terminal read can cut it.
      out(2, `again ${KEY.slice(0, 10)}`) +
      out(2.1, `${KEY.slice(10)}!\r\n`),
  );
  await writeFile(path.join(dir, 'record', 'agent-stream.jsonl'), `{"type":"system","note":"${KEY}"}\n`);
  await writeFile(path.join(dir, 'record', 'gpu.csv'), '1000, 0, 5, 100, 81559, 70.1, 33\n');
  await writeFile(path.join(dir, 'eval', 'metrics.json'), '{"accuracy": 0.75}\n');
  await writeFile(path.join(dir, 'eval', 'eval.json'), '{"outcome": "scored"}\n');
  // A grader key the evaluation was given, printed into its log.
  await writeFile(path.join(dir, 'eval', 'attempt-1.log'), `evaluating\ngrader key ${GRADER_KEY}\n`);
  await writeFile(path.join(dir, 'workspace', 'final_model', 'config.json'), '{}\n');
  return dir;
}

function runService(home: string, key: string | undefined): RunService {
  const runRoot = path.join(base, 'host-runs');
  const profile = hostProfileSchema.parse({ name: 'box', kind: 'local', runRoot });
  const service = new RunService({
    home,
    session: async () => session,
    profile: async () => profile,
    profiles: async () => [profile],
    secrets: {
      get: async (name) => (key && name === 'ANTHROPIC_API_KEY' ? { value: key, source: 'environment' } : undefined),
    },
    appVersion: '0.0.0-test',
    by: 'app',
  });
  services.push(service);
  return service;
}

function bundles(home: string, runs: RunService, resourcesDir?: string, graderKey?: string): BundleService {
  return new BundleService({
    home,
    runs,
    secrets: {
      get: async (name) =>
        graderKey && name === 'OPENAI_API_KEY' ? { value: graderKey, source: 'environment' } : undefined,
    },
    appVersion: '0.0.0-test',
    ...(resourcesDir ? { resourcesDir } : {}),
  });
}

/** A mirrored run in PTW_HOME `home-a`, complete. */
async function mirroredRun(key: string | null = KEY): Promise<{ home: string; runs: RunService }> {
  await hostRun(path.join(base, 'host-runs'));
  const home = path.join(base, 'home-a');
  const runs = runService(home, key ?? undefined);
  await runs.discover('box');
  for (let i = 0; i < 20 && !(await runs.sync(ID)).complete; i++) await new Promise((r) => setTimeout(r, 50));
  expect((await runs.list())[0]).toMatchObject({ id: ID, status: 'scored' });
  return { home, runs };
}

interface TarEntry {
  name: string;
  type: string;
  data: Buffer;
}

async function readTar(file: string): Promise<TarEntry[]> {
  const extract = tar.extract();
  const entries: TarEntry[] = [];
  const feeding = pipeline(createReadStream(file), (await import('node:zlib')).createGunzip(), extract);
  for await (const entry of extract) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    entries.push({ name: entry.header.name, type: entry.header.type, data: Buffer.concat(parts) });
  }
  await feeding;
  return entries;
}

/** Writes a gzip'd tar of `entries` (a symlink when `linkname` is set). */
async function writeTar(
  file: string,
  entries: Array<{ name: string; data?: Buffer | string; linkname?: string; size?: number }>,
): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collecting = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const e of entries) {
    if (e.linkname) {
      pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname });
      continue;
    }
    const data = Buffer.from(e.data ?? '');
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: e.name, size: data.length }, data, (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await collecting;
  writeFileSync(file, gzipSync(Buffer.concat(chunks)));
}

function sha(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(child);
      else found.push(child);
    }
  };
  walk('');
  return found.sort();
}

/** asciicast v2 as asciinema 2.x reads it: a header object, then [time, code, data] events in time order. */
function expectValidAsciicastV2(text: string): void {
  const lines = text.split('\n');
  expect(lines.at(-1), 'the cast ends with a newline').toBe('');
  const header = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(header.version).toBe(2);
  expect(Number.isInteger(header.width) && (header.width as number) > 0).toBe(true);
  expect(Number.isInteger(header.height) && (header.height as number) > 0).toBe(true);
  let last = 0;
  for (const [i, line] of lines.slice(1, -1).entries()) {
    const event = JSON.parse(line) as unknown;
    expect(Array.isArray(event) && event.length === 3, `line ${i + 2}: ${line}`).toBe(true);
    const [t, code, data] = event as [unknown, unknown, unknown];
    expect(typeof t === 'number' && t >= last, `line ${i + 2} time`).toBe(true);
    expect(['o', 'i', 'r', 'm'], `line ${i + 2} code`).toContain(code);
    expect(typeof data, `line ${i + 2} data`).toBe('string');
    last = t as number;
  }
}

/** Debian's asciinema 2.x (scripts/test.sh installs it): it must read the exported cast whole. */
const asciinema = spawnSync('asciinema', ['--version'], { encoding: 'utf8' }).status === 0;
if (!asciinema) console.warn('asciinema is not installed: exported casts are checked against the v2 format only');

function expectAsciinemaReads(castFile: string): void {
  // In CI the test setup has installed it: a missing asciinema there is a broken setup, not a reason to skip.
  if (process.env.CI === 'true') expect(asciinema, 'asciinema is installed (scripts/test.sh)').toBe(true);
  if (!asciinema) return;
  // asciinema opens /dev/tty even to `cat`: give it a terminal with util-linux's script(1). The terminal turns
  // every \n into \r\n, so carriage returns are left out of the comparison.
  const result = spawnSync('script', ['-qec', `asciinema cat '${castFile.replace(/'/g, `'\\''`)}'`, '/dev/null'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(result.status, result.stderr + result.stdout.slice(-2000)).toBe(0);
  const lines = readFileSync(castFile, 'utf8').split('\n').slice(1, -1);
  const printed = lines
    .map((line) => JSON.parse(line) as [number, string, string])
    .filter((e) => e[1] === 'o')
    .map((e) => e[2])
    .join('');
  expect(result.stdout.replace(/\r/g, '')).toBe(printed.replace(/\r/g, ''));
}

async function expectRefused(promise: Promise<unknown>, message: RegExp, home: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'refused').toBeInstanceOf(AppError);
  expect((err as AppError).message).toMatch(message);
  // Nothing left behind: no run, no half-extracted folder.
  const runsDir = path.join(home, 'runs');
  expect(existsSync(runsDir) ? readdirSync(runsDir) : []).toEqual([]);
}

describe('run bundles', { timeout: 60_000 }, () => {
  it('round-trips a run into an empty PTW_HOME: the same files and the same runs.get', async () => {
    const a = await mirroredRun();
    // What a PostTrainBench import keeps of its result folder travels too; caches and leftovers do not.
    await mkdir(path.join(a.home, 'runs', ID, 'ptb'));
    await writeFile(path.join(a.home, 'runs', ID, 'ptb', 'import.json'), '{"timeTaken": 1}\n');
    await writeFile(path.join(a.home, 'runs', ID, 'ptb', 'import.json.123.tmp'), 'half');
    await writeFile(path.join(a.home, 'runs', ID, 'replay-cache.bin'), 'derived');
    const file = path.join(base, 'run.ptwrun.tar.gz');
    const exported = await bundles(a.home, a.runs).export(ID, file);
    expect(exported).toMatchObject({ file, files: 11, redactedSecretNames: ['ANTHROPIC_API_KEY'] });
    expect(exported.sha256).toBe(sha(readFileSync(file)));

    const entries = await readTar(file);
    expect(entries[0]!.name).toBe('manifest.json');
    const manifest = bundleManifestSchema.parse(JSON.parse(entries[0]!.data.toString('utf8'))) as BundleManifest;
    expect(manifest).toMatchObject({
      format: 'ptw-run-bundle',
      schema: 1,
      runId: ID,
      appVersion: '0.0.0-test',
      status: 'scored',
      source: { host: 'box', hostRunDir: path.join(base, 'host-runs', ID) },
      redaction: { reappliedAtExport: true, secretNames: ['ANTHROPIC_API_KEY'] },
    });
    // Host bookkeeping stays home.
    expect(entries.map((e) => e.name)).not.toContain('sync.json');
    expect(entries.slice(1).map((e) => e.name)).toEqual(manifest.files.map((f) => f.path));
    for (const f of manifest.files) {
      const entry = entries.find((e) => e.name === f.path)!;
      expect(entry.type).toBe('file');
      expect({ size: entry.data.length, sha256: sha(entry.data) }).toEqual({ size: f.size, sha256: f.sha256 });
    }
    expectValidAsciicastV2(entries.find((e) => e.name === 'terminal.cast')!.data.toString('utf8'));

    const homeB = path.join(base, 'home-b');
    const runsB = runService(homeB, undefined);
    const imported = await bundles(homeB, runsB).import(file);
    expect(imported).toEqual({ id: ID, localDir: path.join(homeB, 'runs', ID), files: 11, alreadyThere: false });
    const mirrorA = path.join(a.home, 'runs', ID);
    const mirrorB = path.join(homeB, 'runs', ID);
    const leftOut = ['sync.json', 'ptb/import.json.123.tmp', 'replay-cache.bin'];
    const recordFiles = filesUnder(mirrorA).filter((f) => !leftOut.includes(f));
    expect(recordFiles).toContain('ptb/import.json');
    expect(filesUnder(mirrorB)).toEqual([...recordFiles, 'sync.json'].sort());
    for (const rel of recordFiles) {
      expect(readFileSync(path.join(mirrorB, rel)), rel).toEqual(readFileSync(path.join(mirrorA, rel)));
    }
    expectAsciinemaReads(path.join(mirrorB, 'terminal.cast'));

    const listed = await runsB.list();
    const listedA = await a.runs.list();
    // The same summary, but for where it came from.
    const origin = { kind: 'bundle', source: file };
    expect(listed).toEqual([{ ...listedA[0]!, syncedAt: null, imported: origin }]);
    const detailA = await a.runs.get(ID, { sync: false });
    const detailB = await runsB.get(ID);
    expect(detailB).toEqual({
      ...detailA,
      summary: { ...detailA.summary, syncedAt: null, imported: origin },
      localDir: mirrorB,
    });

    // An imported run has no host: runs.get did not try one, control refuses, follow returns at once.
    const sync = JSON.parse(readFileSync(path.join(mirrorB, 'sync.json'), 'utf8')) as Record<string, unknown>;
    expect(sync).toMatchObject({ complete: true, error: null, imported: { kind: 'bundle', source: file } });
    await expect(runsB.control(ID, { action: 'stop' })).rejects.toThrow(/imported from .*it has no host/);
    await expect(runsB.follow(ID, { timeoutMs: 5_000 })).resolves.toMatchObject({ id: ID, status: 'scored' });
    expect(await runsB.syncLive()).toBe(false);

    // Importing again never replaces the run.
    await expect(bundles(homeB, runsB).import(file)).rejects.toThrow(/Run r-20261123-120000-ab12 already exists/);
    expect(readdirSync(path.join(homeB, 'runs'))).toEqual([ID]);
  });

  it('redacts a key planted in the record with the key known at export time', async () => {
    // Mirrored before the key was known: the record holds it in clear.
    const a = await mirroredRun(null);
    const mirror = path.join(a.home, 'runs', ID);
    expect(readFileSync(path.join(mirror, 'agent-stream.jsonl'), 'utf8')).toContain(KEY);
    // A sync appending at the moment of export: bytes past what sync.json records are not part of the record yet.
    await appendFile(path.join(mirror, 'terminal.cast'), '[3.000000, "o", "torn');
    const withKey = runService(a.home, KEY);
    const file = path.join(base, 'redacted.ptwrun.tar.gz');
    const result = await bundles(a.home, withKey, undefined, GRADER_KEY).export(ID, file);
    expect(result.redactedSecretNames).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY']);
    const raw = gunzipSync(readFileSync(file));
    expect(raw.includes(Buffer.from(KEY)), 'the key is nowhere in the bundle').toBe(false);
    expect(raw.includes(Buffer.from(GRADER_KEY)), 'nor the grader key').toBe(false);
    expect(raw.includes(Buffer.from(KEY.slice(10))), 'nor its tail').toBe(false);
    const entries = await readTar(file);
    const text = (name: string): string => entries.find((e) => e.name === name)!.data.toString('utf8');
    expect(text('agent-stream.jsonl')).toContain(MARK);
    expect(text('events.jsonl')).toContain(MARK);
    expect(text('eval/attempt-1.log')).toContain('grader key [REDACTED:OPENAI_API_KEY]');
    expect(text('terminal.cast')).toContain(`again ${MARK}`);
    expect(text('terminal.cast')).not.toContain('torn');
    expectValidAsciicastV2(text('terminal.cast'));
    // The local record itself is left as it was.
    expect(readFileSync(path.join(mirror, 'agent-stream.jsonl'), 'utf8')).toContain(KEY);
  });

  it('never overwrites a file on export, and names a run it does not have', async () => {
    const a = await mirroredRun();
    const file = path.join(base, 'exists.tar.gz');
    writeFileSync(file, 'mine');
    await expect(bundles(a.home, a.runs).export(ID, file)).rejects.toThrow(/exists\.tar\.gz already exists/);
    expect(readFileSync(file, 'utf8')).toBe('mine');
    await expect(bundles(a.home, a.runs).export('r-20261123-120000-zzzz', path.join(base, 'x.tgz'))).rejects.toThrow(
      /No run r-20261123-120000-zzzz/,
    );
    expect(readdirSync(base).filter((n) => n.includes('partial'))).toEqual([]);
  });

  describe('refuses a bundle that is not what it says, leaving nothing behind', () => {
    let good: TarEntry[];
    let manifest: BundleManifest;
    let homeB: string;
    let importer: BundleService;

    beforeEach(async () => {
      const a = await mirroredRun();
      const file = path.join(base, 'good.ptwrun.tar.gz');
      await bundles(a.home, a.runs).export(ID, file);
      good = await readTar(file);
      manifest = JSON.parse(good[0]!.data.toString('utf8')) as BundleManifest;
      homeB = path.join(base, 'home-b');
      importer = bundles(homeB, runService(homeB, undefined));
    });

    const repack = async (
      name: string,
      change: (entries: Array<{ name: string; data?: Buffer | string; linkname?: string }>) => void,
      manifestChange?: (m: BundleManifest) => void,
    ): Promise<string> => {
      const m = structuredClone(manifest);
      manifestChange?.(m);
      const entries: Array<{ name: string; data?: Buffer | string; linkname?: string }> = [
        { name: 'manifest.json', data: JSON.stringify(m) },
        ...good.slice(1).map((e) => ({ name: e.name, data: e.data })),
      ];
      change(entries);
      const file = path.join(base, name);
      await writeTar(file, entries);
      return file;
    };

    it('a file whose hash does not match', async () => {
      const file = await repack('tampered.tgz', (entries) => {
        const cast = entries.find((e) => e.name === 'terminal.cast')!;
        cast.data = Buffer.from((cast.data as Buffer).toString('utf8').replace('hello', 'HELLO'));
      });
      await expectRefused(importer.import(file), /entry "terminal\.cast" does not match its SHA-256/, homeB);
    });

    it('a path out of the run folder', async () => {
      const file = await repack('traversal.tgz', (entries) => entries.push({ name: '../../escaped.txt', data: 'x' }));
      await expectRefused(importer.import(file), /entry "\.\.\/\.\.\/escaped\.txt" escapes the run folder/, homeB);
      expect(existsSync(path.join(base, 'escaped.txt'))).toBe(false);
      expect(existsSync(path.join(homeB, 'escaped.txt'))).toBe(false);
      const absolute = await repack('absolute.tgz', (entries) => entries.push({ name: '/tmp/abs.txt', data: 'x' }));
      await expectRefused(importer.import(absolute), /entry "\/tmp\/abs\.txt" is an absolute path/, homeB);
      const listed = await repack(
        'listed-traversal.tgz',
        () => undefined,
        (m) => m.files.push({ path: 'eval/../../x', size: 1, sha256: '0'.repeat(64) }),
      );
      await expectRefused(importer.import(listed), /manifest\.json lists "eval\/\.\.\/\.\.\/x", which escapes/, homeB);
    });

    it('a symlink', async () => {
      const file = await repack('symlink.tgz', (entries) => {
        const i = entries.findIndex((e) => e.name === 'gpu.csv');
        entries[i] = { name: 'gpu.csv', linkname: '/etc/passwd' };
      });
      await expectRefused(importer.import(file), /entry "gpu\.csv" is a symlink, not a regular file/, homeB);
    });

    it('a truncated gzip', async () => {
      const whole = readFileSync(path.join(base, 'good.ptwrun.tar.gz'));
      const file = path.join(base, 'truncated.tgz');
      writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
      await expectRefused(importer.import(file), /truncated\.tgz: it is not a complete gzip'd tar/, homeB);
      writeFileSync(file, 'not gzip at all');
      await expectRefused(importer.import(file), /not a complete gzip'd tar \(incorrect header check\)/, homeB);
    });

    it('duplicates, unlisted and missing files, absurd sizes, newer schemas', async () => {
      const dup = await repack('dup.tgz', (entries) => entries.push({ ...entries.find((e) => e.name === 'gpu.csv')! }));
      await expectRefused(importer.import(dup), /entry "gpu\.csv" appears twice/, homeB);
      const unlisted = await repack('unlisted.tgz', (entries) => entries.push({ name: 'supervisor.log', data: 'x\n' }));
      await expectRefused(importer.import(unlisted), /entry "supervisor\.log" is not listed in manifest\.json/, homeB);
      const missing = await repack('missing.tgz', (entries) =>
        entries.splice(
          entries.findIndex((e) => e.name === 'gpu.csv'),
          1,
        ),
      );
      await expectRefused(importer.import(missing), /manifest\.json lists gpu\.csv, missing from the bundle/, homeB);
      const huge = await repack(
        'huge.tgz',
        () => undefined,
        (m) => (m.files.find((f) => f.path === 'terminal.cast')!.size = 2 ** 50),
      );
      await expectRefused(
        importer.import(huge),
        /says "terminal\.cast" is 1125899906842624 bytes, more than a run record can be/,
        homeB,
      );
      const newer = await repack(
        'newer.tgz',
        () => undefined,
        (m) => (m.schema = 2),
      );
      await expectRefused(importer.import(newer), /made by a newer app \(bundle schema 2; this app reads 1\)/, homeB);
      const notFirst = await repack('order.tgz', (entries) => entries.push(entries.shift()!));
      await expectRefused(importer.import(notFirst), /its first entry is "run\.json", not manifest\.json/, homeB);
    });

    it('a bomb: a small bundle that would expand past its proportion, stopped before a byte is written', async () => {
      // 96 MiB of one repeated line gzips to well under 1 MiB: an honest manifest, hashes and all.
      const cast = Buffer.alloc(96 * 1024 ** 2, '[0.1, "o", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]\n');
      const bomb = await repack(
        'bomb.tgz',
        (entries) => (entries.find((e) => e.name === 'terminal.cast')!.data = cast),
        (m) => {
          const file = m.files.find((f) => f.path === 'terminal.cast')!;
          file.size = cast.length;
          file.sha256 = sha(cast);
        },
      );
      expect(statSync(bomb).size).toBeLessThan(1024 ** 2);
      expect(bundleExpansionLimit(statSync(bomb).size)).toBeLessThan(cast.length);
      await expectRefused(
        importer.import(bomb),
        /expands to \d+ bytes from \d+; a bundle may expand to at most 200×/,
        homeB,
      );
    });
  });

  it('cleans a killed import’s staging folder on the next start, and leaves a running one alone', async () => {
    const home = path.join(base, 'stale-imports');
    const runsDir = path.join(home, 'runs');
    const dead = path.join(runsDir, '.import-2147483646-abc123');
    const older = path.join(runsDir, '.import-Xy12ab');
    const live = path.join(runsDir, `.import-${process.pid}-def456`);
    for (const dir of [dead, older, live]) {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'terminal.cast'), 'half an import');
    }
    const services = await createAppServices({ home, shell: 'cli', env: {}, backgroundSync: false });
    try {
      await expect.poll(() => existsSync(dead)).toBe(false);
      await expect.poll(() => existsSync(older)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(await cleanStaleImports(runsDir)).toEqual([]);
    } finally {
      await services.dispose();
    }
  });

  it("imports the example on the desktop app's very first start, and only then", async () => {
    const home = path.join(base, 'first-start');
    const resourcesDir = locateResourcesDir(__dirname);
    const start = () => createAppServices({ home, shell: 'electron', env: {}, backgroundSync: false, resourcesDir });
    const first = await start();
    try {
      await expect.poll(async () => (await first.runs.list()).length, { timeout: 10_000 }).toBe(1);
    } finally {
      await first.dispose();
    }
    await rm(path.join(home, 'runs'), { recursive: true });
    const second = await start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(await second.runs.list()).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it('offers a download over ptw serve only behind a one-time ticket, for run ids only', async () => {
    const home = path.join(base, 'serve-home');
    const resourcesDir = locateResourcesDir(__dirname);
    const staticDir = path.join(base, 'static');
    await mkdir(staticDir);
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>app</title>');
    const services = await createAppServices({ home, shell: 'serve', env: {}, backgroundSync: false, resourcesDir });
    const server = await startServeServer({ services, staticDir });
    try {
      const { id } = await services.router.call('bundle.importExample', {}, { peerId: 't', transport: 'cli' });
      const origin = `http://127.0.0.1:${server.port}`;
      const url = `${origin}${bundleDownloadPath(id)}`;
      const ctx = { peerId: 't', transport: 'websocket' as const };
      expect((await fetch(url)).status).toBe(401);
      // Neither the token (it never goes into a URL or a cookie) nor a made-up ticket opens it.
      expect((await fetch(`${url}?token=${server.token}`)).status).toBe(401);
      expect((await fetch(url, { headers: { cookie: `ptw_token=${server.token}` } })).status).toBe(401);
      expect((await fetch(`${url}?ticket=${'0'.repeat(48)}`)).status).toBe(401);
      const { path: ticketed } = await services.router.call('bundle.downloadTicket', { id }, ctx);
      expect(ticketed).toMatch(/\?ticket=[0-9a-f]{48}$/);
      const res = await fetch(`${origin}${ticketed}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/gzip');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${id}.ptwrun.tar.gz"`);
      const saved = path.join(base, 'downloaded.tgz');
      writeFileSync(saved, Buffer.from(await res.arrayBuffer()));
      const shipped = await readBundleManifest(path.join(resourcesDir, EXAMPLE_BUNDLE));
      expect((await readBundleManifest(saved)).files).toEqual(shipped.files);
      // Spent: the same link (as a downloads list would keep it) does not work twice.
      expect((await fetch(`${origin}${ticketed}`)).status).toBe(401);
      // A ticket is for its run only.
      const other = await services.router.call('bundle.downloadTicket', { id }, ctx);
      const ticket = other.path.split('?')[1];
      expect((await fetch(`${origin}${bundleDownloadPath('r-20991231-000000-none')}?${ticket}`)).status).toBe(401);
      for (const bad of ['/bundles/..%2f..%2fsync.json', '/bundles/x.ptwrun.tar.gz', `/bundles/${id}`]) {
        const answer = await fetch(`${origin}${bad}`);
        expect(answer.status, bad).toBe(404);
      }
    } finally {
      await server.close();
      await services.dispose();
    }
  });

  it('ships an example run that imports, lists and shows', async () => {
    const resourcesDir = locateResourcesDir(__dirname);
    const example = path.join(resourcesDir, EXAMPLE_BUNDLE);
    expect(existsSync(example), `${example} (made by scripts/record-example.mjs)`).toBe(true);
    expect(readFileSync(example).length).toBeLessThan(1024 * 1024);
    const home = path.join(base, 'fresh');
    const runs = runService(home, undefined);
    const service = bundles(home, runs, resourcesDir);
    const first = await service.importExample();
    expect(first.alreadyThere).toBe(false);
    const list = await runs.list();
    expect(list).toEqual([expect.objectContaining({ id: first.id, task: 'rehearsal', agent: 'rehearsal' })]);
    const detail = await runs.get(first.id);
    expect(detail.summary.status).toMatch(/^(scored|failed|stopped|no-model|evaluated)/);
    expect(detail.events.length).toBeGreaterThan(2);
    expectValidAsciicastV2(readFileSync(path.join(detail.localDir, 'terminal.cast'), 'utf8'));
    expectAsciinemaReads(path.join(detail.localDir, 'terminal.cast'));
    expect(await service.importExample()).toMatchObject({ id: first.id, alreadyThere: true });
  });
});
