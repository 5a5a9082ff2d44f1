// The README's first command on a machine where Electron's binary cannot be downloaded (offline mirrors, a proxy that
// blocks it): a fresh clone's `npm ci` completes with one clear line, and `npm start` serves the app to a browser.
// The download is blocked for real: Electron's own installer is pointed at a closed port with an empty cache.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { terminateTree } from '../support/process-tree';

const repoRoot = path.resolve(__dirname, '..', '..');
let work: string | undefined;

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it(
  'installs a fresh clone with Electron’s download blocked, and npm start falls back to serve mode',
  async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-install-'));
    const clone = path.join(work, 'clone');
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', repoRoot, clone], { encoding: 'utf8' });
    expect(cloned.status, cloned.stderr).toBe(0);
    const port = await closedPort();
    const { ELECTRON_SKIP_BINARY_DOWNLOAD: _skip, ...base } = process.env;
    const env = {
      ...base,
      // Electron's installer (@electron/get) downloads from here, into this empty cache: nothing to find, nothing cached.
      ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
      electron_config_cache: path.join(work, 'electron-cache'),
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
      PTW_HOME: path.join(work, 'ptw-home'),
    };
    // From npm's cache where it has the packages (CI's own `npm ci` just filled it), from the registry otherwise.
    const install = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: clone,
      env,
      encoding: 'utf8',
      timeout: 15 * 60_000,
    });
    const said = `${install.stdout}\n${install.stderr}`;
    expect(install.status, said.slice(-4000)).toBe(0);
    expect(said).toContain('the desktop window is unavailable here');
    expect(existsSync(path.join(clone, 'node_modules', 'electron', 'dist'))).toBe(false);

    // `npm start`: builds, finds no Electron, says why, and serves the app.
    const start = spawn('npm', ['start', '--', '--port', '0'], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    start.stdout.on('data', (d: Buffer) => (output += d.toString()));
    start.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start printed no URL in 180 s:\n${output}`)), 180_000);
        start.stdout.on('data', () => {
          const match = /http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[0]);
          }
        });
        start.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`npm start exited with ${code}:\n${output}`));
        });
      });
      expect(output).toContain('The desktop window cannot open here');
      expect(output).toContain('Starting serve mode instead');
      const page = await fetch(new URL(url).origin + '/');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      // npm, its shell, start.mjs and the serve process under it: stopped by pid, leaves first.
      await terminateTree(start.pid!, 5_000);
    }
  },
  20 * 60_000,
);
