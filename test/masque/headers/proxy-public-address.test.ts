import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderFormatError } from '../../../src/fields/result.js';
import {
  formatProxyPublicAddress,
  type ProxyPublicAddress,
  parseProxyPublicAddress,
  parseProxyPublicAddressLenient,
} from '../../../src/masque/headers/proxy-public-address.js';
import { fieldValue } from './arbitraries.js';

const EXAMPLE: ProxyPublicAddress[] = [
  { family: 4, ip: '192.0.2.45', port: 54321 },
  { family: 6, ip: '2001:db8::1234', port: 54321 },
];

describe('Proxy-Public-Address (connect-udp-listen)', () => {
  it('reads the draft example, as one line or two', () => {
    const text = '"192.0.2.45:54321", "[2001:db8::1234]:54321"';
    expect(parseProxyPublicAddress(text)).toEqual({ ok: true, value: EXAMPLE });
    expect(parseProxyPublicAddress(['"192.0.2.45:54321"', '"[2001:db8::1234]:54321"'])).toEqual({
      ok: true,
      value: EXAMPLE,
    });
    expect(formatProxyPublicAddress(EXAMPLE)).toBe('"192.0.2.45:54321", "[2001:db8::1234]:54321"');
  });

  it('absent is an empty list; member parameters are ignored', () => {
    expect(parseProxyPublicAddress(undefined)).toEqual({ ok: true, value: [] });
    expect(parseProxyPublicAddress('"192.0.2.1:443";future=1')).toEqual({
      ok: true,
      value: [{ family: 4, ip: '192.0.2.1', port: 443 }],
    });
  });

  it('reports members that are not ip-port strings', () => {
    const bad = [
      '192.0.2.45:54321', // not a String
      '"192.0.2.45"', // no port
      '"192.0.2.45:"', // empty port
      '"192.0.2.45:0"',
      '"192.0.2.45:65536"',
      '"192.0.2.45:123456"',
      '"2001:db8::1:443"', // IPv6 without brackets
      '"[192.0.2.1]:443"', // IPv4 in brackets
      '"[fe80::1%25eth0]:443"', // zone identifier
      '"[fe80::1%eth0]:443"',
      '"[v1.fe]:443"', // IPvFuture
      '"01.2.3.4:443"', // leading zero
      '"256.1.1.1:443"',
      '"example.com:443"',
      '("192.0.2.1:443")',
      '42',
      '"192.0.2.1:443",',
    ];
    for (const b of bad) expect(parseProxyPublicAddress(b).ok, b).toBe(false);
  });

  it('format refuses what it cannot express', () => {
    const cases: ProxyPublicAddress[][] = [
      [],
      [{ family: 4, ip: '2001:db8::1', port: 1 }],
      [{ family: 6, ip: '192.0.2.1', port: 1 }],
      [{ family: 4, ip: '192.0.2.1', port: 0 }],
      [{ family: 4, ip: '192.0.2.1', port: 70000 }],
    ];
    for (const c of cases) expect(() => formatProxyPublicAddress(c)).toThrow(HeaderFormatError);
  });

  const addrArb: fc.Arbitrary<ProxyPublicAddress> = fc.oneof(
    fc.record({
      family: fc.constant(4 as const),
      ip: fc.ipV4(),
      port: fc.integer({ min: 1, max: 65535 }),
    }),
    fc.record({
      family: fc.constant(6 as const),
      ip: fc.ipV6(),
      port: fc.integer({ min: 1, max: 65535 }),
    }),
  );

  it('format -> parse is the identity', () => {
    fc.assert(
      fc.property(fc.array(addrArb, { minLength: 1, maxLength: 4 }), (addrs) => {
        expect(parseProxyPublicAddress(formatProxyPublicAddress(addrs))).toEqual({
          ok: true,
          value: addrs,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fieldValue, (v) => {
        expect(typeof parseProxyPublicAddress(v).ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});

describe('Proxy-Public-Address read leniently (clients of pre-10 proxies)', () => {
  it('takes the strict form as is, and bare tokens that are not sf-Strings', () => {
    const strict = '"192.0.2.45:54321", "[2001:db8::1234]:54321"';
    expect(parseProxyPublicAddressLenient(strict)).toEqual(EXAMPLE);
    // Not an sf-List of Strings: a bare IPv4 token with a colon is not a valid sf-Token.
    const bare = '192.0.2.45:54321, [2001:db8::1234]:54321';
    expect(parseProxyPublicAddress(bare).ok).toBe(false);
    expect(parseProxyPublicAddressLenient(bare)).toEqual(EXAMPLE);
    expect(
      parseProxyPublicAddressLenient(['192.0.2.45:54321', '"[2001:db8::1234]:54321";x=1']),
    ).toEqual(EXAMPLE);
  });

  it('skips what is no ip-port tuple and never throws', () => {
    expect(parseProxyPublicAddressLenient('nonsense, 192.0.2.1:0, 192.0.2.45:54321')).toEqual([
      EXAMPLE[0],
    ]);
    expect(parseProxyPublicAddressLenient(undefined)).toEqual([]);
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(Array.isArray(parseProxyPublicAddressLenient(s))).toBe(true);
      }),
    );
  });
});
