/** Test vectors shared by the TLS tests (RFC 9001 Appendix A). */
import { ByteReader } from '../../src/wire/index.js';
import { RFC9001_A2_CRYPTO, RFC9001_A3_PAYLOAD } from '../support/rfc9001-vectors.js';

const CLIENT_CRYPTO_FRAME = RFC9001_A2_CRYPTO;

// RFC 9001 §A.3: the server Initial payload: ACK frame (02 00 00 00 00), then CRYPTO (06 00 405a).
const SERVER_PAYLOAD = RFC9001_A3_PAYLOAD;

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
