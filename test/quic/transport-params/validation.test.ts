import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import {
  decodeTransportParameters,
  encodeTransportParameters,
  type TransportParameterSender,
} from '../../../src/quic/transport-params/index.js';
import { ByteReader, ByteWriter, concatBytes, fromHex } from '../../../src/wire/index.js';
import { decodeError, MAX_SAFE, raw, serverParams } from './helpers.js';

const { TRANSPORT_PARAMETER_ERROR } = TransportErrorCode;

describe('RFC 9000 §7.4: duplicates are TRANSPORT_PARAMETER_ERROR, compared exactly', () => {
  it('a known parameter twice', () => {
    decodeError(raw([0x01, '01'], [0x04, '02'], [0x01, '01']));
  });

  it('an unknown parameter twice', () => {
    decodeError(raw([0x1234, ''], [0x1234, 'ff']));
  });

  it('a grease identifier above 2^53 twice', () => {
    const id = 31n * 148764065110560899n + 27n; // close to 2^62
    decodeError(raw([id, 'aa'], [id, 'bb']));
  });

  it('two distinct identifiers above 2^53 are not duplicates (no clamping)', () => {
    const a = 31n * 300000000000000n + 27n;
    const b = a + 31n;
    const p = decodeTransportParameters(raw([a, 'aa'], [b, 'bb']), 'client');
    expect(p.unknown.map((u) => u.id)).toEqual([a, b]);
  });

  it('the same value with a non-minimal identifier encoding is still a duplicate', () => {
    decodeError(concatBytes(raw([0x01, '05']), fromHex('4001 01 05')));
  });
});

describe('RFC 9000 §18.2: server-only parameters from a client are TRANSPORT_PARAMETER_ERROR', () => {
  const pa = fromHex(`01020304 01bb ${'00'.repeat(16)} 0000 04 aabbccdd ${'11'.repeat(16)}`);
  const cases: [string, number, Uint8Array][] = [
    ['original_destination_connection_id', 0x00, fromHex('0102')],
    ['stateless_reset_token', 0x02, new Uint8Array(16)],
    ['preferred_address', 0x0d, pa],
    ['retry_source_connection_id', 0x10, fromHex('0102')],
  ];
  for (const [name, id, value] of cases) {
    it(name, () => {
      const bytes = raw([id, value]);
      decodeError(bytes, 'client');
      expect(() => decodeTransportParameters(bytes, 'server')).not.toThrow();
    });
  }

  it('preferred_address fields decode from a server', () => {
    const p = decodeTransportParameters(raw([0x0d, pa]), 'server');
    expect(p.preferredAddress).toEqual({
      ipv4Address: fromHex('01020304'),
      ipv4Port: 443,
      ipv6Address: new Uint8Array(16),
      ipv6Port: 0,
      connectionId: fromHex('aabbccdd'),
      statelessResetToken: fromHex('11'.repeat(16)),
    });
  });
});

