import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import {
  ConnectUdpError,
  formatTargetRule,
  parseTargetRule,
  SPECIAL_IPV4,
  SPECIAL_IPV6,
  TargetPolicy,
} from '../../../src/masque/connect-udp/index.js';

const open = new TargetPolicy();

function firstAndLast4(cidr: string): string[] {
  const a = new Address4(cidr);
  return [a.startAddress().correctForm(), a.endAddress().correctForm()];
}
function firstAndLast6(cidr: string): string[] {
  const a = new Address6(cidr);
  return [a.startAddress().correctForm(), a.endAddress().correctForm()];
}

describe('default policy: special-purpose ranges denied', () => {
  it.each(SPECIAL_IPV4.map((r) => [r.cidr, r.name]))('IPv4 %s (%s)', (cidr) => {
    for (const addr of firstAndLast4(cidr)) {
      const d = open.check(addr, 443);
      expect(d.allowed).toBe(false);
      expect(d.error).toBe('destination_ip_prohibited');
      expect(d.by).toBe('special');
      // The same address reached through IPv4-mapped IPv6 is judged as IPv4.
      const mapped = open.check(`::ffff:${addr}`, 443);
      expect(mapped.allowed).toBe(false);
      expect(mapped.family).toBe(4);
      expect(mapped.address).toBe(addr);
      // ... and through the NAT64 well-known prefix and 6to4.
      expect(open.check(`64:ff9b::${addr}`, 443).allowed).toBe(false);
      const v4 = new Address4(addr).toHex().replaceAll(':', '');
      expect(open.check(`2002:${v4.slice(0, 4)}:${v4.slice(4)}::1`, 443).allowed).toBe(false);
    }
  });

  it.each(SPECIAL_IPV6.map((r) => [r.cidr, r.name]))('IPv6 %s (%s)', (cidr) => {
    for (const addr of firstAndLast6(cidr)) {
      const d = open.check(addr, 443);
      expect(d.allowed).toBe(false);
      expect(d.special?.cidr).toBeDefined();
    }
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.255',
    '192.0.3.0',
    '192.167.255.255',
    '192.169.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2001:200::1',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows public %s', (addr) => {
    const d = open.check(addr, 53);
    expect(d.allowed).toBe(true);
    expect(d.by).toBe('default');
  });

  it('allowSpecial turns the special default off', () => {
    expect(new TargetPolicy([], { allowSpecial: true }).check('127.0.0.1', 1).allowed).toBe(true);
  });

  it('throws a TypeError for non-addresses', () => {
    expect(() => open.check('example.com', 1)).toThrow(TypeError);
    expect(() => open.check('10.0.0.0/8', 1)).toThrow(TypeError);
    expect(() => open.check('fe80::1%eth0', 1)).toThrow(TypeError);
  });
});

describe('rules', () => {
  it('first match wins, then the default', () => {
    const p = new TargetPolicy([
      parseTargetRule('127.0.0.1:5353', 'deny'),
      parseTargetRule('127.0.0.0/8:5353,8000-8100', 'allow'),
      parseTargetRule('8.8.8.0/24', 'deny'),
    ]);
    expect(p.check('127.0.0.1', 5353).allowed).toBe(false);
    expect(p.check('127.0.0.2', 5353)).toMatchObject({ allowed: true, by: 'rule' });
    expect(p.check('127.0.0.2', 8000).allowed).toBe(true);
    expect(p.check('127.0.0.2', 8100).allowed).toBe(true);
    expect(p.check('127.0.0.2', 8101)).toMatchObject({ allowed: false, by: 'special' });
    expect(p.check('127.0.0.2', 7999).allowed).toBe(false);
    expect(p.check('8.8.8.8', 53)).toMatchObject({
      allowed: false,
      by: 'rule',
      error: 'destination_ip_prohibited',
    });
    expect(p.check('8.8.4.4', 53).allowed).toBe(true);
  });

  it('IPv4 rules see IPv4-mapped addresses; deny rules also see NAT64/6to4 embedded IPv4', () => {
    const p = new TargetPolicy([
      parseTargetRule('127.0.0.1', 'allow'),
      parseTargetRule('8.8.8.8', 'deny'),
    ]);
    expect(p.check('::ffff:127.0.0.1', 53).allowed).toBe(true);
    expect(p.check('::ffff:8.8.8.8', 53).allowed).toBe(false);
    expect(p.check('64:ff9b::808:808', 53)).toMatchObject({ allowed: false, by: 'rule' });
    expect(p.check('2002:808:808::1', 53)).toMatchObject({ allowed: false, by: 'rule' });
    // An allow rule does not open 127.0.0.1 through a translator.
    expect(p.check('64:ff9b::7f00:1', 53)).toMatchObject({ allowed: false, by: 'special' });
  });

  it('IPv6 rules match IPv6 addresses', () => {
    const p = new TargetPolicy([parseTargetRule('[::1]/128:53', 'allow')]);
    expect(p.check('::1', 53).allowed).toBe(true);
    expect(p.check('::1', 54).allowed).toBe(false);
    expect(p.check('0:0::1', 53).allowed).toBe(true);
    const q = new TargetPolicy([parseTargetRule('2606:4700::/32', 'deny')]);
    expect(q.check('2606:4700:4700::1111', 53).allowed).toBe(false);
    expect(q.rules).toHaveLength(1);
  });
});

