import { parse as parseSshConfigText, type Line as SshConfigLine } from 'ssh-config';
import type { JumpHop, SshConfigProblem } from '../../shared/hosts';
import { matchPatternList } from './known-hosts';
import { parseJumpSpec, parsePort } from './ssh-jump-spec';

/**
 * ssh_config(5) lines into statements: the keyword, its value checked and typed (Host patterns, Match criteria,
 * the options the import uses), each problem reported on its line. The `ssh-config` package lexes the words of a
 * line (quoting, lists); a bad line makes its `parse()` throw for the whole file, so each physical line is lexed on
 * its own (ssh_config has no continuation lines) and errors stay on their line.
 */

/** Problems found, each once, on the line they are about. */
export class ProblemList {
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

export interface Located {
  readonly file: string;
  readonly line: number;
}

export type MatchCriterion = { readonly name: string; readonly negate: boolean; readonly value?: string };

export type Statement =
  /** `patterns` undefined: a Host line that could not be read; its block never applies. */
  | (Located & { readonly kind: 'host'; readonly patterns?: readonly string[] })
  /** `criteria` undefined: a Match line that cannot be evaluated; its block never applies. */
  | (Located & { readonly kind: 'match'; readonly criteria?: readonly MatchCriterion[] })
  | (Located & { readonly kind: 'include'; readonly files: readonly LoadedFile[] })
  | (Located & { readonly kind: 'option'; readonly keyword: string; readonly value: OptionValue });

export type OptionValue =
  | { readonly kind: 'hostname'; readonly value: string }
  | { readonly kind: 'user'; readonly value: string }
  | { readonly kind: 'port'; readonly value: number }
  | { readonly kind: 'identityfile'; readonly value: string }
  | { readonly kind: 'proxyjump'; readonly spec: string; readonly hops: readonly JumpHop[] }
  | { readonly kind: 'proxycommand'; readonly none: boolean }
  | { readonly kind: 'hostkeyalias'; readonly value: string }
  | { readonly kind: 'tag'; readonly value: string }
  /** An option the app does not take from ssh_config (it is reported for each host it applies to), as written. */
  | { readonly kind: 'unused'; readonly keyword: string; readonly text: string }
  | { readonly kind: 'other' };

/** A line as the lexer reads it: a statement, or an Include whose arguments the loader has yet to follow. */
export type Directive =
  Exclude<Statement, { kind: 'include' }> | (Located & { readonly kind: 'include'; readonly args: readonly string[] });

export interface LoadedFile {
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

/**
 * Reads one directive line at a time into a {@link Directive}, reporting what it cannot read on its line. It keeps
 * the IgnoreUnknown patterns read so far (they apply to the lines after them, in every file).
 */
export class DirectiveLexer {
  /** Patterns from every IgnoreUnknown line read so far: unknown keywords they cover are not reported. */
  private readonly ignoreUnknown: string[] = [];

  constructor(private readonly problems: ProblemList) {}

  /** One physical line of `file`: a statement, an Include's arguments (for the loader to follow), or nothing. */
  read(file: string, line: number, text: string): Directive | undefined {
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
    if (keyword === 'include') return { kind: 'include', file, line, args: tokens };
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
}

/** A Host or Match line that could not be read: it still ends the block before it, and its own block never applies. */
function brokenBlock(keyword: string, file: string, line: number): Extract<Statement, { kind: 'host' | 'match' }> {
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

/** Percent tokens in `text` other than `%%` and the allowed ones. */
function unknownTokens(text: string, allowed: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/%(.?)/gs)) {
    const token = match[1] ?? '';
    if (token !== '%' && !allowed.includes(token || '\0')) found.push(`%${token}`);
  }
  return found;
}
