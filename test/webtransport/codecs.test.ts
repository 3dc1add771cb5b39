/**
 * WebTransport's small codecs: the application error code mapping (draft §4.4), the
 * CLOSE_WEBTRANSPORT_SESSION / DRAIN_WEBTRANSPORT_SESSION capsules (draft §5) and the stream
 * headers (draft §4.1-§4.2).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../src/capsule/errors.js';
import { parseCapsules } from '../../src/capsule/parser.js';
import { isReservedCodePoint } from '../../src/http3/grease.js';
import {
  decodeCloseSessionValue,
  encodeCloseSession,
  encodeCloseSessionValue,
  encodeDrainSession,
  encodeWtStreamHeader,
  httpCodeToWebTransport,
  isSessionId,
  SessionIdReader,
  WtCapsuleType,
  WtErrorCode,
  webTransportCodeToHttp,
} from '../../src/webtransport/index.js';
import { fromHex, toHex } from '../../src/wire/hex.js';

describe('application error codes (draft §4.4)', () => {
  it('maps the ends of the range as the draft lists them', () => {
    expect(webTransportCodeToHttp(0)).toBe(0x52e4a40fa8db);
    expect(webTransportCodeToHttp(0xffffffff)).toBe(0x52e5ac983162);
    expect(WtErrorCode.WT_APPLICATION_ERROR_LAST).toBe(0x52e5ac983162);
  });

  it('skips the reserved HTTP/3 code inside each run of 0x1e', () => {
    // 0x52e4a40fa8f9 = 0x1f * N + 0x21: reserved, so code 0x1d maps just below and 0x1e above.
    expect(isReservedCodePoint(0x52e4a40fa8f9)).toBe(true);
    expect(webTransportCodeToHttp(0x1d)).toBe(0x52e4a40fa8f8);
    expect(webTransportCodeToHttp(0x1e)).toBe(0x52e4a40fa8fa);
    expect(httpCodeToWebTransport(0x52e4a40fa8f9)).toBeUndefined();
  });

  it('round-trips every 32-bit code and never lands on a reserved code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const h = webTransportCodeToHttp(n);
        expect(isReservedCodePoint(h)).toBe(false);
        expect(httpCodeToWebTransport(h)).toBe(n);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads codes outside the range as no application code', () => {
    expect(httpCodeToWebTransport(0x100)).toBeUndefined();
    expect(httpCodeToWebTransport(0x52e4a40fa8da)).toBeUndefined();
    expect(httpCodeToWebTransport(0x52e5ac983163)).toBeUndefined();
    expect(() => webTransportCodeToHttp(-1)).toThrow(RangeError);
    expect(() => webTransportCodeToHttp(2 ** 32)).toThrow(RangeError);
  });
});

describe('CLOSE_WEBTRANSPORT_SESSION (draft §5)', () => {
  it('matches the capsule Chromium 156 sent for close({ closeCode: 7, reason: "bye" })', () => {
    // Captured from the CONNECT stream: type 0x2843 (2-byte varint 68 43), length 7, code, "bye".
    const wire = fromHex('6843 07 00000007 627965');
    expect(encodeCloseSession({ code: 7, reason: 'bye' })).toEqual(wire);
    const [capsule] = parseCapsules(wire, {
      known: [[WtCapsuleType.CLOSE_WEBTRANSPORT_SESSION, 1028]],
    });
    expect(decodeCloseSessionValue(capsule.value)).toEqual({ code: 7, reason: 'bye' });
  });

  it('encodes DRAIN_WEBTRANSPORT_SESSION as type 0x78ae (4-byte varint), empty', () => {
    expect(toHex(encodeDrainSession())).toBe('800078ae00');
  });

  it('round-trips codes and UTF-8 reasons up to 1024 bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.string({ maxLength: 200, unit: 'grapheme' }),
        (code, text) => {
          const reason = new TextEncoder().encode(text).length <= 1024 ? text : '';
          const value = encodeCloseSessionValue({ code, reason });
          expect(decodeCloseSessionValue(value)).toEqual({ code, reason });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('decodes arbitrary bytes or throws CapsuleError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        try {
          const r = decodeCloseSessionValue(bytes);
          expect(r.code).toBe(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0));
        } catch (err) {
          expect(err).toBeInstanceOf(CapsuleError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every prefix shorter than the error code is TRUNCATED', () => {
    const value = encodeCloseSessionValue({ code: 0xdeadbeef, reason: 'x' });
    for (let n = 0; n < 4; n++) {
      expect(() => decodeCloseSessionValue(value.subarray(0, n))).toThrow(
        expect.objectContaining({ reason: 'TRUNCATED' }),
      );
    }
    // With the code present, any shorter message is still a (shorter) valid message.
    expect(decodeCloseSessionValue(value.subarray(0, 4))).toEqual({ code: 0xdeadbeef, reason: '' });
  });

  it('refuses a message above 1024 bytes and one that is not UTF-8', () => {
    expect(() => encodeCloseSessionValue({ code: 1, reason: 'x'.repeat(1025) })).toThrow(
      RangeError,
    );
    const long = new Uint8Array(4 + 1025).fill(0x61);
    expect(() => decodeCloseSessionValue(long)).toThrow(
      expect.objectContaining({ reason: 'TOO_LARGE' }),
    );
    expect(() => decodeCloseSessionValue(fromHex('00000001 ff'))).toThrow(
      expect.objectContaining({ reason: 'MALFORMED' }),
    );
    expect(() => encodeCloseSessionValue({ code: 2 ** 32, reason: '' })).toThrow(RangeError);
  });
});

describe('stream headers (draft §4.1, §4.2)', () => {
  it('writes the signal and stream type as minimal varints before the Session ID', () => {
    expect(toHex(encodeWtStreamHeader(true, 0))).toBe('404100');
    expect(toHex(encodeWtStreamHeader(false, 4))).toBe('405404');
    expect(toHex(encodeWtStreamHeader(true, 1000))).toBe('404143e8');
  });

  it('reads a Session ID fed one byte at a time and at any split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }).map((n) => n * 4),
        fc.integer({ min: 0, max: 8 }),
        (id, split) => {
          const bytes = encodeWtStreamHeader(true, id).subarray(2);
          const r = new SessionIdReader();
          const cut = Math.min(split, bytes.length);
          expect(r.push(bytes.subarray(0, cut))).toBe(cut);
          if (cut < bytes.length) {
            expect(r.done).toBe(false);
            for (let i = cut; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1));
          }
          expect(r.done).toBe(true);
          expect(r.value).toBe(BigInt(id));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accepts only client-initiated bidirectional stream IDs as Session IDs', () => {
    expect([0, 4, 8n].map(isSessionId)).toEqual([true, true, true]);
    expect([1, 2, 3, 5n].map(isSessionId)).toEqual([false, false, false, false]);
  });
});
