import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkKnownHosts,
  entryMatchesName,
  fingerprintSha256,
  formatKnownHostsLine,
  hashKnownHostsName,
  keyTypeOfBlob,
  knownHostsName,
  matchPatternList,
  parseKnownHosts,
  type KnownHostEntry,
} from '../../../../src/main/hosts/known-hosts';

const fixturePath = fileURLToPath(
  new URL('../../../fixtures/ssh/openssh-portable__regress_hostkeys_known_hosts', import.meta.url),
);
const SOURCE = 'known_hosts';

interface GeneratedKey {
  readonly file: string;
  readonly type: string;
  readonly blob: Buffer;
}

function generateKey(dir: string, name: string, type: 'ed25519' | 'ecdsa' | 'rsa'): GeneratedKey {
  const file = path.join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', name, '-f', file]);
  const [keyType, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/);
  return { file, type: keyType ?? '', blob: Buffer.from(base64 ?? '', 'base64') };
}

/** The SHA256 fingerprint `ssh-keygen -lf` prints for a public key file. */
function sshKeygenFingerprint(pubFile: string): string {
  const fields = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' }).split(' ');
  return fields[1] ?? '';
}

function keyOfLine(entries: readonly KnownHostEntry[], line: number): Buffer {
  const entry = entries.find((e) => e.line === line);
  if (!entry) throw new Error(`no entry on line ${line}`);
  return entry.key;
}

describe('parseKnownHosts on the OpenSSH regress known_hosts', () => {
  let text: string;
  beforeAll(async () => {
    text = await readFile(fixturePath, 'utf8');
  });

  it('reads 23 entries and reports the CA line and the six invalid lines by line number', () => {
    const { entries, problems } = parseKnownHosts(text, SOURCE);
    expect(entries.map((e) => e.line)).toEqual([
      2, 3, 4, 7, 8, 9, 12, 13, 14, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 29, 33, 34,
    ]);
    expect(problems.map((p) => p.line)).toEqual([34, 37, 38, 39, 40, 41, 42]);
    expect(problems.every((p) => p.source === SOURCE)).toBe(true);
    const message = (line: number) => problems.find((p) => p.line === line)?.message;
    expect(message(34)).toMatch(/@cert-authority lines are not supported/);
    expect(message(37)).toMatch(/unknown marker "@what"/);
    expect(message(38)).toMatch(/no key after the host names "sisyphus\.example\.com"/);
    expect(message(39)).toMatch(/ssh-ed25519 has no key data/);
    expect(message(40)).toMatch(/invalid ssh-ed25519 key: .*truncated/);
    expect(message(41)).toMatch(/invalid ssh-XXX key/);
    expect(message(42)).toMatch(/invalid ssh-rsa key/);
  });

  it('keeps markers, hashed names, comma lists, key types and comments', () => {
    const { entries } = parseKnownHosts(text, SOURCE);
    const at = (line: number) => entries.find((e) => e.line === line);
    expect(at(33)?.marker).toBe('revoked');
    expect(at(34)?.marker).toBe('cert-authority');
    expect(entries.filter((e) => e.marker === undefined)).toHaveLength(21);
    expect(at(7)?.names).toEqual({
      kind: 'patterns',
      patterns: ['prometheus.example.com', '192.0.2.1', '2001:db8::1'],
    });
    expect(at(12)?.names).toEqual({ kind: 'patterns', patterns: ['*.example.com', '192.0.2.*', '2001:*'] });
    expect(entries.filter((e) => e.names.kind === 'hashed').map((e) => e.line)).toEqual([
      17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 29,
    ]);
    expect(at(2)).toMatchObject({ keyType: 'ecdsa-sha2-nistp384', comment: 'ECDSA #1' });
    expect(at(3)).toMatchObject({ keyType: 'ssh-ed25519', comment: 'ED25519 #1' });
    expect(at(4)).toMatchObject({ keyType: 'ssh-rsa', comment: 'RSA #1' });
    expect(at(7)?.keyType).toBe('ecdsa-sha2-nistp521');
  });

  // The expected lines per name are those of OpenSSH's regress/unittests/hostkeys/test_iterate.c
  // (match_host_s, match_host_p, match_ipv4, match_ipv6), for the current fixture's line numbers.
  it.each([
    ['sisyphus.example.com', [2, 3, 4, 12, 13, 14, 17, 18, 19, 33]],
    ['prometheus.example.com', [7, 8, 9, 12, 13, 14, 21, 24, 27, 34]],
    ['192.0.2.1', [7, 8, 9, 12, 13, 14, 22, 25, 28]],
    ['2001:db8::1', [7, 8, 9, 12, 13, 14, 23, 26, 29]],
    ['tiresias.example.com', [12, 13, 14]],
    ['192.0.2.200', [12, 13, 14]],
    ['actaeon.example.org', []],
    ['192.168.0.1', []],
    ['[sisyphus.example.com]:2222', []],
  ])('lines matching %s', (name, lines) => {
    const { entries } = parseKnownHosts(text, SOURCE);
    expect(entries.filter((e) => entryMatchesName(e, name)).map((e) => e.line)).toEqual(lines);
  });

  it('gives the fingerprints ssh-keygen -l prints for the same file', () => {
    const { entries } = parseKnownHosts(text, SOURCE);
    // ssh-keygen -l lists each plain key line as "bits SHA256:… comment (TYPE)"; it skips marker lines.
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', fixturePath], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => {
        const [, fingerprint, comment] = /^\d+ (SHA256:\S+) (.*) \(\w+\)$/.exec(line) ?? [];
        return `${fingerprint} ${comment}`;
      });
    const ours = entries.filter((e) => e.marker === undefined).map((e) => `${fingerprintSha256(e.key)} ${e.comment}`);
    expect(ours).toHaveLength(21);
    for (const line of ours) expect(printed).toContain(line);
    expect(fingerprintSha256(keyOfLine(entries, 3))).toBe('SHA256:a8pHtsZVzeDtJ6BjvDO+1CHYLpJhljmGfEjYOa7Z7kw');
  });
});

