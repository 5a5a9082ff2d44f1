// Runs a TypeScript bench entry: esbuild bundles it (node_modules stay external, loaded by node's own resolution,
// as in the built app) into a temporary .cjs next to it, which node then runs with the same arguments.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bench/run-ts.mjs ENTRY.ts [args…]');
  process.exit(2);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'ptw-bench-'));
const outfile = path.join(dir, 'bench.cjs');
try {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile,
    logLevel: 'warning',
    absWorkingDir: process.cwd(),
    nodePaths: [path.resolve('node_modules')],
  });
  const result = spawnSync(process.execPath, ['--expose-gc', outfile, ...args], {
    stdio: 'inherit',
    env: { ...process.env, NODE_PATH: path.resolve('node_modules') },
  });
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
