import { mkdir, open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../shared/errors';
import type { HostKeyCandidate, HostKeyTrust, HostKeyVerdict } from './host-key-trust-types';
import {
  checkKnownHosts,
  describeKeyBlobProblem,
  formatKnownHostsLine,
  keyTypeOfBlob,
  knownHostsName,
  parseKnownHosts,
  type KnownHostEntry,
  type KnownHostsProblem,
} from './known-hosts';

export interface FileHostKeyTrustOptions {
  /** Read, never written. Default: `~/.ssh/known_hosts`, `~/.ssh/known_hosts2` (OpenSSH's UserKnownHostsFile). */
  readonly userKnownHostsFiles?: readonly string[];
  /** Where `trust(…, 'always')` records keys: `PTW_HOME/known_hosts`. */
  readonly appKnownHostsFile: string;
}

/** Shown as the source of keys accepted with `once`. */
export const SESSION_SOURCE = 'accepted for this session';

interface LoadedSource {
  readonly source: string;
  readonly entries: readonly KnownHostEntry[];
  readonly problems: readonly KnownHostsProblem[];
}

/**
 * Host-key trust backed by OpenSSH known_hosts files: the user's own (read only) and the app's (appended to).
 * Every check re-reads the files, because `ssh` and `ssh-keygen -R` change them while the app runs.
 */
export class FileHostKeyTrust implements HostKeyTrust {
  static defaultUserKnownHostsFiles(homeDir: string = os.homedir()): string[] {
    return [path.join(homeDir, '.ssh', 'known_hosts'), path.join(homeDir, '.ssh', 'known_hosts2')];
  }

  private readonly userFiles: readonly string[];
  private readonly appFile: string;
  private readonly sessionEntries: KnownHostEntry[] = [];
  /** Appends are chained so that two concurrent `trust` calls cannot interleave partial lines. */
  private appendQueue: Promise<void> = Promise.resolve();

  constructor(options: FileHostKeyTrustOptions) {
    this.userFiles = (options.userKnownHostsFiles ?? FileHostKeyTrust.defaultUserKnownHostsFiles()).map(expandTilde);
    this.appFile = expandTilde(options.appKnownHostsFile);
  }

  async check(candidate: HostKeyCandidate): Promise<HostKeyVerdict> {
    assertUsableKey(candidate);
    return combineVerdicts((await this.loadAll()).map((loaded) => checkSource(loaded, candidate)));
  }

  async trust(candidate: HostKeyCandidate, scope: 'once' | 'always'): Promise<void> {
    assertUsableKey(candidate);
    const sources = await this.loadAll();
    const verdicts = sources.map((loaded) => checkSource(loaded, candidate));
    const verdict = combineVerdicts(verdicts);
    // The prompt never offers these, but a bug upstream must not be able to override a revoked or changed key.
    if (verdict.status === 'revoked') {
      throw new AppError(
        'HOST_KEY_REVOKED',
        `The host key of ${describeHost(candidate)} is revoked (${verdict.source}); it cannot be trusted.`,
      );
    }
    if (verdict.status === 'changed') {
      throw new AppError(
        'HOST_KEY_CHANGED',
        `A different ${candidate.keyType} key is recorded for ${describeHost(candidate)} at ${verdict.source} ` +
          `(${verdict.knownFingerprints.join(', ')}); remove that line first if the host was really re-keyed.`,
      );
    }

    if (scope === 'once') {
      if (verdict.status !== 'trusted') {
        this.sessionEntries.push({
          source: SESSION_SOURCE,
          line: this.sessionEntries.length + 1,
          names: { kind: 'patterns', patterns: [knownHostsName(candidate.host, candidate.port)] },
          keyType: keyTypeOfBlob(candidate.key),
          key: Buffer.from(candidate.key),
        });
      }
      return;
    }
    // `always`: already recorded in a file is enough; accepted only for this session is not.
    const inFile = sources.some((loaded, i) => loaded.source !== SESSION_SOURCE && verdicts[i]?.status === 'trusted');
    if (!inFile) await this.append(`${formatKnownHostsLine(candidate.host, candidate.port, candidate.key)}\n`);
  }

  /** Invalid and unsupported lines in every file read (unreadable files too), for the UI and CLI to show. */
  async problems(): Promise<KnownHostsProblem[]> {
    return (await this.loadAll()).flatMap((loaded) => loaded.problems);
  }

  /** The files read by `check`, in order: the user's, then the app's. */
  get files(): readonly string[] {
    return [...this.userFiles, this.appFile];
  }

  private async loadAll(): Promise<LoadedSource[]> {
    const loaded = await Promise.all(this.files.map(loadKnownHostsFile));
    return [...loaded, { source: SESSION_SOURCE, entries: this.sessionEntries, problems: [] }];
  }

  private append(line: string): Promise<void> {
    const run = this.appendQueue.then(() => appendPrivately(this.appFile, line));
    // The queue must keep going after a failed append; the caller still sees the failure through `run`.
    this.appendQueue = run.catch(() => undefined);
    return run;
  }
}

function expandTilde(file: string): string {
  if (file === '~') return os.homedir();
  if (file.startsWith('~/')) return path.join(os.homedir(), file.slice(2));
  return path.resolve(file);
}

function describeHost(candidate: HostKeyCandidate): string {
  return knownHostsName(candidate.host, candidate.port);
}

function assertUsableKey(candidate: HostKeyCandidate): void {
  const problem = describeKeyBlobProblem(candidate.key);
  if (problem !== undefined) {
    throw new AppError('INVALID_INPUT', `Host key of ${describeHost(candidate)} is not usable: ${problem}`);
  }
  const blobType = keyTypeOfBlob(candidate.key);
  if (blobType !== candidate.keyType) {
    throw new AppError(
      'INVALID_INPUT',
      `Host key of ${describeHost(candidate)} is labelled ${candidate.keyType} but the key is ${blobType}`,
    );
  }
}

async function loadKnownHostsFile(file: string): Promise<LoadedSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing file is normal (known_hosts2 rarely exists; the app file appears on the first `always`).
    if (code === 'ENOENT') return { source: file, entries: [], problems: [] };
    return {
      source: file,
      entries: [],
      problems: [{ source: file, line: 0, message: `cannot read known hosts file: ${(err as Error).message}` }],
    };
  }
  return { source: file, ...parseKnownHosts(text, file) };
}

