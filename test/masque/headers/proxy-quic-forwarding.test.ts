import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderFormatError } from '../../../src/fields/result.js';
import {
  formatProxyQuicForwarding,
  type ProxyQuicForwarding,
  parseProxyQuicForwarding,
} from '../../../src/masque/headers/proxy-quic-forwarding.js';
import { fromHex, toHex } from '../../../src/wire/index.js';
import { fieldValue } from './arbitraries.js';

// The draft elides its keys (":abc...789=:"); this is the Appendix A key in its place.
const KEY = fromHex('f13a915f96fb8919d9d8655488ffea5778cac8cffbc27cd38c173bcbad955cff');
const KEY_B64 = Buffer.from(KEY).toString('base64');

function value(r: ReturnType<typeof parseProxyQuicForwarding>) {
  if (!r.ok) throw new Error(`expected ok, got ${r.error}`);
  return r.value;
}

describe('Proxy-QUIC-Forwarding: quic-proxy examples', () => {
  it('the client request of §"Negotiating Modes" / §"Example Exchange"', () => {
    const text = `?1; accept-transform="scramble,identity"; scramble-key=:${KEY_B64}:`;
    const v = value(parseProxyQuicForwarding(text, 'request'));
    expect(v?.enabled).toBe(true);
    expect(v?.acceptTransforms).toEqual(['scramble', 'identity']);
    expect(toHex(v!.scrambleKey!)).toBe(toHex(KEY));
    expect(v?.transform).toBeUndefined();
  });

  it('the proxy response of §"Example Exchange"', () => {
    const text = `?1; transform="scramble"; scramble-key=:${KEY_B64}:`;
    const v = value(parseProxyQuicForwarding(text, 'response'));
    expect(v).toEqual({ enabled: true, transform: 'scramble', scrambleKey: KEY });
  });

  it('the elided key ":abc...789=:" is not valid base64 and is reported', () => {
    const r = parseProxyQuicForwarding(
      '?1; accept-transform="scramble,identity"; scramble-key=:abc...789=:',
    );
    expect(r.ok).toBe(false);
  });

  it('formats canonically', () => {
    expect(
      formatProxyQuicForwarding({
        enabled: true,
        acceptTransforms: ['scramble-dt', 'identity'],
        scrambleKey: KEY,
      }),
    ).toBe(`?1;accept-transform="scramble-dt,identity";scramble-key=:${KEY_B64}:`);
    expect(formatProxyQuicForwarding({ enabled: true, transform: 'identity' })).toBe(
      '?1;transform="identity"',
    );
    expect(formatProxyQuicForwarding({ enabled: false })).toBe('?0');
  });
});

describe('Proxy-QUIC-Forwarding: rules', () => {
  it('absent is undefined; ?0 is forwarding off', () => {
    expect(parseProxyQuicForwarding(undefined)).toEqual({ ok: true, value: undefined });
    expect(value(parseProxyQuicForwarding('?0', 'request'))).toEqual({ enabled: false });
  });

  it('a request with ?1 and no accept-transform is ignored as if absent', () => {
    expect(parseProxyQuicForwarding('?1', 'request')).toEqual({ ok: true, value: undefined });
    expect(parseProxyQuicForwarding(`?1;scramble-key=:${KEY_B64}:`, 'request')).toEqual({
      ok: true,
      value: undefined,
    });
    // Without a role the raw value is returned.
    expect(value(parseProxyQuicForwarding('?1'))).toEqual({ enabled: true });
  });

  it('servers ignore "transform"; clients ignore "accept-transform"', () => {
    const both = '?1;accept-transform="identity";transform="identity"';
    expect(value(parseProxyQuicForwarding(both, 'request'))).toEqual({
      enabled: true,
      acceptTransforms: ['identity'],
    });
    expect(value(parseProxyQuicForwarding(both, 'response'))).toEqual({
      enabled: true,
      transform: 'identity',
    });
    // Ignored parameters are not type-checked either.
    expect(
      value(parseProxyQuicForwarding('?1;accept-transform="a";transform=1', 'request')),
    ).toEqual({
      enabled: true,
      acceptTransforms: ['a'],
    });
  });

  it('trims names in accept-transform and drops empty entries', () => {
    const v = value(parseProxyQuicForwarding('?1;accept-transform=" scramble-dt , identity,,"'));
    expect(v?.acceptTransforms).toEqual(['scramble-dt', 'identity']);
  });

  it('ignores unknown parameters', () => {
    expect(
      value(parseProxyQuicForwarding('?1;accept-transform="identity";future=?1;other=:AAAA:')),
    ).toEqual({
      enabled: true,
      acceptTransforms: ['identity'],
    });
    expect(value(parseProxyQuicForwarding('?0;ext=42'))).toEqual({ enabled: false });
  });

  it('reports malformed values', () => {
    const bad = [
      '1',
      '"?1"',
      'scramble',
      '?1;accept-transform=identity', // Token, not String
      '?1;accept-transform=:AAAA:',
      '?1;transform=identity',
      `?1;scramble-key="${KEY_B64}"`,
      `?1;scramble-key=:${Buffer.alloc(31).toString('base64')}:`, // 31 bytes
      `?1;scramble-key=:${Buffer.alloc(33).toString('base64')}:`, // 33 bytes
      '?1;accept-transform="identity", ?1',
      '?1;;',
      '',
    ];
    for (const b of bad) expect(parseProxyQuicForwarding(b).ok, b).toBe(false);
    expect(parseProxyQuicForwarding(['?1', '?0']).ok).toBe(false);
  });

  it('format refuses values it cannot carry', () => {
    const cases: ProxyQuicForwarding[] = [
      { enabled: true, scrambleKey: new Uint8Array(16) },
      { enabled: true, acceptTransforms: ['a,b'] },
      { enabled: true, acceptTransforms: [''] },
      { enabled: true, acceptTransforms: [' a'] },
      { enabled: true, transform: 'é' },
    ];
    for (const c of cases) expect(() => formatProxyQuicForwarding(c)).toThrow(HeaderFormatError);
  });
});

const transformName = fc
  .array(
    fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x2c),
    { minLength: 1, maxLength: 12 },
  )
  .map((codes) => String.fromCharCode(...codes));

const forwardingArb: fc.Arbitrary<ProxyQuicForwarding> = fc.record(
  {
    enabled: fc.boolean(),
    acceptTransforms: fc.array(transformName, { maxLength: 4 }),
    transform: fc
      .array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 12 })
      .map((c) => String.fromCharCode(...c)),
    scrambleKey: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  },
  { requiredKeys: ['enabled'] },
);

describe('Proxy-QUIC-Forwarding: properties', () => {
  it('format -> parse is the identity', () => {
    fc.assert(
      fc.property(forwardingArb, (v) => {
        expect(parseProxyQuicForwarding(formatProxyQuicForwarding(v))).toEqual({
          ok: true,
          value: v,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary input, in any role', () => {
    fc.assert(
      fc.property(
        fieldValue,
        fc.constantFrom(undefined, 'request', 'response' as const),
        (v, role) => {
          const r = parseProxyQuicForwarding(v, role);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });
});
