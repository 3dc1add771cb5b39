/**
 * The Retry Integrity Tag of QUIC v1 (RFC 9001 §5.8): AEAD_AES_128_GCM with a fixed key and
 * nonce, empty plaintext, and the Retry Pseudo-Packet as associated data:
 *
 *   ODCID Length (8) | Original Destination Connection ID (0..160) | Retry packet without tag
 */
import { AEAD_TAG_LENGTH, type Aead, createAead } from '../../crypto/aead.js';
import { AeadError, CryptoError } from '../../crypto/errors.js';
import { CipherSuite } from '../../crypto/suites.js';
import { fromHex } from '../../wire/index.js';

/** Fixed Retry key of QUIC v1 (RFC 9001 §5.8). */
export const RETRY_KEY_V1: Uint8Array = fromHex('be0c690b9f66575a1d766b54e368c84e');
/** Fixed Retry nonce of QUIC v1 (RFC 9001 §5.8). */
export const RETRY_NONCE_V1: Uint8Array = fromHex('461599d35d632bf2239825bb');
/** Length of the Retry Integrity Tag. */
export const RETRY_TAG_LENGTH = AEAD_TAG_LENGTH;

const EMPTY = new Uint8Array(0);
let retryAead: Aead | undefined;

function aead(): Aead {
  retryAead ??= createAead(CipherSuite.TLS_AES_128_GCM_SHA256, RETRY_KEY_V1);
  return retryAead;
}

/** ODCID Length | ODCID | Retry packet without its tag. */
function pseudoPacket(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  if (odcid.length > 255) {
    throw new CryptoError('INVALID_ARGUMENT', `ODCID of ${odcid.length} bytes`);
  }
  const out = new Uint8Array(1 + odcid.length + retryWithoutTag.length);
  out[0] = odcid.length;
  out.set(odcid, 1);
  out.set(retryWithoutTag, 1 + odcid.length);
  return out;
}

/** The 16-byte tag to append to `retryWithoutTag`, sent in reply to a packet for `odcid`. */
export function computeRetryTag(odcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  return aead().seal(RETRY_NONCE_V1, pseudoPacket(odcid, retryWithoutTag), EMPTY);
}

/**
 * True when the last 16 bytes of `retryPacket` are the integrity tag for `odcid` (the DCID
 * of the client's first Initial). A client MUST discard a Retry whose tag does not verify
 * (RFC 9000 §17.2.5.2); a packet shorter than a tag is simply invalid.
 */
export function verifyRetryTag(odcid: Uint8Array, retryPacket: Uint8Array): boolean {
  const body = retryPacket.length - RETRY_TAG_LENGTH;
  if (body < 0) return false;
  try {
    aead().open(
      RETRY_NONCE_V1,
      pseudoPacket(odcid, retryPacket.subarray(0, body)),
      retryPacket.subarray(body),
    );
    return true;
  } catch (err) {
    if (err instanceof AeadError) return false;
    throw err;
  }
}
