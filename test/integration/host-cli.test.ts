// `ptw host …` end to end: the built CLI against a real sshd + dockerd, with nvidia-smi replaying a real H100 capture.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostSummary } from '../../src/shared/contract';
import type { PreflightReport } from '../../src/shared/hosts';
import { findFreePort } from '../support/free-port';
import { runPtw } from '../support/run-cli';
import { describeWithTestHost } from '../support/test-host-availability';
import { startGpuTestHost, type TestHost } from '../support/test-host';

describeWithTestHost('ptw host CLI against a real test host', () => {
  let work: string;
  let host: TestHost;
  let env: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'ptw-host-cli-'));
    host = await startGpuTestHost(work, { nvidiaSmi: 'load' });
    await mkdir(path.join(work, 'home', '.ssh'), { recursive: true });
    // The user's own ~/.ssh is a fresh temp dir: nothing of the developer's is read.
    env = { HOME: path.join(work, 'home'), PTW_HOME: path.join(work, 'ptw-home') };
  });

  afterAll(async () => {
    await host?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const hostKeyFingerprint = (): string =>
    execFileSync('ssh-keygen', ['-lf', `${host.sshd.hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1]!;

  it('adds a host, refuses its unknown key without --accept-new-host-key, then trusts and checks it', async () => {
    const add = await runPtw(
      [
        'host',
        'add',
        'gpu1',
        '--ssh',
        `${host.sshd.username}@127.0.0.1:${host.sshd.port}`,
        '--identity',
        host.sshd.privateKeyPath,
        '--docker-socket',
        host.dockerd.socketPath,
        '--run-root',
        path.join(work, 'runs'),
        '--image',
        host.busyboxImage,
        '--image',
        'ptw-test/not-here:1',
      ],
      env,
    );
    expect(add).toMatchObject({ code: 0 });
    expect(add.stdout).toContain('ptw host check gpu1');

    const refused = await runPtw(['host', 'check', 'gpu1', '--json'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(hostKeyFingerprint());
    expect(refused.stderr).toContain('--accept-new-host-key');
    expect(existsSync(path.join(env.PTW_HOME!, 'known_hosts'))).toBe(false);

    const checked = await runPtw(['host', 'check', 'gpu1', '--json', '--accept-new-host-key'], env);
    // The test dockerd has no NVIDIA runtime: a failed check is exit 1, not a connection error.
    expect(checked.code, checked.stderr).toBe(1);
    const report = JSON.parse(checked.stdout) as PreflightReport;
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(report.overall).toBe('fail');
    expect(byId.ssh?.status).toBe('pass');
    expect(byId.docker?.status).toBe('pass');
    expect(byId['nvidia-runtime']?.status).toBe('fail');
    expect(byId['nvidia-runtime']?.fix).toContain('nvidia-ctk');
    expect(byId.gpus?.status).toBe('pass');
    expect(byId.gpus?.details.join('\n')).toContain('NVIDIA H100 80GB HBM3');
    expect(report.gpus).toEqual([
      {
        index: 0,
        name: 'NVIDIA H100 80GB HBM3',
        uuid: 'GPU-00000000-0000-0000-0000-000000000000',
        memoryTotalMiB: 81559,
        driverVersion: '590.48.01',
      },
    ]);
    expect(byId.images?.status).toBe('fail');
    expect(byId.images?.details.join('\n')).toContain('ptw-test/not-here:1');
    // Progress went to stderr while the checks ran.
    expect(checked.stderr).toMatch(/\[PASS\] .*Docker/);

    const knownHosts = path.join(env.PTW_HOME!, 'known_hosts');
    expect(readFileSync(knownHosts, 'utf8')).toMatch(/^\|1\|/);
    expect(statSync(knownHosts).mode & 0o077).toBe(0);
    // Trusted now: no question, same outcome.
    const again = await runPtw(['host', 'check', 'gpu1'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).not.toContain("can't be established");
    expect(again.stdout).toContain('Preflight of gpu1: FAIL');

    const ls = await runPtw(['host', 'ls', '--json'], env);
    const hosts = JSON.parse(ls.stdout) as HostSummary[];
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({
      name: 'gpu1',
      kind: 'ssh',
      address: `${host.sshd.username}@127.0.0.1:${host.sshd.port}`,
    });
    expect(hosts[0]?.lastCheck?.overall).toBe('fail');
  });

  it('refuses a changed host key before authenticating, even with --accept-new-host-key', async () => {
    await host.sshd.rotateHostKey();
    const logBefore = host.sshd.readLog().length;
    const changed = await runPtw(['host', 'check', 'gpu1', '--accept-new-host-key'], env);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/host key.*changed/i);
    expect(changed.stderr).toContain('ssh-keygen -R');
    const logAfter = host.sshd.readLog().slice(logBefore);
    expect(logAfter).not.toMatch(/Accepted publickey|Failed publickey|userauth/i);
  });

  it('names host and port when a host cannot be reached', async () => {
    const closed = await findFreePort();
    await runPtw(['host', 'add', 'dead', '--ssh', `root@127.0.0.1:${closed}`], env);
    const result = await runPtw(['host', 'check', 'dead'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`127.0.0.1:${closed}`);
  });

  it('imports hosts from an ssh_config, reporting bad lines with file and line', async () => {
    const config = path.join(work, 'ssh_config');
    await writeFile(
      config,
      [
        'Host lab-a',
        '  HostName 10.0.0.7',
        '  User ana',
        '  Port notaport',
        '  ProxyJump bastion',
        'Host bastion',
        '  HostName bastion.example',
        'Host *',
        '  IdentityFile ~/.ssh/id_lab',
        '',
      ].join('\n'),
    );
    const result = await runPtw(['host', 'import-ssh-config', '--file', config, '--json', 'lab-a'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/ssh_config:4: .*Port/);
    const { imported } = JSON.parse(result.stdout) as { imported: HostSummary[] };
    expect(imported).toEqual([expect.objectContaining({ name: 'lab-a', jump: 'bastion.example' })]);
    expect((await runPtw(['host', 'import-ssh-config', '--file', path.join(work, 'nope')], env)).code).toBe(2);
  });

  it('removes hosts and exits 2 for unknown names', async () => {
    expect((await runPtw(['host', 'rm', 'dead'], env)).code).toBe(0);
    const missing = await runPtw(['host', 'rm', 'dead'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No host named 'dead'");
    expect((await runPtw(['host', 'check', 'dead'], env)).code).toBe(2);
  });
});
