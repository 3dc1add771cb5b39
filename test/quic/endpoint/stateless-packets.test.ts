import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressHost,
  buildInitialClose,
  buildRetry,
  buildVersionNegotiation,
  greaseVersion,
  judgeInitialToken,
  TokenBucket,
} from '../../../src/quic/endpoint/index.js';
import {
  isReservedVersion,
  parseLongHeader,
  parseRetry,
  parseVersionNegotiation,
  QUIC_V1,
} from '../../../src/quic/packet/index.js';
import { AddressTokens } from '../../../src/quic/path/index.js';
import {
  INITIAL_SUITE,
  initialSecrets,
  PacketProtector,
  verifyRetryTag,
} from '../../../src/quic/protection/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, fromHex, toHex } from '../../../src/wire/index.js';

describe('Retry (RFC 9001 Appendix A.4)', () => {
  it('reproduces the sample Retry byte for byte', () => {
    const packet = buildRetry(
      new Uint8Array(0),
      fromHex('8394c8f03e515708'),
      fromHex('f067a5502a4262b5'),
      new TextEncoder().encode('token'),
      0x0f,
    );
    expect(toHex(packet)).toBe(
      'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
    );
  });

  it('round-trips through parseRetry with a verifying tag for any CIDs and token', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 20 }),
        fc.uint8Array({ minLength: 8, maxLength: 20 }),
        fc.uint8Array({ minLength: 1, maxLength: 20 }),
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 255 }),
        (clientScid, odcid, scid, token, bits) => {
          const p = buildRetry(clientScid, odcid, scid, token, bits);
          const r = parseRetry(p);
          return (
            bytesEqual(r.dcid, clientScid) &&
            bytesEqual(r.scid, scid) &&
            bytesEqual(r.token, token) &&
            r.unusedBits === (bits & 0x0f) &&
            verifyRetryTag(odcid, p)
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('Version Negotiation', () => {
  it('grease versions have the 0x?a?a?a?a form (RFC 9000 §15)', () => {
    const random = new SeededRandom(5);
    for (let i = 0; i < 2000; i++) expect(isReservedVersion(greaseVersion(random))).toBe(true);
  });

  it('lists QUIC v1 then a grease version, with the 0x40 bit set', () => {
    const vn = buildVersionNegotiation(
      fromHex('0102'),
      fromHex('0304'),
      [QUIC_V1],
      new SeededRandom(1),
    );
    const p = parseVersionNegotiation(vn);
    expect(p.dcid).toEqual(fromHex('0304'));
    expect(p.scid).toEqual(fromHex('0102'));
    expect(p.versions[0]).toBe(1);
    expect(p.firstByte & 0xc0).toBe(0xc0);
    expect(vn.length).toBe(7 + 4 + 8);
  });
});

describe('stateless Initial CONNECTION_CLOSE', () => {
  it('decrypts with the server Initial keys of the client DCID to 0x1c code 0 0', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 20 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.uint8Array({ minLength: 8, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 30 - 1 }),
        (dcid, scid, serverScid, code) => {
          const p = buildInitialClose(dcid, scid, serverScid, code);
          const h = parseLongHeader(p);
          if (!bytesEqual(h.dcid, scid) || !bytesEqual(h.scid, serverScid)) return false;
          if (h.packetEnd !== p.length) return false;
          const prot = PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(dcid).server);
          const o = prot.open(p, h.pnOffset, -1);
          expect(o.pn).toBe(0);
          const plain = p.subarray(o.payloadOffset, o.payloadOffset + o.payloadLength);
          const w = [0x1c];
          // expected varint encoding of code
          const enc =
            code < 64
              ? [code]
              : code < 16384
                ? [0x40 | (code >> 8), code & 0xff]
                : [0x80 | (code >>> 24), (code >> 16) & 0xff, (code >> 8) & 0xff, code & 0xff];
          return toHex(plain) === toHex(new Uint8Array([...w, ...enc, 0, 0]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is not readable with the client-direction keys (it is a server packet)', () => {
    const dcid = fromHex('8394c8f03e515708');
    const p = buildInitialClose(dcid, new Uint8Array(0), fromHex('f067a5502a4262b5'), 2);
    const h = parseLongHeader(p);
    const wrong = PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(dcid).client);
    expect(() => wrong.open(p.slice(), h.pnOffset, -1)).toThrow();
  });
});

describe('token judgement (RFC 9000 §8.1)', () => {
  const tokens = new AddressTokens(new Uint8Array(16).fill(1), new SeededRandom(2));
  const odcid = fromHex('0102030405060708');
  const rscid = fromHex('1112131415161718');

  it('a Retry token binds address, port and the Retry SCID', () => {
    const t = tokens.sealRetry('10.0.0.1:5000', 0, odcid, rscid);
    expect(judgeInitialToken(tokens, t, '10.0.0.1:5000', rscid, 1)).toEqual({
      kind: 'retry',
      originalDcid: odcid,
      retryScid: rscid,
    });
    expect(judgeInitialToken(tokens, t, '10.0.0.1:5001', rscid, 1).kind).toBe('invalid-retry');
    expect(judgeInitialToken(tokens, t, '10.0.0.1:5000', odcid, 1).kind).toBe('invalid-retry');
    expect(judgeInitialToken(tokens, t, '10.0.0.1:5000', rscid, 20_000).kind).toBe('invalid-retry');
  });

  it('a NEW_TOKEN token binds the host only; garbage is merely invalid', () => {
    const t = tokens.sealNewToken('2001:db8::5', 0);
    expect(judgeInitialToken(tokens, t, '[2001:db8::5]:999', rscid, 1).kind).toBe('new-token');
    expect(judgeInitialToken(tokens, t, '[2001:db8::6]:999', rscid, 1).kind).toBe('invalid');
    expect(judgeInitialToken(tokens, new Uint8Array(0), 'x:1', rscid, 1).kind).toBe('none');
    expect(judgeInitialToken(tokens, new Uint8Array(50), 'x:1', rscid, 1).kind).toBe('invalid');
  });

  it('addressHost strips the port and IPv6 brackets', () => {
    expect(addressHost('127.0.0.1:4433')).toBe('127.0.0.1');
    expect(addressHost('[::1]:4433')).toBe('::1');
    expect(addressHost('::1')).toBe('::1');
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the configured rate', () => {
    const b = new TokenBucket(1000, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(0.5)).toBe(false);
    expect(b.take(1)).toBe(true);
    expect(b.take(1)).toBe(false);
    // A clock going backwards never adds tokens.
    expect(b.take(0)).toBe(false);
    expect(() => new TokenBucket(-1, 1)).toThrow(RangeError);
  });
});
