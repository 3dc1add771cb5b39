import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderFormatError } from '../../../src/fields/result.js';
import {
  isProxyErrorType,
  onlyGeneratedByIntermediaries,
  PROXY_ERROR_TYPES,
  recommendedStatus,
} from '../../../src/masque/headers/proxy-error-types.js';
import {
  appendProxyStatus,
  formatProxyStatus,
  type ProxyStatusEntry,
  parseProxyStatus,
} from '../../../src/masque/headers/proxy-status.js';
import { fieldValue, printable, tokenText } from './arbitraries.js';

function entries(text: string | string[]): ProxyStatusEntry[] {
  const r = parseProxyStatus(text);
  if (!r.ok) throw new Error(`expected ok, got ${r.error}`);
  return r.value;
}

describe('Proxy-Status: RFC 9209 examples', () => {
  it('§2 member lists', () => {
    expect(entries('revproxy1.example.net, ExampleCDN')).toEqual([
      { proxy: 'revproxy1.example.net' },
      { proxy: 'ExampleCDN' },
    ]);
    expect(entries('SomeOtherProxy, ThisProxy')).toEqual([
      { proxy: 'SomeOtherProxy' },
      { proxy: 'ThisProxy' },
    ]);
    // One field line per intermediary combines into the same list (RFC 9651 §4.2).
    expect(entries(['SomeOtherProxy', 'ThisProxy'])).toEqual(entries('SomeOtherProxy, ThisProxy'));
  });

  it('§2 trailer example: an unregistered error type is kept as received', () => {
    expect(entries('ThisProxy; error=read_timeout')).toEqual([
      { proxy: 'ThisProxy', error: 'read_timeout' },
    ]);
    expect(isProxyErrorType('read_timeout')).toBe(false);
  });

  it('§2.1.1 error examples', () => {
    expect(entries('ExampleCDN; error=connection_timeout')).toEqual([
      { proxy: 'ExampleCDN', error: 'connection_timeout' },
    ]);
    expect(entries('r34.example.net; error=http_request_error, ExampleCDN')).toEqual([
      { proxy: 'r34.example.net', error: 'http_request_error' },
      { proxy: 'ExampleCDN' },
    ]);
  });

  it('§2.1.2 next-hop, §2.1.3 next-protocol, §2.1.4 received-status', () => {
    expect(entries('cdn.example.org; next-hop=backend.example.org:8001')).toEqual([
      { proxy: 'cdn.example.org', nextHop: 'backend.example.org:8001' },
    ]);
    expect(entries('"proxy.example.org"; next-protocol=h2')).toEqual([
      { proxy: 'proxy.example.org', nextProtocol: new Uint8Array([0x68, 0x32]) },
    ]);
    expect(entries('ExampleCDN; received-status=200')).toEqual([
      { proxy: 'ExampleCDN', receivedStatus: 200 },
    ]);
  });

  it('§2.1.5 details (its error is a String there; accepted)', () => {
    const details = 'Malformed response header: space before colon';
    expect(entries(`proxy.example.net; error="http_protocol_error"; details="${details}"`)).toEqual(
      [{ proxy: 'proxy.example.net', error: 'http_protocol_error', details }],
    );
    expect(entries(`SomeProxy; error=http_protocol_error; details="${details}"`)).toEqual([
      { proxy: 'SomeProxy', error: 'http_protocol_error', details },
    ]);
    expect(formatProxyStatus([{ proxy: 'SomeProxy', error: 'http_protocol_error', details }])).toBe(
      `SomeProxy;error=http_protocol_error;details="${details}"`,
    );
  });

  it('§2.3.2 dns_error with its extra parameters rcode and info-code', () => {
    // RFC 9209 defines these parameters without an example; this one is built from §2.3.2.
    const text = 'ExampleCDN; error=dns_error; rcode="NXDOMAIN"; info-code=3';
    const want: ProxyStatusEntry = {
      proxy: 'ExampleCDN',
      error: 'dns_error',
      rcode: 'NXDOMAIN',
      infoCode: 3,
    };
    expect(entries(text)).toEqual([want]);
    expect(formatProxyStatus([want])).toBe(
      'ExampleCDN;error=dns_error;rcode="NXDOMAIN";info-code=3',
    );
  });
});

