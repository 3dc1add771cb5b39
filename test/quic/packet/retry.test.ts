import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeRetry,
  LongPacketType,
  parsePacketHeader,
  parseRetry,
  retryPseudoPacket,
} from '../../../src/quic/packet/index.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { cidV1, codeOf } from './helpers.js';
import { CLIENT_DCID, RETRY, SERVER_CID } from './vectors.js';

/** RFC 9001 §5.8: AES-128-GCM with the fixed v1 key and nonce over the pseudo-packet. */
function retryTag(pseudo: Uint8Array): string {
  const c = createCipheriv(
    'aes-128-gcm',
    fromHex('be0c690b9f66575a1d766b54e368c84e'),
    fromHex('461599d35d632bf2239825bb'),
  );
  c.setAAD(pseudo);
  c.final();
  return toHex(c.getAuthTag());
}

describe('RFC 9001 A.4 Retry', () => {
  it('parses the fields', () => {
    const h = parseRetry(fromHex(RETRY));
    expect(h.kind).toBe('retry');
    expect(h.type).toBe(LongPacketType.Retry);
    expect(h.version).toBe(1);
    expect(h.fixedBit).toBe(true);
    expect(h.unusedBits).toBe(0x0f);
    expect(h.dcid.length).toBe(0);
    expect(toHex(h.scid)).toBe(SERVER_CID);
    expect(Buffer.from(h.token).toString('latin1')).toBe('token');
    expect(toHex(h.integrityTag)).toBe('04a265ba2eff4d829058fb3f0f2496ba');
    expect(h.packetEnd).toBe(36);
  });

  it('re-encodes byte for byte', () => {
    const h = parseRetry(fromHex(RETRY));
    const out = encodeRetry({
      dcid: h.dcid,
      scid: h.scid,
      token: h.token,
      integrityTag: h.integrityTag,
      unusedBits: h.unusedBits,
    });
    expect(toHex(out)).toBe(RETRY);
  });

  it('the pseudo-packet yields the published tag under the RFC 9001 §5.8 key', () => {
    const pseudo = retryPseudoPacket(fromHex(CLIENT_DCID), fromHex(RETRY));
    expect(toHex(pseudo.subarray(0, 9))).toBe(`08${CLIENT_DCID}`);
    expect(pseudo.length).toBe(9 + 36 - 16);
    expect(retryTag(pseudo)).toBe('04a265ba2eff4d829058fb3f0f2496ba');
    // A different original DCID gives a different tag: the check can fail.
    expect(retryTag(retryPseudoPacket(fromHex('0001020304050607'), fromHex(RETRY)))).not.toBe(
      '04a265ba2eff4d829058fb3f0f2496ba',
    );
  });

  it('is chosen by the dispatcher', () => {
    expect(parsePacketHeader(fromHex(RETRY), 0, 8).kind).toBe('retry');
  });
});

describe('Retry round trip and errors (RFC 9000 §17.2.5)', () => {
  it('encode → parse is the identity', () => {
    fc.assert(
      fc.property(
        cidV1,
        cidV1,
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        (dcid, scid, token, integrityTag, unusedBits, fixedBit) => {
          const bytes = encodeRetry({ dcid, scid, token, integrityTag, unusedBits, fixedBit });
          const h = parseRetry(bytes);
          expect(h.dcid).toEqual(dcid);
          expect(h.scid).toEqual(scid);
          expect(h.token).toEqual(token);
          expect(h.integrityTag).toEqual(integrityTag);
          expect(h.unusedBits).toBe(unusedBits);
          expect(h.fixedBit).toBe(fixedBit);
          expect(h.packetEnd).toBe(bytes.length);
          expect(bytes.length).toBe(7 + dcid.length + scid.length + token.length + 16);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prefixes without room for the tag are TRUNCATED; longer ones shorten the token', () => {
    // A Retry has no length field: the tag is the last 16 bytes, whatever the datagram length.
    const full = fromHex(RETRY);
    const headerEnd = 1 + 4 + 1 + 0 + 1 + 8;
    for (let n = 0; n < headerEnd + 16; n++) {
      expect(
        codeOf(() => parseRetry(full.subarray(0, n))),
        `prefix ${n}`,
      ).toBe('TRUNCATED');
    }
    for (let n = headerEnd + 16; n <= full.length; n++) {
      const h = parseRetry(full.subarray(0, n));
      expect(h.token.length).toBe(n - headerEnd - 16);
    }
  });

  it('rejects non-Retry packets, other versions and long connection IDs', () => {
    const full = fromHex(RETRY);
    const initial = full.slice();
    initial[0] = 0xc0;
    expect(codeOf(() => parseRetry(initial))).toBe('MALFORMED');
    const v2 = full.slice();
    v2[4] = 2;
    expect(codeOf(() => parseRetry(v2))).toBe('MALFORMED');
    const longCid = concatBytes(fromHex('f00000000115'), new Uint8Array(60));
    expect(codeOf(() => parseRetry(longCid))).toBe('MALFORMED');
    const bad = { dcid: new Uint8Array(0), scid: new Uint8Array(8), token: new Uint8Array(1) };
    expect(codeOf(() => encodeRetry({ ...bad, integrityTag: new Uint8Array(15) }))).toBe(
      'MALFORMED',
    );
    expect(
      codeOf(() => encodeRetry({ ...bad, integrityTag: new Uint8Array(16), unusedBits: 16 })),
    ).toBe('MALFORMED');
    expect(
      codeOf(() =>
        encodeRetry({ ...bad, scid: new Uint8Array(21), integrityTag: new Uint8Array(16) }),
      ),
    ).toBe('MALFORMED');
    expect(codeOf(() => retryPseudoPacket(new Uint8Array(8), new Uint8Array(15)))).toBe(
      'TRUNCATED',
    );
  });
});
