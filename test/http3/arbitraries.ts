/** fast-check arbitraries shared by the HTTP/3 tests. */
import fc from 'fast-check';
import {
  type H3Frame,
  type H3Settings,
  HTTP2_ONLY_FRAME_TYPES,
  RESERVED_N_MAX,
  reservedCodePoint,
} from '../../src/http3/index.js';
import { VARINT_MAX } from '../../src/wire/index.js';

const KNOWN = new Set<bigint>([
  0x01n,
  0x02n,
  0x03n,
  0x04n,
  0x05n,
  0x06n,
  0x07n,
  0x08n,
  0x33n,
  0xffd277n,
]);
export const varintBig = fc.oneof(
  fc.bigInt({ min: 0n, max: 0x3fn }),
  fc.bigInt({ min: 0n, max: 0x3fffn }),
  fc.bigInt({ min: 0n, max: 0x3fff_ffffn }),
  fc.bigInt({ min: 0n, max: VARINT_MAX }),
);
const limit = fc.oneof(fc.nat(0x3fff), fc.maxSafeNat());

export const settingsArb: fc.Arbitrary<H3Settings> = fc
  .record(
    {
      qpackMaxTableCapacity: limit,
      maxFieldSectionSize: limit,
      qpackBlockedStreams: limit,
      enableConnectProtocol: fc.boolean(),
      h3Datagram: fc.boolean(),
      legacyH3Datagram: fc.nat(3),
      unknown: fc.uniqueArray(
        fc.record({
          id: fc.oneof(
            varintBig,
            fc.bigInt({ min: 0n, max: RESERVED_N_MAX }).map(reservedCodePoint),
          ),
          value: varintBig,
        }),
        { selector: (s) => s.id, minLength: 1, maxLength: 6 },
      ),
    },
    { requiredKeys: [] },
  )
  .map((s) => {
    if (s.unknown === undefined) return s;
    const unknown = s.unknown.filter((u) => !KNOWN.has(u.id));
    const { unknown: _drop, ...rest } = s;
    return unknown.length > 0 ? { ...rest, unknown } : rest;
  });

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const KNOWN_FRAME_TYPES = new Set<bigint>([0n, 1n, 3n, 4n, 5n, 7n, 0xdn]);

/** An unknown frame type: reserved (any N), or any other unregistered value. */
export const unknownFrameType: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: 40n }).map(reservedCodePoint),
  fc.bigInt({ min: 0n, max: RESERVED_N_MAX }).map(reservedCodePoint),
  varintBig.filter((t) => !KNOWN_FRAME_TYPES.has(t) && !HTTP2_ONLY_FRAME_TYPES.includes(Number(t))),
);

/** Any frame this layer models; DATA payloads up to `maxData` bytes. */
export function frameArb(maxData = 64): fc.Arbitrary<H3Frame> {
  return fc.oneof(
    bytes(maxData).map((payload): H3Frame => ({ kind: 'DATA', payload })),
    bytes(80).map((fieldSection): H3Frame => ({ kind: 'HEADERS', fieldSection })),
    varintBig.map((pushId): H3Frame => ({ kind: 'CANCEL_PUSH', pushId })),
    settingsArb.map((settings): H3Frame => ({ kind: 'SETTINGS', settings })),
    fc
      .tuple(varintBig, bytes(80))
      .map(([pushId, fieldSection]): H3Frame => ({ kind: 'PUSH_PROMISE', pushId, fieldSection })),
    varintBig.map((id): H3Frame => ({ kind: 'GOAWAY', id })),
    varintBig.map((pushId): H3Frame => ({ kind: 'MAX_PUSH_ID', pushId })),
    fc
      .tuple(unknownFrameType, bytes(40))
      .map(([type, payload]): H3Frame => ({ kind: 'UNKNOWN', type, payload })),
  );
}

/** Splits `bytes` at the given cut points (any values; taken modulo length + 1, sorted). */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
