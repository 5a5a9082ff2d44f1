// A host profile can name the folder of test sets the integrity checks read (`ptw host add --test-sets`).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli } from '../../../../src/main/cli/ptw-cli';

const previousHome = process.env.PTW_HOME;
let home: string | undefined;

afterEach(async () => {
  if (previousHome === undefined) delete process.env.PTW_HOME;
  else process.env.PTW_HOME = previousHome;
  if (home) await rm(home, { recursive: true, force: true });
});

it('keeps --test-sets in the host profile', async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ptw-host-test-sets-'));
  process.env.PTW_HOME = home;
  const io = { out: () => undefined, err: (t: string) => void (said += t) };
  let said = '';
  const code = await runCli(['host', 'add', 'gpu1', '--ssh', 'me@gpu1', '--test-sets', '/data/test-sets'], io);
  expect(code, said).toBe(0);
  const hosts = JSON.parse(await readFile(path.join(home, 'hosts.json'), 'utf8')) as unknown;
  const list = (Array.isArray(hosts) ? hosts : (hosts as { hosts: unknown[] }).hosts) as { testSets?: string }[];
  expect(list[0]?.testSets).toBe('/data/test-sets');
});
