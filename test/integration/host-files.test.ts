// Files on the host through the shared SSH connection (SFTP): how run folders are written and records tailed.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HostConnection } from '../../src/main/hosts/host-connection';
import { hostProfileSchema } from '../../src/shared/hosts';
import { MemoryHostKeyTrust } from '../support/memory-host-key-trust';
import { describeWithTestHost } from '../support/test-host-availability';
import { startTestSshd, type TestSshd } from '../support/test-sshd';

describeWithTestHost('host files over SFTP', () => {
  let sshd: TestSshd;
  let conn: HostConnection;
  let dir: string;

  beforeAll(async () => {
    sshd = await startTestSshd();
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-host-files-'));
    const trust = new MemoryHostKeyTrust().add(sshd.host, sshd.port, sshd.hostPublicKey);
    conn = new HostConnection(
      hostProfileSchema.parse({
        name: 'files',
        kind: 'ssh',
        hostname: sshd.host,
        port: sshd.port,
        user: sshd.username,
        identityFiles: [sshd.privateKeyPath],
      }),
      { trust, confirmHostKey: async () => 'refuse', askPassphrase: async () => undefined, env: { HOME: dir } },
    );
  });

  afterAll(async () => {
    await conn?.dispose();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a file with its mode and reads it back, whole and from an offset', async () => {
    const file = path.join(dir, 'supervisor.py');
    const data = Buffer.alloc(700 * 1024, 'abcdefghij');
    await conn.session().writeFile(file, data, { mode: 0o700 });
    expect((await readFile(file)).equals(data)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o700);
    expect((await conn.session().readFile(file)).equals(data)).toBe(true);
    expect((await conn.session().readFile(file, { offset: 300_001, maxBytes: 5 })).toString()).toBe('bcdef');
    expect((await conn.session().readFile(file, { offset: data.length })).length).toBe(0);
  });

  it('says which file is missing', async () => {
    await expect(conn.session().readFile(path.join(dir, 'nope.cast'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('nope.cast'),
    });
  });
});
