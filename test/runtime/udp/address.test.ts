import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress } from '../../../src/runtime/udp/index.js';

describe('address strings', () => {
  it('parses IPv4, bracketed IPv6 and names', () => {
    expect(parseAddress('127.0.0.1:4433')).toEqual({ host: '127.0.0.1', port: 4433, family: 4 });
    expect(parseAddress('[::1]:443')).toEqual({ host: '::1', port: 443, family: 6 });
    expect(parseAddress('localhost:80')).toEqual({ host: 'localhost', port: 80, family: 0 });
  });

  it('writes IPv4-mapped IPv6 addresses in IPv4 form, both ways', () => {
    expect(formatAddress('::ffff:127.0.0.1', 5)).toBe('127.0.0.1:5');
    expect(parseAddress('[::ffff:10.1.2.3]:9')).toEqual({ host: '10.1.2.3', port: 9, family: 4 });
    expect(formatAddress('2001:db8::1', 443)).toBe('[2001:db8::1]:443');
  });

  it('rejects missing ports, unbracketed IPv6, bad ports', () => {
    for (const bad of [
      '127.0.0.1',
      '::1:443',
      '[::1]443',
      '[::1]:',
      'h:65536',
      'h:-1',
      '[zz]:1',
      ':5',
    ]) {
      expect(() => parseAddress(bad), bad).toThrow(RangeError);
    }
  });

  it('format → parse is the identity for IP literals', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.integer({ min: 0, max: 65535 }),
        (ip, port) => {
          const p = parseAddress(formatAddress(ip, port));
          return p.port === port && formatAddress(p.host, p.port) === formatAddress(ip, port);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
