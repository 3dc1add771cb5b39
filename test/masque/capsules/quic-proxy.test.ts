import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCapsules } from '../../../src/capsule/parser.js';
import {
  CidReason,
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  QUIC_PROXY_CODEPOINTS,
  QUIC_PROXY_PROFILES,
  QUIC_PROXY_SENDER,
  type QuicProxyCapsule,
  type QuicProxyCodecOptions,
  type QuicProxyProfile,
  quicProxyCapsuleLimits,
  quicProxyKindOf,
  quicProxyProfileOf,
} from '../../../src/masque/capsules/quic-proxy.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { bytesArb, reasonOf, varintBytes } from '../../capsule/helpers.js';

const TOKEN = fromHex('000102030405060708090a0b0c0d0e0f');

function norm(c: QuicProxyCapsule | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(c ?? {}).map(([k, v]) => [k, v instanceof Uint8Array ? toHex(v) : v]),
  );
}

function capsuleArb(cidMax: number, tokens: fc.Arbitrary<number>, reasons = true) {
  const cid = bytesArb(cidMax);
  const token = tokens.chain((n) => bytesArb(n, n));
  const reason = reasons ? fc.nat(1000) : fc.constant(0);
  return fc.oneof(
    fc.record({
      kind: fc.constantFrom(
        'register_client_cid',
        'reject_client_cid',
        'reject_target_cid',
        'close_client_cid',
        'close_target_cid',
      ),
      reason,
      cid,
    }),
    fc.record({ kind: fc.constant('register_target_cid'), reason, cid, token }),
    fc.record({ kind: fc.constant('ack_client_cid'), cid, vcid: cid }),
    fc.record({
      kind: fc.constantFrom('ack_client_vcid', 'ack_target_cid'),
      cid,
      vcid: cid,
      token,
    }),
    fc.record({
      kind: fc.constant('max_connection_ids'),
      limit: fc.integer({ min: 3, max: Number.MAX_SAFE_INTEGER }),
    }),
  ) as fc.Arbitrary<QuicProxyCapsule>;
}

/** Encode, frame, parse and decode as the receiver of the capsule's kind would. */
function roundTrip(
  c: QuicProxyCapsule,
  profile: QuicProxyProfile,
  options: QuicProxyCodecOptions = {},
): QuicProxyCapsule | undefined {
  const [type, value] = encodeQuicProxyCapsule(c, profile, options);
  const framed = concatBytes(varintBytes(type), varintBytes(value.length), value);
  const [p, ...rest] = parseCapsules(framed, { known: new Map(quicProxyCapsuleLimits(profile)) });
  expect(rest).toEqual([]);
  const receiver = QUIC_PROXY_SENDER[c.kind] === 'client' ? 'proxy' : 'client';
  return decodeQuicProxyCapsule(Number(p.type), p.value, profile, receiver, options);
}

