import { describe, expect, it } from 'vitest';
import {
  parseTemplate,
  rejectionResponseHeaders,
  successResponseHeaders,
  validateConnectUdpRequest,
} from '../../../src/masque/connect-udp/index.js';

const TEMPLATE = 'https://example.org/.well-known/masque/udp/{target_host}/{target_port}/';
const template = parseTemplate(TEMPLATE);

type H = Array<[string, string]>;

// RFC 9298 §3.4, Figure 4: the HTTP/2 and HTTP/3 request example.
const EXAMPLE: H = [
  [':method', 'CONNECT'],
  [':protocol', 'connect-udp'],
  [':scheme', 'https'],
  [':path', '/.well-known/masque/udp/192.0.2.6/443/'],
  [':authority', 'example.org'],
  ['capsule-protocol', '?1'],
];

function without(name: string, headers: H = EXAMPLE): H {
  return headers.filter(([n]) => n !== name);
}
function replace(name: string, value: string, headers: H = EXAMPLE): H {
  return headers.map(([n, v]) => [n, n === name ? value : v]);
}

describe('validateConnectUdpRequest', () => {
  it('accepts the RFC 9298 §3.4 example', () => {
    expect(validateConnectUdpRequest(EXAMPLE, { template })).toEqual({
      ok: true,
      target: { host: { kind: 'ip', family: 4, address: '192.0.2.6' }, port: 443 },
      wildcard: false,
      capsuleProtocol: true,
      variables: new Map([
        ['target_host', '192.0.2.6'],
        ['target_port', '443'],
      ]),
    });
  });

  it('accepts a template given as text, an IPv6 target and a DNS target', () => {
    const v6 = replace(':path', '/.well-known/masque/udp/2001%3Adb8%3A%3A42/443/');
    const r = validateConnectUdpRequest(v6, { template: TEMPLATE });
    expect(r.ok && r.target?.host).toEqual({ kind: 'ip', family: 6, address: '2001:db8::42' });
    const dns = replace(':path', '/.well-known/masque/udp/Target.Example/53/');
    const d = validateConnectUdpRequest(dns, { template });
    expect(d.ok && d.target).toEqual({ host: { kind: 'dns', name: 'target.example' }, port: 53 });
  });

  it("passes '*'/'*' (percent-encoded) as a wildcard and refuses a single '*' (connect-udp-listen §3)", () => {
    const both = validateConnectUdpRequest(replace(':path', '/.well-known/masque/udp/%2A/%2A/'), {
      template,
    });
    expect(both).toMatchObject({ ok: true, target: undefined, wildcard: true });
    for (const p of [
      '/.well-known/masque/udp/%2A/443/',
      '/.well-known/masque/udp/192.0.2.6/%2A/',
    ]) {
      const one = validateConnectUdpRequest(replace(':path', p), { template, proxyName: 'px' });
      expect(one).toMatchObject({ ok: false, status: 400, reason: 'TARGET_WILDCARD_PARTIAL' });
    }
  });

  it('accepts a missing or non-Boolean capsule-protocol by default (RFC 9297 §3.4)', () => {
    for (const h of [
      without('capsule-protocol'),
      replace('capsule-protocol', '?0'),
      replace('capsule-protocol', '1'),
    ]) {
      const r = validateConnectUdpRequest(h, { template });
      expect(r.ok).toBe(true);
      expect(r.ok && r.capsuleProtocol).toBe(false);
    }
    const withParams = replace('capsule-protocol', '?1;foo=bar');
    expect(validateConnectUdpRequest(withParams, { template })).toMatchObject({
      ok: true,
      capsuleProtocol: true,
    });
  });

  it.each([
    ['duplicate :path', [...EXAMPLE, [':path', '/x']], 400, 'PSEUDO_HEADER_INVALID'],
    ['unknown pseudo-header', [...EXAMPLE, [':status', '200']], 400, 'PSEUDO_HEADER_INVALID'],
    ['no :method', without(':method'), 400, 'METHOD_MISSING'],
    ['GET with :protocol', replace(':method', 'GET'), 400, 'METHOD_NOT_CONNECT'],
    ['GET', without(':protocol', replace(':method', 'GET')), 405, 'METHOD_NOT_CONNECT'],
    ['plain CONNECT', without(':protocol'), 501, 'PROTOCOL_MISSING'],
    ['connect-ip', replace(':protocol', 'connect-ip'), 501, 'PROTOCOL_UNSUPPORTED'],
    ['websocket', replace(':protocol', 'websocket'), 501, 'PROTOCOL_UNSUPPORTED'],
    ['case-changed token', replace(':protocol', 'CONNECT-UDP'), 501, 'PROTOCOL_UNSUPPORTED'],
    ['no :scheme', without(':scheme'), 400, 'SCHEME_MISSING'],
    ['empty :scheme', replace(':scheme', ''), 400, 'SCHEME_MISSING'],
    ['http scheme', replace(':scheme', 'http'), 400, 'SCHEME_NOT_HTTPS'],
    ['no :path', without(':path'), 400, 'PATH_MISSING'],
    ['empty :path', replace(':path', ''), 400, 'PATH_MISSING'],
    ['no :authority', without(':authority'), 400, 'AUTHORITY_MISSING'],
    ['content-length', [...EXAMPLE, ['content-length', '0']], 400, 'CONTENT_HEADER'],
    ['content-type', [...EXAMPLE, ['content-type', 'text/plain']], 400, 'CONTENT_HEADER'],
    ['transfer-encoding', [...EXAMPLE, ['transfer-encoding', 'chunked']], 400, 'CONTENT_HEADER'],
    ['other path', replace(':path', '/index.html'), 404, 'PATH_NO_MATCH'],
    [
      'path with query',
      replace(':path', '/.well-known/masque/udp/192.0.2.6/443/?a'),
      404,
      'PATH_NO_MATCH',
    ],
    ['empty host', replace(':path', '/.well-known/masque/udp//443/'), 400, 'TARGET_MISSING'],
    ['empty port', replace(':path', '/.well-known/masque/udp/192.0.2.6//'), 400, 'TARGET_MISSING'],
    [
      'port 0',
      replace(':path', '/.well-known/masque/udp/192.0.2.6/0/'),
      400,
      'TARGET_PORT_INVALID',
    ],
    [
      'port 65536',
      replace(':path', '/.well-known/masque/udp/192.0.2.6/65536/'),
      400,
      'TARGET_PORT_INVALID',
    ],
    [
      'port with sign',
      replace(':path', '/.well-known/masque/udp/192.0.2.6/-1/'),
      400,
      'TARGET_PORT_INVALID',
    ],
    [
      'zone id',
      replace(':path', '/.well-known/masque/udp/fe80%3A%3A1%25eth0/443/'),
      400,
      'TARGET_HOST_INVALID',
    ],
    [
      'bad name',
      replace(':path', '/.well-known/masque/udp/-bad-/443/'),
      400,
      'TARGET_HOST_INVALID',
    ],
    [
      'non-ASCII host',
      replace(':path', '/.well-known/masque/udp/%C3%A9.example/443/'),
      400,
      'TARGET_HOST_INVALID',
    ],
  ] as Array<[string, H, number, string]>)('%s -> %d %s', (_, headers, status, reason) => {
    const r = validateConnectUdpRequest(headers, { template });
    expect(r).toMatchObject({ ok: false, status, reason });
    if (!r.ok) expect(r.proxyStatus).toBeUndefined();
  });

  it('answers 405 with allow: CONNECT', () => {
    const r = validateConnectUdpRequest(without(':protocol', replace(':method', 'GET')), {
      template,
    });
    expect(!r.ok && r.headers).toEqual([['allow', 'CONNECT']]);
  });

  it('checks :authority strictly when asked (421), ignoring case and the default port', () => {
    const opts = { template, strictAuthority: true };
    expect(validateConnectUdpRequest(EXAMPLE, opts).ok).toBe(true);
    expect(validateConnectUdpRequest(replace(':authority', 'EXAMPLE.org:443'), opts).ok).toBe(true);
    expect(validateConnectUdpRequest(replace(':authority', 'other.example'), opts)).toMatchObject({
      ok: false,
      status: 421,
      reason: 'AUTHORITY_MISMATCH',
    });
    expect(validateConnectUdpRequest(replace(':authority', 'other.example'), { template }).ok).toBe(
      true,
    );
  });

  it('requires capsule-protocol: ?1 when configured', () => {
    const opts = { template, requireCapsuleProtocol: true };
    expect(validateConnectUdpRequest(EXAMPLE, opts).ok).toBe(true);
    for (const h of [without('capsule-protocol'), replace('capsule-protocol', '?0')]) {
      expect(validateConnectUdpRequest(h, opts)).toMatchObject({
        ok: false,
        status: 400,
        reason: 'CAPSULE_PROTOCOL_MISSING',
      });
    }
    // Two field lines make a List, which "MUST be handled as if the field were not present".
    const twice: H = [...EXAMPLE, ['capsule-protocol', '?1']];
    expect(validateConnectUdpRequest(twice, opts).ok).toBe(false);
  });

  it('adds a Proxy-Status http_request_error member to 4xx when a proxy name is set', () => {
    const r = validateConnectUdpRequest(replace(':path', '/index.html'), {
      template,
      proxyName: 'proxy.example',
    });
    expect(!r.ok && r.proxyStatus).toEqual({
      proxy: 'proxy.example',
      error: 'http_request_error',
      statusCode: 404,
      details: 'PATH_NO_MATCH',
    });
    const s = validateConnectUdpRequest(replace(':protocol', 'x'), { template, proxyName: 'p' });
    expect(!s.ok && s.proxyStatus).toBeUndefined();
  });

  it('matches query-form templates with parameters in any order', () => {
    const q = parseTemplate('https://proxy.example.org:4443/masque{?target_host,target_port}');
    const h = replace(':path', '/masque?target_port=53&target_host=dns.example');
    expect(validateConnectUdpRequest(h, { template: q })).toMatchObject({
      ok: true,
      target: { host: { kind: 'dns', name: 'dns.example' }, port: 53 },
    });
    const missing = replace(':path', '/masque?target_port=53');
    expect(validateConnectUdpRequest(missing, { template: q })).toMatchObject({
      status: 400,
      reason: 'TARGET_MISSING',
    });
  });
});

