import { describe, expect, it } from 'vitest';
import { encodeFrames, parseFrames } from '../../../src/quic/frames/index.js';
import { fromHex, toHex } from '../../../src/wire/index.js';
import { RFC9001_A2_CRYPTO, RFC9001_A3_PAYLOAD } from '../../support/rfc9001-vectors.js';

describe('RFC 9001 Appendix A vectors', () => {
  it('A.2: the client Initial payload is CRYPTO (offset 0, 241 bytes) then PADDING to 1162', () => {
    expect(toHex(RFC9001_A2_CRYPTO.subarray(0, 4))).toBe('060040f1');
    expect(RFC9001_A2_CRYPTO.length).toBe(245);
    const payload = new Uint8Array(1162);
    payload.set(RFC9001_A2_CRYPTO);
    const frames = parseFrames(payload, 'I');
    expect(frames).toHaveLength(2);
    const [crypto, padding] = frames;
    expect(crypto.kind).toBe('CRYPTO');
    if (crypto.kind !== 'CRYPTO') return;
    expect(crypto.offset).toBe(0);
    expect(crypto.data.length).toBe(241);
    expect(toHex(crypto.data.subarray(0, 4))).toBe('010000ed'); // ClientHello, 237 bytes
    expect(padding).toEqual({ kind: 'PADDING', length: 1162 - 245 });
    // Re-encoding gives the same bytes (the 2-byte Length 0x40f1 is minimal for 241).
    expect(toHex(encodeFrames(frames))).toBe(toHex(payload));
  });

  it('A.3: the server Initial payload is ACK of packet 0 then CRYPTO of 90 bytes', () => {
    const frames = parseFrames(RFC9001_A3_PAYLOAD, 'I');
    expect(frames.map((f) => f.kind)).toEqual(['ACK', 'CRYPTO']);
    expect(frames[0]).toEqual({ kind: 'ACK', ranges: [[0, 0]], ackDelay: 0, ecn: null });
    const crypto = frames[1];
    expect(crypto.kind === 'CRYPTO' && [crypto.offset, crypto.data.length]).toEqual([0, 90]);
    expect(toHex(encodeFrames(frames))).toBe(toHex(RFC9001_A3_PAYLOAD));
  });

  it('A.5: the ChaCha20 short header packet payload 01 is one PING', () => {
    expect(parseFrames(fromHex('01'), '1')).toEqual([{ kind: 'PING' }]);
  });
});
