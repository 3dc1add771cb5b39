/** Generators and helpers shared by the transport-parameter tests. */
import fc from 'fast-check';
import { expect } from 'vitest';
import { TransportError, TransportErrorCode } from '../../../src/quic/errors.js';
import {
  decodeTransportParameters,
  type TransportParameterSender,
  type TransportParameters,
} from '../../../src/quic/transport-params/index.js';
import { ByteWriter, fromHex } from '../../../src/wire/index.js';
import { num } from '../frames/arbitraries.js';

const { TRANSPORT_PARAMETER_ERROR } = TransportErrorCode;
export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const cid = fc.uint8Array({ maxLength: 20 });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const inRange = (min: number, max: number) => fc.integer({ min, max });

/** Parameters a client may send. */
export const clientParams = fc.record(
  {
    maxIdleTimeout: num(),
    maxUdpPayloadSize: fc.oneof(inRange(1200, 65527), inRange(1200, MAX_SAFE)),
    initialMaxData: num(),
    initialMaxStreamDataBidiLocal: num(),
    initialMaxStreamDataBidiRemote: num(),
    initialMaxStreamDataUni: num(),
    initialMaxStreamsBidi: num(),
    initialMaxStreamsUni: num(),
    ackDelayExponent: inRange(0, 20),
    maxAckDelay: inRange(0, 16383),
    disableActiveMigration: fc.constant(true),
    activeConnectionIdLimit: fc.oneof(inRange(2, 8), inRange(2, MAX_SAFE)),
    initialSourceConnectionId: cid,
    maxDatagramFrameSize: num(),
    greaseQuicBit: fc.constant(true),
    minAckDelay: num(),
  },
  { requiredKeys: [] },
);

/** Server-only parameters. */
export const serverOnly = fc.record(
  {
    originalDestinationConnectionId: cid,
    statelessResetToken: bytes(16),
    retrySourceConnectionId: cid,
    preferredAddress: fc.record({
      ipv4Address: bytes(4),
      ipv4Port: inRange(0, 0xffff),
      ipv6Address: bytes(16),
      ipv6Port: inRange(0, 0xffff),
      connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      statelessResetToken: bytes(16),
    }),
  },
  { requiredKeys: [] },
);

export const serverParams = fc.tuple(clientParams, serverOnly).map(([a, b]) => ({ ...a, ...b }));

/** Deterministic randomness for grease, from a seed. */
export function seeded(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s & 0xff;
    }
    return out;
  };
}

/** Encodes raw (id, value) pairs, for hand-made inputs. */
export function raw(...params: [bigint | number, Uint8Array | string][]): Uint8Array {
  const w = new ByteWriter();
  for (const [id, value] of params) {
    w.varint(id).vecVarint(typeof value === 'string' ? fromHex(value) : value);
  }
  return w.toBytes();
}

export function decodeError(
  bytes: Uint8Array,
  sender: TransportParameterSender = 'server',
): TransportError {
  try {
    decodeTransportParameters(bytes, sender);
  } catch (err) {
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe(TRANSPORT_PARAMETER_ERROR);
    return err as TransportError;
  }
  throw new Error('expected TRANSPORT_PARAMETER_ERROR');
}

export function strip(p: TransportParameters & { order?: unknown }): TransportParameters {
  const { order: _order, unknown, ...rest } = p;
  return unknown && unknown.length > 0 ? { ...rest, unknown } : rest;
}
