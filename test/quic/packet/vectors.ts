/**
 * Test vectors from RFC 9001 Appendix A (sample packet protection), as hex. These are the RFC's
 * published bytes, reproduced here as test data.
 */

/** A.2: the client Initial, protected (1200 bytes). */
export const CLIENT_INITIAL_PROTECTED =
  'c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8ba' +
  'b936b47d92ec356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a12' +
  '82a643a8d2262cad67500cadb8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6' +
  '005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5' +
  '457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c2084dce25ff9b06cde5' +
  '35d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e' +
  '610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e3' +
  '0c5c4287e53805db059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c' +
  '7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63' +
  'ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556be52afe3f565636ad1b17d508b73d874' +
  '3eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7fe942b330407abf8' +
  '2a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00' +
  'f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc29' +
  '62e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f0' +
  '5796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c' +
  '1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198' +
  'e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a' +
  '0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accd' +
  'd5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de3' +
  '54270123cb11450efc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade' +
  'a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e72404790a2181014f3b94a' +
  '4e97d117b438130368cc39dbb2d198065ae3986547926cd2162f40a29f0c3c8745c0f50fba3852e5' +
  '66d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499dbd49adabc8676eef' +
  '023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e' +
  '8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbb' +
  'e2e30ecadd220723c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd8' +
  '04a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425aca26dc852' +
  '44259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4' +
  '056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd46840647e78bfe706ca4cf5' +
  'e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934';

/** A.2: the client Initial header before header protection (pn 2 in 4 bytes, Length 1182). */
export const CLIENT_INITIAL_HEADER = 'c300000001088394c8f03e5157080000449e00000002';
/** A.2: the same header after header protection. */
export const CLIENT_INITIAL_HEADER_PROTECTED = 'c000000001088394c8f03e5157080000449e7b9aec34';
/** A.2: header protection mask. */
export const CLIENT_INITIAL_MASK = '437b9aec36';

/** A.3: the server Initial, protected. */
export const SERVER_INITIAL_PROTECTED =
  'cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a' +
  '1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9' +
  'c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d' +
  '20398c276456cbc42158407dd074ee';

/** A.3: the server Initial header before header protection (pn 1 in 2 bytes, Length 117). */
export const SERVER_INITIAL_HEADER = 'c1000000010008f067a5502a4262b50040750001';
/** A.3: the same header after header protection. */
export const SERVER_INITIAL_HEADER_PROTECTED = 'cf000000010008f067a5502a4262b5004075c0d9';
/** A.3: header protection mask. */
export const SERVER_INITIAL_MASK = '2ec0d8356a';

/** A.4: a Retry packet answering the A.2 Initial (original DCID 8394c8f03e515708). */
export const RETRY = 'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba';

/** The client's original Destination Connection ID in A.2-A.4. */
export const CLIENT_DCID = '8394c8f03e515708';
/** The server's connection ID in A.3-A.4. */
export const SERVER_CID = 'f067a5502a4262b5';

/** A.5: ChaCha20 short header packet: unprotected header, mask, protected packet. */
export const SHORT_HEADER = '4200bff4';
export const SHORT_MASK = 'aefefe7d03';
export const SHORT_PACKET_PROTECTED = '4cfe4189655e5cd55c41f69080575d7999c25a5bfb';
/** A.5: the packet number. */
export const SHORT_PN = 654360564;
