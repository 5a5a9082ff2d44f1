// Bundled into one CJS file so the renderer keeps `sandbox: true`; `electron` is the only require.
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadBridge } from './preload-bridge';

contextBridge.exposeInMainWorld('ptwBridge', createPreloadBridge(ipcRenderer));
