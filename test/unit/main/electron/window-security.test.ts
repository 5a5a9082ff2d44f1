// The hardening test: each protection of the Electron shell, asserted on the code the shell runs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allowedPermissions,
  applyNavigationGuards,
  applySessionSecurity,
  isTrustedFrameUrl,
  secureWebPreferences,
  type GuardedSession,
  type GuardedWebContents,
} from '../../../../src/main/electron/window-security';
import {
  contentSecurityPolicyDirectives,
  contentSecurityPolicyHeader,
} from '../../../../src/shared/security/content-security-policy';

const appUrl = 'file:///opt/ptw/dist/renderer/index.html';

function fakeContents() {
  const listeners = new Map<string, (event: { preventDefault(): void }, ...args: unknown[]) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const contents: GuardedWebContents = {
    setWindowOpenHandler: (h) => void (openHandler = h),
    on: (event, listener) => listeners.set(event, listener),
  };
  const fire = (event: string, ...args: unknown[]): boolean => {
    let prevented = false;
    listeners.get(event)?.({ preventDefault: () => void (prevented = true) }, ...args);
    return prevented;
  };
  return { contents, fire, open: (url: string) => openHandler?.({ url }) };
}

describe('Electron window hardening', () => {
  it('runs the renderer isolated, sandboxed and without Node', () => {
    const prefs = secureWebPreferences('/opt/ptw/dist/main/preload.cjs');
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.allowRunningInsecureContent).toBe(false);
    expect(prefs.webviewTag).toBe(false);
  });

  it('uses the secure preferences in the shell that creates the window', async () => {
    const source = await readFile(path.join('src', 'main', 'electron', 'electron-main.ts'), 'utf8');
    expect(source).toMatch(/webPreferences: secureWebPreferences\(/);
    expect(source).toMatch(/applyNavigationGuards\(win\.webContents/);
    expect(source).toMatch(/applySessionSecurity\(session\.defaultSession\)/);
    expect(source).toMatch(/app\.enableSandbox\(\)/);
  });

  it('denies window.open, sending https links to the system browser', () => {
    const external: string[] = [];
    const f = fakeContents();
    applyNavigationGuards(f.contents, appUrl, (u) => external.push(u));
    expect(f.open('https://huggingface.co/Qwen/Qwen3-4B-Base')).toEqual({ action: 'deny' });
    expect(f.open('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(f.open('javascript:alert(1)')).toEqual({ action: 'deny' });
    expect(external).toEqual(['https://huggingface.co/Qwen/Qwen3-4B-Base']);
  });

  it('blocks navigation away from the app page, redirects and webviews', () => {
    const f = fakeContents();
    applyNavigationGuards(f.contents, appUrl, () => undefined);
    expect(f.fire('will-navigate', 'https://evil.example/')).toBe(true);
    expect(f.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(f.fire('will-navigate', `${appUrl}#/runs`)).toBe(false);
    expect(f.fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(f.fire('will-attach-webview')).toBe(true);
  });

  it('sends a strict CSP header and denies permissions the app does not use', () => {
    let headerListener: Parameters<GuardedSession['webRequest']['onHeadersReceived']>[0] | undefined;
    let requestHandler: ((wc: unknown, p: string, cb: (g: boolean) => void) => void) | null = null;
    let checkHandler: ((wc: unknown, p: string) => boolean) | null = null;
    applySessionSecurity({
      webRequest: { onHeadersReceived: (l) => void (headerListener = l) },
      setPermissionRequestHandler: (h) => void (requestHandler = h),
      setPermissionCheckHandler: (h) => void (checkHandler = h),
    });
    let headers: Record<string, string[] | string> | undefined;
    headerListener?.({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (headers = r.responseHeaders));
    expect(headers?.['Content-Security-Policy']).toEqual([contentSecurityPolicyHeader]);
    expect(headers?.['X-Other']).toEqual(['1']);

    const answers: Record<string, boolean> = {};
    for (const p of ['notifications', 'media', 'geolocation', 'openExternal', 'clipboard-read']) {
      requestHandler!(null, p, (g) => (answers[p] = g));
    }
    expect(answers).toEqual({
      notifications: true,
      media: false,
      geolocation: false,
      openExternal: false,
      'clipboard-read': false,
    });
    expect(checkHandler!(null, 'camera')).toBe(false);
    expect([...allowedPermissions].sort()).toEqual(['clipboard-sanitized-write', 'notifications']);
  });

  it('has a CSP without inline or eval script, remote origins or plugins', () => {
    const d = contentSecurityPolicyDirectives;
    expect(d['default-src']).toBe("'self'");
    expect(d['script-src']).toBe("'self'");
    for (const value of Object.values(d)) {
      expect(value).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    }
    expect(d['object-src']).toBe("'none'");
    expect(contentSecurityPolicyHeader).toContain("frame-ancestors 'none'");
  });

  it('trusts IPC only from the app page itself', () => {
    expect(isTrustedFrameUrl(appUrl, appUrl)).toBe(true);
    expect(isTrustedFrameUrl(`${appUrl}?x=1#/hosts`, appUrl)).toBe(true);
    expect(isTrustedFrameUrl('file:///tmp/evil.html', appUrl)).toBe(false);
    expect(isTrustedFrameUrl('https://evil.example/index.html', appUrl)).toBe(false);
    expect(isTrustedFrameUrl(undefined, appUrl)).toBe(false);
  });
});
