import { describe, expect, it } from 'vitest';
import { extractToken, serveSocketUrl } from '../../../../src/renderer/transport/serve-url';

describe('extractToken', () => {
  it('takes the token from the fragment, where ptw serve prints it, and drops the fragment', () => {
    expect(extractToken('http://127.0.0.1:8123/#token=abc123')).toEqual({
      token: 'abc123',
      cleanedHref: 'http://127.0.0.1:8123/',
    });
    expect(extractToken('http://127.0.0.1:8123/runs?x=1#token=t0k&view=2')).toEqual({
      token: 't0k',
      cleanedHref: 'http://127.0.0.1:8123/runs?x=1#view=2',
    });
  });

  it('leaves a fragment that is only a route alone', () => {
    expect(extractToken('http://127.0.0.1:8123/#runs')).toEqual({ token: null, cleanedHref: null });
  });

  it('takes the token and returns the URL without it', () => {
    expect(extractToken('http://127.0.0.1:8123/?token=abc123')).toEqual({
      token: 'abc123',
      cleanedHref: 'http://127.0.0.1:8123/',
    });
  });

  it('keeps other parameters, the path and the hash', () => {
    expect(extractToken('http://127.0.0.1:8123/app/?a=1&token=t0k&b=2#runs')).toEqual({
      token: 't0k',
      cleanedHref: 'http://127.0.0.1:8123/app/?a=1&b=2#runs',
    });
  });

  it('decodes an encoded token', () => {
    expect(extractToken('http://localhost:1/?token=a%2Bb%2Fc%3D').token).toBe('a+b/c=');
  });

  it('reports no token and nothing to clean when the parameter is absent', () => {
    expect(extractToken('http://127.0.0.1:8123/?x=1')).toEqual({ token: null, cleanedHref: null });
  });

  it('treats an empty token as missing but still cleans the URL', () => {
    expect(extractToken('http://127.0.0.1:8123/?token=')).toEqual({
      token: null,
      cleanedHref: 'http://127.0.0.1:8123/',
    });
  });
});

describe('serveSocketUrl', () => {
  it('uses the page host and port with ws: and /ws', () => {
    expect(serveSocketUrl('http://127.0.0.1:8123/?x=1#y', 'abc')).toBe('ws://127.0.0.1:8123/ws?token=abc');
  });

  it('uses wss: for an https page and encodes the token', () => {
    expect(serveSocketUrl('https://example.test/', 'a+b/c=')).toBe('wss://example.test/ws?token=a%2Bb%2Fc%3D');
  });
});
