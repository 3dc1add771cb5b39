import { describe, expect, it } from 'vitest';
import {
  classifyDnsError,
  parseTarget,
  parseTargetRule,
  type Resolver,
  resolveTarget,
  TargetPolicy,
} from '../../../src/masque/connect-udp/index.js';
import { formatProxyStatus } from '../../../src/masque/headers/index.js';

type Answer = string[] | { code: string; infoCode?: number };

function dnsError(code: string, infoCode?: number): Error {
  return Object.assign(new Error(`query failed: ${code}`), { code, infoCode });
}

function fakeResolver(a: Answer, aaaa: Answer): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const answer = (x: Answer) =>
    Array.isArray(x) ? Promise.resolve([...x]) : Promise.reject(dnsError(x.code, x.infoCode));
  return {
    calls,
    resolve4: (name) => {
      calls.push(`A ${name}`);
      return answer(a);
    },
    resolve6: (name) => {
      calls.push(`AAAA ${name}`);
      return answer(aaaa);
    },
  };
}

const policy = new TargetPolicy();
const target = parseTarget('udp.example', '443');

describe('resolveTarget with a DNS name', () => {
  it('asks A and AAAA and orders IPv6 first by default', async () => {
    const resolver = fakeResolver(['8.8.8.8', '1.1.1.1'], ['2606:4700:4700::1111']);
    const r = await resolveTarget(target, { resolver, policy, proxyName: 'proxy.example' });
    expect(resolver.calls.sort()).toEqual(['A udp.example', 'AAAA udp.example']);
    expect(r).toEqual({
      ok: true,
      addresses: [
        { address: '2606:4700:4700::1111', family: 6 },
        { address: '8.8.8.8', family: 4 },
        { address: '1.1.1.1', family: 4 },
      ],
      proxyStatus: { proxy: 'proxy.example', nextHop: '[2606:4700:4700::1111]:443' },
    });
    if (r.ok) {
      expect(formatProxyStatus([r.proxyStatus])).toBe(
        'proxy.example;next-hop="[2606:4700:4700::1111]:443"',
      );
    }
  });

  it('prefers IPv4 when configured and skips a disabled family entirely', async () => {
    const resolver = fakeResolver(['8.8.8.8'], ['2606:4700:4700::1111']);
    const r = await resolveTarget(target, { resolver, policy, proxyName: 'p', prefer: 'ipv4' });
    expect(r.ok && r.addresses.map((a) => a.family)).toEqual([4, 6]);
    const only4 = fakeResolver(['8.8.8.8'], { code: 'ESERVFAIL' });
    const r4 = await resolveTarget(target, {
      resolver: only4,
      policy,
      proxyName: 'p',
      families: { ipv6: false },
    });
    expect(only4.calls).toEqual(['A udp.example']);
    expect(r4.ok && r4.addresses).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });

  it('uses the family that answered when the other fails', async () => {
    const resolver = fakeResolver({ code: 'ETIMEOUT' }, ['2001:4860:4860::8888']);
    const r = await resolveTarget(target, { resolver, policy, proxyName: 'p' });
    expect(r.ok && r.addresses).toEqual([{ address: '2001:4860:4860::8888', family: 6 }]);
  });

  it.each([
    [
      'NXDOMAIN',
      { code: 'ENOTFOUND' },
      { code: 'ENOTFOUND' },
      502,
      'dns_error',
      { rcode: 'NXDOMAIN' },
    ],
    [
      'SERVFAIL',
      { code: 'ESERVFAIL' },
      { code: 'ESERVFAIL' },
      502,
      'dns_error',
      { rcode: 'SERVFAIL' },
    ],
    ['REFUSED', { code: 'EREFUSED' }, { code: 'ENODATA' }, 502, 'dns_error', { rcode: 'REFUSED' }],
    ['FORMERR', { code: 'EFORMERR' }, [], 502, 'dns_error', { rcode: 'FORMERR' }],
    ['NOTIMP', { code: 'ENOTIMP' }, [], 502, 'dns_error', { rcode: 'NOTIMP' }],
    [
      'NXDOMAIN beats a timeout',
      { code: 'ETIMEOUT' },
      { code: 'ENOTFOUND' },
      502,
      'dns_error',
      { rcode: 'NXDOMAIN' },
    ],
    ['timeout', { code: 'ETIMEOUT' }, { code: 'ETIMEOUT' }, 504, 'dns_timeout', {}],
    ['timeout beats NODATA', { code: 'ENODATA' }, { code: 'ETIMEOUT' }, 504, 'dns_timeout', {}],
    ['NODATA', { code: 'ENODATA' }, { code: 'ENODATA' }, 502, 'dns_error', { rcode: 'NOERROR' }],
    ['empty answers', [], [], 502, 'dns_error', { rcode: 'NOERROR' }],
    [
      'EDE info-code',
      { code: 'ESERVFAIL', infoCode: 22 },
      [],
      502,
      'dns_error',
      { rcode: 'SERVFAIL', infoCode: 22 },
    ],
    [
      'unknown failure',
      { code: 'ECONNREFUSED' },
      { code: 'ECONNREFUSED' },
      502,
      'dns_error',
      { details: 'ECONNREFUSED' },
    ],
  ] as Array<[string, Answer, Answer, number, string, object]>)(
    '%s',
    async (_, a, aaaa, status, error, extra) => {
      const r = await resolveTarget(target, {
        resolver: fakeResolver(a, aaaa),
        policy,
        proxyName: 'p',
      });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.status).toBe(status);
      expect(r.error).toBe(error);
      expect(r.proxyStatus).toEqual({ proxy: 'p', error, ...extra });
      expect(() => formatProxyStatus([r.proxyStatus])).not.toThrow();
    },
  );

  it('formats the dns_error Proxy-Status as RFC 9209 §2.3.2 describes', async () => {
    const r = await resolveTarget(target, {
      resolver: fakeResolver({ code: 'ENOTFOUND' }, { code: 'ENOTFOUND' }),
      policy,
      proxyName: 'ExampleProxy',
    });
    expect(!r.ok && formatProxyStatus([r.proxyStatus])).toBe(
      'ExampleProxy;error=dns_error;rcode="NXDOMAIN"',
    );
  });

  it('applies the policy to every answer', async () => {
    const mixed = fakeResolver(['10.0.0.1', '8.8.8.8', '127.0.0.1'], ['::1', 'fe80::1']);
    const r = await resolveTarget(target, { resolver: mixed, policy, proxyName: 'p' });
    expect(r.ok && r.addresses).toEqual([{ address: '8.8.8.8', family: 4 }]);

    const allDenied = fakeResolver(['10.0.0.1'], ['::ffff:127.0.0.1']);
    const d = await resolveTarget(target, { resolver: allDenied, policy, proxyName: 'p' });
    expect(d).toMatchObject({
      ok: false,
      status: 502,
      error: 'destination_ip_prohibited',
      proxyStatus: { proxy: 'p', error: 'destination_ip_prohibited' },
    });
  });

  it('deduplicates v4-mapped answers and ignores invalid records', async () => {
    const r = await resolveTarget(target, {
      resolver: fakeResolver(['8.8.8.8', 'bogus'], ['::ffff:8.8.8.8']),
      policy,
      proxyName: 'p',
    });
    expect(r.ok && r.addresses).toEqual([{ address: '8.8.8.8', family: 4 }]);
    const bad = await resolveTarget(target, {
      resolver: fakeResolver(['bogus'], []),
      policy,
      proxyName: 'p',
    });
    expect(bad).toMatchObject({ ok: false, error: 'dns_error' });
  });
});

