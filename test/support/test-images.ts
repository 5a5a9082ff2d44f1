import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readdirSync, readSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { unmountAllUnder } from './test-dockerd';
import { isProcessAlive } from './process-tree';

const execFileAsync = promisify(execFile);

export const BUSYBOX_IMAGE = 'ptw-test/busybox:1';
export const DEBIAN_IMAGE = 'ptw-test/debian:1';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEST_IMAGE_CACHE_DIR = path.join(repoRoot, '.cache', 'test-images');

/** Where busybox-static installs; /bin/busybox is the same file on merged-/usr systems. */
export function findBusybox(): string | undefined {
  return ['/bin/busybox', '/usr/bin/busybox'].find((candidate) => existsSync(candidate));
}

/**
 * True when the ELF at `file` needs no dynamic loader (no PT_INTERP program header), so it runs
 * in an image that holds nothing else. Static-PIE binaries count as static.
 */
export function isStaticElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(64);
    readSync(fd, header, 0, 64, 0);
    if (header.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = header[4] === 2;
    const le = header[5] === 1;
    const u16 = (buf: Buffer, at: number): number => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
    const u32 = (buf: Buffer, at: number): number => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
    const phoff = is64 ? Number(le ? header.readBigUInt64LE(32) : header.readBigUInt64BE(32)) : u32(header, 28);
    const phentsize = u16(header, is64 ? 54 : 42);
    const phnum = u16(header, is64 ? 56 : 44);
    const table = Buffer.alloc(phentsize * phnum);
    readSync(fd, table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) {
      if (u32(table, i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}

function splitTag(tag: string): { repo: string; tag: string } {
  const colon = tag.lastIndexOf(':');
  if (colon > tag.lastIndexOf('/')) return { repo: tag.slice(0, colon), tag: tag.slice(colon + 1) };
  return { repo: tag, tag: 'latest' };
}

export async function imageExists(docker: Dockerode, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Imports a rootfs tar stream as `tag` (POST /images/create?fromSrc=-); never pulls. */
export async function importRootfsTar(docker: Dockerode, tar: Readable, tag: string): Promise<void> {
  const progress = await docker.importImage(tar, splitTag(tag));
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(progress, (err, output: Array<{ error?: string }>) => {
      // followProgress only reports transport errors; the daemon reports import errors in-band.
      const failed = output?.find((line) => line.error);
      if (err) reject(err);
      else if (failed) reject(new Error(`importing ${tag} failed: ${failed.error}`));
      else resolve();
    });
  });
  if (!(await imageExists(docker, tag))) throw new Error(`import finished but ${tag} is missing`);
}

/** `tar -c` of `dir` with root ownership, as a stream; the stream errors if tar fails. */
export function tarDirectory(dir: string, extraArgs: string[] = []): { stream: Readable; child: ChildProcess } {
  const child = spawn('tar', ['-C', dir, '--numeric-owner', '--owner=0', '--group=0', ...extraArgs, '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stream = child.stdout as Readable;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code) => {
    if (code !== 0) stream.destroy(new Error(`tar of ${dir} failed (${code}): ${stderr}`));
  });
  return { stream, child };
}

/**
 * A tiny image made from the host's static busybox: every applet linked into /bin, plus /tmp and
 * a root user. Built and imported through the Docker API, so tests need no registry. Idempotent.
 */
export async function buildBusyboxImage(docker: Dockerode, tag = BUSYBOX_IMAGE): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  const busybox = findBusybox();
  if (!busybox) throw new Error('busybox not found; install busybox-static');
  if (!isStaticElf(busybox)) throw new Error(`${busybox} is dynamically linked; install busybox-static`);
  const rootfs = await mkdtemp(path.join(os.tmpdir(), 'ptw-busybox-'));
  try {
    for (const dir of ['bin', 'etc', 'root', 'tmp', 'proc', 'sys', 'dev']) await mkdir(path.join(rootfs, dir));
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await copyFile(busybox, path.join(rootfs, 'bin', 'busybox'));
    await chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    const { stdout } = await execFileAsync(busybox, ['--list']);
    const applets = new Set(stdout.split('\n').map((line) => line.trim()));
    for (const applet of applets) {
      if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
      await symlink('busybox', path.join(rootfs, 'bin', applet));
    }
    await writeFile(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(path.join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    const { stream } = tarDirectory(rootfs);
    await importRootfsTar(docker, stream, tag);
    return tag;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/**
 * The Debian mirror this machine's apt uses for `suite` (one-line .list or deb822 .sources),
 * since that is the one source the machine is known to reach.
 */
export function findDebianMirror(suite = 'bookworm'): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push(path.join(dir, name));
    }
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string): string[] => {
          const match = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(stanza);
          return match?.[1]?.trim().split(/\s+/) ?? [];
        };
        if (field('Enabled')[0]?.toLowerCase() === 'no') continue;
        if (!field('Types').includes('deb') || !field('Suites').includes(suite)) continue;
        const uri = field('URIs')[0];
        if (uri) return uri;
      }
    } else {
      for (const line of text.split('\n')) {
        // deb [options] uri suite components...
        const match = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (match?.[2] === suite && match[1]) return match[1];
      }
    }
  }
  throw new Error(`no apt source for Debian ${suite} in /etc/apt/sources.list{,.d}; pass { mirror }`);
}