function checkSource(loaded: LoadedSource, candidate: HostKeyCandidate): HostKeyVerdict {
  const verdict = checkKnownHosts(loaded.entries, candidate);
  // Session entries have no file: their line numbers would mean nothing to the user.
  if (loaded.source === SESSION_SOURCE && verdict.status !== 'unknown') return { ...verdict, source: SESSION_SOURCE };
  return verdict;
}

/** revoked, then changed, anywhere beats trusted elsewhere: a stale or hostile key must never be masked. */
function combineVerdicts(verdicts: readonly HostKeyVerdict[]): HostKeyVerdict {
  const revoked = verdicts.find((v) => v.status === 'revoked');
  if (revoked) return revoked;
  const changed = verdicts.filter((v): v is Extract<HostKeyVerdict, { status: 'changed' }> => v.status === 'changed');
  const firstChanged = changed[0];
  if (firstChanged) {
    return {
      status: 'changed',
      source: firstChanged.source,
      knownFingerprints: [...new Set(changed.flatMap((v) => v.knownFingerprints))],
    };
  }
  return verdicts.find((v) => v.status === 'trusted') ?? { status: 'unknown' };
}

/** Appends to a file only its owner can read (0600), creating it and its folder (0700) when missing. */
async function appendPrivately(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await open(file, 'a+', 0o600);
  try {
    // `open`'s mode only applies to a new file; an existing one may have been created looser by hand.
    if (process.platform !== 'win32') await handle.chmod(0o600);
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      // A hand-edited file may lack its final newline; without one our line would join the last line.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.appendFile(prefix + text);
  } finally {
    await handle.close();
  }
}
