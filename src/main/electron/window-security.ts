import { contentSecurityPolicyHeader } from '../../shared/security/content-security-policy';

/** The renderer's web preferences. Each line is asserted by the hardening test. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  } as const;
}

/** Structural slices of Electron's WebContents and Session, so the guards can be tested without Electron. */
export interface GuardedWebContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' } | { action: 'allow' }): void;
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-attach-webview',
    listener: (event: { preventDefault(): void }, ...args: unknown[]) => void,
  ): unknown;
}

export interface GuardedSession {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[] | string> },
        callback: (response: { responseHeaders?: Record<string, string[] | string> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(
    handler: ((webContents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((webContents: unknown, permission: string) => boolean) | null): void;
}

/** Permissions the app uses: desktop notifications (run finished, GPU idle) and writing to the clipboard. */
export const allowedPermissions: ReadonlySet<string> = new Set(['notifications', 'clipboard-sanitized-write']);

/**
 * No new windows (links to http(s) go to the system browser instead), no navigation away from the app page,
 * no <webview>. `appUrl` is the one page the window may show.
 */
export function applyNavigationGuards(
  contents: GuardedWebContents,
  appUrl: string,
  openExternal: (url: string) => void,
): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//i.test(url)) openExternal(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event, url) => {
    if (!isSamePage(String(url), appUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** The CSP as a response header too (the page's meta tag is the fallback), and a deny-by-default permission policy. */
export function applySessionSecurity(session: GuardedSession): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicyHeader] },
    });
  });
  session.setPermissionRequestHandler((_wc, permission, callback) => callback(allowedPermissions.has(permission)));
  session.setPermissionCheckHandler((_wc, permission) => allowedPermissions.has(permission));
}

function isSamePage(url: string, appUrl: string): boolean {
  try {
    const a = new URL(url);
    const b = new URL(appUrl);
    return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/** The trusted-sender check every IPC call passes: one of our windows, showing our page. */
export function isTrustedFrameUrl(frameUrl: string | undefined, appUrl: string): boolean {
  return frameUrl !== undefined && isSamePage(frameUrl, appUrl);
}
