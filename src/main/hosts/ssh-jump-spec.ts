import { AppError } from '../../shared/errors';
import type { JumpHop } from '../../shared/hosts';

/** ProxyJump / `ssh -J` syntax: the jump hosts of a profile, as ssh_config and the CLI write them. */

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

export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`port must be a number from 1 to 65535, got "${text}"`);
  return port;
}
