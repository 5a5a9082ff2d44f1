// Debian's Chromium driven by playwright-core (Playwright's own browser download is not possible here).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.PTW_CHROMIUM ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailability(): { ok: true } | { ok: false; reason: string } {
  return existsSync(chromiumPath)
    ? { ok: true }
    : { ok: false, reason: `no Chromium at ${chromiumPath}; install it with: sudo apt-get install -y chromium` };
}

export interface LaunchedChromium {
  readonly browser: Browser;
  readonly pid: number;
  /** Closes the browser and makes sure its process is gone, by PID. */
  stop(): Promise<void>;
}

/** Launched as a server so the test knows the browser's PID and can stop it by PID. */
export async function launchChromium(): Promise<LaunchedChromium> {
  const server = await chromium.launchServer({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  const pid = server.process().pid;
  if (pid === undefined) throw new Error('Chromium started without a PID');
  const browser = await chromium.connect(server.wsEndpoint());
  return {
    browser,
    pid,
    async stop() {
      await browser.close().catch(() => undefined);
      await server.close();
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
