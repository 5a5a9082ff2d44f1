// Starts the real `ptw serve` (the built CLI) as a child process and stops it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface ServeProcess {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  /** The printed URL with a query added (`testDriver=1`): the token stays in the fragment. */
  pageUrl(query: string): string;
  readonly pid: number;
  readonly home: string;
  output(): string;
  stop(): Promise<void>;
}

const repoRoot = path.resolve(__dirname, '..', '..');

export async function startServeProcess(
  options: {
    env?: Record<string, string>;
    home?: string;
    nodeArgs?: string[];
    /** The CLI's arguments: `serve --port 0` unless given (e.g. `replay FILE`, which serves the same way). */
    args?: string[];
  } = {},
): Promise<ServeProcess> {
  const cli = path.join(repoRoot, 'dist', 'main', 'cli.cjs');
  if (!existsSync(cli) || !existsSync(path.join(repoRoot, 'dist', 'renderer', 'index.html'))) {
    throw new Error('The app is not built: run `npm run build` (npm test does it) before the e2e tests.');
  }
  const ownHome = options.home === undefined;
  const home = options.home ?? (await mkdtemp(path.join(os.tmpdir(), 'ptw-e2e-home-')));
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), path.join(repoRoot, 'bin', 'ptw.cjs'), ...(options.args ?? ['serve', '--port', '0'])],
    {
      env: { ...process.env, ...options.env, PTW_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ptw serve printed no URL within 20 s:\n${output}`)), 20_000);
    const check = (): void => {
      const match = /http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ptw serve exited with ${code}:\n${output}`));
    });
  });
  const parsed = new URL(url);
  const pid = child.pid!;

  return {
    url,
    origin: parsed.origin,
    token: new URLSearchParams(parsed.hash.slice(1)).get('token')!,
    pageUrl: (query: string) =>
      `${parsed.origin}/?${query}#token=${new URLSearchParams(parsed.hash.slice(1)).get('token')!}`,
    pid,
    home,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()));
        process.kill(pid, 'SIGTERM');
        const timeout = setTimeout(() => process.kill(pid, 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(timeout);
      }
      if (ownHome) await rm(home, { recursive: true, force: true });
    },
  };
}