describe('quic-proxy connection ID capsules in three wire profiles (quic-proxy §5, §11.5)', () => {
  it('use the code points of each profile; -09 adds REJECT_* before CLOSE_*', () => {
    const hex = (p: QuicProxyProfile) =>
      Object.fromEntries([...QUIC_PROXY_CODEPOINTS[p]].map(([k, v]) => [k, v.toString(16)]));
    expect(hex('draft-07')).toEqual({
      register_client_cid: 'ffe600',
      register_target_cid: 'ffe601',
      ack_client_cid: 'ffe602',
      ack_client_vcid: 'ffe603',
      ack_target_cid: 'ffe604',
      close_client_cid: 'ffe605',
      close_target_cid: 'ffe606',
      max_connection_ids: 'ffe607',
    });
    expect(hex('draft-08').max_connection_ids).toBe('ffe707');
    expect(hex('draft-09')).toEqual({
      register_client_cid: 'ffe800',
      register_target_cid: 'ffe801',
      ack_client_cid: 'ffe802',
      ack_client_vcid: 'ffe803',
      ack_target_cid: 'ffe804',
      reject_client_cid: 'ffe805',
      reject_target_cid: 'ffe806',
      close_client_cid: 'ffe807',
      close_target_cid: 'ffe808',
      max_connection_ids: 'ffe809',
    });
    expect(quicProxyProfileOf(0xffe706)).toBe('draft-08');
    expect(quicProxyProfileOf(0xffe80a)).toBeUndefined();
    expect(quicProxyKindOf(0xffe805, 'draft-08')).toBeUndefined();
    expect(decodeQuicProxyCapsule(0x11, new Uint8Array(0), 'draft-09', 'proxy')).toBeUndefined();
  });

  it('encode the Example Exchange (quic-proxy §7) per the §5 formats, in each profile', () => {
    const cases: Array<[QuicProxyCapsule, Record<QuicProxyProfile, string>]> = [
      [
        { kind: 'register_client_cid', reason: 0, cid: fromHex('31323334') },
        {
          'draft-07': '80ffe600 04 31323334',
          'draft-08': '80ffe700 05 00 31323334',
          'draft-09': '80ffe800 05 00 31323334',
        },
      ],
      [
        { kind: 'max_connection_ids', limit: 4 },
        {
          'draft-07': '80ffe607 01 03',
          'draft-08': '80ffe707 01 04',
          'draft-09': '80ffe809 01 04',
        },
      ],
      [
        { kind: 'ack_client_cid', cid: fromHex('31323334'), vcid: fromHex('62646668') },
        {
          'draft-07': '80ffe602 0a 04 31323334 04 62646668',
          'draft-08': '80ffe702 0a 04 31323334 04 62646668',
          'draft-09': '80ffe802 0a 04 31323334 04 62646668',
        },
      ],
      [
        {
          kind: 'ack_target_cid',
          cid: fromHex('61626364'),
          vcid: fromHex('123412341234'),
          token: TOKEN,
        },
        {
          'draft-07': `80ffe604 1d 04 61626364 06 123412341234 10 ${toHex(TOKEN)}`,
          'draft-08': `80ffe704 1d 04 61626364 06 123412341234 10 ${toHex(TOKEN)}`,
          'draft-09': `80ffe804 1d 04 61626364 06 123412341234 10 ${toHex(TOKEN)}`,
        },
      ],
      [
        { kind: 'register_target_cid', reason: 0, cid: fromHex('61626364'), token: TOKEN },
        {
          'draft-07': `80ffe601 16 04 61626364 10 ${toHex(TOKEN)}`,
          'draft-08': `80ffe701 17 00 04 61626364 10 ${toHex(TOKEN)}`,
          'draft-09': `80ffe801 17 00 04 61626364 10 ${toHex(TOKEN)}`,
        },
      ],
      [
        // A proxy's rejection: CLOSE_* before -09, REJECT_* in -09 (09-delta §1).
        { kind: 'reject_client_cid', reason: 0, cid: fromHex('31323334') },
        {
          'draft-07': '80ffe605 04 31323334',
          'draft-08': '80ffe705 05 00 31323334',
          'draft-09': '80ffe805 05 00 31323334',
        },
      ],
      [
        { kind: 'close_target_cid', reason: 0, cid: new Uint8Array(0) },
        { 'draft-07': '80ffe606 00', 'draft-08': '80ffe706 01 00', 'draft-09': '80ffe808 01 00' },
      ],
    ];
    for (const [c, byProfile] of cases) {
      for (const profile of QUIC_PROXY_PROFILES) {
        const [type, value] = encodeQuicProxyCapsule(c, profile, { v1: true, forwarding: true });
        const wire = concatBytes(varintBytes(type, 4), varintBytes(value.length), value);
        expect(toHex(wire), `${c.kind} ${profile}`).toBe(toHex(fromHex(byProfile[profile])));
        expect(norm(roundTrip(c, profile, { v1: true, forwarding: true }))).toEqual(norm(c));
      }
    }
  });

  it('carry Reason codes in -08 and -09; -07 has no Reason field', () => {
    const c: QuicProxyCapsule = {
      kind: 'reject_target_cid',
      reason: CidReason.CONFLICT,
      cid: fromHex('aa'),
    };
    expect(norm(roundTrip(c, 'draft-09'))).toEqual(norm(c));
    // -07 cannot say why: the rejection goes out as a plain CLOSE_TARGET_CID.
    expect(toHex(encodeQuicProxyCapsule(c, 'draft-07')[1])).toBe('aa');
  });

  it('round-trip in every profile, up to 255-byte CIDs (property)', () => {
    for (const profile of QUIC_PROXY_PROFILES) {
      const arb = capsuleArb(255, fc.nat(255), profile !== 'draft-07');
      fc.assert(
        fc.property(arb, (c) => {
          expect(norm(roundTrip(c, profile))).toEqual(norm(c));
        }),
        { numRuns: 500 },
      );
    }
  });

  it('a capsule from the wrong side is malformed (-09: CLOSE_* client-only, REJECT_* proxy-only)', () => {
    const [t, v] = encodeQuicProxyCapsule(
      { kind: 'close_client_cid', reason: 0, cid: fromHex('01') },
      'draft-09',
    );
    expect(reasonOf(() => decodeQuicProxyCapsule(t, v, 'draft-09', 'client'))).toBe('MALFORMED');
    const [rt, rv] = encodeQuicProxyCapsule(
      { kind: 'reject_client_cid', reason: 0, cid: fromHex('01') },
      'draft-09',
    );
    expect(reasonOf(() => decodeQuicProxyCapsule(rt, rv, 'draft-09', 'proxy'))).toBe('MALFORMED');
    // -08: the same CLOSE code point is a retirement from the client, a rejection from the proxy.
    const [ct, cv] = encodeQuicProxyCapsule(
      { kind: 'close_client_cid', reason: 0, cid: fromHex('01') },
      'draft-08',
    );
    expect(decodeQuicProxyCapsule(ct, cv, 'draft-08', 'proxy')?.kind).toBe('close_client_cid');
    expect(decodeQuicProxyCapsule(ct, cv, 'draft-08', 'client')?.kind).toBe('reject_client_cid');
    const [mt, mv] = encodeQuicProxyCapsule({ kind: 'max_connection_ids', limit: 5 }, 'draft-09');
    expect(reasonOf(() => decodeQuicProxyCapsule(mt, mv, 'draft-09', 'proxy'))).toBe('MALFORMED');
  });

  it('MAX_CONNECTION_IDS: -08/-09 at least 3, -07 a sequence number of at least 1; huge is unlimited', () => {
    const dec = (profile: QuicProxyProfile, hex: string) => () =>
      decodeQuicProxyCapsule(
        QUIC_PROXY_CODEPOINTS[profile].get('max_connection_ids') as number,
        fromHex(hex),
        profile,
        'client',
      );
    expect(reasonOf(dec('draft-08', '02'))).toBe('MALFORMED');
    expect(dec('draft-08', '03')()).toEqual({ kind: 'max_connection_ids', limit: 3 });
    expect(reasonOf(dec('draft-07', '00'))).toBe('MALFORMED');
    expect(dec('draft-07', '01')()).toEqual({ kind: 'max_connection_ids', limit: 2 });
    expect(dec('draft-09', 'ffffffffffffffff')()).toEqual({
      kind: 'max_connection_ids',
      limit: Number.MAX_SAFE_INTEGER,
    });
    expect(() =>
      encodeQuicProxyCapsule({ kind: 'max_connection_ids', limit: 2 }, 'draft-08'),
    ).toThrow();
  });

  it('fail truncations and trailing bytes of length-prefixed formats', () => {
    const implied = new Set([
      'register_client_cid',
      'reject_client_cid',
      'reject_target_cid',
      'close_client_cid',
      'close_target_cid',
    ]);
    fc.assert(
      fc.property(
        capsuleArb(255, fc.nat(255)).filter(
          (c) => !implied.has(c.kind) && c.kind !== 'max_connection_ids',
        ),
        bytesArb(3, 1),
        (c, extra) => {
          const [t, v] = encodeQuicProxyCapsule(c, 'draft-09');
          const receiver = QUIC_PROXY_SENDER[c.kind] === 'client' ? 'proxy' : 'client';
          for (let n = 0; n < v.length; n++) {
            expect(
              reasonOf(() => decodeQuicProxyCapsule(t, v.subarray(0, n), 'draft-09', receiver)),
            ).toBe('TRUNCATED');
          }
          expect(
            reasonOf(() => decodeQuicProxyCapsule(t, concatBytes(v, extra), 'draft-09', receiver)),
          ).toBe('LENGTH_MISMATCH');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('enforce QUIC v1 limits and the forwarded-mode rules when asked', () => {
    const t = QUIC_PROXY_CODEPOINTS['draft-08'];
    const ackClient = (cid: string, vcid: string) =>
      concatBytes(
        varintBytes(cid.length / 2),
        fromHex(cid),
        varintBytes(vcid.length / 2),
        fromHex(vcid),
      );
    const ack = t.get('ack_client_cid') as number;
    // §5.3: the client VCID is at least as long as the client CID; empty without forwarding.
    expect(
      reasonOf(() =>
        decodeQuicProxyCapsule(ack, ackClient('0102', '01'), 'draft-08', 'client', {
          forwarding: true,
        }),
      ),
    ).toBe('MALFORMED');
    expect(
      reasonOf(() =>
        decodeQuicProxyCapsule(ack, ackClient('0102', '0102'), 'draft-08', 'client', {
          forwarding: false,
        }),
      ),
    ).toBe('MALFORMED');
    expect(
      decodeQuicProxyCapsule(ack, ackClient('0102', ''), 'draft-08', 'client', {
        forwarding: false,
      }),
    ).toBeDefined();
    const long = ackClient('00'.repeat(21), '');
    expect(
      reasonOf(() => decodeQuicProxyCapsule(ack, long, 'draft-08', 'client', { v1: true })),
    ).toBe('TOO_LARGE');
    // §5.9.1: no ACK_CLIENT_VCID without forwarding.
    const vcidAck = concatBytes(ackClient('01', '02'), fromHex('00'));
    expect(
      reasonOf(() =>
        decodeQuicProxyCapsule(t.get('ack_client_vcid') as number, vcidAck, 'draft-08', 'proxy', {
          forwarding: false,
        }),
      ),
    ).toBe('MALFORMED');
    // QUIC v1 tokens: 0 or 16 bytes.
    const reg = concatBytes(fromHex('00 01 aa 08'), new Uint8Array(8));
    expect(
      decodeQuicProxyCapsule(t.get('register_target_cid') as number, reg, 'draft-08', 'proxy'),
    ).toBeDefined();
    expect(
      reasonOf(() =>
        decodeQuicProxyCapsule(t.get('register_target_cid') as number, reg, 'draft-08', 'proxy', {
          v1: true,
        }),
      ),
    ).toBe('MALFORMED');
  });

  it('decode arbitrary bytes or throw CapsuleError, within the advertised caps (property)', () => {
    for (const profile of QUIC_PROXY_PROFILES) {
      const types = [...QUIC_PROXY_CODEPOINTS[profile].values()];
      const caps = new Map(quicProxyCapsuleLimits(profile));
      fc.assert(
        fc.property(
          fc.constantFrom(...types),
          bytesArb(300),
          fc.constantFrom('client', 'proxy'),
          (t, v, who) => {
            expect(caps.get(t)).toBeGreaterThan(0);
            try {
              decodeQuicProxyCapsule(t, v, profile, who as 'client' | 'proxy');
            } catch (err) {
              expect(
                reasonOf(() => {
                  throw err;
                }),
              ).toBeDefined();
            }
          },
        ),
        { numRuns: 500 },
      );
    }
  });
});
