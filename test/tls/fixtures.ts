/** Test vectors shared by the TLS tests (RFC 9001 Appendix A). */
import { ByteReader, fromHex } from '../../src/wire/index.js';

// RFC 9001 §A.2: the CRYPTO frame of the client Initial (type 0x06, offset 0, length 0x40f1).
const CLIENT_CRYPTO_FRAME = fromHex(`
  060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
  04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408 050806002d00020101001c0002400100
  3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806 048000ffff`);

// RFC 9001 §A.3: the server Initial payload: ACK frame (02 00 00 00 00), then CRYPTO (06 00 405a).
const SERVER_PAYLOAD = fromHex(`
  02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
  88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
  0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00
  020304`);

/** The CRYPTO frame's data (type, offset and length are QUIC varints). */
function cryptoData(frame: Uint8Array, start: number): Uint8Array {
  const r = new ByteReader(frame, start);
  if (r.varint() !== 0x06 || r.varint() !== 0) throw new Error('not a CRYPTO frame at offset 0');
  return r.bytes(r.varint());
}

/** RFC 9001 A.2: the framed ClientHello (237-byte body). */
export const clientHelloBytes = cryptoData(CLIENT_CRYPTO_FRAME, 0);
/** RFC 9001 A.3: the framed ServerHello (86-byte body). */
export const serverHelloBytes = cryptoData(SERVER_PAYLOAD, 5);
