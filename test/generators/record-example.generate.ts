// Records the example run the app ships (resources/examples/example-rehearsal.ptwrun.tar.gz): the rehearsal on the
// real test host (sshd + dockerd on this machine, a fake nvidia-smi replaying an H100 capture), run and exported by
// the built `ptw` CLI exactly as a user would. Run through `node scripts/record-example.mjs`, not with the tests.
import { chmodSync, copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXAMPLE_BUNDLE } from '../../src/main/runs/bundle-service';
import { startRunTestHost, type RunTestHost } from '../support/run-test-host';

const target = path.resolve(__dirname, '..', '..', 'resources', EXAMPLE_BUNDLE);
let t: RunTestHost;

beforeAll(async () => {
  t = await startRunTestHost({ nvidiaSmi: 'idle', hostName: 'gpu-box' });
}, 300_000);

afterAll(async () => {
  await t?.cleanup();
});

it('records the rehearsal and exports it', async () => {
  const started = await t.ptw([
    'run',
    'start',
    '--host',
    t.hostName,
    '--task',
    'rehearsal',
    '--agent',
    'rehearsal',
    '--label',
    'Example: the rehearsal, recorded by the app',
  ]);
  expect(started.code, started.stderr).toBe(0);
  const id = started.stdout.trim();
  const waited = await t.ptw(['run', 'wait', id, '--timeout', '8m'], {}, 540_000);
  expect(waited.code, waited.stderr).toBe(0);
  const out = path.join(t.work, `${id}.ptwrun.tar.gz`);
  const exported = await t.ptw(['bundle', 'export', id, out, '--json']);
  expect(exported.code, exported.stderr).toBe(0);
  expect(statSync(out).size).toBeLessThan(1024 * 1024);
  mkdirSync(path.dirname(target), { recursive: true });
  rmSync(target, { force: true });
  copyFileSync(out, target);
  chmodSync(target, 0o644);
  process.stdout.write(`Recorded ${id} into ${target} (${statSync(target).size} bytes)\n`);
}, 600_000);
