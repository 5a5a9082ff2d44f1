// `npm start`: the desktop app where Electron can run; otherwise say why and serve the same app to a browser.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    // The `electron` package exports the binary's path, and throws when its download never happened.
    const binary = require('electron');
    if (typeof binary === 'string' && existsSync(binary)) return { binary };
    return { why: `the Electron binary is missing (${binary})` };
  } catch (err) {
    return { why: `the Electron binary is not installed (${err.message.split('\n')[0]})` };
  }
}

function displayProblem() {
  if (process.platform !== 'linux') return undefined;
  if (process.env.DISPLAY || process.env.WAYLAND_DISPLAY) return undefined;
  return 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set)';
}

function run(command, args) {
  const child = spawn(command, args, { stdio: 'inherit', cwd: root });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
}

const { binary, why } = electronBinary();
const problem = why ?? displayProblem();
if (binary && !problem) {
  run(binary, [path.join(root, 'dist', 'main', 'electron-main.cjs')]);
} else {
  console.log(`The desktop window cannot open here: ${problem}.`);
  console.log('Starting serve mode instead (the same app, in your browser).\n');
  run(process.execPath, [path.join(root, 'bin', 'ptw.cjs'), 'serve', ...process.argv.slice(2)]);
}
