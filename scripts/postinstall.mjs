// After `npm install`: one clear line when the desktop window is unavailable. Electron is an optional dependency, so
// a machine where its binary cannot be downloaded (offline mirrors, a proxy that blocks it) still installs; `npm
// start` then serves the app to a browser instead (scripts/start.mjs).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let why = null;
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) why = 'ELECTRON_SKIP_BINARY_DOWNLOAD is set';
else {
  try {
    const binary = require('electron');
    if (typeof binary !== 'string' || !existsSync(binary)) why = "Electron's binary is missing";
  } catch {
    why = "Electron's binary could not be downloaded";
  }
}
if (why) {
  console.log(
    `PostTrain Workbench: the desktop window is unavailable here (${why}); npm start will serve the app to your browser instead.`,
  );
}
