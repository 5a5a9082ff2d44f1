import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/shared/errors';
import { formatJumpHop, parseJumpSpec } from '../../../../src/main/hosts/ssh-jump-spec';

describe('parseJumpSpec / formatJumpHop', () => {
  it.each([
    ['bastion', [{ host: 'bastion' }]],
    ['alice@bastion:2222', [{ host: 'bastion', user: 'alice', port: 2222 }]],
    ['a,b@c,d:1', [{ host: 'a' }, { host: 'c', user: 'b' }, { host: 'd', port: 1 }]],
    ['[2001:db8::1]', [{ host: '2001:db8::1' }]],
    ['u@[2001:db8::1]:22', [{ host: '2001:db8::1', user: 'u', port: 22 }]],
    ['ssh://deploy@jump.example.com:2022/', [{ host: 'jump.example.com', user: 'deploy', port: 2022 }]],
    ['me@corp.example@jump', [{ host: 'jump', user: 'me@corp.example' }]],
    ['none', []],
    [' NONE ', []],
  ])('parses %s', (spec, hops) => {
    expect(parseJumpSpec(spec)).toEqual(hops);
  });

  it.each([
    ['', 'Jump host list is empty'],
    ['a,,b', 'Invalid jump host 2 ("") of "a,,b": it is empty'],
    ['a,', 'Invalid jump host 2 ("") of "a,": it is empty'],
    ['2001:db8::1', 'Invalid jump host "2001:db8::1": an IPv6 address must be in brackets, e.g. [2001:db8::1]:22'],
    ['[2001:db8::1', 'Invalid jump host "[2001:db8::1": "[" without a closing "]"'],
    ['[::1]x', 'Invalid jump host "[::1]x": unexpected "x" after "]"'],
    ['host:0', 'Invalid jump host "host:0": port must be a number from 1 to 65535, got "0"'],
    ['host:ssh', 'Invalid jump host "host:ssh": port must be a number from 1 to 65535, got "ssh"'],
    ['@host', 'Invalid jump host "@host": the user before "@" is empty'],
    ['-oProxyCommand=x', 'Invalid jump host "-oProxyCommand=x": a host cannot start with "-"'],
    ['a b', 'Invalid jump host "a b": it contains whitespace'],
    ['a,none', 'Invalid jump host 2 ("none") of "a,none": "none" cannot be combined with other jump hosts'],
  ])('rejects %j', (spec, message) => {
    let error: unknown;
    try {
      parseJumpSpec(spec);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'INVALID_INPUT', message });
  });

  it('formats hops so that parsing gives them back', () => {
    const hops = [
      { host: 'bastion' },
      { host: 'jump.example.com', user: 'alice', port: 2222 },
      { host: '2001:db8::1', port: 22 },
      { host: 'fe80::1', user: 'root' },
    ];
    expect(hops.map(formatJumpHop)).toEqual([
      'bastion',
      'alice@jump.example.com:2222',
      '[2001:db8::1]:22',
      'root@[fe80::1]',
    ]);
    expect(parseJumpSpec(hops.map(formatJumpHop).join(','))).toEqual(hops);
  });
});
