// The thin Electron shell: one hardened window over the same services `ptw serve` uses.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, Notification, app, ipcMain, nativeTheme, safeStorage, session, shell } from 'electron';
import { createAppServices } from '../app-services';
import { resolvePtwHome } from '../services/ptw-home';
import { registerIpcTransport } from '../transports/ipc-transport';
import {
  applyNavigationGuards,
  applySessionSecurity,
  isTrustedFrameUrl,
  secureWebPreferences,
} from './window-security';

// Bundled next to this file by scripts/build.mjs.
const distDir = path.resolve(__dirname, '..');
const rendererIndex = path.join(distDir, 'renderer', 'index.html');
const appUrl = pathToFileURL(rendererIndex).toString();

app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

async function main(): Promise<void> {
  await app.whenReady();
  applySessionSecurity(session.defaultSession);

  const windows = new Set<BrowserWindow>();
  // Agent keys set in the app are encrypted with the OS keychain (Keychain, DPAPI, libsecret); run notifications
  // are the OS's own, through Electron (a click brings the window forward).
  const services = await createAppServices({
    home: resolvePtwHome(),
    shell: 'electron',
    encryption: safeStorage,
    desktopNotifications: {
      Notification,
      focus: () => {
        const win = [...windows].find((w) => !w.isDestroyed());
        if (!win) return;
        if (win.isMinimized()) win.restore();
        win.show();
        win.focus();
      },
    },
  });
  // Native controls (scrollbars, menus) follow the user's theme choice too.
  nativeTheme.themeSource = (await services.prefs.get().catch(() => ({ theme: 'system' as const }))).theme;
  const disposeTheme = services.prefs.onChange((p) => (nativeTheme.themeSource = p.theme));

  const disposeIpc = registerIpcTransport({
    ipc: ipcMain,
    services,
    isTrustedSender: (event) =>
      [...windows].some((w) => !w.isDestroyed() && w.webContents.id === event.sender.id) &&
      isTrustedFrameUrl(event.senderFrame?.url, appUrl),
    broadcast: (channel, payload) => {
      for (const w of windows) if (!w.isDestroyed()) w.webContents.send(channel, payload);
    },
    sendTo: (senderId, channel, payload) => {
      const win = [...windows].find((w) => !w.isDestroyed() && w.webContents.id === senderId);
      if (!win) return false;
      win.webContents.send(channel, payload);
      return true;
    },
    watchSender: (senderId, onGone) => {
      const win = [...windows].find((w) => !w.isDestroyed() && w.webContents.id === senderId);
      if (!win) return onGone();
      const contents = win.webContents;
      let done = false;
      const gone = (): void => {
        if (done) return;
        done = true;
        contents.off('did-start-navigation', navigating);
        onGone();
      };
      // A reload is a new page: the old page's streams have nobody to ack them.
      const navigating = (details: { isMainFrame: boolean; isSameDocument: boolean }): void => {
        if (details.isMainFrame && !details.isSameDocument) gone();
      };
      contents.on('did-start-navigation', navigating);
      contents.once('destroyed', gone);
      contents.once('render-process-gone', gone);
    },
  });

  const openWindow = (): void => {
    const win = new BrowserWindow({
      width: 1280,
      height: 820,
      minWidth: 900,
      minHeight: 560,
      title: 'PostTrain Workbench',
      show: false,
      backgroundColor: nativeTheme.shouldUseDarkColors ? '#16181d' : '#ffffff',
      webPreferences: secureWebPreferences(path.join(distDir, 'main', 'preload.cjs')),
    });
    windows.add(win);
    win.on('closed', () => windows.delete(win));
    applyNavigationGuards(win.webContents, appUrl, (url) => void shell.openExternal(url));
    win.once('ready-to-show', () => win.show());
    void win.loadURL(appUrl);
  };

  app.on('second-instance', () => {
    const first = [...windows][0];
    if (first) first.focus();
    else openWindow();
  });
  app.on('activate', () => {
    if (windows.size === 0) openWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    disposeIpc();
    disposeTheme();
    void services.dispose();
  });
  openWindow();
}

main().catch((err: unknown) => {
  console.error('PostTrain Workbench failed to start:', err);
  app.exit(1);
});
