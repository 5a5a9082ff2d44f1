import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HostKeyCandidate, HostKeyVerdict } from './host-key-trust-types';

/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): parsing, host matching (plain patterns
 * and `|1|` hashed names), key fingerprints, and the verdict for one presented host key. Pure: no file access.
 */

export type KnownHostMarker = 'revoked' | 'cert-authority';

/** The first field of a line: a comma-separated pattern list, or one HMAC-SHA1-hashed name (`|1|salt|hash`). */
export type KnownHostNames =
  | { readonly kind: 'patterns'; readonly patterns: readonly string[] }
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer };

export interface KnownHostEntry {
  /** The file (or other origin) the line came from, as given to {@link parseKnownHosts}. */
  readonly source: string;
  /** 1-based line number. */
  readonly line: number;
  readonly marker?: KnownHostMarker;
  readonly names: KnownHostNames;
  /** The key type as read from the blob (e.g. `ssh-ed25519`); the line's type field must agree with it. */
  readonly keyType: string;
  /** The public key blob (SSH wire format). */
  readonly key: Buffer;
  readonly comment?: string;
}

export interface KnownHostsProblem {
  readonly source: string;
  /** 1-based line number; 0 when the problem is the whole file (e.g. unreadable). */
  readonly line: number;
  readonly message: string;
}

export interface ParsedKnownHosts {
  readonly entries: KnownHostEntry[];
  readonly problems: KnownHostsProblem[];
}

/** Host key types OpenSSH writes into known_hosts. Certificates never appear there (CAs do, as plain keys). */
const supportedKeyTypes = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-dss',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

const HASH_MAGIC = '|1|';
const SHA1_LENGTH = 20;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseKnownHosts(text: string, source: string): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const result = parseKnownHostsLine(raw.replace(/\r$/, ''));
    if (result === undefined) return;
    if ('error' in result) {
      problems.push({ source, line, message: result.error });
      return;
    }
    const entry: KnownHostEntry = { source, line, ...result };
    entries.push(entry);
    if (entry.marker === 'cert-authority') {
      // Recognised so that the line is not reported as garbage, but host certificates are not verified:
      // a host whose only match is a CA line stays `unknown`.
      problems.push({
        source,
        line,
        message: '@cert-authority lines are not supported (host certificates are not verified); line ignored',
      });
    }
  });
  return { entries, problems };
}

type ParsedLine = Omit<KnownHostEntry, 'source' | 'line'>;

/** One line: `undefined` for blank lines and comments, `{ error }` for an invalid line. */
function parseKnownHostsLine(text: string): ParsedLine | { error: string } | undefined {
  let rest = text.trimStart();
  if (rest === '' || rest.startsWith('#')) return undefined;

  let marker: KnownHostMarker | undefined;
  if (rest.startsWith('@')) {
    const word = firstField(rest);
    if (word === '@revoked') marker = 'revoked';
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return { error: `unknown marker "${word}" (expected @revoked or @cert-authority)` };
    rest = rest.slice(word.length).trimStart();
  }

  const hostField = firstField(rest);
  if (hostField === '') return { error: 'missing host names' };
  rest = rest.slice(hostField.length).trimStart();
  const names = parseNames(hostField);
  if ('error' in names) return names;

  const typeField = firstField(rest);
  if (typeField === '' || typeField.startsWith('#')) return { error: `no key after the host names "${hostField}"` };
  if (/^\d+$/.test(typeField)) return { error: 'SSH-1 RSA keys ("bits exponent modulus") are not supported' };
  rest = rest.slice(typeField.length).trimStart();

  const blobField = firstField(rest);
  if (blobField === '') return { error: `key type ${typeField} has no key data` };
  const comment = rest.slice(blobField.length).trim();
  if (!BASE64.test(blobField)) return { error: `key data for ${typeField} is not valid base64` };
  const key = Buffer.from(blobField, 'base64');

  const blobProblem = describeKeyBlobProblem(key);
  if (blobProblem !== undefined) return { error: `invalid ${typeField} key: ${blobProblem}` };
  const keyType = keyTypeOfBlob(key);
  if (keyType !== typeField) return { error: `key type mismatch: the line says ${typeField}, the key is ${keyType}` };

  return { ...(marker ? { marker } : {}), names, keyType, key, ...(comment ? { comment } : {}) };
}

