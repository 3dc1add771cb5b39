import { describe, expect, it } from 'vitest';
import {
  Authenticator,
  hashPassword,
  parseScryptHash,
} from '../../../src/masque/connect-udp/index.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const CHEAP = { n: 16, r: 1, p: 1 }; // fast scrypt parameters for tests only

describe('Authenticator: none', () => {
  it('accepts everything', () => {
    expect(new Authenticator({ mode: 'none' }).check([])).toEqual({ ok: true });
  });
});

describe('Authenticator: bearer', () => {
  const auth = new Authenticator({ mode: 'bearer', tokens: ['tok-1', 'second.token~'] });

  it('missing credentials -> 407 with a Bearer challenge (RFC 9110 §15.5.8)', () => {
    expect(auth.check([[':method', 'CONNECT']])).toEqual({
      ok: false,
      status: 407,
      headers: [['proxy-authenticate', 'Bearer realm="masque"']],
      reason: 'MISSING',
    });
  });

  it('accepts every configured token, from Proxy-Authorization or Authorization', () => {
    expect(auth.check([['proxy-authorization', 'Bearer tok-1']])).toEqual({ ok: true });
    expect(auth.check([['Proxy-Authorization', 'bearer   second.token~']])).toEqual({ ok: true });
    expect(auth.check([['authorization', 'Bearer tok-1']])).toEqual({ ok: true });
  });

  it('prefers Proxy-Authorization when both are present', () => {
    expect(
      auth.check([
        ['authorization', 'Bearer tok-1'],
        ['proxy-authorization', 'Bearer wrong'],
      ]),
    ).toMatchObject({ ok: false, reason: 'INVALID' });
  });

  it.each([
    ['Bearer wrong', 'INVALID'],
    ['Bearer tok-', 'INVALID'],
    ['Bearer tok-11', 'INVALID'],
    ['Basic dG9rLTE=', 'MALFORMED'],
    ['Bearer', 'MALFORMED'],
    ['Bearer a b', 'MALFORMED'],
    ['Bearer tok"1', 'MALFORMED'],
    ['', 'MALFORMED'],
  ])('%j -> 407 %s with error="invalid_token"', (value, reason) => {
    const r = auth.check([['proxy-authorization', value]]);
    expect(r).toEqual({
      ok: false,
      status: 407,
      headers: [['proxy-authenticate', 'Bearer realm="masque", error="invalid_token"']],
      reason,
    });
  });

  it('refuses two credential lines', () => {
    const r = auth.check([
      ['proxy-authorization', 'Bearer tok-1'],
      ['proxy-authorization', 'Bearer tok-1'],
    ]);
    expect(r).toMatchObject({ ok: false, reason: 'MALFORMED' });
  });

  it('quotes the realm', () => {
    const a = new Authenticator({ mode: 'bearer', tokens: ['t'], realm: 'my "proxy"' });
    expect(a.challenge()).toBe('Bearer realm="my \\"proxy\\""');
  });
});

describe('Authenticator: basic', () => {
  const hashed = hashPassword('pa:ss wörd', Buffer.from('0123456789abcdef'), CHEAP);
  const auth = new Authenticator({
    mode: 'basic',
    users: [
      { user: 'alice', password: 'wonderland' },
      { user: 'bob', scrypt: hashed },
    ],
  });

  it('missing -> 407 with a Basic challenge', () => {
    expect(auth.check([])).toEqual({
      ok: false,
      status: 407,
      headers: [['proxy-authenticate', 'Basic realm="masque", charset="UTF-8"']],
      reason: 'MISSING',
    });
  });

  it('accepts clear and scrypt passwords (the password may contain ":")', () => {
    expect(auth.check([['proxy-authorization', `Basic ${b64('alice:wonderland')}`]])).toEqual({
      ok: true,
      user: 'alice',
    });
    expect(auth.check([['proxy-authorization', `basic ${b64('bob:pa:ss wörd')}`]])).toEqual({
      ok: true,
      user: 'bob',
    });
  });

  it.each([
    [`Basic ${b64('alice:wrong')}`, 'INVALID'],
    [`Basic ${b64('bob:wonderland')}`, 'INVALID'],
    [`Basic ${b64('alice:wonderland ')}`, 'INVALID'],
    [`Basic ${b64('carol:wonderland')}`, 'INVALID'],
    [`Basic ${b64('alicewonderland')}`, 'MALFORMED'],
    ['Basic !!!!', 'MALFORMED'],
    ['Basic YWxpY2U6d29uZGVybGFuZA', 'MALFORMED'],
    [`Bearer ${b64('alice:wonderland')}`, 'MALFORMED'],
  ])('%s -> 407 %s', (value, reason) => {
    expect(auth.check([['proxy-authorization', value]])).toMatchObject({
      ok: false,
      status: 407,
      reason,
      headers: [['proxy-authenticate', 'Basic realm="masque", charset="UTF-8"']],
    });
  });

  it('validates user definitions', () => {
    expect(() => new Authenticator({ mode: 'basic', users: [{ user: 'x' }] })).toThrow(
      /exactly one/,
    );
    expect(
      () =>
        new Authenticator({
          mode: 'basic',
          users: [{ user: 'x', scrypt: 'scrypt$1$1$1$AA==$AA==' }],
        }),
    ).toThrow(TypeError);
  });
});

describe('scrypt hashes', () => {
  it('hashPassword output parses and is deterministic for a given salt', () => {
    const salt = new Uint8Array(16).fill(7);
    const h = hashPassword('secret', salt, CHEAP);
    expect(h).toBe(hashPassword('secret', salt, CHEAP));
    expect(h).not.toBe(hashPassword('secret!', salt, CHEAP));
    expect(h.startsWith('scrypt$16$1$1$')).toBe(true);
    const parsed = parseScryptHash(h);
    expect(parsed.hash).toHaveLength(32);
    expect(parsed.salt).toEqual(Buffer.from(salt));
  });

  it.each([
    `scrypt$3$1$1$AA==$${'A'.repeat(44)}`,
    `scrypt$16$0$1$AA==$${'A'.repeat(44)}`,
    'bcrypt$x',
    'scrypt$16$1$1$AA==$AA==',
  ])('rejects %s', (text) => {
    expect(() => parseScryptHash(text)).toThrow(TypeError);
  });
});
