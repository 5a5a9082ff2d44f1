import type { JumpHop } from '../../shared/hosts';

/**
 * `[user@]host[:port]` as ssh takes it, parsed in the renderer for the add-host form (the node side
 * parses ssh_config itself; the renderer cannot import it). IPv6 addresses go in brackets when a port
 * follows (`[fe80::1]:2222`); a bare IPv6 address is taken whole, with no port.
 */
export interface SshTarget {
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const hostPattern = /^[A-Za-z0-9._-]+$/;
const ipv6Pattern = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/;
const userPattern = /^[^\s@:/]+$/;

export function parsePort(text: string): ParseResult<number> {
  if (!/^\d{1,5}$/.test(text)) return { ok: false, error: `'${text}' is not a port number` };
  const port = Number(text);
  if (port < 1 || port > 65535) return { ok: false, error: `port ${port} is outside 1–65535` };
  return { ok: true, value: port };
}

/** One `[user@]host[:port]`; `what` names it in errors ("the address", "jump host 2"). */
export function parseSshTarget(input: string, what = 'the address'): ParseResult<SshTarget> {
  let text = input.trim();
  if (text === '') return { ok: false, error: `${what} is empty` };
  if (/\s/.test(text)) return { ok: false, error: `${what} must not contain spaces` };
  if (text.startsWith('ssh://')) text = text.slice('ssh://'.length).replace(/\/$/, '');

  let user: string | undefined;
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    user = text.slice(0, at);
    text = text.slice(at + 1);
    if (!userPattern.test(user)) return { ok: false, error: `'${user}' is not a user name (in ${what})` };
  }

  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { ok: false, error: `${what} has a '[' without its ']'` };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { ok: false, error: `unexpected '${rest}' after ']' in ${what}` };
      portText = rest.slice(1);
    }
    if (!ipv6Pattern.test(host)) return { ok: false, error: `'${host}' is not an IPv6 address (in ${what})` };
  } else if ((text.match(/:/g) ?? []).length > 1) {
    // Several colons and no brackets: an IPv6 address with no port.
    host = text;
    if (!ipv6Pattern.test(host)) return { ok: false, error: `'${host}' is not a host name or address (in ${what})` };
  } else {
    const colon = text.indexOf(':');
    host = colon >= 0 ? text.slice(0, colon) : text;
    if (colon >= 0) portText = text.slice(colon + 1);
    if (host === '') return { ok: false, error: `${what} has no host name` };
    if (!hostPattern.test(host)) return { ok: false, error: `'${host}' is not a host name (in ${what})` };
  }

  let port: number | undefined;
  if (portText !== undefined) {
    const parsed = parsePort(portText);
    if (!parsed.ok) return { ok: false, error: `${parsed.error} (in ${what})` };
    port = parsed.value;
  }
  return {
    ok: true,
    value: { host, ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) },
  };
}

/** A ProxyJump chain as `ssh -J` takes it: hops separated by commas, outermost first; empty means direct. */
export function parseJumpSpec(input: string): ParseResult<JumpHop[]> {
  const text = input.trim();
  if (text === '' || text.toLowerCase() === 'none') return { ok: true, value: [] };
  const parts = text.split(',');
  const hops: JumpHop[] = [];
  for (const [i, part] of parts.entries()) {
    const what = parts.length === 1 ? 'the jump host' : `jump host ${i + 1}`;
    if (part.trim() === '') return { ok: false, error: `${what} is empty (two commas, or one at an end?)` };
    const parsed = parseSshTarget(part, what);
    if (!parsed.ok) return parsed;
    hops.push({ ...parsed.value });
  }
  return { ok: true, value: hops };
}

/** Back to `[user@]host[:port]`, brackets around IPv6. */
export function formatSshTarget(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.user ? `${target.user}@` : ''}${host}${target.port ? `:${target.port}` : ''}`;
}

/** A jump chain as ssh -J writes it (`a,b@c:2222`). */
export function formatJumpSpec(hops: readonly JumpHop[]): string {
  return hops.map(formatSshTarget).join(',');
}
