// The host package's own unittest suites (test/host/test_*.py, resources/host/ptw_host), run with the python3 the test
// host has: everything that needs no Docker (the supervisor's modules, checked against test/host/run-folder.schema.json,
// and the inspectors). The supervisor with a real dockerd is test/integration/supervisor.test.ts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

const hostTests = path.resolve(__dirname, '..', '..', 'host');

it('passes python3 -m unittest over test/host', () => {
  const result = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', hostTests, '-p', 'test_*.py', '-v'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const said = `${result.stdout}\n${result.stderr}`;
  expect(result.status, said).toBe(0);
  // A suite that found nothing would pass too: it must have run the tests.
  expect(said).toMatch(/Ran [1-9]\d* tests?/);
}, 150_000);