describe('response headers', () => {
  // RFC 9298 §3.5, Figure 6: ":status = 200, capsule-protocol = ?1".
  it('reproduces the RFC 9298 §3.5 response example', () => {
    expect(successResponseHeaders()).toEqual([
      [':status', '200'],
      ['capsule-protocol', '?1'],
    ]);
  });

  it('adds Proxy-Status with next-hop', () => {
    expect(
      successResponseHeaders({ proxyName: 'proxy.example', nextHop: '192.0.2.6:443' }),
    ).toEqual([
      [':status', '200'],
      ['capsule-protocol', '?1'],
      ['proxy-status', 'proxy.example;next-hop="192.0.2.6:443"'],
    ]);
    expect(successResponseHeaders({ proxyName: 'p', status: 204 })[0]).toEqual([':status', '204']);
    expect(() => successResponseHeaders({ status: 404 })).toThrow(RangeError);
  });

  it('never puts capsule-protocol on a rejection (RFC 9297 §3.4)', () => {
    const h = rejectionResponseHeaders(502, {
      proxyStatus: { proxy: 'p', error: 'dns_error', rcode: 'NXDOMAIN' },
      headers: [
        ['capsule-protocol', '?1'],
        ['x-a', 'b'],
      ],
    });
    expect(h).toEqual([
      [':status', '502'],
      ['x-a', 'b'],
      ['proxy-status', 'p;error=dns_error;rcode="NXDOMAIN"'],
    ]);
    expect(() => rejectionResponseHeaders(200)).toThrow(RangeError);
  });
});