describe('Proxy-Status: parameters', () => {
  it('ignores unknown parameters and extra parameters of other error types', () => {
    expect(entries('P; error=http_protocol_error; rcode="NXDOMAIN"; x-vendor=?1')).toEqual([
      { proxy: 'P', error: 'http_protocol_error' },
    ]);
    // Without an error, no extra parameter applies; not even its type is checked.
    expect(entries('P; info-code="x"')).toEqual([{ proxy: 'P' }]);
    expect(
      entries('P; error=tls_alert_received; alert-id=40; alert-message=handshake_failure'),
    ).toEqual([
      { proxy: 'P', error: 'tls_alert_received', alertId: 40, alertMessage: 'handshake_failure' },
    ]);
    expect(entries('P; error=http_response_content_coding; coding=gzip')).toEqual([
      { proxy: 'P', error: 'http_response_content_coding', coding: 'gzip' },
    ]);
  });

  it('reports recognised parameters of the wrong type and bad members', () => {
    const bad = [
      'P; received-status="200"',
      'P; received-status=2.5',
      'P; details=token',
      'P; error=dns_error; rcode=NXDOMAIN', // Token where a String is required
      'P; error=dns_error; info-code="3"',
      'P; error=http_response_content_coding; coding="gzip"',
      'P; error=1',
      'P; error=:AA==:',
      'P; next-protocol="h2"',
      'P; next-hop=1',
      '42',
      '?1',
      ':AAAA:',
      '(a b)',
      'a,',
      'a; error=',
    ];
    for (const b of bad) expect(parseProxyStatus(b).ok, b).toBe(false);
  });

  it('next-protocol: Token when the ALPN ID can be one, Byte Sequence otherwise', () => {
    expect(formatProxyStatus([{ proxy: 'p', nextProtocol: new Uint8Array([0x68, 0x33]) }])).toBe(
      'p;next-protocol=h3',
    );
    expect(formatProxyStatus([{ proxy: 'p', nextProtocol: new Uint8Array([0, 1]) }])).toBe(
      'p;next-protocol=:AAE=:',
    );
    expect(entries('p;next-protocol=:AAE=:')).toEqual([
      { proxy: 'p', nextProtocol: new Uint8Array([0, 1]) },
    ]);
  });

  it('names that are not Tokens are sent as Strings', () => {
    expect(formatProxyStatus([{ proxy: 'My Proxy', nextHop: '192.0.2.1' }])).toBe(
      '"My Proxy";next-hop="192.0.2.1"',
    );
  });

  it('format refuses values it cannot carry', () => {
    const cases: ProxyStatusEntry[][] = [
      [],
      [{ proxy: 'p', error: 'not a token' }],
      [{ proxy: 'p', error: 'http_protocol_error', rcode: 'NXDOMAIN' }],
      [{ proxy: 'p', infoCode: 3 }],
      [{ proxy: 'pé' }],
      [{ proxy: 'p', details: 'line\nbreak' }],
      [{ proxy: 'p', receivedStatus: 2.5 }],
      [{ proxy: 'p', receivedStatus: 1e16 }],
      [{ proxy: 'p', error: 'http_response_transfer_coding', coding: 'not token' }],
    ];
    for (const c of cases)
      expect(() => formatProxyStatus(c), JSON.stringify(c)).toThrow(HeaderFormatError);
  });

  it('appends our member after existing ones, keeping them verbatim', () => {
    const ours: ProxyStatusEntry = { proxy: 'ThisProxy', error: 'destination_ip_prohibited' };
    expect(appendProxyStatus('SomeOtherProxy;x-private="keep"', ours)).toBe(
      'SomeOtherProxy;x-private="keep", ThisProxy;error=destination_ip_prohibited',
    );
    expect(appendProxyStatus(['A', 'B'], ours)).toBe(
      'A, B, ThisProxy;error=destination_ip_prohibited',
    );
    expect(appendProxyStatus(undefined, ours)).toBe('ThisProxy;error=destination_ip_prohibited');
    expect(appendProxyStatus('broken,,', ours)).toBe('ThisProxy;error=destination_ip_prohibited');
  });
});