describe('parseTargetRule', () => {
  it.each([
    [
      '127.0.0.0/8:5353,8000-8100',
      {
        cidr: '127.0.0.0/8',
        family: 4,
        ports: [
          [5353, 5353],
          [8000, 8100],
        ],
      },
    ],
    ['10.1.2.3', { cidr: '10.1.2.3/32', family: 4 }],
    ['0.0.0.0/0', { cidr: '0.0.0.0/0', family: 4 }],
    ['[::1]/128:53', { cidr: '::1/128', family: 6, ports: [[53, 53]] }],
    ['[::1]:53', { cidr: '::1/128', family: 6, ports: [[53, 53]] }],
    ['[fd00::]/8', { cidr: 'fd00::/8', family: 6 }],
    ['2001:DB8::/32', { cidr: '2001:db8::/32', family: 6 }],
    ['::/0', { cidr: '::/0', family: 6 }],
    [' 192.0.2.0/24 ', { cidr: '192.0.2.0/24', family: 4 }],
  ])('%s', (text, expected) => {
    expect(parseTargetRule(text, 'allow')).toEqual({ action: 'allow', ...expected });
  });

  it.each([
    ['10.0.0.1/8', /host bits set; did you mean 10\.0\.0\.0\/8/],
    ['[2001:db8::1]/32', /host bits set; did you mean 2001:db8::\/32/],
    ['10.0.0.0/33', /prefix length "\/33"/],
    ['[::1]/129', /prefix length/],
    ['10.0.0.0/8:', /empty port list/],
    ['10.0.0.0/8:0', /port 0 is not in 1\.\.65535/],
    ['10.0.0.0/8:65536', /not in 1\.\.65535/],
    ['10.0.0.0/8:20-10', /reversed/],
    ['10.0.0.0/8:a', /not a port number/],
    ['10.0.0.0/8:1,,2', /not a port number/],
    ['example.com', /not an IPv4 address/],
    ['010.0.0.0/8', /not an IPv4 address/],
    ['[::1', /unbalanced brackets/],
    ['[fe80::1%eth0]', /zone identifiers/],
    ['[10.0.0.1]', /not an IPv6 address/],
    ['2001:db8::/32:53', /prefix length/],
  ])('rejects %s', (text, message) => {
    expect(() => parseTargetRule(text, 'deny')).toThrow(message);
    expect(() => parseTargetRule(text, 'deny')).toThrow(ConnectUdpError);
  });

  it('formatTargetRule round-trips', () => {
    const range = fc
      .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 100 }))
      .map(([a, d]) => [a, Math.min(65535, a + d)] as [number, number]);
    const rule4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, len]) => {
      const start = new Address4(`${a}/${len}`).startAddress().correctForm();
      return `${start}/${len}`;
    });
    const rule6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, len]) => {
      const start = new Address6(`${a}/${len}`).startAddress().correctForm();
      return `[${start}]/${len}`;
    });
    fc.assert(
      fc.property(
        fc.oneof(rule4, rule6),
        fc.option(fc.array(range, { minLength: 1, maxLength: 3 })),
        fc.constantFrom('allow' as const, 'deny' as const),
        (cidr, ports, action) => {
          const text =
            ports === null ? cidr : `${cidr}:${ports.map(([a, b]) => `${a}-${b}`).join(',')}`;
          const rule = parseTargetRule(text, action);
          expect(parseTargetRule(formatTargetRule(rule), action)).toEqual(rule);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary text parses or throws ConnectUdpError', () => {
    const ch = fc.constantFrom(...'0123456789abcdef.:/[]-,%'.split(''));
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 40 }), (cs) => {
        try {
          parseTargetRule(cs.join(''), 'allow');
        } catch (e) {
          expect(e).toBeInstanceOf(ConnectUdpError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
