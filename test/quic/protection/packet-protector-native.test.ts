/**
 * The one-call native packet path of PacketProtector (sealPacket / openPacket in
 * native/masque_native.c) against the node:crypto path with the JavaScript header protection:
 * byte-identical packets for the three suites, both header forms, every packet number length,
 * payloads at the sample minimum and past 1200 bytes; opening either's packets; the "packet
 * untouched on failure" contract; the RFC 9001 Appendix A packets on both paths. The addon must
 * be built (as the rest of the native tests require): these tests fail rather than skip without
 * it. They pick the backend explicitly, so they run the same with MASQUE_NATIVE=0.
 */
import { describe, expect, it } from 'vitest';
import { AeadError, type CryptoError } from '../../../src/crypto/errors.js';
import { cryptoBackend, loadNativeAddon } from '../../../src/crypto/native.js';
import { CipherSuite, suiteParams } from '../../../src/crypto/suites.js';
import {
  deriveKeys,
  INITIAL_SUITE,
  initialSecrets,
  PacketProtector,
} from '../../../src/quic/protection/index.js';
import { fromHex, toHex } from '../../../src/wire/index.js';
import {
  RFC9001_A2_CRYPTO,
  RFC9001_A2_HEADER,
  RFC9001_A2_PACKET,
  RFC9001_A3_HEADER,
  RFC9001_A3_PACKET,
  RFC9001_A3_PAYLOAD,
} from '../../support/rfc9001-vectors.js';

const SUITES = [
  CipherSuite.TLS_AES_128_GCM_SHA256,
  CipherSuite.TLS_AES_256_GCM_SHA384,
  CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
] as const;
const BACKENDS = ['native', 'node:crypto'] as const;

/** mulberry32: a seeded generator, so a failure reproduces. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** A packet number of `pnLength` bytes' range or anywhere below 2^53. */
function randomPn(rand: () => number, pnLength: number): number {
  return rand() < 0.5
    ? Math.floor(rand() * 2 ** (8 * pnLength))
    : Math.floor(rand() * (2 ** 53 - 1));
}

interface Layout {
  packet: Uint8Array;
  pnOffset: number;
  header: Uint8Array;
  payload: Uint8Array;
}

/** header | pn (garbage: seal writes it) | payload | 16 bytes of room, plus trailing guard. */
function layout(
  rand: () => number,
  long: boolean,
  pnLength: number,
  payloadLength: number,
): Layout {
  const pnOffset = long ? 1 + 4 + 1 + 8 + 1 + 8 + 1 + 2 : 1 + 8;
  const packet = randomBytes(rand, pnOffset + pnLength + payloadLength + 16);
  // Long: 0b11TT RRPP; short: 0b01SR RKPP. The PP bits are seal's to write.
  packet[0] = long ? 0xc0 | (packet[0] & 0x3f) : 0x40 | (packet[0] & 0x3f);
  return {
    packet,
    pnOffset,
    header: packet.slice(0, pnOffset),
    payload: packet.slice(pnOffset + pnLength, pnOffset + pnLength + payloadLength),
  };
}

function protectors(suite: CipherSuite, secret: Uint8Array): [PacketProtector, PacketProtector] {
  return [
    PacketProtector.fromSecret(suite, secret, 'native'),
    PacketProtector.fromSecret(suite, secret, 'node:crypto'),
  ];
}

const addon = loadNativeAddon();

