/**
 * The server's request-target checks (answered with 400): origin-form `:path` (RFC 9114 §4.3.1,
 * RFC 9110 §7.1), `:authority` host and port, `:scheme`. Pure functions, so also property-tested:
 * they never throw, accept every path built from the allowed grammar, and refuse any path that
 * contains a character outside it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAuthority, checkPath, checkRequestTarget } from '../../src/http3/validate-target.js';

const PCHARS = "abcXYZ019-._~!$&'()*+,;=:@/?";

describe('request-target checks', () => {
  it.each([
    ['/', undefined],
    ['/a/b?c=d&e=%2F', undefined],
    ['/.well-known/masque/udp/192.0.2.1/443/', undefined],
    ['relative', '":path" does not start with "/"'],
    ['/a b', '":path" has the invalid character 0x20'],
    ['/x#frag', '":path" has the invalid character 0x23'],
    ['/%4', '":path" has a bad percent-escape'],
    ['/%g0', '":path" has a bad percent-escape'],
    ['/é', '":path" has the invalid character 0xe9'],
  ])('path %j → %j', (path, expected) => {
    expect(checkPath(path, 'GET')).toBe(expected);
  });

  it('"*" is only for OPTIONS', () => {
    expect(checkPath('*', 'OPTIONS')).toBeUndefined();
    expect(checkPath('*', 'GET')).toMatch(/OPTIONS/);
  });

  it.each([
    ['example.com', true],
    ['example.com:443', true],
    ['127.0.0.1:8443', true],
    ['[::1]:4433', true],
    ['[2001:db8::1]', true],
    ['example.com:65536', false],
    ['example.com:port', false],
    ['exa mple.com', false],
    ['[::1', false],
    ['[::1]x', false],
    [':443', false],
    ['[]', false],
  ])('authority %j valid: %s', (authority, ok) => {
    expect(checkAuthority(authority) === undefined).toBe(ok);
  });

  it('plain CONNECT needs host:port; extended CONNECT needs https', () => {
    expect(checkRequestTarget({ method: 'CONNECT', authority: 'example.com:443' })).toBeUndefined();
    expect(checkRequestTarget({ method: 'CONNECT', authority: 'example.com' })?.status).toBe(400);
    const base = { method: 'CONNECT', protocol: 'connect-udp', authority: 'p', path: '/' };
    expect(checkRequestTarget({ ...base, scheme: 'https' })).toBeUndefined();
    expect(checkRequestTarget({ ...base, scheme: 'http' })?.reason).toMatch(/https/);
    expect(checkRequestTarget({ method: 'GET', scheme: 'ws', authority: 'a', path: '/' })).toEqual({
      status: 400,
      reason: 'unsupported ":scheme" ws',
    });
  });

  it('never throws, whatever the strings (5,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.record({
          method: fc.constantFrom('GET', 'CONNECT', 'OPTIONS', 'POST'),
          scheme: fc.option(fc.string(), { nil: undefined }),
          authority: fc.option(fc.string(), { nil: undefined }),
          path: fc.option(fc.string(), { nil: undefined }),
          protocol: fc.option(fc.string(), { nil: undefined }),
        }),
        (req) => {
          const r = checkRequestTarget(req);
          expect(r === undefined || r.status === 400).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('every path from the grammar is accepted, and one bad character makes it refused (3,000 runs)', () => {
    const segment = fc.array(fc.oneof(fc.constantFrom(...PCHARS), fc.constant('%2a')), {
      maxLength: 20,
    });
    const bad = fc.constantFrom(' ', '#', '"', '<', '>', '\\', '^', '`', '{', '|', '}', '\u00ff');
    fc.assert(
      fc.property(segment, bad, fc.nat(), (parts, b, at) => {
        const path = `/${parts.join('')}`;
        expect(checkPath(path, 'GET')).toBeUndefined();
        const i = 1 + (at % path.length);
        const broken = path.slice(0, i) + b + path.slice(i);
        expect(checkPath(broken, 'GET')).toMatch(/invalid character|percent-escape/);
      }),
      { numRuns: 3000 },
    );
  });
});