function firstField(text: string): string {
  const match = /^\S*/.exec(text);
  return match ? match[0] : '';
}

function parseNames(field: string): KnownHostNames | { error: string } {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field.split(',') };
  if (!field.startsWith(HASH_MAGIC)) return { error: `unsupported hashed host format "${field.slice(0, 3)}…"` };
  const parts = field.slice(HASH_MAGIC.length).split('|');
  const [saltText, hashText] = parts;
  if (parts.length !== 2 || saltText === undefined || hashText === undefined) {
    return { error: 'hashed host must be |1|salt|hash' };
  }
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) return { error: 'hashed host is not valid base64' };
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length !== SHA1_LENGTH || hash.length !== SHA1_LENGTH) {
    return { error: `hashed host salt and hash must be ${SHA1_LENGTH} bytes each` };
  }
  return { kind: 'hashed', salt, hash };
}

// ---------------------------------------------------------------------------------------------------------------
// Key blobs (RFC 4253 §6.6 wire format)

/** Reads SSH wire-format fields from a buffer; every read is bounds-checked. */
class WireReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  string(what: string): Buffer {
    if (this.offset + 4 > this.buffer.length) throw new Error(`truncated before ${what}`);
    const length = this.buffer.readUInt32BE(this.offset);
    const start = this.offset + 4;
    if (start + length > this.buffer.length) throw new Error(`truncated in ${what}`);
    this.offset = start + length;
    return this.buffer.subarray(start, start + length);
  }

  done(): boolean {
    return this.offset === this.buffer.length;
  }
}

/** The key type named at the start of an SSH public key blob, e.g. `ssh-ed25519`. Throws on a malformed blob. */
export function keyTypeOfBlob(blob: Buffer): string {
  let type: Buffer;
  try {
    type = new WireReader(blob).string('the key type');
  } catch (err) {
    throw new Error(`not an SSH public key blob: ${(err as Error).message}`);
  }
  // Key type names are printable ASCII (RFC 4250 §4.6.1); anything else means this is not a key blob.
  if (type.length === 0 || type.length > 64 || !/^[\x21-\x7e]+$/.test(type.toString('latin1'))) {
    throw new Error('not an SSH public key blob: the key type is not a printable name');
  }
  return type.toString('latin1');
}

/** Why a blob is not a well-formed public key of a supported type, or `undefined` when it is. */
export function describeKeyBlobProblem(blob: Buffer): string | undefined {
  let type: string;
  try {
    type = keyTypeOfBlob(blob);
  } catch (err) {
    return (err as Error).message;
  }
  if (!supportedKeyTypes.has(type)) return `unsupported key type ${type}`;
  const reader = new WireReader(blob);
  try {
    reader.string('the key type');
    const curve = /^(?:sk-)?ecdsa-sha2-(nistp\d+)/.exec(type)?.[1];
    if (type === 'ssh-rsa') {
      reader.string('the RSA exponent');
      reader.string('the RSA modulus');
    } else if (type === 'ssh-dss') {
      for (const part of ['p', 'q', 'g', 'y']) reader.string(`the DSA ${part}`);
    } else if (curve !== undefined) {
      const named = reader.string('the curve name').toString('latin1');
      if (named !== curve) return `curve ${named} does not match key type ${type}`;
      const point = reader.string('the public point');
      const expected = { nistp256: 65, nistp384: 97, nistp521: 133 }[curve];
      if (point.length !== expected || point[0] !== 0x04) return `public point is not an uncompressed ${curve} point`;
    } else {
      const publicKey = reader.string('the Ed25519 public key');
      if (publicKey.length !== 32) return `Ed25519 public key is ${publicKey.length} bytes, expected 32`;
    }
    if (type.startsWith('sk-')) reader.string('the security key application');
  } catch (err) {
    return (err as Error).message;
  }
  return reader.done() ? undefined : 'trailing bytes after the key';
}

/** `SHA256:<base64, no padding>`, exactly as `ssh-keygen -lf` and ssh's prompts print it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Host matching

/** The name known_hosts records for a host: the plain host on port 22, `[host]:port` otherwise (lowercased). */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** A `|1|salt|hash` name as `HashKnownHosts yes` writes it: HMAC-SHA1 of the name keyed with a random salt. */
export function hashKnownHostsName(name: string, salt: Buffer = randomBytes(SHA1_LENGTH)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `${HASH_MAGIC}${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** One known_hosts line for a key, with the host name hashed: `|1|salt|hash keytype base64`. */
export function formatKnownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hashKnownHostsName(knownHostsName(host, port))} ${keyTypeOfBlob(key)} ${key.toString('base64')}`;
}

