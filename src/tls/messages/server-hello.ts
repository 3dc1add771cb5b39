/**
 * ServerHello and HelloRetryRequest (RFC 9846 §4.1.3, §4.1.4), one wire structure told apart by
 * the random value:
 *
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;                        // HRR: SHA-256("HelloRetryRequest")
 *       opaque legacy_session_id_echo<0..32>;
 *       CipherSuite cipher_suite;
 *       uint8 legacy_compression_method = 0;
 *       Extension extensions<6..2^16-1>;
 *   } ServerHello;
 */
import { ByteReader, type ByteWriter, bytesEqual } from '../../wire/index.js';
import { decodeGuard, TlsAlertError } from '../alert.js';
import { checkU16, readOpaque, writeOpaque } from '../codec.js';
import { HELLO_RETRY_REQUEST_RANDOM, ProtocolVersion } from '../constants.js';
import { readExtensions, writeExtensions } from '../extensions/block.js';
import type { Extension } from '../extensions/types.js';

/** A decoded ServerHello. Byte fields are views into the decoded message. */
export interface ServerHello {
  readonly kind: 'server_hello';
  /** 32 random bytes (never the HelloRetryRequest value). */
  readonly random: Uint8Array;
  /** Echo of the client's legacy_session_id, 0..32 bytes. */
  readonly legacySessionIdEcho: Uint8Array;
  /** The selected CipherSuite. */
  readonly cipherSuite: number;
  /** Extensions in wire order (at least 6 bytes of them). */
  readonly extensions: readonly Extension[];
}

/** A decoded HelloRetryRequest: a ServerHello whose random is the special value. */
export interface HelloRetryRequest {
  readonly kind: 'hello_retry_request';
  /** Echo of the client's legacy_session_id, 0..32 bytes. */
  readonly legacySessionIdEcho: Uint8Array;
  /** The selected CipherSuite. */
  readonly cipherSuite: number;
  /** Extensions in wire order (at least 6 bytes of them). */
  readonly extensions: readonly Extension[];
}

const RANDOM_LENGTH = 32;
const EXTENSIONS_MIN = 6;

/** Decodes a server_hello body: a HelloRetryRequest when the random says so (§4.1.3). */
export function decodeServerHelloBody(body: Uint8Array): ServerHello | HelloRetryRequest {
  return decodeGuard('ServerHello', () => {
    const r = new ByteReader(body);
    const version = r.u16();
    if (version !== ProtocolVersion.TLS_1_2) {
      // RFC 9846 §4.1.3: a legacy_version "not equal to 0x0303 MUST abort the handshake with a
      // protocol_version alert."
      throw new TlsAlertError(
        'protocol_version',
        `ServerHello legacy_version 0x${version.toString(16)}`,
      );
    }
    const random = r.bytes(RANDOM_LENGTH);
    const legacySessionIdEcho = readOpaque(r, 1, 0, 32, 'legacy_session_id_echo');
    const cipherSuite = r.u16();
    const compression = r.u8();
    if (compression !== 0) {
      // RFC 9846 §4.1.3: legacy_compression_method "MUST have the value 0 ... the client MUST
      // abort the handshake with an illegal_parameter alert."
      throw new TlsAlertError('illegal_parameter', `legacy_compression_method ${compression}`);
    }
    // RFC 9846 §4.1.3: "implementations MUST first examine the Random value and, if it matches
    // this value, process it as described in Section 4.1.4."
    const hrr = bytesEqual(random, HELLO_RETRY_REQUEST_RANDOM);
    const extensions = readExtensions(
      r,
      hrr ? 'hello_retry_request' : 'server_hello',
      EXTENSIONS_MIN,
    );
    r.expectEnd('ServerHello');
    if (hrr) return { kind: 'hello_retry_request', legacySessionIdEcho, cipherSuite, extensions };
    return { kind: 'server_hello', random, legacySessionIdEcho, cipherSuite, extensions };
  });
}

export function encodeServerHelloBody(w: ByteWriter, msg: ServerHello | HelloRetryRequest): void {
  let random: Uint8Array;
  if (msg.kind === 'hello_retry_request') {
    random = HELLO_RETRY_REQUEST_RANDOM;
  } else {
    random = msg.random;
    if (random.length !== RANDOM_LENGTH) {
      throw new TlsAlertError('internal_error', `ServerHello.random is ${random.length} bytes`);
    }
    if (bytesEqual(random, HELLO_RETRY_REQUEST_RANDOM)) {
      throw new TlsAlertError(
        'internal_error',
        'ServerHello.random is the HelloRetryRequest value',
      );
    }
  }
  w.u16(ProtocolVersion.TLS_1_2);
  w.bytes(random);
  writeOpaque(w, 1, msg.legacySessionIdEcho, 0, 32, 'legacy_session_id_echo');
  checkU16(msg.cipherSuite, 'cipher_suite');
  w.u16(msg.cipherSuite);
  w.u8(0);
  writeExtensions(w, msg.extensions, msg.kind, EXTENSIONS_MIN);
}