describe('invalid values are TRANSPORT_PARAMETER_ERROR (RFC 9000 §7.4, §18.2)', () => {
  const v = (n: bigint | number): Uint8Array => new ByteWriter().varint(n).toBytes();
  const cases: [string, Uint8Array][] = [
    ['max_udp_payload_size 1199', raw([0x03, v(1199)])],
    ['initial_max_streams_bidi 2^60 + 1', raw([0x08, v((1n << 60n) + 1n)])],
    ['initial_max_streams_uni 2^62 - 1', raw([0x09, v((1n << 62n) - 1n)])],
    ['ack_delay_exponent 21', raw([0x0a, v(21)])],
    ['max_ack_delay 2^14', raw([0x0b, v(16384)])],
    ['active_connection_id_limit 1', raw([0x0e, v(1)])],
    ['active_connection_id_limit 0', raw([0x0e, v(0)])],
    ['stateless_reset_token of 15 bytes', raw([0x02, new Uint8Array(15)])],
    ['stateless_reset_token of 17 bytes', raw([0x02, new Uint8Array(17)])],
    ['disable_active_migration with a value', raw([0x0c, '00'])],
    ['grease_quic_bit with a value', raw([0x2ab2, '01'])],
    ['initial_source_connection_id of 21 bytes', raw([0x0f, new Uint8Array(21)])],
    ['original_destination_connection_id of 21 bytes', raw([0x00, new Uint8Array(21)])],
    ['integer with a trailing byte', raw([0x01, '0505'])],
    ['integer value empty', raw([0x04, ''])],
    ['integer varint longer than the value', raw([0x04, '40'])],
    [
      'preferred_address with a zero-length connection ID',
      raw([0x0d, `00000000 0000 ${'00'.repeat(16)} 0000 00 ${'11'.repeat(16)}`]),
    ],
    [
      'preferred_address with a 21-byte connection ID',
      raw([0x0d, `00000000 0000 ${'00'.repeat(16)} 0000 15 ${'ab'.repeat(21)} ${'11'.repeat(16)}`]),
    ],
    [
      'preferred_address with a trailing byte',
      raw([0x0d, `00000000 0000 ${'00'.repeat(16)} 0000 01 ab ${'11'.repeat(16)} 00`]),
    ],
    [
      'preferred_address one byte short',
      raw([0x0d, `00000000 0000 ${'00'.repeat(16)} 0000 01 ab ${'11'.repeat(15)}`]),
    ],
    ['a parameter length beyond the end', fromHex('01 04 0102')],
    ['a truncated identifier', fromHex('01 01 05 40')],
    ['a missing length', fromHex('01 01 05 03')],
  ];
  for (const [name, bytes] of cases) {
    it(name, () => {
      decodeError(bytes);
    });
  }

  it('boundary values are accepted', () => {
    const p = decodeTransportParameters(
      raw(
        [0x03, v(1200)],
        [0x08, v(1n << 60n)],
        [0x0a, v(20)],
        [0x0b, v(16383)],
        [0x0e, v(2)],
        [0x0c, ''],
        [0x2ab2, ''],
        [0x0f, ''],
        [0x01, '4005'], // non-minimal varint inside a value is allowed (RFC 9000 §16)
        [0xff04de1b, v(1000)], // draft-ietf-quic-ack-frequency-14 §3, an 8-byte identifier
      ),
      'client',
    );
    expect(p).toMatchObject({
      maxUdpPayloadSize: 1200,
      initialMaxStreamsBidi: MAX_SAFE,
      ackDelayExponent: 20,
      maxAckDelay: 16383,
      activeConnectionIdLimit: 2,
      disableActiveMigration: true,
      greaseQuicBit: true,
      initialSourceConnectionId: new Uint8Array(0),
      maxIdleTimeout: 5,
      minAckDelay: 1000,
    });
  });
});

describe('decoder robustness', () => {
  it('arbitrary bytes: success or TRANSPORT_PARAMETER_ERROR, never anything else', () => {
    const paramsLike = fc
      .array(
        fc.tuple(
          fc.oneof(fc.integer({ min: 0, max: 0x20 }), fc.constant(0x2ab2), fc.nat()),
          fc.uint8Array({ maxLength: 24 }),
          fc.integer({ min: -2, max: 2 }),
        ),
        { maxLength: 6 },
      )
      .map((ps) => {
        const w = new ByteWriter();
        for (const [id, value, skew] of ps)
          w.varint(id)
            .varint(Math.max(0, value.length + skew))
            .bytes(value);
        return w.toBytes();
      });
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 64 }), paramsLike),
        fc.constantFrom<TransportParameterSender>('client', 'server'),
        (bytes, sender) => {
          try {
            decodeTransportParameters(bytes, sender);
          } catch (err) {
            expect(err).toBeInstanceOf(TransportError);
            expect((err as TransportError).code).toBe(TRANSPORT_PARAMETER_ERROR);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('every prefix cutting a parameter is TRUNCATED; prefixes at boundaries decode', () => {
    fc.assert(
      fc.property(serverParams, (p) => {
        const bytes = encodeTransportParameters(p);
        const boundaries = new Set<number>([0]);
        const r = new ByteReader(bytes);
        while (!r.done) {
          r.varintBig();
          r.skip(r.varint());
          boundaries.add(r.offset);
        }
        for (let n = 0; n < bytes.length; n++) {
          const prefix = bytes.subarray(0, n);
          if (boundaries.has(n)) {
            expect(() => decodeTransportParameters(prefix, 'server')).not.toThrow();
          } else {
            const err = decodeError(prefix);
            expect((err.cause as { code?: string }).code).toBe('TRUNCATED');
          }
        }
      }),
      { numRuns: 50 },
    );
  });
});