describe('Proxy-Status: error type registry (RFC 9209 §2.3)', () => {
  it('lists the 32 registered types with their recommended status codes', () => {
    expect(PROXY_ERROR_TYPES.length).toBe(32);
    expect(new Set(PROXY_ERROR_TYPES).size).toBe(32);
    for (const t of PROXY_ERROR_TYPES) expect(isProxyErrorType(t)).toBe(true);
    expect(recommendedStatus('dns_timeout')).toBe(504);
    expect(recommendedStatus('dns_error')).toBe(502);
    expect(recommendedStatus('destination_not_found')).toBe(500);
    expect(recommendedStatus('destination_unavailable')).toBe(503);
    expect(recommendedStatus('destination_ip_prohibited')).toBe(502);
    expect(recommendedStatus('destination_ip_unroutable')).toBe(502);
    expect(recommendedStatus('connection_refused')).toBe(502);
    expect(recommendedStatus('http_request_denied')).toBe(403);
    expect(recommendedStatus('http_request_error')).toBeUndefined();
    expect(recommendedStatus('proxy_internal_response')).toBeUndefined();
    expect(onlyGeneratedByIntermediaries('dns_error')).toBe(true);
    expect(onlyGeneratedByIntermediaries('connection_terminated')).toBe(false);
  });
});

/** Extra parameters per error type, restated from RFC 9209 §2.3 for the generator. */
const EXTRAS: Record<string, fc.Arbitrary<Partial<ProxyStatusEntry>>> = {
  dns_error: fc.record({ rcode: printable(), infoCode: fc.nat(65535) }, { requiredKeys: [] }),
  tls_alert_received: fc.record(
    { alertId: fc.nat(255), alertMessage: printable() },
    { requiredKeys: [] },
  ),
  http_request_error: fc.record(
    { statusCode: fc.integer({ min: 400, max: 499 }), statusPhrase: printable() },
    { requiredKeys: [] },
  ),
  http_response_header_section_size: fc.record(
    { headerSectionSize: fc.nat() },
    { requiredKeys: [] },
  ),
  http_response_header_size: fc.record(
    { headerName: printable(), headerSize: fc.nat() },
    { requiredKeys: [] },
  ),
  http_response_body_size: fc.record(
    { bodySize: fc.integer({ min: 0, max: 999_999_999_999_999 }) },
    { requiredKeys: [] },
  ),
  http_response_trailer_section_size: fc.record(
    { trailerSectionSize: fc.nat() },
    { requiredKeys: [] },
  ),
  http_response_trailer_size: fc.record(
    { trailerName: printable(), trailerSize: fc.nat() },
    { requiredKeys: [] },
  ),
  http_response_transfer_coding: fc.record({ coding: tokenText }, { requiredKeys: [] }),
  http_response_content_coding: fc.record({ coding: tokenText }, { requiredKeys: [] }),
};

const entryArb: fc.Arbitrary<ProxyStatusEntry> = fc
  .record(
    {
      proxy: printable(),
      error: fc.oneof(fc.constantFrom(...PROXY_ERROR_TYPES), tokenText),
      nextHop: printable(),
      nextProtocol: fc.oneof(
        fc.uint8Array({ maxLength: 8 }),
        tokenText.map((t) => Uint8Array.from(t, (c) => c.charCodeAt(0))),
      ),
      receivedStatus: fc.integer({ min: 100, max: 999 }),
      details: printable(60),
    },
    { requiredKeys: ['proxy'] },
  )
  .chain((base): fc.Arbitrary<ProxyStatusEntry> => {
    const extra = base.error !== undefined ? EXTRAS[base.error] : undefined;
    return extra ? extra.map((x) => ({ ...base, ...x })) : fc.constant(base);
  });

describe('Proxy-Status: properties', () => {
  it('format -> parse is the identity', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 4 }), (list) => {
        expect(parseProxyStatus(formatProxyStatus(list))).toEqual({ ok: true, value: list });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fieldValue, (v) => {
        expect(typeof parseProxyStatus(v).ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