export interface DebianImageOptions {
  /** Extra packages for debootstrap --include; part of the cache key. */
  packages?: string[];
  suite?: string;
  /** Defaults to this machine's apt source for the suite. */
  mirror?: string;
  cacheDir?: string;
}

/** One build per cache file across parallel test workers: an exclusive lock file holding our PID. */
export async function withBuildLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lockPath, 'utf8').catch(() => ''));
      if (owner > 0 && !isProcessAlive(owner)) await rm(lockPath, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

const DEBIAN_TAR_EXCLUDES = [
  './dev/*',
  './proc/*',
  './sys/*',
  './var/cache/apt/archives/*.deb',
  './var/lib/apt/lists/*',
  './usr/share/doc/*',
  './usr/share/man/*',
  './usr/share/info/*',
].map((pattern) => `--exclude=${pattern}`);

/** Bump when the recipe (debootstrap flags, excludes) changes, so cached tarballs are rebuilt. */
const DEBIAN_RECIPE_VERSION = 2;

/** Runs debootstrap (minbase + packages) and tars the result to `tarPath`. Minutes; needs root. */
async function buildDebianRootfsTar(tarPath: string, suite: string, packages: string[], mirror: string): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-debootstrap-'));
  const rootfs = path.join(work, 'rootfs');
  const logPath = `${tarPath}.debootstrap.log`;
  try {
    const args = [
      '--variant=minbase',
      ...(packages.length ? [`--include=${packages.join(',')}`] : []),
      suite,
      rootfs,
      mirror,
    ];
    const logFd = openSync(logPath, 'w');
    let code: number | null;
    try {
      const child = spawn('debootstrap', args, { stdio: ['ignore', logFd, logFd] });
      code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', resolve);
      });
    } finally {
      closeSync(logFd);
    }
    if (code !== 0) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      throw new Error(`debootstrap ${args.join(' ')} failed (${code}); log ${logPath}:\n${log.slice(-3_000)}`);
    }
    const partial = `${tarPath}.partial`;
    // /dev, /proc and /sys come from the runtime (device nodes in a layer only cause trouble); the
    // apt lists, downloaded .debs and docs are half the size and no test reads them.
    const { stream } = tarDirectory(rootfs, DEBIAN_TAR_EXCLUDES);
    const out = await open(partial, 'w');
    try {
      for await (const chunk of stream) await out.write(chunk as Buffer);
    } finally {
      await out.close();
    }
    await rename(partial, tarPath);
  } finally {
    // debootstrap mounts /proc and /sys in the target and can leave them behind on failure.
    await unmountAllUnder(work);
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A Debian image (debootstrap minbase + `packages`, default python3) for tests that need a real
 * userland. The rootfs tarball is cached under `.cache/test-images/` keyed by suite and package
 * list, so debootstrap runs once per machine; the import runs once per daemon.
 */
export async function buildDebianImage(
  docker: Dockerode,
  tag = DEBIAN_IMAGE,
  opts: DebianImageOptions = {},
): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  await importRootfsTar(docker, createReadStream(await debianRootfsTar(opts)), tag);
  return tag;
}

/** The cached rootfs tarball of {@link buildDebianImage} (debootstrap runs when it is missing); its path. */
export async function debianRootfsTar(opts: DebianImageOptions = {}): Promise<string> {
  const suite = opts.suite ?? 'bookworm';
  const packages = [...new Set(opts.packages ?? ['python3'])].sort();
  const cacheDir = opts.cacheDir ?? TEST_IMAGE_CACHE_DIR;
  const key = createHash('sha256')
    .update(JSON.stringify({ recipe: DEBIAN_RECIPE_VERSION, suite, packages }))
    .digest('hex')
    .slice(0, 16);
  const tarPath = path.join(cacheDir, `debian-${suite}-minbase-${key}.tar`);
  await mkdir(cacheDir, { recursive: true });
  if (!existsSync(tarPath)) {
    await withBuildLock(`${tarPath}.lock`, async () => {
      if (existsSync(tarPath)) return;
      await buildDebianRootfsTar(tarPath, suite, packages, opts.mirror ?? findDebianMirror(suite));
    });
  }
  return tarPath;
}