describe('resolveTarget with an IP literal', () => {
  it('never asks the resolver', async () => {
    const resolver = fakeResolver([], []);
    const r = await resolveTarget(parseTarget('8.8.8.8', '53'), {
      resolver,
      policy,
      proxyName: 'p',
    });
    expect(resolver.calls).toEqual([]);
    expect(r).toEqual({
      ok: true,
      addresses: [{ address: '8.8.8.8', family: 4 }],
      proxyStatus: { proxy: 'p', nextHop: '8.8.8.8:53' },
    });
  });

  it('denies special and rule-denied literals with destination_ip_prohibited', async () => {
    const resolver = fakeResolver([], []);
    for (const host of ['127.0.0.1', '::1', '192.168.1.1', '::ffff:10.0.0.1']) {
      const r = await resolveTarget(parseTarget(host, '53'), { resolver, policy, proxyName: 'p' });
      expect(r).toMatchObject({ ok: false, status: 502, error: 'destination_ip_prohibited' });
    }
    const strict = new TargetPolicy([parseTargetRule('8.8.8.8:53', 'deny')]);
    const r = await resolveTarget(parseTarget('8.8.8.8', '53'), {
      resolver,
      policy: strict,
      proxyName: 'p',
    });
    expect(r).toMatchObject({ ok: false, error: 'destination_ip_prohibited' });
  });

  it('reports destination_ip_unroutable for a family the proxy cannot use', async () => {
    const r = await resolveTarget(parseTarget('2606:4700:4700::1111', '53'), {
      resolver: fakeResolver([], []),
      policy,
      proxyName: 'p',
      families: { ipv6: false },
    });
    expect(r).toMatchObject({
      ok: false,
      status: 502,
      error: 'destination_ip_unroutable',
      proxyStatus: { proxy: 'p', error: 'destination_ip_unroutable' },
    });
  });
});

describe('classifyDnsError', () => {
  it('maps Node DNS codes to RCODEs', () => {
    expect(classifyDnsError(dnsError('ENOTFOUND'))).toMatchObject({
      kind: 'nxdomain',
      rcode: 'NXDOMAIN',
    });
    expect(classifyDnsError(dnsError('ESERVFAIL'))).toMatchObject({
      kind: 'rcode',
      rcode: 'SERVFAIL',
    });
    expect(classifyDnsError(dnsError('ETIMEOUT'))).toMatchObject({ kind: 'timeout' });
    expect(classifyDnsError('weird')).toMatchObject({ kind: 'other', detail: 'weird' });
    expect(classifyDnsError(null)).toMatchObject({ kind: 'other' });
    expect(classifyDnsError(dnsError('ESERVFAIL', -1))).not.toHaveProperty('infoCode');
  });
});
