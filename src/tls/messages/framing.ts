/**
 * Handshake message framing (RFC 9846 §4):
 *
 *   struct { HandshakeType msg_type; uint24 length; <body> } Handshake;
 *
 * The full framed bytes (header included) are what the transcript hash covers (§4.4.1).
 */
import { ByteReader, ByteWriter } from '../../wire/index.js';
import { decodeGuard, encodeGuard, TlsAlertError } from '../alert.js';
import { checkUint } from '../codec.js';
import { HandshakeType } from '../constants.js';

/** msg_type (1 byte) + length (3 bytes). */
export const HANDSHAKE_HEADER_LENGTH = 4;
/** The largest body a uint24 length can describe. */
export const HANDSHAKE_MAX_BODY = 0xff_ffff;

/** One framed handshake message, as cut from the CRYPTO stream. */
export interface RawHandshake {
  /** msg_type. */
  readonly type: number;
  /** The message body (a view into `raw`). */
  readonly body: Uint8Array;
  /** Header and body: the bytes the transcript hash covers. */
  readonly raw: Uint8Array;
}

/** Frames a body written by `writeBody` as a handshake message of type `type`. */
export function frameHandshake(type: number, writeBody: (w: ByteWriter) => void): Uint8Array {
  return encodeGuard('handshake', () => {
    checkUint(type, 0xff, 'msg_type');
    const w = new ByteWriter(256);
    w.u8(type);
    w.lengthPrefixed('u24', writeBody);
    return w.toBytes();
  });
}

/** Splits exactly one framed handshake message (decode_error if the length disagrees). */
export function parseHandshake(raw: Uint8Array): RawHandshake {
  return decodeGuard('handshake', () => {
    const r = new ByteReader(raw);
    const type = r.u8();
    const body = r.bytes(r.u24());
    r.expectEnd('handshake message');
    return { type, body, raw };
  });
}

/**
 * The synthetic `message_hash` message that replaces ClientHello1 in the transcript once a
 * HelloRetryRequest was sent (RFC 9846 §4.4.1): 0xfe, 00 00 Hash.length, Hash(ClientHello1).
 */
export function messageHash(clientHello1Hash: Uint8Array): Uint8Array {
  if (clientHello1Hash.length === 0 || clientHello1Hash.length > 0xff) {
    throw new TlsAlertError(
      'internal_error',
      `message_hash: bad hash length ${clientHello1Hash.length}`,
    );
  }
  return frameHandshake(HandshakeType.message_hash, (w) => w.bytes(clientHello1Hash));
}
