import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, open, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import {
  debianRootfsTar,
  imageExists,
  importRootfsTar,
  tarDirectory,
  TEST_IMAGE_CACHE_DIR,
  withBuildLock,
} from './test-images';

/**
 * The scripted-rehearsal test image: Debian minbase + python3 (the rehearsal task's evaluate.py), this machine's
 * Node, and the four agent CLIs from the npm registry at the versions pinned in agent-clis.json. The npm install and
 * the rootfs tarball are cached under .cache/ by those versions, so the registry is asked once per version bump;
 * the import runs once per daemon. Each CLI is linked into /usr/local/bin by its real executable (Claude Code's and
 * OpenCode's native builds, Codex's static musl binary, Gemini CLI's bundle under node), as `npm i -g` would.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const CACHE_ROOT = path.resolve(here, '..', '..', '.cache');
/** Bump when the recipe below changes. */
const RECIPE_VERSION = 1;

export const AGENT_CLI_VERSIONS: Record<string, string> = (
  JSON.parse(readFileSync(path.join(here, 'agent-clis.json'), 'utf8')) as { packages: Record<string, string> }
).packages;

const OPT = 'opt/agent-clis/node_modules';
/** `/usr/local/bin/<name>` → the executable under /opt/agent-clis/node_modules. */
const LINKS: Record<string, string> = {
  claude: '@anthropic-ai/claude-code/bin/claude.exe',
  codex: '@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
  gemini: '@google/gemini-cli/bundle/gemini.js',
  opencode: 'opencode-linux-x64/bin/opencode',
};
/** Parts no rehearsal uses (hundreds of MB): OpenCode's build for CPUs without AVX2, Codex's voice host. */
const PRUNE = [
  'opencode-linux-x64-baseline',
  '@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/codex-resources/voice',
];

function cacheKey(): string {
  const input = { recipe: RECIPE_VERSION, versions: AGENT_CLI_VERSIONS, node: process.version, arch: process.arch };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 16);
}

export const AGENT_CLI_IMAGE = `ptw-test/agent-clis:${cacheKey()}`;

async function run(command: string, args: string[], logPath: string, timeoutMs: number): Promise<void> {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    }).finally(() => clearTimeout(timer));
    if (code !== 0) {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      throw new Error(`${command} ${args.join(' ')} failed (${code}); log ${logPath}:\n${log.slice(-3_000)}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** `npm install` of the pinned CLIs into .cache/agent-clis/<key> (once per version set). */
async function installClis(key: string): Promise<string> {
  const dir = path.join(CACHE_ROOT, 'agent-clis', key);
  const marker = path.join(dir, '.installed');
  if (existsSync(marker)) return dir;
  await mkdir(dir, { recursive: true });
  const specs = Object.entries(AGENT_CLI_VERSIONS).map(([name, version]) => `${name}@${version}`);
  await run(
    'npm',
    ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', ...specs],
    `${dir}.log`,
    900_000,
  );
  for (const [name, target] of Object.entries(LINKS)) {
    if (!existsSync(path.join(dir, 'node_modules', target))) {
      throw new Error(`npm installed ${name} without ${target}; the package layout changed (see agent-cli-image.ts)`);
    }
  }
  await writeFile(marker, `${specs.join('\n')}\n`);
  return dir;
}

async function buildRootfsTar(tarPath: string, key: string): Promise<void> {
  const installed = await installClis(key);
  const debianTar = await debianRootfsTar({ packages: ['python3'] });
  const work = await mkdtemp(path.join(os.tmpdir(), 'ptw-agent-clis-'));
  const rootfs = path.join(work, 'rootfs');
  const log = `${tarPath}.log`;
  try {
    await mkdir(path.join(rootfs, path.dirname(OPT)), { recursive: true });
    await run('tar', ['-xf', debianTar, '-C', rootfs], log, 300_000);
    await run('cp', ['-a', path.join(installed, 'node_modules'), path.join(rootfs, path.dirname(OPT))], log, 300_000);
    for (const prune of PRUNE) await rm(path.join(rootfs, OPT, prune), { recursive: true, force: true });
    const bin = path.join(rootfs, 'usr', 'local', 'bin');
    await mkdir(bin, { recursive: true });
    await copyFile(process.execPath, path.join(bin, 'node'));
    await chmod(path.join(bin, 'node'), 0o755);
    for (const [name, target] of Object.entries(LINKS)) {
      if (!existsSync(path.join(rootfs, OPT, target)))
        throw new Error(`the image would lack ${name}: no /${OPT}/${target}`);
      await symlink(path.posix.join('/', OPT, target), path.join(bin, name));
    }
    const partial = `${tarPath}.partial`;
    const { stream } = tarDirectory(rootfs);
    const out = await open(partial, 'w');
    try {
      for await (const chunk of stream) await out.write(chunk as Buffer);
    } finally {
      await out.close();
    }
    await rename(partial, tarPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The image with the four CLIs (built and cached when missing: minutes the first time). */
export async function buildAgentCliImage(docker: Dockerode, tag = AGENT_CLI_IMAGE): Promise<string> {
  if (await imageExists(docker, tag)) return tag;
  const key = cacheKey();
  const tarPath = path.join(TEST_IMAGE_CACHE_DIR, `agent-clis-${key}.tar`);
  await mkdir(TEST_IMAGE_CACHE_DIR, { recursive: true });
  if (!existsSync(tarPath)) {
    await withBuildLock(`${tarPath}.lock`, async () => {
      if (!existsSync(tarPath)) await buildRootfsTar(tarPath, key);
    });
  }
  await importRootfsTar(docker, createReadStream(tarPath), tag);
  return tag;
}
