import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  isGreaseId,
  type TransportParameters,
} from '../../../src/quic/transport-params/index.js';
import { fromHex } from '../../../src/wire/index.js';
import { clientParams, MAX_SAFE, seeded, serverParams, strip } from './helpers.js';

describe('transport parameters round-trip', () => {
  it('client parameters', () => {
    fc.assert(
      fc.property(clientParams, (p) => {
        const decoded = decodeTransportParameters(encodeTransportParameters(p), 'client');
        expect(strip(decoded)).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('server parameters, in a random order, re-encode to the same bytes', () => {
    fc.assert(
      fc.property(serverParams, fc.integer(), (p, seed) => {
        const once = encodeTransportParameters(p, { grease: { random: seeded(seed), count: 2 } });
        const decoded = decodeTransportParameters(once, 'server');
        expect(strip({ ...decoded, unknown: [] })).toEqual(p);
        expect(decoded.unknown).toHaveLength(2);
        for (const u of decoded.unknown) expect(isGreaseId(u.id)).toBe(true);
        expect(encodeTransportParameters(decoded, { order: decoded.order })).toEqual(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('grease identifiers are 31 * N + 27, distinct, spread up to 2^62 - 1', () => {
    const random = seeded(42);
    const ids: bigint[] = [];
    for (let i = 0; i < 50; i++) {
      const p = decodeTransportParameters(
        encodeTransportParameters({}, { grease: { random, count: 3, maxValueLength: 4 } }),
        'server',
      );
      expect(new Set(p.order).size).toBe(3);
      for (const u of p.unknown) expect(u.value.length).toBeLessThanOrEqual(4);
      ids.push(...p.order);
    }
    expect(ids.every((id) => (id - 27n) % 31n === 0n && id < 1n << 62n)).toBe(true);
    expect(ids.some((id) => id > BigInt(MAX_SAFE))).toBe(true);
  });

  it('an empty sequence decodes to no parameters', () => {
    expect(decodeTransportParameters(new Uint8Array(0), 'client')).toEqual({
      unknown: [],
      order: [],
    });
  });
});

describe('encoder rejects values we must never send', () => {
  const bad: [string, TransportParameters][] = [
    ['ack_delay_exponent 21', { ackDelayExponent: 21 }],
    ['max_ack_delay 16384', { maxAckDelay: 16384 }],
    ['max_udp_payload_size 1000', { maxUdpPayloadSize: 1000 }],
    ['active_connection_id_limit 1', { activeConnectionIdLimit: 1 }],
    ['negative', { initialMaxData: -1 }],
    ['fraction', { maxIdleTimeout: 1.5 }],
    ['stateless_reset_token of 8 bytes', { statelessResetToken: new Uint8Array(8) }],
    ['21-byte connection ID', { initialSourceConnectionId: new Uint8Array(21) }],
    [
      'preferred_address with an empty connection ID',
      {
        preferredAddress: {
          ipv4Address: new Uint8Array(4),
          ipv4Port: 0,
          ipv6Address: new Uint8Array(16),
          ipv6Port: 0,
          connectionId: new Uint8Array(0),
          statelessResetToken: new Uint8Array(16),
        },
      },
    ],
    ['an unknown entry with a known id', { unknown: [{ id: 0x01n, value: new Uint8Array(1) }] }],
    [
      'an unknown entry twice',
      {
        unknown: [
          { id: 27n, value: new Uint8Array(0) },
          { id: 27n, value: new Uint8Array(0) },
        ],
      },
    ],
  ];
  for (const [name, params] of bad) {
    it(name, () => {
      expect(() => encodeTransportParameters(params)).toThrow(
        expect.objectContaining({ name: 'CodecError' }),
      );
    });
  }

  it('clamped limits are written as the largest legal value', () => {
    const bytes = encodeTransportParameters({
      initialMaxData: MAX_SAFE,
      initialMaxStreamsUni: MAX_SAFE,
      disableActiveMigration: false,
    });
    expect(bytes).toEqual(fromHex('04 08 ffffffffffffffff 09 08 d000000000000000'));
  });
});

describe('grease with degenerate randomness', () => {
  it('constant random bytes still give distinct identifiers', () => {
    const zeros = (n: number) => new Uint8Array(n);
    const p = decodeTransportParameters(
      encodeTransportParameters(
        { unknown: [{ id: 27n, value: new Uint8Array(0) }] },
        {
          grease: { random: zeros, count: 3 },
        },
      ),
      'client',
    );
    expect(p.order.slice().sort((a, b) => (a < b ? -1 : 1))).toEqual([27n, 58n, 89n, 120n]);
  });
});
