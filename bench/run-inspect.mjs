// `npm run bench:inspect` (issue 7): runs each half of the inspect benchmark that exists: checkpoints
// (bench/inspect-checkpoints.ts) and datasets (bench/inspect-datasets.ts). Arguments go to every half.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const halves = ['inspect-checkpoints.ts', 'inspect-datasets.ts'].filter((f) => existsSync(path.join(here, f)));
let failed = false;
for (const half of halves) {
  console.log(`\n== ${half} ==`);
  const result = spawnSync(
    process.execPath,
    [path.join(here, 'run-ts.mjs'), path.join('bench', half), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
