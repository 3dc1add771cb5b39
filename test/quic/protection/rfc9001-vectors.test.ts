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
import { RFC9001_A2_CRYPTO } from '../../support/rfc9001-vectors.js';

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
const CLIENT_HEADER = fromHex('c300000001088394c8f03e5157080000449e00000002');
const CLIENT_PROTECTED = fromHex(`
c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11
d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399
1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c
8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212
30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5
457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208
4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec
4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3
485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db
059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c
7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8
9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556
be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74
68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a
c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00
f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632
291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964
25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd
14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff
ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198
e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd
c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73
203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f
cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e
fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade
a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047
90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2
162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4
40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0
6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e
8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0
be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400
54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab
760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9
f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4
056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064
7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241
e221af44860018ab0856972e194cd934`);

// RFC 9001 A.3
const SERVER_PAYLOAD = fromHex(`
02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00
020304`);
const SERVER_HEADER = fromHex('c1000000010008f067a5502a4262b50040750001');
const SERVER_PROTECTED = fromHex(`
cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
2158407dd074ee`);

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
