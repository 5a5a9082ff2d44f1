import { constants } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseSshConfigText, type Line as SshConfigLine } from 'ssh-config';
import { AppError } from '../../shared/errors';
import { hostNameSchema, type JumpHop, type SshConfigCandidate, type SshConfigProblem } from '../../shared/hosts';
import { matchPatternList } from './known-hosts';

/**
 * Imports host entries from an OpenSSH client config (ssh_config(5)), computing for each concrete `Host` alias
 * what `ssh -G alias` would: first value wins, `IdentityFile` accumulates, `Include` is followed in place.
 *
 * The `ssh-config` package lexes each line (keyword, quoting, multi-value lists). Evaluation is ours because its
 * `compute()` does not follow `Include`, runs `Match exec` commands and `nslookup` by default, lets `?` match zero
 * characters and keeps no line numbers; and a bad line makes its `parse()` throw for the whole file, so each
 * physical line is lexed on its own (ssh_config has no continuation lines) and errors stay on their line.
 */

export interface ImportSshConfigOptions {
  /** Home for `~`, `%d` and relative `Include` paths (`~/.ssh/…`). Default: the current user's home. */
  homeDir?: string;
  /** Local user name for `%u`, `Match localuser` and the default remote user. Default: the current user. */
  localUser?: string;
}

export interface SshConfigImport {
  candidates: SshConfigCandidate[];
  problems: SshConfigProblem[];
  /** Host lines that give no profile, with why: pattern-only blocks, aliases that cannot be a profile name. */
  notImported: SshConfigProblem[];
}

/** OpenSSH's READCONF_MAX_DEPTH: ssh refuses deeper Include nesting, and so do we (loops are caught earlier). */
const MAX_INCLUDE_DEPTH = 16;
/** Jump chains longer than this are reported rather than followed. */
const MAX_JUMP_HOPS = 16;
/** Far beyond any real ssh_config; a bigger file (or an Include of /dev/zero) is refused, not read into memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Options that change how ssh connects or trusts a host, which the app does not take from the config: each one a
 * host ends up with is reported for that host, so nobody believes it applies. ProxyCommand is reported on its own.
 */
const UNUSED_CONNECTION_OPTIONS: Record<string, string> = {
  stricthostkeychecking:
    'the app checks host keys itself (your known_hosts, then its own store): an unknown key is asked about, a changed one refused',
  userknownhostsfile: 'the app reads ~/.ssh/known_hosts and its own store, not other files',
  globalknownhostsfile: 'the app reads ~/.ssh/known_hosts and its own store, not other files',
  controlmaster: 'the app keeps its own shared connection per host, not an OpenSSH control socket',
  controlpath: 'the app keeps its own shared connection per host, not an OpenSSH control socket',
  controlpersist: 'the app keeps its own shared connection per host, not an OpenSSH control socket',
};

export async function importSshConfig(file: string, options: ImportSshConfigOptions = {}): Promise<SshConfigImport> {
  const homeDir = options.homeDir ?? os.homedir();
  const localUser = options.localUser ?? currentUserName();
  const absolute = path.resolve(file);
  const problems = new ProblemList();
  const loader = new ConfigLoader(homeDir, problems);

  let text: string;
  try {
    text = await readConfigFile(absolute);
  } catch (err) {
    throw new AppError('SSH_CONFIG_INVALID', `Cannot read SSH config ${absolute}: ${describeFsError(err)}`, {
      cause: err,
    });
  }
  const root = await loader.load(absolute, text, []);

  const evaluator = new ConfigEvaluator(root, { homeDir, localUser }, problems);
  const candidates: SshConfigCandidate[] = [];
  const notImported = new ProblemList();
  for (const { alias, file: aliasFile, line } of collectAliases(root, notImported)) {
    const computed = evaluator.candidate(alias);
    candidates.push({ ...computed, source: `${loader.display(aliasFile)}:${line}` });
  }
  const display = (f: string) => loader.display(f);
  return { candidates, problems: problems.toArray(display), notImported: notImported.toArray(display) };
}

// ---------------------------------------------------------------------------------------------------------------
// ProxyJump / ssh -J syntax

/**
 * Parses a ProxyJump value or `ssh -J` argument: comma-separated `[user@]host[:port]` (or `ssh://…`), IPv6
 * addresses in brackets, outermost hop first; `none` is no jump. Throws an INVALID_INPUT AppError naming the
 * offending hop.
 */
export function parseJumpSpec(spec: string): JumpHop[] {
  const trimmed = spec.trim();
  if (trimmed === '') throw new AppError('INVALID_INPUT', 'Jump host list is empty');
  if (trimmed.toLowerCase() === 'none') return [];
  const parts = trimmed.split(',');
  return parts.map((part, index) => {
    const which = parts.length > 1 ? `jump host ${index + 1} ("${part}") of "${trimmed}"` : `jump host "${part}"`;
    try {
      return parseJumpHop(part);
    } catch (err) {
      throw new AppError('INVALID_INPUT', `Invalid ${which}: ${(err as Error).message}`);
    }
  });
}

