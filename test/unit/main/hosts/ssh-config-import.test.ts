import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import type { SshConfigCandidate } from '../../../../src/shared/hosts';
import { importSshConfig } from '../../../../src/main/hosts/ssh-config-import';

const fixturePath = fileURLToPath(new URL('../../../fixtures/ssh/openssh-portable__ssh_config', import.meta.url));

describe('importSshConfig', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'ptw-ssh-config-'));
    await mkdir(path.join(home, '.ssh'), { mode: 0o700 });
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  /** Writes a file under the temp home, owner-only as ssh expects of config files. */
  async function write(relative: string, lines: readonly string[]): Promise<string> {
    const file = path.join(home, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
    return file;
  }
  const importFrom = (file: string) => importSshConfig(file, { homeDir: home, localUser: 'me' });
  const byAlias = (candidates: readonly SshConfigCandidate[], alias: string) => {
    const found = candidates.find((c) => c.alias === alias);
    if (!found) throw new Error(`no candidate ${alias} in ${candidates.map((c) => c.alias).join(', ')}`);
    return found;
  };

  it('reads the stock OpenSSH ssh_config (all comments) as no hosts and no problems', async () => {
    const file = path.join(home, '.ssh', 'config');
    await copyFile(fixturePath, file);
    await chmod(file, 0o600);
    expect(await importFrom(file)).toEqual({ candidates: [], problems: [], notImported: [] });
  });

  it('follows Include with globs, paths relative to ~/.ssh and ~, in glob order, and reports a missing one', async () => {
    const config = await write('.ssh/config', [
      'Include conf.d/*.conf',
      'Include ~/.ssh/extra missing/*.conf',
      '',
      'Host main',
      '  HostName main.example.org',
    ]);
    await write('.ssh/conf.d/20-more.conf', ['Host gpu3', '  Port 2203']);
    await write('.ssh/conf.d/10-gpu.conf', [
      '# cluster',
      'Host gpu1 gpu2',
      '  HostName %h.cluster.example',
      '  User alice',
    ]);
    await write('.ssh/conf.d/.hidden.conf', ['Host hidden']);
    await write('.ssh/conf.d/notes.txt', ['Host txt']);
    await write('.ssh/extra', ['Host extra', '  HostName 10.0.0.9']);

    const { candidates, problems } = await importFrom(config);
    expect(candidates.map((c) => [c.alias, c.source])).toEqual([
      ['gpu1', '~/.ssh/conf.d/10-gpu.conf:2'],
      ['gpu2', '~/.ssh/conf.d/10-gpu.conf:2'],
      ['gpu3', '~/.ssh/conf.d/20-more.conf:1'],
      ['extra', '~/.ssh/extra:1'],
      ['main', '~/.ssh/config:4'],
    ]);
    expect(byAlias(candidates, 'gpu2')).toEqual({
      alias: 'gpu2',
      hostname: 'gpu2.cluster.example',
      user: 'alice',
      identityFiles: [],
      proxyJump: [],
      source: '~/.ssh/conf.d/10-gpu.conf:2',
    });
    expect(byAlias(candidates, 'gpu3')).toMatchObject({ hostname: 'gpu3', port: 2203 });
    expect(byAlias(candidates, 'extra').hostname).toBe('10.0.0.9');
    expect(problems).toEqual([
      {
        file: '~/.ssh/config',
        line: 2,
        message: 'Include "missing/*.conf" matched no files (looked for ~/.ssh/missing/*.conf)',
      },
    ]);
  });

  it('computes first-match-wins values across wildcard blocks, with ~, %h, %d, %r, %n in IdentityFile', async () => {
    const config = await write('.ssh/config', [
      'Host gpu1',
      '  User alice',
      '  Port 2201',
      'Host gpu? !gpu9',
      '  User bob',
      '  HostName %h.cluster.example',
      '  IdentityFile ~/.ssh/gpu_%h',
      'Host gpu9',
      'Host *.internal',
      '  User internal',
      'Host *',
      '  User nobody',
      '  Port 22',
      '  IdentityFile ~/.ssh/id_ed25519',
      '  IdentityFile %d/.ssh/id_%r@%n_%%',
      '  IdentityFile ~/.ssh/id_ed25519',
    ]);
    const { candidates, problems, notImported } = await importFrom(config);
    expect(problems).toEqual([]);
    // Patterns (gpu?, !gpu9, *.internal, *) are not candidates: they are listed as not imported, as defaults.
    expect(candidates.map((c) => c.alias)).toEqual(['gpu1', 'gpu9']);
    expect(notImported.map((p) => p.message)).toEqual([
      'pattern "Host gpu? !gpu9" (not a host; its options apply as defaults to the hosts it matches)',
      'pattern "Host *.internal" (not a host; its options apply as defaults to the hosts it matches)',
      'pattern "Host *" (not a host; its options apply as defaults to the hosts it matches)',
    ]);
    expect(byAlias(candidates, 'gpu1')).toEqual({
      alias: 'gpu1',
      hostname: 'gpu1.cluster.example',
      user: 'alice',
      port: 2201,
      identityFiles: [
        path.join(home, '.ssh/gpu_gpu1.cluster.example'),
        path.join(home, '.ssh/id_ed25519'),
        path.join(home, '.ssh/id_alice@gpu1_%'),
      ],
      proxyJump: [],
      source: '~/.ssh/config:1',
    });
    // gpu9 is excluded from `gpu?` by `!gpu9`, so only the Host * values apply.
    expect(byAlias(candidates, 'gpu9')).toMatchObject({
      hostname: 'gpu9',
      user: 'nobody',
      port: 22,
      identityFiles: [path.join(home, '.ssh/id_ed25519'), path.join(home, '.ssh/id_nobody@gpu9_%')],
    });
  });

  it('agrees with `ssh -G` on HostName, User, Port and IdentityFile count', async () => {
    const localUser = os.userInfo().username;
    // Include paths are absolute here: ssh resolves relative ones against the real ~/.ssh, not our temp home.
    await write('conf.d/a.conf', ['Host gpu2', '  HostName two.example', '  User carol']);
    await write('special.conf', ['User sp', 'Host inner', '  HostName inner.example']);
    const config = await write('config', [
      'Host gpu1',
      '  User alice',
      '  Port 2201',
      `Include ${home}/conf.d/*.conf`,
      'Host gpu? !gpu9',
      '  HostName %h.cluster.example',
      '  IdentityFile /keys/%h',
      'Host special',
      `  Include ${home}/special.conf`,
      '  Port 2000',
      'Match originalhost gpu9',
      '  User nine',
      'Match host *.cluster.example !user alice',
      '  Port 2022',
      'Match !final host gpu4.cluster.example',
      '  IdentityFile /keys/first-pass',
      'Host *.cluster.example',
      '  User cluster',
      'Match final originalhost gpu4',
      '  Port 2444',
      'Host inner special gpu9 gpu5 gpu4 gpu1 gpu2 plain',
      'Host *',
      '  IdentityFile /keys/default',
    ]);
    const { candidates, problems } = await importSshConfig(config, { homeDir: home, localUser });
    expect(problems).toEqual([]);
    expect(candidates.map((c) => c.alias)).toEqual([
      'gpu1',
      'gpu2',
      'special',
      'inner',
      'gpu9',
      'gpu5',
      'gpu4',
      'plain',
    ]);

    for (const candidate of candidates) {
      const dump = execFileSync('ssh', ['-G', '-F', config, candidate.alias], { encoding: 'utf8', stdio: 'pipe' });
      const values = (key: string) =>
        dump
          .split('\n')
          .filter((line) => line.toLowerCase().startsWith(`${key} `))
          .map((line) => line.slice(key.length + 1));
      const ours = { hostname: candidate.hostname, user: candidate.user ?? localUser, port: candidate.port ?? 22 };
      const theirs = { hostname: values('hostname')[0], user: values('user')[0], port: Number(values('port')[0]) };
      expect({ alias: candidate.alias, ...ours }).toEqual({ alias: candidate.alias, ...theirs });
      expect(values('identityfile')).toHaveLength(candidate.identityFiles.length);
    }
    // The same, spelled out: a conditional Include applies only inside its block and does not end it.
    expect(byAlias(candidates, 'special')).toMatchObject({ hostname: 'special', user: 'sp', port: 2000 });
    expect(byAlias(candidates, 'inner')).toMatchObject({ hostname: 'inner' });
    expect(byAlias(candidates, 'gpu4')).toMatchObject({
      hostname: 'gpu4.cluster.example',
      user: 'cluster',
      port: 2022,
      identityFiles: ['/keys/gpu4.cluster.example', '/keys/first-pass', '/keys/default'],
    });
  });

  it('resolves ProxyJump hops through other Host aliases, as ssh re-reads the config for each hop', async () => {
    const config = await write('.ssh/config', [
      'Host outer',
      '  HostName outer.example.org',
      '  User ops',
      '  Port 2022',
      'Host bastion',
      '  HostName 10.0.0.1',
      '  User jump',
      '  ProxyJump outer',
      'Host gpu',
      '  HostName 10.0.0.7',
      '  ProxyJump bastion,carol@[2001:db8::5]:2200',
      'Host via-user',
      '  ProxyJump admin@bastion:2222',
      'Host two-named',
      '  ProxyJump outer,bastion',
      'Host direct',
      '  ProxyJump none',
      '  ProxyJump bastion',
    ]);
    const { candidates, problems } = await importFrom(config);
    expect(problems).toEqual([]);
    const outer = { host: 'outer.example.org', user: 'ops', port: 2022 };
    expect(byAlias(candidates, 'bastion').proxyJump).toEqual([outer]);
    expect(byAlias(candidates, 'gpu')).toMatchObject({
      hostname: '10.0.0.7',
      proxyJump: [outer, { host: '10.0.0.1', user: 'jump' }, { host: '2001:db8::5', user: 'carol', port: 2200 }],
    });
    // The hop's own user@ and :port beat its config.
    expect(byAlias(candidates, 'via-user').proxyJump).toEqual([outer, { host: '10.0.0.1', user: 'admin', port: 2222 }]);
    // Only the first hop's own ProxyJump applies (ssh passes the rest with -J, which overrides the config).
    expect(byAlias(candidates, 'two-named').proxyJump).toEqual([outer, { host: '10.0.0.1', user: 'jump' }]);
    expect(byAlias(candidates, 'direct').proxyJump).toEqual([]);
  });

  it('reports ProxyCommand and ProxyJump loops per host, and still imports the hosts', async () => {
    const config = await write('.ssh/config', [
      'Host legacy',
      '  ProxyCommand ssh -W %h:%p gateway.example.com',
      '  ProxyJump ignored-because-proxycommand-came-first',
      'Host loop-a',
      '  ProxyJump loop-b',
      'Host loop-b',
      '  ProxyJump loop-a',
      'Host via-legacy',
      '  ProxyJump legacy',
      'Host off',
      '  ProxyCommand none',
    ]);
    const { candidates, problems } = await importFrom(config);
    expect(candidates.map((c) => c.alias)).toEqual(['legacy', 'loop-a', 'loop-b', 'via-legacy', 'off']);
    expect(byAlias(candidates, 'legacy')).toMatchObject({ hostname: 'legacy', proxyJump: [] });
    expect(byAlias(candidates, 'off').proxyJump).toEqual([]);
    expect(byAlias(candidates, 'via-legacy').proxyJump).toEqual([{ host: 'legacy' }]);
    expect(problems).toEqual([
      {
        file: '~/.ssh/config',
        line: 2,
        message: 'Host legacy: ProxyCommand is not supported; use ProxyJump (imported without a proxy)',
      },
      {
        file: '~/.ssh/config',
        line: 7,
        message: 'Host loop-a: ProxyJump loop (loop-a → loop-b → loop-a); the loop is cut here',
      },
      {
        file: '~/.ssh/config',
        line: 5,
        message: 'Host loop-b: ProxyJump loop (loop-b → loop-a → loop-b); the loop is cut here',
      },
      {
        file: '~/.ssh/config',
        line: 2,
        message: 'Host via-legacy: jump host legacy uses ProxyCommand, which is not supported; use ProxyJump',
      },
    ]);
  });

  it('reports malformed lines with file and line number, and keeps going', async () => {
    const config = await write('.ssh/config', [
      'Host good', // 1
      '  HostName good.example', // 2
      '  Port abc', // 3
      '  User', // 4
      '  Port 70000', // 5
      'Match colour blue', // 6
      '  User nobody-should-get-this', // 7
      'Host', // 8
      '  User leaked', // 9
      'Host after', // 10
      '  HostName "unbalanced', // 11
      '  ProxyJump bad,,hop', // 12
      '  ProxyJump a@', // 13
      '  Frobnicate yes', // 14
      '  IgnoreUnknown Ignored*', // 15
      '  IgnoredOption yes', // 16
      '  HostName %x.example', // 17
      '  HostName after example', // 18
      'Match exec "true"', // 19
      '  User exec-user', // 20
      'Match host', // 21
      '  User broken-match', // 22
      'Host last', // 23
      '  Port 2222', // 24
    ]);
    const { candidates, problems } = await importFrom(config);
    expect(problems).toEqual([
      { file: '~/.ssh/config', line: 3, message: 'Port: port must be a number from 1 to 65535, got "abc"' },
      { file: '~/.ssh/config', line: 4, message: 'User needs a value' },
      { file: '~/.ssh/config', line: 5, message: 'Port: port must be a number from 1 to 65535, got "70000"' },
      {
        file: '~/.ssh/config',
        line: 6,
        message: expect.stringMatching(/^unknown Match criterion "colour" \(expected one of all, .*\); this Match/),
      },
      { file: '~/.ssh/config', line: 8, message: 'Host needs a value' },
      { file: '~/.ssh/config', line: 11, message: 'HostName: unbalanced quotes' },
      {
        file: '~/.ssh/config',
        line: 12,
        message: 'ProxyJump: Invalid jump host 2 ("") of "bad,,hop": it is empty',
      },
      { file: '~/.ssh/config', line: 13, message: 'ProxyJump: Invalid jump host "a@": the host is empty' },
      {
        file: '~/.ssh/config',
        line: 14,
        message: 'unknown keyword "Frobnicate" (ssh refuses the file unless IgnoreUnknown lists it)',
      },
      { file: '~/.ssh/config', line: 17, message: 'HostName may only use the tokens %h and %%, not %x' },
      { file: '~/.ssh/config', line: 18, message: 'HostName takes one value, got "after example"' },
      {
        file: '~/.ssh/config',
        line: 19,
        message: 'Match exec is not evaluated when importing; this Match block is treated as not matching',
      },
      { file: '~/.ssh/config', line: 21, message: 'Match host needs a value' },
    ]);
    expect(candidates).toEqual([
      {
        alias: 'good',
        hostname: 'good.example',
        identityFiles: [],
        proxyJump: [],
        source: '~/.ssh/config:1',
      },
      // Lines under the broken `Host` (8) belong to no block: `User leaked` reaches nobody.
      { alias: 'after', hostname: 'after', identityFiles: [], proxyJump: [], source: '~/.ssh/config:10' },
      { alias: 'last', hostname: 'last', port: 2222, identityFiles: [], proxyJump: [], source: '~/.ssh/config:23' },
    ]);
  });

  it('lexes negated criteria and quoted values, and evaluates Match user/localuser', async () => {
    const config = await write('.ssh/config', [
      'Host=quoted',
      '  User "first user"',
      '  IdentityFile "~/.ssh/key with space"',
      'Match !final originalhost matcher',
      '  HostName matched.example',
      'Match localuser me user deploy',
      '  Port 2202',
      'Host matcher',
      '  User deploy',
    ]);
    const { candidates, problems } = await importFrom(config);
    expect(problems).toEqual([]);
    expect(byAlias(candidates, 'quoted')).toMatchObject({
      user: 'first user',
      identityFiles: [path.join(home, '.ssh/key with space')],
    });
    // `Match … user deploy` is read before `User deploy` is set, so it does not apply (the user is still `me`).
    expect(byAlias(candidates, 'matcher')).toMatchObject({ hostname: 'matched.example', user: 'deploy' });
    expect(byAlias(candidates, 'matcher').port).toBeUndefined();
  });

  it('reports an Include loop and too-deep nesting instead of recursing', async () => {
    const config = await write('.ssh/config', ['Host top', 'Include config', 'Include deep/0']);
    for (let i = 0; i < 20; i++) await write(`.ssh/deep/${i}`, [`Host deep${i}`, `Include deep/${i + 1}`]);
    const { candidates, problems } = await importFrom(config);
    expect(candidates.map((c) => c.alias)).toEqual(['top', ...Array.from({ length: 16 }, (_, i) => `deep${i}`)]);
    expect(problems).toEqual([
      {
        file: '~/.ssh/config',
        line: 2,
        message: 'Include loop (~/.ssh/config → ~/.ssh/config); ~/.ssh/config is not read again',
      },
      { file: '~/.ssh/deep/15', line: 2, message: 'Include nested more than 16 levels deep; skipped' },
    ]);
  });

  it('warns that ssh refuses a config others can write', async () => {
    const config = await write('.ssh/config', ['Host h']);
    await chmod(config, 0o664);
    const { candidates, problems } = await importFrom(config);
    expect(candidates.map((c) => c.alias)).toEqual(['h']);
    expect(problems).toEqual([
      { file: '~/.ssh/config', line: 0, message: expect.stringMatching(/mode 664.*chmod 600/) },
    ]);
  });

  it('throws SSH_CONFIG_INVALID naming the file when it is missing or not a file', async () => {
    const missing = path.join(home, '.ssh', 'nope');
    const error = await importFrom(missing).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'SSH_CONFIG_INVALID',
      message: `Cannot read SSH config ${missing}: no such file`,
    });
    await expect(importFrom(path.join(home, '.ssh'))).rejects.toMatchObject({
      code: 'SSH_CONFIG_INVALID',
      message: expect.stringContaining('is a directory'),
    });
  });

  it('accepts CRLF line ends and shows paths outside the home folder as they are', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'ptw-ssh-config-outside-'));
    try {
      const file = path.join(outside, 'config');
      await writeFile(file, 'Host win\r\n  HostName win.example\r\n  Port 2200\r\n', { mode: 0o600 });
      const { candidates, problems } = await importFrom(file);
      expect(problems).toEqual([]);
      expect(candidates).toEqual([
        { alias: 'win', hostname: 'win.example', port: 2200, identityFiles: [], proxyJump: [], source: `${file}:1` },
      ]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('skips a Host name that cannot be a profile with why, and imports the rest', async () => {
    const config = await write('.ssh/config', [
      'Host [fe80::1] gpu1',
      '  User alice',
      'Host fe80::2',
      'Host a/b',
      'Host gpu2',
      '  HostName 10.0.0.2',
    ]);
    const { candidates, problems, notImported } = await importFrom(config);
    expect(problems).toEqual([]);
    expect(candidates.map((c) => c.alias)).toEqual(['gpu1', 'gpu2']);
    expect(notImported).toEqual([
      {
        file: '~/.ssh/config',
        line: 1,
        message: expect.stringMatching(/^Host \[fe80::1\] cannot be a profile name \(letters, digits/),
      },
      { file: '~/.ssh/config', line: 3, message: expect.stringContaining('Host fe80::2 cannot be a profile name') },
      { file: '~/.ssh/config', line: 4, message: expect.stringContaining('Host a/b cannot be a profile name') },
    ]);
  });

  it('reports per host the connection options the app does not use', async () => {
    const config = await write('.ssh/config', [
      'Host gpu1',
      '  StrictHostKeyChecking no',
      '  UserKnownHostsFile /dev/null',
      'Host gpu2',
      '  ProxyCommand ssh -W %h:%p bastion',
      'Host *',
      '  ControlMaster auto',
      '  ControlPath ~/.ssh/cm-%r@%h:%p',
    ]);
    const { candidates, problems } = await importFrom(config);
    expect(candidates.map((c) => c.alias)).toEqual(['gpu1', 'gpu2']);
    const messages = problems.map((p) => `${p.line}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^2: Host gpu1: StrictHostKeyChecking no is not used: the app checks host keys itself/),
        expect.stringMatching(/^3: Host gpu1: UserKnownHostsFile \/dev\/null is not used/),
        expect.stringMatching(/^7: Host gpu1: ControlMaster auto is not used/),
        expect.stringMatching(/^8: Host gpu2: ControlPath .* is not used/),
        expect.stringMatching(/^5: Host gpu2: ProxyCommand is not supported/),
      ]),
    );
    expect(messages.filter((m) => m.includes('Host gpu2: StrictHostKeyChecking'))).toEqual([]);
  });

  it('refuses an Include of a FIFO, a device or a huge file, per line and in bounded time', async () => {
    const fifo = path.join(home, '.ssh', 'pipe.conf');
    execFileSync('mkfifo', [fifo]);
    await writeFile(path.join(home, '.ssh', 'huge.conf'), Buffer.alloc(2 * 1024 * 1024, 0x23));
    const config = await write('.ssh/config', [
      'Include ~/.ssh/pipe.conf',
      'Include /dev/zero',
      'Include ~/.ssh/huge.conf',
      'Host gpu1',
    ]);
    const started = Date.now();
    const { candidates, problems } = await importFrom(config);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(candidates.map((c) => c.alias)).toEqual(['gpu1']);
    expect(problems).toEqual([
      { file: '~/.ssh/config', line: 1, message: expect.stringContaining('is a FIFO, not a regular file; not read') },
      { file: '~/.ssh/config', line: 2, message: expect.stringContaining('is a device, not a regular file; not read') },
      { file: '~/.ssh/config', line: 3, message: expect.stringContaining('more than the 1 MiB read; not read') },
    ]);
  });

  it('matches a pathological Host pattern in bounded time, and does not read a line with control characters', async () => {
    const config = await write('.ssh/config', [
      `Host ${'*a'.repeat(3000)}b ${'?'.repeat(70000)}`,
      '  User slow',
      'Host gpu1',
      '  HostName evil\u001b[2J.example',
      '  User alice',
      'Host esc\u001b]0;title\u0007',
    ]);
    const started = Date.now();
    const { candidates, problems } = await importFrom(config);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(candidates).toEqual([expect.objectContaining({ alias: 'gpu1', hostname: 'gpu1', user: 'alice' })]);
    expect(problems).toEqual([
      { file: '~/.ssh/config', line: 4, message: 'the line has a control character (\\x1b); not read' },
      { file: '~/.ssh/config', line: 6, message: 'the line has a control character (\\x1b); not read' },
    ]);
  });
});
