import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkUdpPayloadLength,
  type DatagramHeader,
  datagramHeaderLength,
  decodeH3Datagram,
  decodeUdpProxyingPayload,
  encodeH3Datagram,
  encodeUdpProxyingPayload,
  MAX_QUARTER_STREAM_ID,
  MAX_UDP_PAYLOAD_LENGTH,
  quarterStreamIdOf,
  readDatagramHeader,
  SATURATED_ID,
  streamIdOf,
  writeDatagramHeader,
} from '../../src/capsule/datagram.js';
import { CapsuleError } from '../../src/capsule/errors.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/index.js';
import { bytesArb, reasonOf, succeedsOrCapsuleError, varintBytes } from './helpers.js';

const header = (): DatagramHeader => ({ quarterStreamId: -1, contextId: -1, payloadOffset: -1 });

function errorOf(fn: () => unknown): CapsuleError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CapsuleError) return e;
    throw e;
  }
  throw new Error('expected a CapsuleError');
}

const idArb = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 0x3fff }),
  fc.integer({ min: 0, max: 0x3fff_ffff }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 1 }),
);

describe('HTTP/3 Datagram (RFC 9297 §2.1)', () => {
  it('maps request streams to Quarter Stream IDs', () => {
    expect(quarterStreamIdOf(0)).toBe(0);
    expect(quarterStreamIdOf(44)).toBe(11);
    expect(streamIdOf(11)).toBe(44);
    for (const bad of [1, 2, 3, 45, -4, 0.5]) {
      expect(reasonOf(() => quarterStreamIdOf(bad))).toBe('MALFORMED');
    }
  });

  it('encodes stream 44 as Quarter Stream ID 11 followed by the payload', () => {
    expect(toHex(encodeH3Datagram(11, fromHex('00c0ffee')))).toBe('0b00c0ffee');
    const d = decodeH3Datagram(fromHex('0b00c0ffee'));
    expect(d.quarterStreamId).toBe(11);
    expect(toHex(d.payload)).toBe('00c0ffee');
    expect(decodeH3Datagram(fromHex('0b')).payload.length).toBe(0);
  });

  it('accepts 2^60 - 1 and refuses larger Quarter Stream IDs as a connection error', () => {
    const max = varintBytes(MAX_QUARTER_STREAM_ID);
    expect(decodeH3Datagram(max).quarterStreamId).toBe(SATURATED_ID);
    for (const big of [MAX_QUARTER_STREAM_ID + 1n, (1n << 62n) - 1n, 3n << 60n]) {
      const e = errorOf(() => decodeH3Datagram(varintBytes(big)));
      expect(e.reason).toBe('TOO_LARGE');
      expect(e.scope).toBe('connection');
      expect(e.code).toBe(0x33);
    }
    // 2^53 - 1 is exact; 2^53 saturates.
    expect(decodeH3Datagram(varintBytes(2n ** 53n - 1n)).quarterStreamId).toBe(SATURATED_ID);
    expect(decodeH3Datagram(varintBytes(2n ** 53n - 2n)).quarterStreamId).toBe(2 ** 53 - 2);
    expect(decodeH3Datagram(varintBytes(2n ** 53n)).quarterStreamId).toBe(SATURATED_ID);
  });

  it('treats a datagram too short for the Quarter Stream ID as a connection error', () => {
    for (const bytes of [new Uint8Array(0), fromHex('40'), fromHex('80ffff'), fromHex('c0')]) {
      const e = errorOf(() => decodeH3Datagram(bytes));
      expect(e.reason).toBe('TRUNCATED');
      expect(e.scope).toBe('connection');
    }
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(idArb, bytesArb(64), (qsid, payload) => {
        const d = decodeH3Datagram(encodeH3Datagram(qsid, payload));
        expect(d.quarterStreamId).toBe(qsid);
        expect(toHex(d.payload)).toBe(toHex(payload));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('UDP Proxying HTTP Datagram Payload (RFC 9298 §5)', () => {
  it('puts Context ID 0 before the UDP payload', () => {
    expect(toHex(encodeUdpProxyingPayload(0, fromHex('abcd')))).toBe('00abcd');
    expect(toHex(encodeUdpProxyingPayload(0x40, fromHex('')))).toBe('4040');
    const p = decodeUdpProxyingPayload(fromHex('00abcd'));
    expect(p.contextId).toBe(0);
    expect(toHex(p.payload)).toBe('abcd');
  });

  it('limits Context ID 0 payloads to 65527 bytes (MUST NOT send; MUST abort)', () => {
    const max = new Uint8Array(MAX_UDP_PAYLOAD_LENGTH);
    const over = new Uint8Array(MAX_UDP_PAYLOAD_LENGTH + 1);
    expect(encodeUdpProxyingPayload(0, max).length).toBe(65_528);
    expect(reasonOf(() => encodeUdpProxyingPayload(0, over))).toBe('TOO_LARGE');
    expect(reasonOf(() => encodeUdpProxyingPayload(0n, over))).toBe('TOO_LARGE');
    expect(decodeUdpProxyingPayload(concatBytes(fromHex('00'), max)).payload.length).toBe(65_527);
    const e = errorOf(() => decodeUdpProxyingPayload(concatBytes(fromHex('00'), over)));
    expect(e.reason).toBe('TOO_LARGE');
    expect(e.scope).toBe('stream');
    // Other contexts are not UDP payloads and are not limited here.
    expect(decodeUdpProxyingPayload(concatBytes(fromHex('02'), over)).payload.length).toBe(65_528);
    expect(() => checkUdpPayloadLength(3, 70_000)).not.toThrow();
  });

  it('saturates Context IDs above 2^53 - 1', () => {
    const p = decodeUdpProxyingPayload(concatBytes(varintBytes((1n << 62n) - 1n), fromHex('01')));
    expect(p.contextId).toBe(SATURATED_ID);
    expect(toHex(p.payload)).toBe('01');
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(idArb, bytesArb(64), (ctx, payload) => {
        const p = decodeUdpProxyingPayload(encodeUdpProxyingPayload(ctx, payload));
        expect(p.contextId).toBe(ctx);
        expect(toHex(p.payload)).toBe(toHex(payload));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('datagram header hot path', () => {
  it('writes Quarter Stream ID and Context ID in place and reads back offsets', () => {
    const buf = new Uint8Array(32);
    const at = writeDatagramHeader(buf, 3, 11, 0);
    expect(at).toBe(5);
    expect(toHex(buf.subarray(3, 5))).toBe('0b00');
    buf.set(fromHex('cafe'), at);
    const h = readDatagramHeader(buf, 3, 7, header());
    expect(h).toEqual({ quarterStreamId: 11, contextId: 0, payloadOffset: 5 });
    expect(datagramHeaderLength(11, 0)).toBe(2);
  });

  it('round-trips at any offset inside a larger buffer (property)', () => {
    const out = header();
    fc.assert(
      fc.property(idArb, idArb, fc.nat(16), bytesArb(32), (qsid, ctx, off, payload) => {
        const buf = new Uint8Array(off + 16 + payload.length + 5).fill(0xee);
        const at = writeDatagramHeader(buf, off, qsid, ctx);
        expect(at - off).toBe(datagramHeaderLength(qsid, ctx));
        buf.set(payload, at);
        const end = at + payload.length;
        readDatagramHeader(buf, off, end, out);
        expect(out.quarterStreamId).toBe(qsid);
        expect(out.contextId).toBe(ctx);
        expect(out.payloadOffset).toBe(at);
        expect(toHex(buf.subarray(out.payloadOffset, end))).toBe(toHex(payload));
      }),
      { numRuns: 2000 },
    );
  });

  it('fails every proper prefix with TRUNCATED (connection scope inside the Quarter Stream ID)', () => {
    const bytes = concatBytes(varintBytes(0x12345678), varintBytes(0x1234));
    for (let n = 0; n < bytes.length; n++) {
      const e = errorOf(() => readDatagramHeader(bytes, 0, n, header()));
      expect(e.reason).toBe('TRUNCATED');
      expect(e.scope).toBe(n < 4 ? 'connection' : 'stream');
    }
    expect(readDatagramHeader(bytes, 0, bytes.length, header()).payloadOffset).toBe(6);
  });

  it('refuses a buffer that is too small, and windows outside the buffer', () => {
    expect(reasonOf(() => writeDatagramHeader(new Uint8Array(2), 1, 11, 0))).toBe('TOO_LARGE');
    expect(reasonOf(() => writeDatagramHeader(new Uint8Array(9), 0, -1, 0))).toBe('VARINT_RANGE');
    expect(reasonOf(() => readDatagramHeader(fromHex('0b00'), 0, 5, header()))).toBe('TRUNCATED');
    expect(reasonOf(() => readDatagramHeader(fromHex('0b00'), -1, 2, header()))).toBe('TRUNCATED');
  });

  it('decodes arbitrary bytes or throws CapsuleError (property)', () => {
    const out = header();
    fc.assert(
      fc.property(bytesArb(24), (bytes) => {
        succeedsOrCapsuleError(() => readDatagramHeader(bytes, 0, bytes.length, out));
        succeedsOrCapsuleError(() => decodeH3Datagram(bytes));
        succeedsOrCapsuleError(() => decodeUdpProxyingPayload(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});
