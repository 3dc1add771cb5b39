import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCapsules } from '../../../src/capsule/parser.js';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  encodeQuicProxyValue,
  isQuicProxyCapsuleType,
  QuicProxyCapsuleType as Q,
  QUIC_PROXY_CAPSULE_LIMITS,
  QUIC_PROXY_CAPSULE_SENDER,
  type QuicProxyCapsule,
  type QuicProxyCodecOptions,
} from '../../../src/masque/capsules/quic-proxy.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { bytesArb, reasonOf, succeedsOrCapsuleError, varintBytes } from '../../capsule/helpers.js';

const TOKEN = fromHex('000102030405060708090a0b0c0d0e0f');
const TYPES = Object.values(Q);

function norm(c: QuicProxyCapsule): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, v instanceof Uint8Array ? toHex(v) : v]),
  );
}

function capsuleArb(cidMax: number, tokenLengths: fc.Arbitrary<number>) {
  const cid = bytesArb(cidMax);
  const token = tokenLengths.chain((n) => bytesArb(n, n));
  return fc.oneof(
    fc.record({ type: fc.constant(Q.REGISTER_CLIENT_CID), connectionId: cid }),
    fc.record({
      type: fc.constant(Q.REGISTER_TARGET_CID),
      connectionId: cid,
      statelessResetToken: token,
    }),
    fc.record({ type: fc.constant(Q.ACK_CLIENT_CID), connectionId: cid, virtualConnectionId: cid }),
    fc.record({
      type: fc.constantFrom(Q.ACK_CLIENT_VCID, Q.ACK_TARGET_CID),
      connectionId: cid,
      virtualConnectionId: cid,
      statelessResetToken: token,
    }),
    fc.record({ type: fc.constantFrom(Q.CLOSE_CLIENT_CID, Q.CLOSE_TARGET_CID), connectionId: cid }),
    fc.record({
      type: fc.constant(Q.MAX_CONNECTION_IDS),
      maximumSequenceNumber: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    }),
  ) as fc.Arbitrary<QuicProxyCapsule>;
}

const anyArb = capsuleArb(255, fc.oneof(fc.constant(0), fc.constant(16), fc.nat(255)));
const v1Arb = capsuleArb(20, fc.constantFrom(0, 16));

function roundTrip(c: QuicProxyCapsule, options: QuicProxyCodecOptions = {}): QuicProxyCapsule {
  const [p, ...rest] = parseCapsules(encodeQuicProxyCapsule(c, options), {
    known: QUIC_PROXY_CAPSULE_LIMITS,
  });
  expect(rest).toEqual([]);
  return decodeQuicProxyCapsule(p.type, p.value, options);
}