describe('checkKnownHosts on the OpenSSH regress known_hosts', () => {
  let dir: string;
  let entries: KnownHostEntry[];
  let freshEd25519: GeneratedKey;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-known-hosts-'));
    freshEd25519 = generateKey(dir, 'fresh', 'ed25519');
    entries = parseKnownHosts(await readFile(fixturePath, 'utf8'), SOURCE).entries;
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const candidate = (host: string, key: Buffer, port = 22) => ({ host, port, keyType: keyTypeOfBlob(key), key });

  it('trusts a key recorded for the host (plain line, wildcard line, hashed line)', () => {
    expect(checkKnownHosts(entries, candidate('sisyphus.example.com', keyOfLine(entries, 3)))).toEqual({
      status: 'trusted',
      source: `${SOURCE}:3`,
    });
    expect(checkKnownHosts(entries, candidate('sisyphus.example.com', keyOfLine(entries, 13)))).toEqual({
      status: 'trusted',
      source: `${SOURCE}:13`,
    });
    expect(checkKnownHosts(entries, candidate('Sisyphus.Example.COM', keyOfLine(entries, 18)))).toEqual({
      status: 'trusted',
      source: `${SOURCE}:18`,
    });
    expect(checkKnownHosts(entries, candidate('2001:db8::1', keyOfLine(entries, 26)))).toMatchObject({
      status: 'trusted',
    });
  });

  it('reports a revoked key as revoked', () => {
    expect(checkKnownHosts(entries, candidate('sisyphus.example.com', keyOfLine(entries, 33)))).toEqual({
      status: 'revoked',
      source: `${SOURCE}:33`,
    });
  });

  it('reports a different key of a recorded type as changed, with the known fingerprints', () => {
    const verdict = checkKnownHosts(entries, candidate('sisyphus.example.com', freshEd25519.blob));
    // ED25519 #1 (line 3), #3 (the wildcard line 13) and #5 (hashed, line 18) are recorded for sisyphus.
    expect(verdict).toEqual({
      status: 'changed',
      source: `${SOURCE}:3`,
      knownFingerprints: [3, 13, 18].map((line) => fingerprintSha256(keyOfLine(entries, line))),
    });
  });

  it('is unknown when only other key types are recorded, or only a CA line, or nothing', () => {
    // prometheus has ecdsa-sha2-nistp521 and nistp256 keys, no nistp384: a different curve is a different type.
    expect(checkKnownHosts(entries, candidate('prometheus.example.com', keyOfLine(entries, 2)))).toEqual({
      status: 'unknown',
    });
    expect(checkKnownHosts(entries, candidate('actaeon.example.org', keyOfLine(entries, 3)))).toEqual({
      status: 'unknown',
    });
    // Port 2222 is recorded as [host]:2222, which the file does not have.
    expect(checkKnownHosts(entries, candidate('sisyphus.example.com', keyOfLine(entries, 3), 2222))).toEqual({
      status: 'unknown',
    });
    const caOnly = entries.filter((e) => e.line === 34);
    expect(checkKnownHosts(caOnly, candidate('prometheus.example.com', keyOfLine(entries, 34)))).toEqual({
      status: 'unknown',
    });
  });

  it('lets a revoked line win over a trusted line for the same key', () => {
    const key = keyOfLine(entries, 3);
    const text = [
      `sisyphus.example.com ssh-ed25519 ${key.toString('base64')}`,
      `@revoked * ssh-ed25519 ${key.toString('base64')}`,
    ].join('\n');
    expect(checkKnownHosts(parseKnownHosts(text, 'f').entries, candidate('sisyphus.example.com', key))).toEqual({
      status: 'revoked',
      source: 'f:2',
    });
  });
});

