/**
 * Finished (RFC 9846 §4.4.4): `struct { opaque verify_data[Hash.length]; } Finished;`
 * The length is not on the wire, so the decoder is told the negotiated hash length.
 */

import type { ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';

/** A decoded Finished message. */
export interface Finished {
  readonly kind: 'finished';
  /** HMAC output, Hash.length bytes (32 for SHA-256, 48 for SHA-384). */
  readonly verifyData: Uint8Array;
}

export function decodeFinishedBody(body: Uint8Array, hashLength: number): Finished {
  if (body.length !== hashLength) {
    // A verify_data of the wrong size does not fit the structure: decode_error (RFC 9846 §6).
    throw new TlsAlertError(
      'decode_error',
      `Finished: ${body.length} bytes of verify_data, expected ${hashLength}`,
    );
  }
  return { kind: 'finished', verifyData: body };
}

export function encodeFinishedBody(w: ByteWriter, msg: Finished): void {
  if (msg.verifyData.length === 0) {
    throw new TlsAlertError('internal_error', 'Finished: empty verify_data');
  }
  w.bytes(msg.verifyData);
}