describe('quic-proxy connection ID capsules (quic-proxy §5)', () => {
  it('use the code points 0xffe600-0xffe607 (quic-proxy §11.4)', () => {
    expect(Q).toEqual({
      REGISTER_CLIENT_CID: 0xffe600,
      REGISTER_TARGET_CID: 0xffe601,
      ACK_CLIENT_CID: 0xffe602,
      ACK_CLIENT_VCID: 0xffe603,
      ACK_TARGET_CID: 0xffe604,
      CLOSE_CLIENT_CID: 0xffe605,
      CLOSE_TARGET_CID: 0xffe606,
      MAX_CONNECTION_IDS: 0xffe607,
    });
    expect(TYPES.every(isQuicProxyCapsuleType)).toBe(true);
    expect(isQuicProxyCapsuleType(0xffe608)).toBe(false);
  });

  it('encode the capsules of the Example Exchange (quic-proxy §7) per the §5 formats', () => {
    const cases: [QuicProxyCapsule, string][] = [
      [{ type: Q.REGISTER_CLIENT_CID, connectionId: fromHex('31323334') }, '80ffe600 04 31323334'],
      [{ type: Q.MAX_CONNECTION_IDS, maximumSequenceNumber: 3 }, '80ffe607 01 03'],
      [
        {
          type: Q.ACK_CLIENT_CID,
          connectionId: fromHex('31323334'),
          virtualConnectionId: fromHex('62646668'),
        },
        '80ffe602 0a 04 31323334 04 62646668',
      ],
      [
        {
          type: Q.ACK_CLIENT_VCID,
          connectionId: fromHex('31323334'),
          virtualConnectionId: fromHex('62646668'),
          statelessResetToken: TOKEN,
        },
        `80ffe603 1b 04 31323334 04 62646668 10 ${toHex(TOKEN)}`,
      ],
      [
        {
          type: Q.REGISTER_TARGET_CID,
          connectionId: fromHex('61626364'),
          statelessResetToken: new Uint8Array(0),
        },
        '80ffe601 06 04 61626364 00',
      ],
      [
        {
          type: Q.REGISTER_TARGET_CID,
          connectionId: fromHex('61626364'),
          statelessResetToken: TOKEN,
        },
        `80ffe601 16 04 61626364 10 ${toHex(TOKEN)}`,
      ],
      [
        {
          type: Q.ACK_TARGET_CID,
          connectionId: fromHex('61626364'),
          virtualConnectionId: fromHex('123412341234'),
          statelessResetToken: TOKEN,
        },
        `80ffe604 1d 04 61626364 06 123412341234 10 ${toHex(TOKEN)}`,
      ],
      [{ type: Q.CLOSE_CLIENT_CID, connectionId: fromHex('31323334') }, '80ffe605 04 31323334'],
      [{ type: Q.CLOSE_TARGET_CID, connectionId: fromHex('61626364') }, '80ffe606 04 61626364'],
      [{ type: Q.CLOSE_TARGET_CID, connectionId: new Uint8Array(0) }, '80ffe606 00'],
    ];
    for (const [c, hex] of cases) {
      expect(toHex(encodeQuicProxyCapsule(c, { v1: true, forwarding: true }))).toBe(
        toHex(fromHex(hex)),
      );
      expect(norm(roundTrip(c, { v1: true, forwarding: true }))).toEqual(norm(c));
    }
  });

  it('round-trip through encode, the parser and decode, up to 255-byte CIDs (property)', () => {
    fc.assert(
      fc.property(anyArb, (c) => {
        expect(norm(roundTrip(c))).toEqual(norm(c));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trip under QUIC v1 limits (property)', () => {
    fc.assert(
      fc.property(v1Arb, (c) => {
        expect(norm(roundTrip(c, { v1: true }))).toEqual(norm(c));
      }),
      { numRuns: 2000 },
    );
  });

  it('fail every proper prefix of length-prefixed formats with TRUNCATED, extra bytes with LENGTH_MISMATCH', () => {
    const implied = new Set<number>([
      Q.REGISTER_CLIENT_CID,
      Q.CLOSE_CLIENT_CID,
      Q.CLOSE_TARGET_CID,
    ]);
    fc.assert(
      fc.property(
        anyArb.filter((c) => !implied.has(c.type)),
        bytesArb(3, 1),
        (c, extra) => {
          const v = encodeQuicProxyValue(c);
          for (let n = 0; n < v.length; n++) {
            expect(reasonOf(() => decodeQuicProxyCapsule(c.type, v.subarray(0, n)))).toBe(
              'TRUNCATED',
            );
          }
          expect(reasonOf(() => decodeQuicProxyCapsule(c.type, concatBytes(v, extra)))).toBe(
            'LENGTH_MISMATCH',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('take the whole value as the Connection ID when its length is implied', () => {
    for (const type of [Q.REGISTER_CLIENT_CID, Q.CLOSE_CLIENT_CID, Q.CLOSE_TARGET_CID]) {
      expect(norm(decodeQuicProxyCapsule(type, fromHex('0102')))).toEqual({
        type,
        connectionId: '0102',
      });
      expect(reasonOf(() => decodeQuicProxyCapsule(type, new Uint8Array(256)))).toBe('TOO_LARGE');
    }
  });

  it('refuse CID and VCID lengths above 255, or above 20 under v1', () => {
    const long = concatBytes(varintBytes(256), new Uint8Array(256), fromHex('00'));
    expect(reasonOf(() => decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, long))).toBe('TOO_LARGE');
    const ack = concatBytes(fromHex('00'), varintBytes(256), new Uint8Array(256));
    expect(reasonOf(() => decodeQuicProxyCapsule(Q.ACK_CLIENT_CID, ack))).toBe('TOO_LARGE');
    const cid21 = concatBytes(fromHex('15'), new Uint8Array(21), fromHex('00'));
    expect(decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, cid21)).toBeDefined();
    expect(reasonOf(() => decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, cid21, { v1: true }))).toBe(
      'TOO_LARGE',
    );
    expect(
      reasonOf(() =>
        encodeQuicProxyValue(
          { type: Q.REGISTER_CLIENT_CID, connectionId: new Uint8Array(21) },
          { v1: true },
        ),
      ),
    ).toBe('TOO_LARGE');
    expect(
      reasonOf(() =>
        encodeQuicProxyValue({ type: Q.CLOSE_CLIENT_CID, connectionId: new Uint8Array(256) }),
      ),
    ).toBe('TOO_LARGE');
  });

  it('check Stateless Reset Token lengths: any up to 255, 0 or 16 under v1', () => {
    const withToken = (n: number) =>
      concatBytes(fromHex('0101'), varintBytes(n), new Uint8Array(n));
    expect(decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, withToken(8))).toBeDefined();
    expect(reasonOf(() => decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, withToken(256)))).toBe(
      'TOO_LARGE',
    );
    for (const n of [0, 16]) {
      expect(
        decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, withToken(n), { v1: true }),
      ).toBeDefined();
    }
    for (const n of [1, 8, 15, 17]) {
      expect(
        reasonOf(() => decodeQuicProxyCapsule(Q.REGISTER_TARGET_CID, withToken(n), { v1: true })),
      ).toBe('MALFORMED');
    }
  });

  it('apply the forwarded-mode rules when told whether forwarding was negotiated', () => {
    const ackClient = fromHex('04 31323334 04 62646668');
    const noForwarding = { forwarding: false };
    // "When forwarded mode is not negotiated, the length MUST be zero."
    expect(reasonOf(() => decodeQuicProxyCapsule(Q.ACK_CLIENT_CID, ackClient, noForwarding))).toBe(
      'MALFORMED',
    );
    expect(
      decodeQuicProxyCapsule(Q.ACK_CLIENT_CID, fromHex('04 31323334 00'), noForwarding),
    ).toBeDefined();
    const ackTarget = (vcid: string, token: string) =>
      decodeQuicProxyCapsule(
        Q.ACK_TARGET_CID,
        fromHex(`04 61626364 ${vcid} ${token}`),
        noForwarding,
      );
    expect(ackTarget('00', '00')).toBeDefined();
    expect(reasonOf(() => ackTarget('02 1234', '00'))).toBe('MALFORMED');
    expect(reasonOf(() => ackTarget('00', `10 ${toHex(TOKEN)}`))).toBe('MALFORMED');
    // "an ACK_CLIENT_VCID capsule MUST NOT be sent" without forwarded mode.
    expect(
      reasonOf(() => decodeQuicProxyCapsule(Q.ACK_CLIENT_VCID, fromHex('00 00 00'), noForwarding)),
    ).toBe('MALFORMED');
    // "The client VCID Length MUST be at least as large as the Connection ID".
    expect(
      reasonOf(() =>
        decodeQuicProxyCapsule(Q.ACK_CLIENT_CID, fromHex('04 31323334 03 626466'), {
          forwarding: true,
        }),
      ),
    ).toBe('MALFORMED');
    expect(
      decodeQuicProxyCapsule(Q.ACK_CLIENT_CID, fromHex('04 31323334 05 6264666869'), {
        forwarding: true,
      }),
    ).toBeDefined();
  });

  it('refuse MAX_CONNECTION_IDS below 1 with H3_DATAGRAM_ERROR and treat huge values as unlimited', () => {
    for (const v of ['00', '4000', '80000000', 'c000000000000000']) {
      expect(reasonOf(() => decodeQuicProxyCapsule(Q.MAX_CONNECTION_IDS, fromHex(v)))).toBe(
        'MALFORMED',
      );
    }
    expect(
      reasonOf(() =>
        encodeQuicProxyValue({ type: Q.MAX_CONNECTION_IDS, maximumSequenceNumber: 0 }),
      ),
    ).toBe('MALFORMED');
    const huge = decodeQuicProxyCapsule(Q.MAX_CONNECTION_IDS, varintBytes((1n << 62n) - 1n));
    expect(huge).toEqual({
      type: Q.MAX_CONNECTION_IDS,
      maximumSequenceNumber: Number.MAX_SAFE_INTEGER,
    });
  });

  it('say who may send each capsule (quic-proxy §5)', () => {
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.REGISTER_CLIENT_CID]).toBe('client');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.REGISTER_TARGET_CID]).toBe('client');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.ACK_CLIENT_VCID]).toBe('client');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.ACK_CLIENT_CID]).toBe('proxy');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.ACK_TARGET_CID]).toBe('proxy');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.MAX_CONNECTION_IDS]).toBe('proxy');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.CLOSE_CLIENT_CID]).toBe('either');
    expect(QUIC_PROXY_CAPSULE_SENDER[Q.CLOSE_TARGET_CID]).toBe('either');
  });

  it('decode arbitrary bytes or throw CapsuleError (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES, 0x00, 0x11),
        bytesArb(60),
        fc.record({ v1: fc.boolean(), forwarding: fc.constantFrom(undefined, true, false) }),
        (type, bytes, options) => {
          succeedsOrCapsuleError(() => decodeQuicProxyCapsule(type, bytes, options));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('stay within the parser caps they advertise', () => {
    fc.assert(
      fc.property(anyArb, (c) => {
        expect(encodeQuicProxyValue(c).length).toBeLessThanOrEqual(
          QUIC_PROXY_CAPSULE_LIMITS.get(c.type) ?? -1,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
