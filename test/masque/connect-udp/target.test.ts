import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConnectUdpError,
  formatHostPort,
  parseTarget,
  parseTargetHost,
  parseTargetPort,
} from '../../../src/masque/connect-udp/index.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof ConnectUdpError) return e.code;
    throw e;
  }
  return undefined;
}

describe('parseTargetHost', () => {
  it.each([
    ['192.0.2.6', { kind: 'ip', family: 4, address: '192.0.2.6' }],
    ['0.0.0.0', { kind: 'ip', family: 4, address: '0.0.0.0' }],
    ['255.255.255.255', { kind: 'ip', family: 4, address: '255.255.255.255' }],
    ['2001:db8::42', { kind: 'ip', family: 6, address: '2001:db8::42' }],
    ['2001:DB8:0:0:0:0:0:42', { kind: 'ip', family: 6, address: '2001:db8::42' }],
    ['[2001:db8::42]', { kind: 'ip', family: 6, address: '2001:db8::42' }],
    ['::', { kind: 'ip', family: 6, address: '::' }],
    ['::ffff:192.0.2.1', { kind: 'ip', family: 6, address: '::ffff:c000:201' }],
    ['Example.COM', { kind: 'dns', name: 'example.com' }],
    ['example.com.', { kind: 'dns', name: 'example.com' }],
    ['a-b.c0', { kind: 'dns', name: 'a-b.c0' }],
    ['localhost', { kind: 'dns', name: 'localhost' }],
    ['1.2.3.example', { kind: 'dns', name: '1.2.3.example' }],
    [`${'a'.repeat(63)}.com`, { kind: 'dns', name: `${'a'.repeat(63)}.com` }],
  ])('%s', (input, expected) => {
    expect(parseTargetHost(input)).toEqual(expected);
  });

  it.each([
    ['', /MUST NOT be empty/],
    ['fe80::1%eth0', /zone identifiers are not supported/],
    ['[fe80::1%25eth0]', /zone identifiers/],
    ['2001:db8::g', /not a valid IPv6/],
    ['1:2:3:4:5:6:7:8:9', /not a valid IPv6/],
    ['[]', /not a valid IPv6/],
    ['[example.com]', /not a valid IPv6/],
    ['01.2.3.4', /all-numeric last label/],
    ['127.1', /all-numeric last label/],
    ['256.1.1.1', /all-numeric last label/],
    ['1.2.3.4.5', /all-numeric last label/],
    ['-a.example', /not a host name label/],
    ['a-.example', /not a host name label/],
    ['a..example', /not a host name label/],
    ['a_b.example', /not a host name label/],
    ['a b.example', /printable ASCII/],
    ['ex\u00e4mple.com', /printable ASCII/],
    [`${'a'.repeat(64)}.com`, /not a host name label/],
    [`${'a.'.repeat(127)}com`, /1\.\.253 characters/],
    ['.', /1\.\.253/],
  ])('rejects %j', (input, message) => {
    expect(() => parseTargetHost(input)).toThrow(message);
    expect(codeOf(() => parseTargetHost(input))).toBe('TARGET_HOST_INVALID');
  });

  it('never throws anything but ConnectUdpError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        try {
          const h = parseTargetHost(s);
          expect(['ip', 'dns']).toContain(h.kind);
        } catch (e) {
          expect(e).toBeInstanceOf(ConnectUdpError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts every IPv4 and IPv6 address and normalises IPv6', () => {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        expect(parseTargetHost(a)).toEqual({ kind: 'ip', family: 4, address: a });
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const h = parseTargetHost(a);
        expect(h.kind).toBe('ip');
        if (h.kind !== 'ip') return;
        expect(h.family).toBe(6);
        expect(parseTargetHost(h.address)).toEqual(h);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseTargetPort', () => {
  it.each([
    ['1', 1],
    ['443', 443],
    ['65535', 65535],
    ['0443', 443],
  ])('%s -> %d', (input, port) => {
    expect(parseTargetPort(input)).toBe(port);
  });

  it.each([
    '',
    '0',
    '00000',
    '65536',
    '99999',
    '+443',
    '-1',
    '44 3',
    '4.4',
    '0x1bb',
    '123456',
    '١',
  ])('rejects %j', (input) => {
    expect(codeOf(() => parseTargetPort(input))).toBe('TARGET_PORT_INVALID');
  });

  it('accepts exactly the integers 1..65535', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10, max: 70000 }), (n) => {
        const ok = n >= 1 && n <= 65535;
        if (ok) expect(parseTargetPort(String(n))).toBe(n);
        else expect(codeOf(() => parseTargetPort(String(n)))).toBe('TARGET_PORT_INVALID');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseTarget / formatHostPort', () => {
  it('validates both and formats next-hop text', () => {
    const t = parseTarget('2001:db8::1', '53');
    expect(formatHostPort(t.host, t.port)).toBe('[2001:db8::1]:53');
    const u = parseTarget('Example.com', '443');
    expect(formatHostPort(u.host, u.port)).toBe('example.com:443');
    expect(formatHostPort({ kind: 'ip', family: 4, address: '192.0.2.1' }, 1)).toBe('192.0.2.1:1');
  });
});