export function parseJumpHop(text: string): JumpHop {
  if (text === '') throw new Error('it is empty');
  if (/\s/.test(text)) throw new Error('it contains whitespace');
  if (text.toLowerCase() === 'none') throw new Error('"none" cannot be combined with other jump hosts');
  let rest = text;
  if (/^ssh:\/\//i.test(rest)) rest = rest.slice('ssh://'.length).replace(/\/$/, '');

  let user: string | undefined;
  // The last `@` separates the user, as OpenSSH's parse_user_host_port does: user names may contain `@`.
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (user === '') throw new Error('the user before "@" is empty');
  }

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new Error('"[" without a closing "]"');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) throw new Error(`unexpected "${after}" after "]"`);
      portText = after.slice(1);
    }
  } else {
    const colons = rest.split(':').length - 1;
    if (colons > 1) throw new Error('an IPv6 address must be in brackets, e.g. [2001:db8::1]:22');
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) portText = rest.slice(colon + 1);
  }
  if (host === '') throw new Error('the host is empty');
  // ssh refuses host names starting with "-" so that they cannot be read as options.
  if (host.startsWith('-')) throw new Error('a host cannot start with "-"');

  const hop: JumpHop = { host };
  if (user !== undefined) hop.user = user;
  if (portText !== undefined) hop.port = parsePort(portText);
  return hop;
}

/** `[user@]host[:port]`, bracketing IPv6 addresses: the inverse of one element of {@link parseJumpSpec}. */
export function formatJumpHop(hop: JumpHop): string {
  const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user !== undefined ? `${hop.user}@` : ''}${host}${hop.port !== undefined ? `:${hop.port}` : ''}`;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`port must be a number from 1 to 65535, got "${text}"`);
  return port;
}

// ---------------------------------------------------------------------------------------------------------------
// Problems

class ProblemList {
  private readonly items: { file: string; line: number; message: string }[] = [];
  private readonly seen = new Set<string>();

  add(file: string, line: number, message: string): void {
    const key = `${file}\0${line}\0${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push({ file, line, message });
  }

  toArray(display: (file: string) => string): SshConfigProblem[] {
    return this.items.map((p) => ({ file: display(p.file), line: p.line, message: p.message }));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading: files → statements, Includes resolved in place

interface Located {
  readonly file: string;
  readonly line: number;
}

type MatchCriterion = { readonly name: string; readonly negate: boolean; readonly value?: string };

type Statement =
  /** `patterns` undefined: a Host line that could not be read; its block never applies. */
  | (Located & { readonly kind: 'host'; readonly patterns?: readonly string[] })
  /** `criteria` undefined: a Match line that cannot be evaluated; its block never applies. */
  | (Located & { readonly kind: 'match'; readonly criteria?: readonly MatchCriterion[] })
  | (Located & { readonly kind: 'include'; readonly files: readonly LoadedFile[] })
  | (Located & { readonly kind: 'option'; readonly keyword: string; readonly value: OptionValue });

type OptionValue =
  | { readonly kind: 'hostname'; readonly value: string }
  | { readonly kind: 'user'; readonly value: string }
  | { readonly kind: 'port'; readonly value: number }
  | { readonly kind: 'identityfile'; readonly value: string }
  | { readonly kind: 'proxyjump'; readonly spec: string; readonly hops: readonly JumpHop[] }
  | { readonly kind: 'proxycommand'; readonly none: boolean }
  | { readonly kind: 'hostkeyalias'; readonly value: string }
  | { readonly kind: 'tag'; readonly value: string }
  /** An option from {@link UNUSED_CONNECTION_OPTIONS}, as written. */
  | { readonly kind: 'unused'; readonly keyword: string; readonly text: string }
  | { readonly kind: 'other' };

interface LoadedFile {
  readonly path: string;
  readonly statements: readonly Statement[];
}

/** Match criteria OpenSSH knows, and which of them take an argument. */
const matchCriteriaWithArgument = new Set([
  'exec',
  'localnetwork',
  'host',
  'originalhost',
  'tagged',
  'command',
  'user',
  'localuser',
  'version',
  'sessiontype',
]);
const matchCriteriaWithoutArgument = new Set(['all', 'canonical', 'final']);
/** Criteria that depend on running a command or on the session being started, which an import cannot know. */
const unevaluatedMatchCriteria = new Set(['exec', 'localnetwork', 'command', 'version', 'sessiontype']);

/** Keywords ssh_config(5) accepts (OpenSSH readconf.c, with deprecated ones, Debian's GSSAPI and Apple's keychain). */
const knownKeywords = new Set(
  (
    'host match include hostname user port identityfile identityfile2 identitiesonly identityagent certificatefile ' +
    'addkeystoagent proxycommand proxyjump proxyusefdpass forwardagent forwardx11 forwardx11trusted ' +
    'forwardx11timeout exitonforwardfailure xauthlocation gatewayports passwordauthentication ' +
    'kbdinteractiveauthentication kbdinteractivedevices challengeresponseauthentication skeyauthentication ' +
    'tisauthentication pubkeyauthentication dsaauthentication hostbasedauthentication gssapiauthentication ' +
    'gssapidelegatecredentials gssapikeyexchange gssapiclientidentity gssapiserveridentity ' +
    'gssapirenewalforcesrekey gssapitrustdns gssapikexalgorithms hostkeyalias ciphers cipher macs protocol ' +
    'remoteforward localforward dynamicforward permitremoteopen escapechar globalknownhostsfile ' +
    'globalknownhostsfile2 userknownhostsfile userknownhostsfile2 connectionattempts batchmode checkhostip ' +
    'stricthostkeychecking compression compressionlevel tcpkeepalive keepalive numberofpasswordprompts ' +
    'syslogfacility loglevel logverbose preferredauthentications hostkeyalgorithms casignaturealgorithms ' +
    'bindaddress bindinterface clearallforwardings enablesshkeysign verifyhostkeydns ' +
    'nohostauthenticationforlocalhost rekeylimit connecttimeout addressfamily serveraliveinterval ' +
    'serveralivecountmax sendenv setenv controlpath controlmaster controlpersist hashknownhosts tunnel ' +
    'tunneldevice localcommand permitlocalcommand remotecommand visualhostkey kexalgorithms ipqos requesttty ' +
    'sessiontype stdinnull forkafterauthentication canonicaldomains canonicalizefallbacklocal ' +
    'canonicalizehostname canonicalizemaxdots canonicalizepermittedcnames streamlocalbindmask ' +
    'streamlocalbindunlink revokedhostkeys fingerprinthash updatehostkeys hostbasedacceptedalgorithms ' +
    'hostbasedkeytypes pubkeyacceptedalgorithms pubkeyacceptedkeytypes ignoreunknown securitykeyprovider ' +
    'knownhostscommand requiredrsasize enableescapecommandline obscurekeystroketiming channeltimeout tag ' +
    'refuseconnection warnweakcrypto pkcs11provider smartcarddevice fallbacktorsh usersh useroaming ' +
    'useprivilegedport rhostsauthentication rhostsrsaauthentication rsaauthentication afstokenpassing ' +
    'kerberosauthentication kerberostgtpassing usekeychain'
  ).split(' '),
);

/** Keywords whose value we use and which take exactly one argument. */
const singleValueKeywords = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'hostkeyalias', 'tag']);

