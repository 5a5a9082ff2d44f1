import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateResourcesDir } from '../../../../src/main/catalog/rehearsal-resources';
import type { ExecResult, HostSession } from '../../../../src/main/hosts/host-exec-types';
import { launchRun, type LaunchDeps } from '../../../../src/main/runs/run-launcher';
import { hostProfileSchema } from '../../../../src/shared/hosts';

/** Launch refusals that need no host: each is decided by the probe, before anything is created. */

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ptw-launch-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function fakeHost(probe: string): { session: HostSession; commands: string[] } {
  const commands: string[] = [];
  const session: HostSession = {
    async exec(command): Promise<ExecResult> {
      commands.push(command);
      return { code: 0, stdout: command.includes("printf 'HOME") ? probe : '', stderr: '' };
    },
    docker: () => Promise.reject(new Error('no docker in this test')),
    ping: async () => 1,
    writeFile: () => Promise.reject(new Error('nothing may be written')),
    readFile: () => Promise.reject(new Error('nothing to read')),
  };
  return { session, commands };
}

function deps(session: HostSession): LaunchDeps {
  return {
    session: async () => session,
    profile: async (name) =>
      hostProfileSchema.parse({ name, kind: 'ssh', hostname: 'h', requiredImages: ['img:1'], runRoot: '~/runs' }),
    secrets: { get: async () => undefined },
    resourcesDir: locateResourcesDir(),
    runsDir: path.join(home, 'runs'),
    appVersion: '0.0.0',
  };
}

const rehearsal = { host: 'gpu1', task: { kind: 'rehearsal' }, agent: { id: 'rehearsal' } };

describe('launchRun refusals', () => {
  it('needs python3 ≥ 3.8 on the host for the supervisor', async () => {
    for (const [python, said] of [
      ['', 'has no python3 on the PATH of the SSH session'],
      ['3.6.9', 'has Python 3.6.9'],
    ] as const) {
      const host = fakeHost(`HOME\t/root\nUSER\troot\nPYTHON\t${python}\nNOSMI\n`);
      await expect(launchRun(deps(host.session), rehearsal)).rejects.toMatchObject({
        code: 'HOST_REQUIREMENT_MISSING',
        message: expect.stringContaining(said),
      });
      // Only the probe ran: nothing was created.
      expect(host.commands).toHaveLength(1);
    }
  });

  it('needs a key before it talks to the host at all', async () => {
    const host = fakeHost('');
    await expect(
      launchRun(deps(host.session), { ...rehearsal, agent: { id: 'gemini-cli', model: 'gemini-2.5-pro' } }),
    ).rejects.toMatchObject({ code: 'SECRET_MISSING', message: expect.stringContaining('PTW_SECRET_GEMINI_API_KEY') });
    expect(host.commands).toEqual([]);
  });

  it('needs a PostTrainBench checkout for a benchmark task', async () => {
    const host = fakeHost('HOME\t/root\nUSER\troot\nPYTHON\t3.11.2\nNOSMI\n');
    await expect(
      launchRun(deps(host.session), {
        ...rehearsal,
        task: { kind: 'ptb', benchmark: 'gsm8k', baseModel: 'Qwen3-4B-Base' },
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('--ptb-checkout') });
  });
});
