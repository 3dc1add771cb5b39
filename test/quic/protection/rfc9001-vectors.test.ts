/** RFC 9001 Appendix A, byte for byte. */
import { describe, expect, it } from 'vitest';
import { createAead } from '../../../src/crypto/aead.js';
import { hkdfExpandLabel, hkdfExtract } from '../../../src/crypto/hkdf.js';
import { CipherSuite } from '../../../src/crypto/suites.js';
import {
  computeRetryTag,
  deriveKeys,
  INITIAL_SUITE,
  initialSecrets,
  nextSecret,
  PacketProtector,
  QUIC_V1_INITIAL_SALT,
  RETRY_KEY_V1,
  RETRY_NONCE_V1,
  verifyRetryTag,
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

const DCID = fromHex('8394c8f03e515708');

describe('RFC 9001 A.1 keys', () => {
  it('initial_secret', () => {
    expect(toHex(hkdfExtract('sha256', QUIC_V1_INITIAL_SALT, DCID))).toBe(
      '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44',
    );
  });

  it('client and server initial secrets, key, iv, hp', () => {
    const s = initialSecrets(DCID);
    expect(toHex(s.client)).toBe(
      'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea',
    );
    expect(toHex(s.server)).toBe(
      '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b',
    );
    const c = deriveKeys(s.client, INITIAL_SUITE);
    expect(toHex(c.key)).toBe('1f369613dd76d5467730efcbe3b1a22d');
    expect(toHex(c.iv)).toBe('fa044b2f42a3fd3b46fb255c');
    expect(toHex(c.hp)).toBe('9f50449e04a0e810283a1e9933adedd2');
    const v = deriveKeys(s.server, INITIAL_SUITE);
    expect(toHex(v.key)).toBe('cf3a5331653c364c88f0f379b6067e37');
    expect(toHex(v.iv)).toBe('0ac1493ca1905853b0bba03e');
    expect(toHex(v.hp)).toBe('c206b8d9b9f0f37644430b490eeaa314');
  });
});

// RFC 9001 A.2
const CLIENT_CRYPTO_FRAME = RFC9001_A2_CRYPTO;
const CLIENT_HEADER = RFC9001_A2_HEADER;
const CLIENT_PROTECTED = RFC9001_A2_PACKET;

// RFC 9001 A.3
const SERVER_PAYLOAD = RFC9001_A3_PAYLOAD;
const SERVER_HEADER = RFC9001_A3_HEADER;
const SERVER_PROTECTED = RFC9001_A3_PACKET;

/** header | payload | room for the tag, as a sender would lay it out. */
function layout(header: Uint8Array, payload: Uint8Array, payloadLength: number): Uint8Array {
  const buf = new Uint8Array(header.length + payloadLength + 16);
  buf.set(header, 0);
  buf.set(payload, header.length);
  return buf;
}

describe('RFC 9001 A.2 client Initial', () => {
  const client = () => PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(DCID).client);

  it('protects the 1162-byte padded CRYPTO payload into the RFC packet', () => {
    const packet = layout(CLIENT_HEADER, CLIENT_CRYPTO_FRAME, 1162);
    // Length field 0x449e = 1182 = 4-byte pn + 1162 + 16; pn offset 18, pn 2.
    const end = client().seal(packet, 18, 4, 2, 1162);
    expect(end).toBe(1200);
    expect(toHex(packet)).toBe(toHex(CLIENT_PROTECTED));
  });

  it('unprotects the RFC packet back to header and plaintext', () => {
    const packet = Uint8Array.from(CLIENT_PROTECTED);
    const opened = client().open(packet, 18, -1);
    expect(opened).toEqual({ pn: 2, pnLength: 4, payloadOffset: 22, payloadLength: 1162 });
    expect(toHex(packet.subarray(0, 22))).toBe(toHex(CLIENT_HEADER));
    const payload = packet.subarray(22, 22 + 1162);
    expect(toHex(payload.subarray(0, CLIENT_CRYPTO_FRAME.length))).toBe(toHex(CLIENT_CRYPTO_FRAME));
    expect(payload.subarray(CLIENT_CRYPTO_FRAME.length).every((b) => b === 0)).toBe(true);
  });
});

describe('RFC 9001 A.3 server Initial', () => {
  const server = () => PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(DCID).server);

  it('protects into the RFC packet (2-byte packet number 1)', () => {
    const packet = layout(SERVER_HEADER, SERVER_PAYLOAD, SERVER_PAYLOAD.length);
    // Token Length 0, Length 0x0075 = 2 + 99 + 16; pn offset 18.
    const end = server().seal(packet, 18, 2, 1, SERVER_PAYLOAD.length);
    expect(end).toBe(SERVER_PROTECTED.length);
    expect(toHex(packet)).toBe(toHex(SERVER_PROTECTED));
  });

  it('unprotects the RFC packet', () => {
    const packet = Uint8Array.from(SERVER_PROTECTED);
    const opened = server().open(packet, 18, 0);
    expect(opened.pn).toBe(1);
    expect(opened.pnLength).toBe(2);
    expect(opened.payloadLength).toBe(SERVER_PAYLOAD.length);
    expect(toHex(packet.subarray(0, 20))).toBe(toHex(SERVER_HEADER));
    expect(toHex(packet.subarray(20, 20 + opened.payloadLength))).toBe(toHex(SERVER_PAYLOAD));
  });
});

