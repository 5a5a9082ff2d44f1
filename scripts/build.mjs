// Builds the node side with esbuild (CJS, Electron and plain Node both load it) and the renderer with Vite.
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'dist', 'main');
const quiet = process.argv.includes('--quiet');

await rm(outDir, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: quiet ? 'warning' : 'info',
  absWorkingDir: root,
};

await Promise.all([
  // Main process and CLI: dependencies stay in node_modules (ssh2 has optional native parts).
  esbuild({
    ...common,
    entryPoints: { 'electron-main': 'src/main/electron/electron-main.ts', cli: 'src/main/cli/cli-entry.ts' },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    packages: 'external',
  }),
  // The preload runs sandboxed, where only `electron` can be required: everything else is bundled in.
  esbuild({
    ...common,
    entryPoints: { preload: 'src/main/electron/preload.ts' },
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
    platform: 'browser',
  }),
]);

await viteBuild({
  root: path.join(root, 'src', 'renderer'),
  configFile: path.join(root, 'vite.config.ts'),
  logLevel: quiet ? 'warn' : 'info',
});