/**
 * OpenSSH's match_pattern (match.c): `*` matches any run of characters, `?` exactly one, everything else itself.
 * Matched greedily with one backtrack point (the last `*`), so time is at most text × pattern length: a pattern
 * of a thousand stars is slow for no one (a regex built from it backtracks exponentially, or is too big to build).
 */
export function matchWildcard(text: string, pattern: string): boolean {
  return matchStars(
    text.length,
    pattern.length,
    (p) => pattern[p] === '*',
    (p, t) => pattern[p] === '?' || pattern[p] === text[t],
  );
}

/**
 * The greedy match with one backtrack point behind {@link matchWildcard} (and the Include globs), over any pattern:
 * item `p` of the pattern is a star (`isStar`) or matches one character at text position `t` (`matchesOne`).
 */
export function matchStars(
  textLength: number,
  patternLength: number,
  isStar: (p: number) => boolean,
  matchesOne: (p: number, t: number) => boolean,
): boolean {
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < textLength) {
    if (p < patternLength && isStar(p)) {
      star = p++;
      resume = t;
    } else if (p < patternLength && matchesOne(p, t)) {
      t++;
      p++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < patternLength && isStar(p)) p++;
  return p === patternLength;
}

/**
 * OpenSSH's match_pattern_list: true when some pattern matches and no negated (`!pattern`) one does.
 * `caseInsensitive` lowercases the patterns, as match_hostname does (the text must already be lowercase).
 */
export function matchPatternList(text: string, patterns: readonly string[], caseInsensitive = false): boolean {
  let matched = false;
  for (const raw of patterns) {
    const pattern = caseInsensitive ? raw.toLowerCase() : raw;
    if (pattern.startsWith('!')) {
      if (matchWildcard(text, pattern.slice(1))) return false;
    } else if (matchWildcard(text, pattern)) {
      matched = true;
    }
  }
  return matched;
}

/** Whether a known_hosts line applies to `name` (as made by {@link knownHostsName}). */
export function entryMatchesName(entry: KnownHostEntry, name: string): boolean {
  if (entry.names.kind === 'patterns') return matchPatternList(name, entry.names.patterns, true);
  const hash = createHmac('sha1', entry.names.salt).update(name).digest();
  return timingSafeEqual(hash, entry.names.hash);
}

// ---------------------------------------------------------------------------------------------------------------
// Verdict

function where(entry: KnownHostEntry): string {
  return `${entry.source}:${entry.line}`;
}

/**
 * The verdict for a presented host key against one set of known_hosts lines: a matching `@revoked` key wins over
 * everything; otherwise a line with the same key is `trusted`; otherwise a line with a different key of the same
 * type is `changed`; otherwise `unknown` (also when only other key types, or only CA lines, are recorded).
 */
export function checkKnownHosts(entries: readonly KnownHostEntry[], candidate: HostKeyCandidate): HostKeyVerdict {
  const name = knownHostsName(candidate.host, candidate.port);
  // The blob is authoritative: the type a caller passes alongside it is only a label.
  const keyType = keyTypeOfBlob(candidate.key);
  let trusted: KnownHostEntry | undefined;
  const different: KnownHostEntry[] = [];
  for (const entry of entries) {
    if (!entryMatchesName(entry, name)) continue;
    if (entry.marker === 'revoked') {
      if (entry.key.equals(candidate.key)) return { status: 'revoked', source: where(entry) };
      continue;
    }
    if (entry.marker === 'cert-authority' || entry.keyType !== keyType) continue;
    if (entry.key.equals(candidate.key)) trusted ??= entry;
    else different.push(entry);
  }
  if (trusted) return { status: 'trusted', source: where(trusted) };
  const first = different[0];
  if (first) {
    const knownFingerprints = [...new Set(different.map((entry) => fingerprintSha256(entry.key)))];
    return { status: 'changed', source: where(first), knownFingerprints };
  }
  return { status: 'unknown' };
}