describe('RFC 9001 A.4 Retry', () => {
  const RETRY = fromHex('ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba');

  it('the fixed key and nonce derive from the documented secret', () => {
    const secret = fromHex('d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e');
    const empty = new Uint8Array(0);
    expect(toHex(hkdfExpandLabel('sha256', secret, 'quic key', empty, 16))).toBe(
      toHex(RETRY_KEY_V1),
    );
    expect(toHex(hkdfExpandLabel('sha256', secret, 'quic iv', empty, 12))).toBe(
      toHex(RETRY_NONCE_V1),
    );
  });

  it('computes the tag of the RFC Retry packet', () => {
    const body = RETRY.subarray(0, RETRY.length - 16);
    expect(toHex(computeRetryTag(DCID, body))).toBe('04a265ba2eff4d829058fb3f0f2496ba');
    expect(verifyRetryTag(DCID, RETRY)).toBe(true);
  });

  it('rejects any flipped bit, a wrong ODCID and a packet shorter than a tag', () => {
    for (let i = 0; i < RETRY.length * 8; i++) {
      const bad = Uint8Array.from(RETRY);
      bad[i >> 3] ^= 1 << (i & 7);
      expect(verifyRetryTag(DCID, bad)).toBe(false);
    }
    const otherOdcid = Uint8Array.from(DCID);
    otherOdcid[7] ^= 1;
    expect(verifyRetryTag(otherOdcid, RETRY)).toBe(false);
    expect(verifyRetryTag(DCID.subarray(0, 7), RETRY)).toBe(false);
    for (let len = 0; len < 16; len++)
      expect(verifyRetryTag(DCID, RETRY.subarray(0, len))).toBe(false);
  });
});

describe('RFC 9001 A.5 ChaCha20-Poly1305 short header packet', () => {
  const SUITE = CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
  const SECRET = fromHex('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b');
  const PN = 654360564;
  const PACKET = '4cfe4189655e5cd55c41f69080575d7999c25a5bfb';

  it('key, iv, hp and the "quic ku" secret', () => {
    const k = deriveKeys(SECRET, SUITE);
    expect(toHex(k.key)).toBe('c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8');
    expect(toHex(k.iv)).toBe('e0459b3474bdd0e44a41c144');
    expect(toHex(k.hp)).toBe('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4');
    expect(toHex(nextSecret(SECRET, SUITE))).toBe(
      '1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9',
    );
  });

  it('nonce and payload ciphertext', () => {
    const k = deriveKeys(SECRET, SUITE);
    const nonce = fromHex('e0459b3474bdd0e46d417eb0');
    const ct = createAead(SUITE, k.key).seal(nonce, fromHex('4200bff4'), fromHex('01'));
    expect(toHex(ct)).toBe('655e5cd55c41f69080575d7999c25a5bfb');
  });

  it('protects to the 21-byte packet (3-byte pn 49140 of 654360564)', () => {
    const packet = layout(fromHex('4200bff4'), fromHex('01'), 1);
    expect(PacketProtector.fromSecret(SUITE, SECRET).seal(packet, 1, 3, PN, 1)).toBe(21);
    expect(toHex(packet)).toBe(PACKET);
  });

  it('unprotects the 21-byte packet', () => {
    const packet = fromHex(PACKET);
    const opened = PacketProtector.fromSecret(SUITE, SECRET).open(packet, 1, PN - 1);
    expect(opened).toEqual({ pn: PN, pnLength: 3, payloadOffset: 4, payloadLength: 1 });
    expect(toHex(packet.subarray(0, 5))).toBe('4200bff401');
  });

  it('the next key phase uses the "quic ku" secret and keeps the header protection', () => {
    const current = PacketProtector.fromSecret(SUITE, SECRET);
    const next = current.nextKeyPhase();
    const expected = PacketProtector.fromSecret(
      SUITE,
      fromHex('1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9'),
    );
    expect(next.headerProtection).toBe(current.headerProtection);
    const a = layout(fromHex('4600bff4'), fromHex('01'), 1);
    const b = Uint8Array.from(a);
    next.seal(a, 1, 3, PN, 1);
    // Same AEAD key/iv as a protector built from the ku secret; HP from the original secret.
    const hpFromKu = layout(fromHex('4600bff4'), fromHex('01'), 1);
    expected.seal(hpFromKu, 1, 3, PN, 1);
    expect(toHex(a.subarray(4))).toBe(toHex(hpFromKu.subarray(4)));
    current.seal(b, 1, 3, PN, 1);
    expect(toHex(a.subarray(4))).not.toBe(toHex(b.subarray(4)));
    // The header mask depends only on the sample and the unchanged hp key.
    const mask = current.headerProtection.mask(a.subarray(5, 21));
    expect(a[0]).toBe(0x46 ^ (mask[0] & 0x1f));
  });
});
