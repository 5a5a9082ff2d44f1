import os from 'node:os';
import type { JumpHop, SshConfigCandidate } from '../../shared/hosts';
import { hostNameSchema } from '../../shared/hosts';
import { matchPatternList } from './known-hosts';
import type { LoadedFile, Located, MatchCriterion, ProblemList, Statement } from './ssh-config-lexer';

/**
 * Evaluating a loaded ssh_config as `ssh -G alias` does: Host and Match blocks in order, the first value of an
 * option wins (IdentityFile accumulates), a final pass on the HostName when a `Match final` or `canonical` asks.
 */

/** Jump chains longer than this are reported rather than followed. */
const MAX_JUMP_HOPS = 16;

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

// ---------------------------------------------------------------------------------------------------------------
// Aliases

/**
 * The concrete Host aliases, each of which can become a profile. A pattern-only block (`Host *`, `Host *.corp`)
 * is not a host: it is listed as not imported (its options still apply to the hosts it matches); an alias that
 * cannot be a profile name (`[fe80::1]`, `a/b`) is skipped with why, and the rest are imported.
 */
export function collectAliases(
  root: LoadedFile,
  notImported: ProblemList,
): { alias: string; file: string; line: number }[] {
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

export class ConfigEvaluator {
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

/** Options that take one value, and where {@link Effective} keeps it. */
const FIRST_VALUE_SLOTS = {
  hostname: 'hostname',
  user: 'user',
  port: 'port',
  hostkeyalias: 'hostKeyAlias',
  tag: 'tag',
} as const satisfies Record<string, keyof Effective>;

function applyOption(effective: Effective, statement: Extract<Statement, { kind: 'option' }>): void {
  const { value, file, line } = statement;
  const at = { file, line };
  switch (value.kind) {
    case 'hostname':
    case 'user':
    case 'port':
    case 'hostkeyalias':
    case 'tag': {
      // The first value read wins.
      const slots = effective as unknown as Record<string, Setting<string | number> | undefined>;
      slots[FIRST_VALUE_SLOTS[value.kind]] ??= { value: value.value, ...at };
      break;
    }
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