describe('known_hosts made by ssh-keygen', () => {
  let dir: string;
  let ed25519: GeneratedKey;
  let ecdsa: GeneratedKey;
  let rsa: GeneratedKey;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ptw-known-hosts-'));
    ed25519 = generateKey(dir, 'ed', 'ed25519');
    ecdsa = generateKey(dir, 'ec', 'ecdsa');
    rsa = generateKey(dir, 'rsa', 'rsa');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes the same SHA256 fingerprints as ssh-keygen -lf', () => {
    for (const key of [ed25519, ecdsa, rsa]) {
      expect(fingerprintSha256(key.blob)).toBe(sshKeygenFingerprint(`${key.file}.pub`));
      expect(fingerprintSha256(key.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    }
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(ed25519.blob)).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(ecdsa.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOfBlob(rsa.blob)).toBe('ssh-rsa');
    expect(() => keyTypeOfBlob(Buffer.alloc(0))).toThrow(/not an SSH public key blob: truncated/);
    expect(() => keyTypeOfBlob(Buffer.from([0, 0, 0, 9, 0x73, 0x73]))).toThrow(/truncated in the key type/);
  });

  it('matches entries hashed by ssh-keygen -H, including [host]:port names', async () => {
    const file = path.join(dir, 'known_hosts');
    const ed = ed25519.blob.toString('base64');
    await writeFile(
      file,
      [
        `gpu.example.com,10.1.2.3 ssh-ed25519 ${ed}`,
        `[gpu.example.com]:2222 ${ecdsa.type} ${ecdsa.blob.toString('base64')}`,
        '',
      ].join('\n'),
    );
    // stdio piped: ssh-keygen warns on stderr that the .old backup still has the plain names.
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const { entries, problems } = parseKnownHosts(await readFile(file, 'utf8'), file);
    expect(problems).toEqual([]);
    // ssh-keygen -H writes one hashed line per name.
    expect(entries.map((e) => e.names.kind)).toEqual(['hashed', 'hashed', 'hashed']);
    expect(entries.filter((e) => entryMatchesName(e, 'gpu.example.com'))).toHaveLength(1);
    expect(entries.filter((e) => entryMatchesName(e, '10.1.2.3'))).toHaveLength(1);
    expect(entries.filter((e) => entryMatchesName(e, '[gpu.example.com]:2222'))).toHaveLength(1);
    expect(entries.filter((e) => entryMatchesName(e, 'gpu2.example.com'))).toHaveLength(0);

    const at = (host: string, port: number, key: GeneratedKey) => ({ host, port, keyType: key.type, key: key.blob });
    expect(checkKnownHosts(entries, at('gpu.example.com', 22, ed25519)).status).toBe('trusted');
    expect(checkKnownHosts(entries, at('gpu.example.com', 2222, ecdsa)).status).toBe('trusted');
    expect(checkKnownHosts(entries, at('gpu.example.com', 2200, ecdsa)).status).toBe('unknown');
    expect(checkKnownHosts(entries, at('gpu.example.com', 22, ecdsa)).status).toBe('unknown');
  });

  it('writes hashed lines that ssh-keygen -F finds', async () => {
    const file = path.join(dir, 'ours');
    await writeFile(
      file,
      `${formatKnownHostsLine('GPU.example.com', 22, ed25519.blob)}\n` +
        `${formatKnownHostsLine('gpu.example.com', 2222, rsa.blob)}\n`,
    );
    const found22 = execFileSync('ssh-keygen', ['-F', 'gpu.example.com', '-f', file], { encoding: 'utf8' });
    expect(found22).toContain(ed25519.blob.toString('base64'));
    const found2222 = execFileSync('ssh-keygen', ['-F', '[gpu.example.com]:2222', '-f', file], { encoding: 'utf8' });
    expect(found2222).toContain(rsa.blob.toString('base64'));
    expect(found2222).not.toContain(ed25519.blob.toString('base64'));
  });
});

