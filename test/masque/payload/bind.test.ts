import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DatagramHeader,
  readDatagramHeader,
  writeDatagramHeader,
} from '../../../src/capsule/datagram.js';
import {
  type BindHeader,
  bytesToIp,
  decodeCompressedBindPayload,
  decodeUncompressedBindPayload,
  encodeCompressedBindPayload,
  encodeUncompressedBindPayload,
  ipToBytes,
  readUncompressedBindHeader,
  uncompressedBindHeaderLength,
  writeUncompressedBindHeader,
} from '../../../src/masque/payload/bind.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { bytesArb, reasonOf, succeedsOrCapsuleError } from '../../capsule/helpers.js';

const PAYLOAD = new TextEncoder().encode('Encapsulated UDP Payload');
const bindHeader = (): BindHeader => ({
  ipVersion: 4,
  addressOffset: -1,
  port: -1,
  payloadOffset: -1,
});
const dgHeader = (): DatagramHeader => ({ quarterStreamId: -1, contextId: -1, payloadOffset: -1 });

const addressArb = fc.oneof(bytesArb(4, 4), bytesArb(16, 16));
const portArb = fc.integer({ min: 0, max: 0xffff });

describe('connect-udp-bind payloads (connect-udp-listen §4, §5)', () => {
  it('reproduce the uncompressed datagrams of the draft example (Appendix A)', () => {
    // Stream 44 -> Quarter Stream ID 11; Context ID 2; IPv4 192.0.2.42; port 50000.
    const want = concatBytes(fromHex('0b 02 04 c000022a c350'), PAYLOAD);
    const buf = new Uint8Array(64);
    let at = writeDatagramHeader(buf, 0, 11, 2);
    at = writeUncompressedBindHeader(buf, at, ipToBytes('192.0.2.42'), 50000);
    buf.set(PAYLOAD, at);
    const frame = buf.subarray(0, at + PAYLOAD.length);
    expect(toHex(frame)).toBe(toHex(want));
    expect(toHex(encodeUncompressedBindPayload(ipToBytes('203.0.113.11'), 60000, PAYLOAD))).toBe(
      toHex(concatBytes(fromHex('04 cb00710b ea60'), PAYLOAD)),
    );

    // And read it back along the hot path.
    const d = readDatagramHeader(frame, 0, frame.length, dgHeader());
    expect([d.quarterStreamId, d.contextId]).toEqual([11, 2]);
    const b = readUncompressedBindHeader(frame, d.payloadOffset, frame.length, bindHeader());
    expect(b.ipVersion).toBe(4);
    expect(bytesToIp(frame.subarray(b.addressOffset, b.addressOffset + 4))).toBe('192.0.2.42');
    expect(b.port).toBe(50000);
    expect(toHex(frame.subarray(b.payloadOffset))).toBe(toHex(PAYLOAD));
  });

  it('reproduce the compressed datagram of the example: Context ID 4, then the UDP payload', () => {
    const buf = new Uint8Array(64);
    const at = writeDatagramHeader(buf, 0, 11, 4);
    buf.set(encodeCompressedBindPayload(PAYLOAD), at);
    expect(toHex(buf.subarray(0, at + PAYLOAD.length))).toBe(
      toHex(concatBytes(fromHex('0b04'), PAYLOAD)),
    );
    expect(decodeCompressedBindPayload(PAYLOAD)).toBe(PAYLOAD);
  });

  it('encode IPv6 with a 16-byte address', () => {
    const v = encodeUncompressedBindPayload(ipToBytes('2001:db8::1234'), 54321, fromHex('ff'));
    expect(toHex(v)).toBe('0620010db8000000000000000000001234d431ff');
    expect(uncompressedBindHeaderLength(6)).toBe(19);
    expect(uncompressedBindHeaderLength(4)).toBe(7);
  });

  it('round-trip (property)', () => {
    fc.assert(
      fc.property(addressArb, portArb, bytesArb(64), (address, port, payload) => {
        const p = decodeUncompressedBindPayload(
          encodeUncompressedBindPayload(address, port, payload),
        );
        expect(p.ipVersion).toBe(address.length === 4 ? 4 : 6);
        expect(toHex(p.address)).toBe(toHex(address));
        expect(p.port).toBe(port);
        expect(toHex(p.payload)).toBe(toHex(payload));
      }),
      { numRuns: 2000 },
    );
  });

  it('fail every proper prefix of the header with TRUNCATED', () => {
    for (const address of [ipToBytes('192.0.2.1'), ipToBytes('2001:db8::1')]) {
      const v = encodeUncompressedBindPayload(address, 443, new Uint8Array(0));
      for (let n = 0; n < v.length; n++) {
        expect(reasonOf(() => decodeUncompressedBindPayload(v.subarray(0, n)))).toBe('TRUNCATED');
      }
      expect(decodeUncompressedBindPayload(v).payload.length).toBe(0);
    }
  });

  it('refuse IP versions other than 4 and 6 (MUST be 4 or 6)', () => {
    for (const v of [0, 1, 5, 41, 255]) {
      const bytes = fromHex(`${v.toString(16).padStart(2, '0')} ${'00'.repeat(18)}`);
      expect(reasonOf(() => decodeUncompressedBindPayload(bytes))).toBe('MALFORMED');
    }
  });

  it('refuse bad addresses, ports, small buffers and oversize UDP payloads on encode', () => {
    expect(reasonOf(() => encodeUncompressedBindPayload(new Uint8Array(5), 1, PAYLOAD))).toBe(
      'MALFORMED',
    );
    expect(reasonOf(() => encodeUncompressedBindPayload(new Uint8Array(4), 65536, PAYLOAD))).toBe(
      'TOO_LARGE',
    );
    expect(
      reasonOf(() => writeUncompressedBindHeader(new Uint8Array(6), 0, new Uint8Array(4), 1)),
    ).toBe('TOO_LARGE');
    const big = new Uint8Array(65_528);
    expect(reasonOf(() => encodeUncompressedBindPayload(new Uint8Array(4), 1, big))).toBe(
      'TOO_LARGE',
    );
    expect(reasonOf(() => encodeCompressedBindPayload(big))).toBe('TOO_LARGE');
    expect(encodeCompressedBindPayload(big.subarray(1)).length).toBe(65_527);
  });

  it('decode arbitrary bytes or throw CapsuleError (property)', () => {
    const out = bindHeader();
    fc.assert(
      fc.property(bytesArb(40), fc.nat(40), (bytes, off) => {
        succeedsOrCapsuleError(() => decodeUncompressedBindPayload(bytes));
        succeedsOrCapsuleError(() => readUncompressedBindHeader(bytes, off, bytes.length, out));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('IP address text helpers', () => {
  it('convert known addresses', () => {
    const cases: [string, string, string][] = [
      ['192.0.2.45', 'c000022d', '192.0.2.45'],
      ['0.0.0.0', '00000000', '0.0.0.0'],
      ['2001:db8::1234', '20010db8000000000000000000001234', '2001:db8::1234'],
      ['::', '0'.repeat(32), '::'],
      ['::1', `${'0'.repeat(30)}01`, '::1'],
      ['1::', `0001${'0'.repeat(28)}`, '1::'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201', '::ffff:c000:201'],
      ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ];
    for (const [text, hex, canonical] of cases) {
      expect(toHex(ipToBytes(text))).toBe(hex);
      expect(bytesToIp(fromHex(hex))).toBe(canonical);
    }
  });

  it('write IPv6 as the WHATWG URL parser does and parse it back (property)', () => {
    fc.assert(
      fc.property(bytesArb(16, 16), fc.array(fc.nat(7), { maxLength: 6 }), (bytes, zeroGroups) => {
        for (const g of zeroGroups) bytes.fill(0, 2 * g, 2 * g + 2);
        const text = bytesToIp(bytes);
        expect(`[${text}]`).toBe(new URL(`http://[${text}]/`).hostname);
        expect(toHex(ipToBytes(text))).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trip IPv4 (property)', () => {
    fc.assert(
      fc.property(bytesArb(4, 4), (bytes) => {
        expect(toHex(ipToBytes(bytesToIp(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('reject what is not an address', () => {
    for (const bad of ['', '1.2.3', '256.1.1.1', '[::1]', 'fe80::1%eth0', 'example.org', '::g']) {
      expect(() => ipToBytes(bad)).toThrow(TypeError);
    }
    expect(() => bytesToIp(new Uint8Array(5))).toThrow(TypeError);
  });
});
