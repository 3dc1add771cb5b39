import { describe, expect, it } from 'vitest';
import { TlsAlertError } from '../../../src/tls/alert.js';
import { generateKeyShare, isSupportedGroup } from '../../../src/tls/handshake/index.js';
import type { Random } from '../../../src/util/random.js';
import { SeededRandom, systemRandom } from '../../../src/util/random.js';
import { toHex } from '../../../src/wire/index.js';
import { simple } from './rfc8448.js';

/** A Random that hands out fixed bytes (to reproduce published private keys). */
function fixed(bytes: Uint8Array): Random {
  let at = 0;
  return {
    fill(buf) {
      for (let i = 0; i < buf.length; i++) buf[i] = bytes[at++ % bytes.length];
    },
  };
}

describe('key shares', () => {
  it('x25519 from RFC 8448 §3 private keys gives the trace public keys and shared secret', () => {
    const client = generateKeyShare(0x1d, fixed(simple.clientPrivateKey));
    const server = generateKeyShare(0x1d, fixed(simple.serverPrivateKey));
    expect(toHex(client.publicKey)).toBe(toHex(simple.clientPublicKey));
    expect(toHex(server.publicKey)).toBe(toHex(simple.serverPublicKey));
    expect(toHex(client.computeSecret(server.publicKey))).toBe(toHex(simple.sharedSecret));
    expect(toHex(server.computeSecret(client.publicKey))).toBe(toHex(simple.sharedSecret));
  });

  it('x25519 with the system random: OpenSSL makes the key; shares agree with seeded ones and differ each time', () => {
    const sys = generateKeyShare(0x1d, systemRandom);
    const again = generateKeyShare(0x1d, systemRandom);
    const seeded = generateKeyShare(0x1d, new SeededRandom(9));
    expect(sys.publicKey.length).toBe(32);
    expect(toHex(sys.publicKey)).not.toBe(toHex(again.publicKey));
    expect(toHex(sys.computeSecret(seeded.publicKey))).toBe(
      toHex(seeded.computeSecret(sys.publicKey)),
    );
    expect(toHex(sys.computeSecret(again.publicKey))).toBe(
      toHex(again.computeSecret(sys.publicKey)),
    );
  });

  it('secp256r1 shares are uncompressed points and agree', () => {
    const a = generateKeyShare(0x17, new SeededRandom(1));
    const b = generateKeyShare(0x17, new SeededRandom(2));
    expect(a.publicKey.length).toBe(65);
    expect(a.publicKey[0]).toBe(4);
    expect(toHex(a.computeSecret(b.publicKey))).toBe(toHex(b.computeSecret(a.publicKey)));
    expect(toHex(generateKeyShare(0x17, new SeededRandom(1)).publicKey)).toBe(toHex(a.publicKey));
  });

  it('invalid peer shares are illegal_parameter', () => {
    const x = generateKeyShare(0x1d, new SeededRandom(3));
    const p = generateKeyShare(0x17, new SeededRandom(4));
    const bad: [typeof x, Uint8Array][] = [
      [x, new Uint8Array(31)],
      [x, new Uint8Array(32)], // all-zero shared secret
      [p, new Uint8Array(65).fill(4)], // not on the curve
      [p, p.publicKey.subarray(0, 33)], // compressed form is not allowed
      [p, Uint8Array.of(2, ...p.publicKey.subarray(1))],
    ];
    for (const [share, peer] of bad) {
      try {
        share.computeSecret(peer);
        throw new Error('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(TlsAlertError);
        expect((err as TlsAlertError).alertName).toBe('illegal_parameter');
      }
    }
  });

  it('only x25519 and secp256r1 are implemented', () => {
    expect(isSupportedGroup(0x1d)).toBe(true);
    expect(isSupportedGroup(0x17)).toBe(true);
    expect(isSupportedGroup(0x18)).toBe(false);
    expect(() => generateKeyShare(0x18, new SeededRandom(1))).toThrow(TlsAlertError);
  });
});
