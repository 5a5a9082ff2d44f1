import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import packageJson from '../../../../package.json';
import { runCli } from '../../../../src/main/cli/ptw-cli';
import { capture } from '../../../support/cli-capture';

describe('ptw CLI', () => {
  let home: string;
  const previous = process.env.PTW_HOME;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-home-'));
    process.env.PTW_HOME = home;
  });
  afterEach(async () => {
    if (previous === undefined) delete process.env.PTW_HOME;
    else process.env.PTW_HOME = previous;
    await rm(home, { recursive: true, force: true });
  });

  it('prints help listing serve and PTW_HOME', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout).toContain('Usage: ptw');
    expect(io.stdout).toContain('serve');
    expect(io.stdout).toContain('PTW_HOME');
  });

  it('prints the package version', async () => {
    const io = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout.trim()).toBe(packageJson.version);
  });

  it('reports info as JSON from PTW_HOME', async () => {
    const io = capture();
    expect(await runCli(['info', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ home, version: packageJson.version, hosts: 0, runs: 0 });
  });

  it('exits 2 with a message on usage errors', async () => {
    const io = capture();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toContain("unknown command 'frobnicate'");
    const io2 = capture();
    expect(await runCli(['serve', '--port', '99999'], io2)).toBe(2);
    expect(io2.stderr).toContain('--port must be 0..65535');
  });

  it('reports a bad --ssh value as the --ssh value it is, never as a jump host', async () => {
    for (const [value, why] of [
      ['user@host:port', 'port must be a number'],
      ['a b', 'whitespace'],
      ['ho$t', 'is not a host name or address'],
      ['h1,h2', 'jump hosts go in --jump'],
    ] as const) {
      const io = capture();
      expect(await runCli(['host', 'add', 'gpu', '--ssh', value], io), value).toBe(2);
      expect(io.stderr, value).toContain(`Invalid --ssh value "${value}"`);
      expect(io.stderr, value).toContain(why);
      expect(io.stderr, value).not.toContain('jump host "');
    }
    const io = capture();
    expect(await runCli(['host', 'add', 'gpu', '--ssh', 'ana@gpu-box:2222', '--json'], io)).toBe(0);
  });
});
