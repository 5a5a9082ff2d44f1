import { describe, expect, it } from 'vitest';
import {
  formatJumpSpec,
  formatSshTarget,
  parseJumpSpec,
  parsePort,
  parseSshTarget,
} from '../../../../src/renderer/hosts/host-target';

describe('parseSshTarget', () => {
  it('takes host, user@host, host:port and user@host:port', () => {
    expect(parseSshTarget('gpu1.lab')).toEqual({ ok: true, value: { host: 'gpu1.lab' } });
    expect(parseSshTarget('ana@gpu1')).toEqual({ ok: true, value: { host: 'gpu1', user: 'ana' } });
    expect(parseSshTarget('gpu1:2222')).toEqual({ ok: true, value: { host: 'gpu1', port: 2222 } });
    expect(parseSshTarget('  root@127.0.0.1:40022 ')).toEqual({
      ok: true,
      value: { host: '127.0.0.1', user: 'root', port: 40022 },
    });
  });

  it('accepts an ssh:// URL as ssh -J does', () => {
    expect(parseSshTarget('ssh://ana@gpu1:22')).toEqual({ ok: true, value: { host: 'gpu1', user: 'ana', port: 22 } });
  });

  it('splits the user at the last @ (user names with @ are rare but legal in some directories)', () => {
    expect(parseSshTarget('a@b')).toMatchObject({ ok: true, value: { user: 'a', host: 'b' } });
    expect(parseSshTarget('a@b@c').ok).toBe(false);
  });

  it('reads IPv6 in brackets with a port, and bare IPv6 without one', () => {
    expect(parseSshTarget('[fe80::1]:2222')).toEqual({ ok: true, value: { host: 'fe80::1', port: 2222 } });
    expect(parseSshTarget('root@[::1]')).toEqual({ ok: true, value: { host: '::1', user: 'root' } });
    expect(parseSshTarget('fe80::1')).toEqual({ ok: true, value: { host: 'fe80::1' } });
  });

  it('explains what is wrong', () => {
    expect(parseSshTarget('')).toEqual({ ok: false, error: 'the address is empty' });
    expect(parseSshTarget('gpu 1')).toEqual({ ok: false, error: 'the address must not contain spaces' });
    expect(parseSshTarget('gpu1:')).toMatchObject({ ok: false, error: expect.stringContaining('not a port') });
    expect(parseSshTarget('gpu1:0')).toMatchObject({ ok: false, error: expect.stringContaining('outside 1–65535') });
    expect(parseSshTarget('gpu1:65536')).toMatchObject({ ok: false });
    expect(parseSshTarget('gpu1:22x')).toMatchObject({ ok: false });
    expect(parseSshTarget('@gpu1')).toMatchObject({ ok: false, error: expect.stringContaining('user name') });
    expect(parseSshTarget('ana@')).toMatchObject({ ok: false, error: 'the address has no host name' });
    expect(parseSshTarget(':22')).toMatchObject({ ok: false, error: 'the address has no host name' });
    expect(parseSshTarget('gpu/1')).toMatchObject({ ok: false, error: expect.stringContaining('not a host name') });
    expect(parseSshTarget('[::1')).toMatchObject({ ok: false, error: expect.stringContaining("without its ']'") });
    expect(parseSshTarget('[::1]x')).toMatchObject({ ok: false });
  });

  it('names the field in errors', () => {
    expect(parseSshTarget('a b', 'jump host 2')).toEqual({ ok: false, error: 'jump host 2 must not contain spaces' });
  });
});

describe('parsePort', () => {
  it('takes 1–65535', () => {
    expect(parsePort('1')).toEqual({ ok: true, value: 1 });
    expect(parsePort('65535')).toEqual({ ok: true, value: 65535 });
    expect(parsePort('-1').ok).toBe(false);
    expect(parsePort('1.5').ok).toBe(false);
  });
});

describe('parseJumpSpec', () => {
  it('is empty for a direct connection', () => {
    expect(parseJumpSpec('')).toEqual({ ok: true, value: [] });
    expect(parseJumpSpec('  ')).toEqual({ ok: true, value: [] });
    expect(parseJumpSpec('none')).toEqual({ ok: true, value: [] });
  });

  it('reads a chain, outermost first', () => {
    expect(parseJumpSpec('bastion, ana@gw.lab:2222')).toEqual({
      ok: true,
      value: [{ host: 'bastion' }, { host: 'gw.lab', user: 'ana', port: 2222 }],
    });
  });

  it('names the hop that is wrong', () => {
    expect(parseJumpSpec('bastion,gw:99999')).toMatchObject({
      ok: false,
      error: expect.stringContaining('jump host 2'),
    });
    expect(parseJumpSpec('bastion,,gw')).toMatchObject({
      ok: false,
      error: expect.stringContaining('jump host 2 is empty'),
    });
    expect(parseJumpSpec('a b')).toMatchObject({ ok: false, error: 'the jump host must not contain spaces' });
  });
});

describe('formatting', () => {
  it('round-trips targets and chains', () => {
    for (const text of ['gpu1', 'ana@gpu1:2222', 'root@[fe80::1]:22']) {
      const parsed = parseSshTarget(text);
      expect(parsed.ok && formatSshTarget(parsed.value)).toBe(text);
    }
    const chain = parseJumpSpec('a,b@c:2');
    expect(chain.ok && formatJumpSpec(chain.value)).toBe('a,b@c:2');
  });
});