describe('one call into the addon per packet (RFC 9001 §5.3, §5.4)', () => {
  it('the addon is built and has the packet calls; the explicit backends pick the paths', () => {
    expect(addon).toBeDefined();
    const aead = addon && new addon.Aead(0x1301, new Uint8Array(16), new Uint8Array(12));
    expect(typeof aead?.sealPacket).toBe('function');
    expect(typeof aead?.openPacket).toBe('function');
    for (const suite of SUITES) {
      const secret = new Uint8Array(suiteParams(suite).hashLength).fill(9);
      const [native, js] = protectors(suite, secret);
      expect(native.onePacketCall).toBe(true);
      expect(js.onePacketCall).toBe(false);
      // A key update keeps the backend, and the path with it.
      expect(native.nextKeyPhase().onePacketCall).toBe(true);
      expect(js.nextKeyPhase().onePacketCall).toBe(false);
      // The process default: AES on the addon when it is in use; ChaCha20's header protection
      // stays in JavaScript (header-protection.ts), so ChaCha20 keeps the two-call path.
      const byDefault = PacketProtector.fromSecret(suite, secret).onePacketCall;
      expect(byDefault).toBe(
        cryptoBackend() === 'native' && suite !== CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
      );
    }
  });

  it('seals byte for byte as node:crypto + JavaScript header protection, and both open both', () => {
    const rand = seeded(0x5eed);
    let cases = 0;
    for (const suite of SUITES) {
      for (const long of [true, false]) {
        for (let pnLength = 1; pnLength <= 4; pnLength++) {
          const minimum = 4 - pnLength; // RFC 9001 §5.4.2: pn + payload >= 4 for the sample
          const sizes = [minimum, minimum + 1, minimum + 2, 16, 17, 1200, 1201, 1452];
          sizes.push(Math.floor(rand() * 1500) + minimum);
          for (const payloadLength of sizes) {
            const secret = randomBytes(rand, suiteParams(suite).hashLength);
            const [native, js] = protectors(suite, secret);
            const pn = randomPn(rand, pnLength);
            const a = layout(rand, long, pnLength, payloadLength);
            const b = Uint8Array.from(a.packet);
            const endA = native.seal(a.packet, a.pnOffset, pnLength, pn, payloadLength);
            const endB = js.seal(b, a.pnOffset, pnLength, pn, payloadLength);
            expect(endA).toBe(a.packet.length);
            expect(endB).toBe(endA);
            expect(toHex(a.packet)).toBe(toHex(b));
            // Each opens the other's packet (here the same bytes): the split 1-RTT way on one
            // copy, `open` on the other; header, packet number and payload come back.
            for (const [opener, split] of [
              [native, true],
              [js, true],
              [native, false],
              [js, false],
            ] as const) {
              const p = Uint8Array.from(b);
              let payloadOut: number;
              if (split) {
                const h = opener.unprotectHeader(p, a.pnOffset, pn - 1);
                expect(h).toEqual({ pn, pnLength });
                payloadOut = opener.decrypt(p, a.pnOffset, h.pnLength, h.pn);
              } else {
                const o = opener.open(p, a.pnOffset, pn - 1);
                expect(o.pn).toBe(pn);
                payloadOut = o.payloadLength;
              }
              expect(payloadOut).toBe(payloadLength);
              const at = a.pnOffset + pnLength;
              expect(toHex(p.subarray(0, a.pnOffset))).toBe(
                toHex(Uint8Array.of((a.header[0] & 0xfc) | (pnLength - 1), ...a.header.slice(1))),
              );
              expect(toHex(p.subarray(at, at + payloadOut))).toBe(toHex(a.payload));
            }
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(3 * 2 * 4 * 9);
  });

  it('a flipped tag, ciphertext or header byte fails with AeadError and the packet untouched', () => {
    const rand = seeded(0xbad7a6);
    for (const suite of SUITES) {
      for (const payloadLength of [3, 40, 1200]) {
        const secret = randomBytes(rand, suiteParams(suite).hashLength);
        const [native, js] = protectors(suite, secret);
        const pnLength = 1 + Math.floor(rand() * 4);
        const pn = randomPn(rand, pnLength);
        const { packet, pnOffset } = layout(rand, rand() < 0.5, pnLength, payloadLength);
        native.seal(packet, pnOffset, pnLength, pn, payloadLength);
        const payloadOffset = pnOffset + pnLength;
        const last = packet.length - 1;
        const where = [last, last - 15, payloadOffset, payloadOffset + (payloadLength >> 1), 1];
        for (const at of where) {
          for (const opener of [native, js]) {
            const p = Uint8Array.from(packet);
            const h = opener.unprotectHeader(p, pnOffset, pn - 1);
            p[at] ^= 1 << Math.floor(rand() * 8);
            const before = Uint8Array.from(p);
            expect(() => opener.decrypt(p, pnOffset, h.pnLength, h.pn)).toThrowError(AeadError);
            expect(toHex(p)).toBe(toHex(before));
          }
        }
        // The right bytes with a wrong packet number (another nonce) fail the same way.
        const p = Uint8Array.from(packet);
        const h = native.unprotectHeader(p, pnOffset, pn - 1);
        const before = Uint8Array.from(p);
        expect(() => native.decrypt(p, pnOffset, h.pnLength, h.pn ^ 1)).toThrowError(AeadError);
        expect(toHex(p)).toBe(toHex(before));
        expect(native.decrypt(p, pnOffset, h.pnLength, h.pn)).toBe(payloadLength);
      }
    }
  });

  it('the same errors as node:crypto: no room for a tag, bad packet numbers, short samples', () => {
    for (const suite of SUITES) {
      const secret = new Uint8Array(suiteParams(suite).hashLength).fill(3);
      const outcomes = protectors(suite, secret).map((p) => {
        const caught: string[] = [];
        const attempt = (f: () => unknown) => {
          try {
            caught.push(`ok:${String(f())}`);
          } catch (err) {
            caught.push(
              `${(err as Error).name}:${(err as CryptoError).code}:${(err as Error).message}`,
            );
          }
        };
        // decrypt with fewer than 16 bytes after the packet number, at every length.
        for (let len = 0; len < 30; len++) {
          const packet = new Uint8Array(len).fill(0x11);
          attempt(() => p.decrypt(packet, 10, 2, 5));
          expect(packet.every((b) => b === 0x11)).toBe(true);
        }
        attempt(() => p.decrypt(new Uint8Array(60), 10, 2, -1));
        attempt(() => p.decrypt(new Uint8Array(60), 10, 2, 2 ** 53));
        // seal's own checks, before anything is written.
        const packet = new Uint8Array(40).fill(0x22);
        for (const [pnLength, payloadLength] of [
          [1, 2],
          [2, 1],
          [3, 0],
          [1, 3],
        ]) {
          attempt(() => p.seal(packet, 10, pnLength, 7, payloadLength));
        }
        attempt(() => p.seal(packet, 10, 0, 7, 10));
        attempt(() => p.seal(packet, 10, 5, 7, 10));
        attempt(() => p.seal(packet, 0, 2, 7, 10));
        attempt(() => p.seal(packet, 10, 2, -1, 10));
        attempt(() => p.seal(packet, 10, 2, 7, 13));
        attempt(() => p.seal(packet, 10, 2, 7, 1.5));
        return { caught, packet: toHex(packet) };
      });
      expect(outcomes[0]).toEqual(outcomes[1]);
      const sampleErrors = outcomes[0]?.caught.filter((c) => c.includes('SAMPLE_TOO_SHORT'));
      expect(sampleErrors).toHaveLength(3);
    }
  });
});

describe('RFC 9001 Appendix A on both paths', () => {
  const DCID = fromHex('8394c8f03e515708');
  const CHACHA_SECRET = fromHex('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b');
  const vectors = [
    {
      name: 'A.2 client Initial',
      suite: INITIAL_SUITE,
      secret: initialSecrets(DCID).client,
      header: RFC9001_A2_HEADER,
      payload: RFC9001_A2_CRYPTO,
      payloadLength: 1162,
      pnOffset: 18,
      pnLength: 4,
      pn: 2,
      packet: RFC9001_A2_PACKET,
    },
    {
      name: 'A.3 server Initial',
      suite: INITIAL_SUITE,
      secret: initialSecrets(DCID).server,
      header: RFC9001_A3_HEADER,
      payload: RFC9001_A3_PAYLOAD,
      payloadLength: RFC9001_A3_PAYLOAD.length,
      pnOffset: 18,
      pnLength: 2,
      pn: 1,
      packet: RFC9001_A3_PACKET,
    },
    {
      name: 'A.5 ChaCha20-Poly1305 short header',
      suite: CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
      secret: CHACHA_SECRET,
      header: fromHex('4200bff4'),
      payload: fromHex('01'),
      payloadLength: 1,
      pnOffset: 1,
      pnLength: 3,
      pn: 654360564,
      packet: fromHex('4cfe4189655e5cd55c41f69080575d7999c25a5bfb'),
    },
  ];
  for (const v of vectors) {
    for (const backend of BACKENDS) {
      it(`${v.name} on ${backend}: seals to the RFC packet and opens it`, () => {
        const p = PacketProtector.fromSecret(v.suite, v.secret, backend);
        expect(p.onePacketCall).toBe(backend === 'native');
        const packet = new Uint8Array(v.header.length + v.payloadLength + 16);
        packet.set(v.header);
        packet.set(v.payload, v.header.length);
        expect(p.seal(packet, v.pnOffset, v.pnLength, v.pn, v.payloadLength)).toBe(packet.length);
        expect(toHex(packet)).toBe(toHex(v.packet));
        const opened = PacketProtector.fromSecret(v.suite, v.secret, backend).open(
          packet,
          v.pnOffset,
          v.pn - 1,
        );
        expect(opened).toEqual({
          pn: v.pn,
          pnLength: v.pnLength,
          payloadOffset: v.header.length,
          payloadLength: v.payloadLength,
        });
        expect(toHex(packet.subarray(0, v.header.length + v.payload.length))).toBe(
          toHex(Uint8Array.of(...v.header, ...v.payload)),
        );
      });
    }
  }

  it('A.2 keys through fromKeys on the native path (no secret)', () => {
    const keys = deriveKeys(initialSecrets(DCID).client, INITIAL_SUITE);
    const p = PacketProtector.fromKeys(INITIAL_SUITE, keys, 'native');
    expect(p.onePacketCall).toBe(true);
    const packet = new Uint8Array(1200);
    packet.set(RFC9001_A2_HEADER);
    packet.set(RFC9001_A2_CRYPTO, 22);
    p.seal(packet, 18, 4, 2, 1162);
    expect(toHex(packet)).toBe(toHex(RFC9001_A2_PACKET));
  });
});