describe('known_hosts details', () => {
  const key = (() => {
    // A syntactically valid Ed25519 blob: string "ssh-ed25519", string of 32 bytes.
    const type = Buffer.from('ssh-ed25519');
    const blob = Buffer.alloc(4 + type.length + 4 + 32, 7);
    blob.writeUInt32BE(type.length, 0);
    type.copy(blob, 4);
    blob.writeUInt32BE(32, 4 + type.length);
    return blob;
  })();
  const b64 = key.toString('base64');

  it('applies negated patterns, ? wildcards, [host]:port patterns and CRLF line ends', () => {
    const text = [
      `!bad.example.com,*.example.com ssh-ed25519 ${b64}`,
      `gpu-?? ssh-ed25519 ${b64}`,
      `[10.0.0.5]:2200 ssh-ed25519 ${b64}\r`,
    ].join('\r\n');
    const { entries, problems } = parseKnownHosts(text, 'f');
    expect(problems).toEqual([]);
    const lines = (name: string) => entries.filter((e) => entryMatchesName(e, name)).map((e) => e.line);
    expect(lines('good.example.com')).toEqual([1]);
    expect(lines('bad.example.com')).toEqual([]);
    expect(lines('gpu-01')).toEqual([2]);
    expect(lines('gpu-1')).toEqual([]);
    expect(lines(knownHostsName('10.0.0.5', 2200))).toEqual([3]);
    expect(lines(knownHostsName('10.0.0.5', 22))).toEqual([]);
  });

  it('reports malformed hashed names, SSH-1 lines and key type mismatches', () => {
    const text = [
      `|1|c2hvcnQ=|c2hvcnQ= ssh-ed25519 ${b64}`,
      `|2|abc|def ssh-ed25519 ${b64}`,
      'old.example.com 1024 35 1234567',
      `mismatch.example.com ssh-rsa ${b64}`,
      `@revoked`,
      `host ssh-ed25519 not*base64`,
      `host ssh-ed25519 ${b64} a comment # with hash`,
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, 'f');
    expect(problems).toEqual([
      { source: 'f', line: 1, message: 'hashed host salt and hash must be 20 bytes each' },
      { source: 'f', line: 2, message: 'unsupported hashed host format "|2|…"' },
      { source: 'f', line: 3, message: 'SSH-1 RSA keys ("bits exponent modulus") are not supported' },
      { source: 'f', line: 4, message: 'key type mismatch: the line says ssh-rsa, the key is ssh-ed25519' },
      { source: 'f', line: 5, message: 'missing host names' },
      { source: 'f', line: 6, message: 'key data for ssh-ed25519 is not valid base64' },
    ]);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.comment).toBe('a comment # with hash');
  });

  it('hashes names as HashKnownHosts does (HMAC-SHA1 keyed with the salt)', () => {
    const salt = Buffer.alloc(20, 1);
    const hashed = hashKnownHostsName('[gpu.example.com]:2222', salt);
    expect(hashed).toMatch(/^\|1\|AQEBAQEBAQEBAQEBAQEBAQEBAQE=\|[A-Za-z0-9+/]{27}=$/);
    const { entries } = parseKnownHosts(`${hashed} ssh-ed25519 ${b64}`, 'f');
    expect(entries.filter((e) => entryMatchesName(e, '[gpu.example.com]:2222'))).toHaveLength(1);
    expect(entries.filter((e) => entryMatchesName(e, 'gpu.example.com'))).toHaveLength(0);
  });

  it('matches pattern lists as OpenSSH match_pattern_list does', () => {
    expect(matchPatternList('a.example.com', ['*.example.com'])).toBe(true);
    expect(matchPatternList('a.example.com', ['*.example.com', '!a.*'])).toBe(false);
    expect(matchPatternList('a.example.com', ['!b.*'])).toBe(false);
    expect(matchPatternList('a.example.com', ['*.EXAMPLE.com'], true)).toBe(true);
    expect(matchPatternList('a.example.com', ['*.EXAMPLE.com'])).toBe(false);
    expect(matchPatternList('a(b)c', ['a(b)?'])).toBe(true);
  });
});
