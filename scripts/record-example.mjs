// Records the example run the app ships: builds the app, then runs the rehearsal on the real test host (sshd +
// dockerd on this machine, as the integration tests start them) with the built `ptw`, and exports it into
// resources/examples/example-rehearsal.ptwrun.tar.gz. Needs what the integration tests need (scripts/test.sh).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run(process.execPath, ['scripts/build.mjs', '--quiet']);
run('npx', ['vitest', 'run', '--config', 'scripts/record-example.vitest.config.mts']);