class ConfigLoader {
  /** Patterns from every IgnoreUnknown line read so far: unknown keywords they cover are not reported. */
  private readonly ignoreUnknown: string[] = [];

  constructor(
    private readonly homeDir: string,
    private readonly problems: ProblemList,
  ) {}

  /** `~/…` for paths under the home folder, as the profile's `source` shows them. */
  display(file: string): string {
    const relative = path.relative(this.homeDir, file);
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
      ? `~/${relative.split(path.sep).join('/')}`
      : file;
  }

  /** `including`: the files whose Include led here, outermost first (to stop loops). */
  async load(file: string, text: string, including: readonly string[]): Promise<LoadedFile> {
    await this.checkPermissions(file);
    const statements: Statement[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] ?? '').replace(/\r$/, '');
      const statement = await this.readLine(file, i + 1, line, [...including, file]);
      if (statement) statements.push(statement);
    }
    return { path: file, statements };
  }

  private async readLine(
    file: string,
    line: number,
    text: string,
    including: readonly string[],
  ): Promise<Statement | undefined> {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return undefined;
    const problem = (message: string) => this.problems.add(file, line, message);
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.exec(trimmed);
    if (control) {
      // An escape sequence in a HostName would reach terminals and logs; ssh itself has no use for one.
      const code = `\\x${control[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
      problem(`the line has a control character (${code}); not read`);
      const keyword = /^(\S+)/.exec(trimmed)?.[1]?.toLowerCase() ?? '';
      return keyword === 'host' || keyword === 'match' ? brokenBlock(keyword, file, line) : undefined;
    }

    const head = /^([^\s=]+)\s*=?\s*(.*)$/.exec(trimmed);
    const keywordAsWritten = head?.[1] ?? trimmed;
    const keyword = keywordAsWritten.toLowerCase();
    const isBlock = keyword === 'host' || keyword === 'match';
    const rest = head?.[2] ?? '';
    if (rest === '' || rest.startsWith('#')) {
      problem(`${keywordAsWritten} needs a value`);
      // A broken Host/Match line still ends the previous block; its own lines must not leak into that one.
      return isBlock ? brokenBlock(keyword, file, line) : undefined;
    }

    let tokens: string[];
    let quoted: boolean;
    try {
      ({ tokens, quoted } = lexLine(trimmed, keyword));
    } catch (err) {
      const message = (err as Error).message;
      problem(/line break/i.test(message) ? `${keywordAsWritten}: unbalanced quotes` : `cannot parse: ${message}`);
      return isBlock ? brokenBlock(keyword, file, line) : undefined;
    }

    if (keyword === 'host') return { kind: 'host', file, line, patterns: tokens };
    if (keyword === 'match') return { kind: 'match', file, line, criteria: this.readMatch(tokens, problem) };
    if (keyword === 'include') {
      return { kind: 'include', file, line, files: await this.readInclude(tokens, file, line, including) };
    }
    if (keyword === 'ignoreunknown') this.ignoreUnknown.push(...tokens.flatMap((t) => t.split(',')));

    if (!knownKeywords.has(keyword)) {
      if (!matchPatternList(keyword, this.ignoreUnknown, true)) {
        problem(`unknown keyword "${keywordAsWritten}" (ssh refuses the file unless IgnoreUnknown lists it)`);
      }
      return undefined;
    }
    const single = tokens[0] ?? '';
    if (singleValueKeywords.has(keyword) && (tokens.length > 1 || (!quoted && /\s/.test(single)))) {
      problem(`${keywordAsWritten} takes one value, got "${tokens.join(' ')}"`);
      return undefined;
    }

    const value = this.readOptionValue(keyword, keywordAsWritten, single, tokens, problem);
    return value === undefined ? undefined : { kind: 'option', file, line, keyword, value };
  }

  private readOptionValue(
    keyword: string,
    asWritten: string,
    single: string,
    tokens: readonly string[],
    problem: (message: string) => void,
  ): OptionValue | undefined {
    switch (keyword) {
      case 'hostname': {
        const unknown = unknownTokens(single, 'h');
        if (unknown.length > 0) {
          problem(`${asWritten} may only use the tokens %h and %%, not ${unknown.join(', ')}`);
          return undefined;
        }
        return { kind: 'hostname', value: single };
      }
      case 'user':
        return { kind: 'user', value: single };
      case 'port':
        try {
          return { kind: 'port', value: parsePort(single) };
        } catch (err) {
          problem(`${asWritten}: ${(err as Error).message}`);
          return undefined;
        }
      case 'identityfile':
        return { kind: 'identityfile', value: single };
      case 'proxyjump':
        try {
          return { kind: 'proxyjump', spec: single, hops: parseJumpSpec(single) };
        } catch (err) {
          problem(`${asWritten}: ${(err as Error).message}`);
          return undefined;
        }
      case 'proxycommand':
        return { kind: 'proxycommand', none: tokens.length === 1 && single.toLowerCase() === 'none' };
      case 'hostkeyalias':
        return { kind: 'hostkeyalias', value: single };
      case 'tag':
        return { kind: 'tag', value: single };
      case 'stricthostkeychecking':
      case 'userknownhostsfile':
      case 'globalknownhostsfile':
      case 'controlmaster':
      case 'controlpath':
      case 'controlpersist':
        return { kind: 'unused', keyword: asWritten, text: tokens.join(' ').slice(0, 200) };
      case 'canonicalizehostname':
        if (/^(yes|always)$/i.test(single)) {
          problem(`${asWritten} is not applied when importing: host names are kept as written, not resolved`);
        }
        return { kind: 'other' };
      default:
        return { kind: 'other' };
    }
  }

  private readMatch(tokens: readonly string[], problem: (message: string) => void): MatchCriterion[] | undefined {
    const criteria: MatchCriterion[] = [];
    for (let i = 0; i < tokens.length;) {
      const written = tokens[i] ?? '';
      const lower = written.toLowerCase();
      const negate = lower.startsWith('!');
      const name = negate ? lower.slice(1) : lower;
      if (matchCriteriaWithoutArgument.has(name)) {
        if (name === 'all' && negate) {
          problem('Match all cannot be negated');
          return undefined;
        }
        criteria.push({ name, negate });
        i += 1;
      } else if (matchCriteriaWithArgument.has(name)) {
        const value = tokens[i + 1];
        if (value === undefined) {
          problem(`Match ${written} needs a value`);
          return undefined;
        }
        criteria.push({ name, negate, value });
        i += 2;
      } else {
        problem(
          `unknown Match criterion "${written}" (expected one of ` +
            `${[...matchCriteriaWithoutArgument, ...matchCriteriaWithArgument].join(', ')}); ` +
            'this Match block is skipped',
        );
        return undefined;
      }
    }
    const unevaluated = criteria.find((c) => unevaluatedMatchCriteria.has(c.name));
    if (unevaluated) {
      // Never run commands from a file being imported; the other criteria depend on the live session.
      problem(`Match ${unevaluated.name} is not evaluated when importing; this Match block is treated as not matching`);
      return undefined;
    }
    return criteria;
  }

  private async readInclude(
    args: readonly string[],
    file: string,
    line: number,
    including: readonly string[],
  ): Promise<LoadedFile[]> {
    const problem = (message: string) => this.problems.add(file, line, message);
    if (including.length > MAX_INCLUDE_DEPTH) {
      problem(`Include nested more than ${MAX_INCLUDE_DEPTH} levels deep; skipped`);
      return [];
    }
    const loaded: LoadedFile[] = [];
    for (const arg of args) {
      let pattern: string;
      if (arg === '~' || arg.startsWith('~/')) pattern = path.join(this.homeDir, arg.slice(1));
      else if (arg.startsWith('~')) {
        problem(`Include "${arg}": ~user paths are not supported`);
        continue;
      }
      // As OpenSSH does for user configs: relative Include paths live in ~/.ssh, not next to the including file.
      else if (!path.isAbsolute(arg)) pattern = path.join(this.homeDir, '.ssh', arg);
      else pattern = arg;

      const matches = await expandGlob(pattern);
      if (matches.length === 0) {
        problem(`Include "${arg}" matched no files (looked for ${this.display(pattern)})`);
        continue;
      }
      for (const match of matches) {
        // ssh would recurse until its depth limit; a glob that matches its own file would make that exponential.
        if (including.includes(match)) {
          const chain = [...including, match].map((f) => this.display(f)).join(' → ');
          problem(`Include loop (${chain}); ${this.display(match)} is not read again`);
          continue;
        }
        let text: string;
        try {
          text = await readConfigFile(match);
        } catch (err) {
          problem(`cannot read included file ${this.display(match)}: ${describeFsError(err)}`);
          continue;
        }
        loaded.push(await this.load(match, text, including));
      }
    }
    return loaded;
  }

  /** ssh refuses a user config that others may write (readconf.c, SSHCONF_CHECKPERM); say so up front. */
  private async checkPermissions(file: string): Promise<void> {
    if (process.platform === 'win32') return;
    try {
      const { mode } = await stat(file);
      if ((mode & 0o022) !== 0) {
        this.problems.add(
          file,
          0,
          `writable by group or others (mode ${(mode & 0o777).toString(8)}); ssh refuses such a config ` +
            '("Bad owner or permissions"); chmod 600 it',
        );
      }
    } catch {
      // Already read successfully; a failing stat here only means we cannot warn.
    }
  }
}

/** A Host or Match line that could not be read: it still ends the block before it, and its own block never applies. */
function brokenBlock(keyword: string, file: string, line: number): Statement {
  return keyword === 'host' ? { kind: 'host', file, line } : { kind: 'match', file, line };
}

/**
 * Lexes one directive line with the `ssh-config` package. Match lines are lexed as if they were Host lines: the
 * package's own Match handling pairs every criterion with a value and so misreads `Match !final host x`.
 */
function lexLine(text: string, keyword: string): { tokens: string[]; quoted: boolean } {
  const source = keyword === 'match' ? text.replace(/^match/i, 'Host') : text;
  const nodes: SshConfigLine[] = parseSshConfigText(source);
  const node = nodes[0];
  if (!node || !('param' in node)) throw new Error('not a directive');
  const tokens = typeof node.value === 'string' ? [node.value] : node.value.map((v) => v.val);
  return { tokens, quoted: node.quoted === true };
}

/**
 * A config file's text: a regular file of at most {@link MAX_CONFIG_BYTES}. Opened without blocking and checked on
 * the open handle, so a FIFO (which would wait for a writer forever), a device such as /dev/zero (endless) or a
 * huge file is refused with why, in bounded time and memory.
 */
async function readConfigFile(file: string): Promise<string> {
  const info = await stat(file);
  if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const opened = await handle.stat();
    if (opened.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (!opened.isFile()) {
      const what = opened.isFIFO() ? 'a FIFO' : opened.isSocket() ? 'a socket' : 'a device';
      throw new Error(`is ${what}, not a regular file; not read`);
    }
    if (opened.size > MAX_CONFIG_BYTES) {
      throw new Error(`is ${opened.size} bytes, more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB read; not read`);
    }
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES)
        throw new Error(`grew past ${MAX_CONFIG_BYTES / 1024 / 1024} MiB while read; not read`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (err as Error).message;
}

// ---------------------------------------------------------------------------------------------------------------
// Include globs (glob(3) as OpenSSH calls it: *, ? and [...] per path segment; dot files only when named)

async function expandGlob(pattern: string): Promise<string[]> {
  const hasMagic = (segment: string) => /[*?[]/.test(segment);
  const { root } = path.parse(pattern);
  const segments = pattern
    .slice(root.length)
    .split(/[\\/]+/)
    .filter((s) => s !== '');
  let current = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasMagic(segment)) {
        next.push(path.join(dir, segment));
        continue;
      }
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      const glob = parseGlobSegment(segment);
      for (const name of names) {
        if (name.startsWith('.') && !segment.startsWith('.')) continue;
        if (matchGlobSegment(name, glob)) next.push(path.join(dir, name));
      }
    }
    current = next;
  }
  const existing: string[] = [];
  for (const candidate of current) {
    if (
      await stat(candidate).then(
        () => true,
        () => false,
      )
    )
      existing.push(candidate);
  }
  // glob(3) returns its matches sorted; OpenSSH reads them in that order.
  return existing.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

type GlobToken =
  | { readonly kind: 'star' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly c: string }
  | { readonly kind: 'class'; readonly negate: boolean; readonly members: string };

/** One path segment of an Include glob: `*`, `?`, `[...]` (with ranges and `!`), anything else itself. */
function parseGlobSegment(segment: string): GlobToken[] {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one' });
    else if (c === '[') {
      // A "]" right after "[" or "[!" is a literal member, as in fnmatch(3).
      let j = i + 1;
      if (segment[j] === '!') j++;
      if (segment[j] === ']') j++;
      const close = segment.indexOf(']', j);
      if (close < 0) {
        tokens.push({ kind: 'char', c });
        continue;
      }
      let body = segment.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      tokens.push({ kind: 'class', negate, members: body });
      i = close;
    } else tokens.push({ kind: 'char', c });
  }
  return tokens;
}

function inClass(c: string, members: string): boolean {
  for (let i = 0; i < members.length; i++) {
    if (members[i + 1] === '-' && i + 2 < members.length) {
      if (c >= members[i]! && c <= members[i + 2]!) return true;
      i += 2;
    } else if (members[i] === c) return true;
  }
  return false;
}

/** Greedy match with one backtrack point, as {@link matchWildcard}: time bounded by name × pattern length. */
function matchGlobSegment(name: string, tokens: readonly GlobToken[]): boolean {
  const one = (token: GlobToken, c: string) =>
    token.kind === 'one' ||
    (token.kind === 'char' && token.c === c) ||
    (token.kind === 'class' && inClass(c, token.members) !== token.negate);
  let n = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const token = tokens[p];
    if (token?.kind === 'star') {
      star = p++;
      resume = n;
    } else if (token && one(token, name[n]!)) {
      n++;
      p++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (tokens[p]?.kind === 'star') p++;
  return p === tokens.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Aliases

/**
 * The concrete Host aliases, each of which can become a profile. A pattern-only block (`Host *`, `Host *.corp`)
 * is not a host: it is listed as not imported (its options still apply to the hosts it matches); an alias that
 * cannot be a profile name (`[fe80::1]`, `a/b`) is skipped with why, and the rest are imported.
 */
function collectAliases(root: LoadedFile, notImported: ProblemList): { alias: string; file: string; line: number }[] {
  const seen = new Set<string>();
  const aliases: { alias: string; file: string; line: number }[] = [];
  const visit = (file: LoadedFile) => {
    for (const statement of file.statements) {
      if (statement.kind === 'include') statement.files.forEach(visit);
      if (statement.kind !== 'host' || !statement.patterns) continue;
      const concrete = statement.patterns.filter((p) => !/[*?]/.test(p) && !p.startsWith('!'));
      if (concrete.length === 0) {
        const shown = statement.patterns.join(' ');
        notImported.add(
          statement.file,
          statement.line,
          `pattern "Host ${shown.length > 80 ? `${shown.slice(0, 79)}…` : shown}" (not a host; its options apply as defaults to the hosts it matches)`,
        );
      }
      for (const pattern of concrete) {
        if (seen.has(pattern)) continue;
        seen.add(pattern);
        const name = hostNameSchema.safeParse(pattern);
        if (!name.success) {
          notImported.add(
            statement.file,
            statement.line,
            `Host ${pattern.length > 80 ? `${pattern.slice(0, 79)}…` : pattern} cannot be a profile name (${name.error.issues[0]?.message ?? 'invalid'}); skipped, the others are imported`,
          );
          continue;
        }
        aliases.push({ alias: pattern, file: statement.file, line: statement.line });
      }
    }
  };
  visit(root);
  return aliases;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation: what `ssh -G` computes for one host

interface Setting<T> extends Located {
  readonly value: T;
}

type ProxySetting =
  | { readonly kind: 'jump'; readonly spec: string; readonly hops: readonly JumpHop[] }
  | { readonly kind: 'command' }
  | { readonly kind: 'none' };

/** The options one host ends up with; the first value read wins, except IdentityFile, which accumulates. */
interface Effective {
  hostname?: Setting<string>;
  user?: Setting<string>;
  port?: Setting<number>;
  hostKeyAlias?: Setting<string>;
  tag?: Setting<string>;
  /** ProxyJump and ProxyCommand share one slot in ssh: whichever comes first wins. */
  proxy?: Setting<ProxySetting>;
  identityFiles: Setting<string>[];
  /** Options the app does not use, first value per keyword (as ssh takes them). */
  unused: Map<string, Setting<{ keyword: string; text: string }>>;
}

interface Query {
  /** The name Host lines are matched against: the alias, then (final pass) the lowercased HostName. */
  readonly host: string;
  /** The alias as given (`Match originalhost`, `%n`). */
  readonly originalHost: string;
  readonly finalPass: boolean;
}

interface ComputedHost {
  readonly alias: string;
  readonly hostname: string;
  readonly user?: string;
  readonly port?: number;
  readonly effective: Effective;
}

class ConfigEvaluator {
  private readonly cache = new Map<string, ComputedHost>();

  constructor(
    private readonly root: LoadedFile,
    private readonly env: { readonly homeDir: string; readonly localUser: string },
    private readonly problems: ProblemList,
  ) {}

  candidate(alias: string): Omit<SshConfigCandidate, 'source'> {
    const computed = this.compute(alias);
    const { effective } = computed;
    const candidate: Omit<SshConfigCandidate, 'source'> = {
      alias,
      hostname: computed.hostname,
      identityFiles: this.identityFiles(computed),
      proxyJump: this.proxyChain(alias, computed, [alias]),
    };
    if (computed.user !== undefined) candidate.user = computed.user;
    if (computed.port !== undefined) candidate.port = computed.port;
    for (const [key, setting] of effective.unused) {
      this.problems.add(
        setting.file,
        setting.line,
        `Host ${alias}: ${setting.value.keyword} ${setting.value.text} is not used: ${UNUSED_CONNECTION_OPTIONS[key] ?? 'the app does not take it from ssh_config'}`,
      );
    }
    if (effective.proxy?.value.kind === 'command') {
      this.problems.add(
        effective.proxy.file,
        effective.proxy.line,
        `Host ${alias}: ProxyCommand is not supported; use ProxyJump (imported without a proxy)`,
      );
    }
    return candidate;
  }

  /** Effective options for `host`; `presetUser` plays the part of `ssh -l` (a jump hop's `user@`). */
  private compute(host: string, presetUser?: string): ComputedHost {
    const key = `${host}\0${presetUser ?? ''}`;
    const cached = this.cache.get(key);
    if (cached) return cached;

    const effective: Effective = { identityFiles: [], unused: new Map() };
    if (presetUser !== undefined) effective.user = { value: presetUser, file: '', line: 0 };
    const wantFinal = this.walk(this.root, effective, { host, originalHost: host, finalPass: false });
    if (wantFinal) {
      // `Match final`: ssh re-reads the config with Host lines matched against the (lowercased) HostName.
      const finalHost = expandHostname(effective.hostname?.value, host).toLowerCase();
      this.walk(this.root, effective, { host: finalHost, originalHost: host, finalPass: true });
    }
    const computed: ComputedHost = {
      alias: host,
      hostname: expandHostname(effective.hostname?.value, host),
      ...(effective.user !== undefined ? { user: effective.user.value } : {}),
      ...(effective.port !== undefined ? { port: effective.port.value } : {}),
      effective,
    };
    this.cache.set(key, computed);
    return computed;
  }

  /** Applies one file's statements; returns whether a `Match final` asked for a second pass. */
  private walk(file: LoadedFile, effective: Effective, query: Query): boolean {
    let active = true;
    let wantFinal = false;
    for (const statement of file.statements) {
      switch (statement.kind) {
        case 'host':
          // One pattern matches and no negated one does; case-sensitive, as ssh matches Host lines.
          active = statement.patterns !== undefined && matchPatternList(query.host, statement.patterns);
          break;
        case 'match': {
          const result = statement.criteria
            ? this.matchCriteria(statement.criteria, effective, query)
            : { matches: false, wantFinal: false };
          active = result.matches;
          wantFinal ||= result.wantFinal;
          break;
        }
        case 'include':
          // An Include inside a block that does not apply is skipped whole (readconf.c SSHCONF_NEVERMATCH);
          // a Host or Match line inside the included file does not change the including file's block.
          if (active)
            for (const included of statement.files) wantFinal = this.walk(included, effective, query) || wantFinal;
          break;
        case 'option':
          if (active) applyOption(effective, statement);
          break;
      }
    }
    return wantFinal;
  }

  private matchCriteria(
    criteria: readonly MatchCriterion[],
    effective: Effective,
    query: Query,
  ): { matches: boolean; wantFinal: boolean } {
    let matches = true;
    let wantFinal = false;
    // As in match_cfg_line, Match host sees HostName as set so far (with %h expanded), Match user the remote user.
    const currentHost = expandHostname(effective.hostname?.value, query.host).toLowerCase();
    const remoteUser = effective.user?.value ?? this.env.localUser;
    for (const { name, negate, value = '' } of criteria) {
      const list = value.split(',');
      let result: boolean;
      switch (name) {
        case 'all':
          result = true;
          break;
        case 'canonical':
        case 'final':
          if (name === 'final' && !negate) wantFinal = true;
          result = query.finalPass;
          break;
        case 'host':
          result = matchPatternList(currentHost, list, true);
          break;
        case 'originalhost':
          result = matchPatternList(query.originalHost.toLowerCase(), list, true);
          break;
        case 'user':
          result = matchPatternList(remoteUser, list);
          break;
        case 'localuser':
          result = matchPatternList(this.env.localUser, list);
          break;
        case 'tagged':
          result = matchPatternList(effective.tag?.value ?? '', list);
          break;
        default:
          result = false;
      }
      if (result === negate) matches = false;
    }
    return { matches, wantFinal };
  }

  private identityFiles(computed: ComputedHost): string[] {
    const { effective } = computed;
    // ssh drops repeated IdentityFile values before expanding them (readconf.c add_identity_file).
    const unique = effective.identityFiles.filter(
      (setting, i, all) => all.findIndex((other) => other.value === setting.value) === i,
    );
    const tokens: Record<string, string> = {
      '%': '%',
      d: this.env.homeDir,
      h: computed.hostname,
      k: effective.hostKeyAlias?.value ?? computed.alias,
      n: computed.alias,
      p: String(computed.port ?? 22),
      r: computed.user ?? this.env.localUser,
      u: this.env.localUser,
      j: effective.proxy?.value.kind === 'jump' ? effective.proxy.value.spec : '',
      l: os.hostname(),
      L: os.hostname().split('.')[0] ?? '',
    };
    const uid = process.getuid?.();
    if (uid !== undefined) tokens.i = String(uid);

    return unique.map((setting) => {
      let value = setting.value;
      // Order as in ssh.c: `~` first, then ${VAR} and %-tokens.
      if (value === '~' || value.startsWith('~/')) value = this.env.homeDir + value.slice(1);
      value = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
        const resolved = name === 'HOME' ? this.env.homeDir : process.env[name];
        if (resolved !== undefined) return resolved;
        this.problems.add(setting.file, setting.line, `IdentityFile: environment variable ${whole} is not set`);
        return whole;
      });
      return value.replace(/%(.)/gs, (whole, token: string) => {
        const resolved = tokens[token];
        if (resolved !== undefined) return resolved;
        this.problems.add(setting.file, setting.line, `IdentityFile: token ${whole} is not expanded on import`);
        return whole;
      });
    });
  }

  /**
   * The full jump chain, outermost first, each hop resolved to its HostName/User/Port as ssh does: ssh runs
   * `ssh -W … -J rest first` for the first hop, so the first hop's own ProxyJump applies and the later hops'
   * do not, and each hop's `user@`/`:port` override its config.
   */
  private proxyChain(alias: string, computed: ComputedHost, visiting: readonly string[]): JumpHop[] {
    const proxy = computed.effective.proxy;
    if (!proxy || proxy.value.kind !== 'jump') return [];
    const hops = proxy.value.hops;
    const first = hops[0];
    if (!first) return [];

    let outer: JumpHop[] = [];
    if (visiting.includes(first.host)) {
      this.problems.add(
        proxy.file,
        proxy.line,
        `Host ${alias}: ProxyJump loop (${[...visiting, first.host].join(' → ')}); the loop is cut here`,
      );
    } else {
      const firstComputed = this.compute(first.host, first.user);
      const firstProxy = firstComputed.effective.proxy;
      if (firstProxy?.value.kind === 'command') {
        this.problems.add(
          firstProxy.file,
          firstProxy.line,
          `Host ${alias}: jump host ${first.host} uses ProxyCommand, which is not supported; use ProxyJump`,
        );
      }
      outer = this.proxyChain(alias, firstComputed, [...visiting, first.host]);
    }
    const chain = [...outer, ...hops.map((hop) => this.resolveHop(hop))];
    if (chain.length > MAX_JUMP_HOPS) {
      this.problems.add(proxy.file, proxy.line, `Host ${alias}: jump chain longer than ${MAX_JUMP_HOPS} hops`);
      return chain.slice(-MAX_JUMP_HOPS);
    }
    return chain;
  }

  private resolveHop(hop: JumpHop): JumpHop {
    const computed = this.compute(hop.host, hop.user);
    const resolved: JumpHop = { host: computed.hostname };
    const user = hop.user ?? computed.user;
    const port = hop.port ?? computed.port;
    if (user !== undefined) resolved.user = user;
    if (port !== undefined) resolved.port = port;
    return resolved;
  }
}

function applyOption(effective: Effective, statement: Extract<Statement, { kind: 'option' }>): void {
  const { value, file, line } = statement;
  const at = { file, line };
  switch (value.kind) {
    case 'hostname':
      effective.hostname ??= { value: value.value, ...at };
      break;
    case 'user':
      effective.user ??= { value: value.value, ...at };
      break;
    case 'port':
      effective.port ??= { value: value.value, ...at };
      break;
    case 'hostkeyalias':
      effective.hostKeyAlias ??= { value: value.value, ...at };
      break;
    case 'tag':
      effective.tag ??= { value: value.value, ...at };
      break;
    case 'identityfile':
      effective.identityFiles.push({ value: value.value, ...at });
      break;
    case 'proxyjump':
      effective.proxy ??= {
        value: value.hops.length === 0 ? { kind: 'none' } : { kind: 'jump', spec: value.spec, hops: value.hops },
        ...at,
      };
      break;
    case 'proxycommand':
      effective.proxy ??= { value: value.none ? { kind: 'none' } : { kind: 'command' }, ...at };
      break;
    case 'unused': {
      const key = value.keyword.toLowerCase();
      if (!effective.unused.has(key)) effective.unused.set(key, { value: value, ...at });
      break;
    }
    case 'other':
      break;
  }
}

/** HostName with `%h` (the name given) and `%%` expanded; the alias itself when HostName is not set. */
function expandHostname(raw: string | undefined, host: string): string {
  if (raw === undefined) return host;
  return raw.replace(/%([%h])/g, (_whole, token: string) => (token === 'h' ? host : '%'));
}

/** Percent tokens in `text` other than `%%` and the allowed ones. */
function unknownTokens(text: string, allowed: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/%(.?)/gs)) {
    const token = match[1] ?? '';
    if (token !== '%' && !allowed.includes(token || '\0')) found.push(`%${token}`);
  }
  return found;
}

function currentUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    // os.userInfo throws for a uid with no passwd entry (some containers).
    return process.env.USER ?? process.env.USERNAME ?? '';
  }
}
