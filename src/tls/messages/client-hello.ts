/**
 * ClientHello (RFC 9846 §4.1.2):
 *
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;                                   // 32 bytes
 *       opaque legacy_session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       opaque legacy_compression_methods<1..2^8-1>;     // exactly [0] in TLS 1.3
 *       Extension extensions<7..2^16-1>;
 *   } ClientHello;
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { decodeGuard, TlsAlertError } from '../alert.js';
import { checkU16, readOpaque, readU16List, writeOpaque, writeU16List } from '../codec.js';
import { ProtocolVersion } from '../constants.js';
import { readExtensions, writeExtensions } from '../extensions/block.js';
import type { Extension } from '../extensions/types.js';

/** A decoded ClientHello. Byte fields are views into the decoded message. */
export interface ClientHello {
  readonly kind: 'client_hello';
  /** 32 random bytes. */
  readonly random: Uint8Array;
  /** legacy_session_id, 0..32 bytes (empty in QUIC, RFC 9001 §8.4). */
  readonly legacySessionId: Uint8Array;
  /** CipherSuite values in preference order; non-empty. */
  readonly cipherSuites: readonly number[];
  /**
   * Extensions in wire order. Empty means the field is absent (a pre-TLS 1.3 ClientHello;
   * RFC 9846 §4.1.2); a present block is at least 7 bytes.
   */
  readonly extensions: readonly Extension[];
}

const RANDOM_LENGTH = 32;
const EXTENSIONS_MIN = 7;

export function decodeClientHelloBody(body: Uint8Array): ClientHello {
  return decodeGuard('ClientHello', () => {
    const r = new ByteReader(body);
    const version = r.u16();
    if (version !== ProtocolVersion.TLS_1_2) {
      // RFC 9846 §4.1.2: "A server which receives a legacy_version value not equal to 0x0303
      // MUST abort the handshake with a protocol_version alert."
      throw new TlsAlertError(
        'protocol_version',
        `ClientHello legacy_version 0x${version.toString(16)}`,
      );
    }
    const random = r.bytes(RANDOM_LENGTH);
    const legacySessionId = readOpaque(r, 1, 0, 32, 'legacy_session_id');
    const cipherSuites = readU16List(r, 2, 2, 0xfffe, 'cipher_suites');
    const compression = readOpaque(r, 1, 1, 0xff, 'legacy_compression_methods');
    if (compression.length !== 1 || compression[0] !== 0) {
      // RFC 9846 §4.1.2: this list "MUST contain exactly one byte, set to zero ... the server
      // MUST abort the handshake with an illegal_parameter alert."
      throw new TlsAlertError('illegal_parameter', 'legacy_compression_methods is not [0]');
    }
    // RFC 9846 §4.1.2: extensions are detected by bytes following the compression methods.
    const extensions = r.done ? [] : readExtensions(r, 'client_hello', EXTENSIONS_MIN);
    r.expectEnd('ClientHello');
    return { kind: 'client_hello', random, legacySessionId, cipherSuites, extensions };
  });
}

export function encodeClientHelloBody(w: ByteWriter, ch: ClientHello): void {
  if (ch.random.length !== RANDOM_LENGTH) {
    throw new TlsAlertError('internal_error', `ClientHello.random is ${ch.random.length} bytes`);
  }
  w.u16(ProtocolVersion.TLS_1_2);
  w.bytes(ch.random);
  writeOpaque(w, 1, ch.legacySessionId, 0, 32, 'legacy_session_id');
  for (const s of ch.cipherSuites) checkU16(s, 'cipher_suite');
  writeU16List(w, 2, ch.cipherSuites, 2, 0xfffe, 'cipher_suites');
  w.u8(1).u8(0);
  if (ch.extensions.length > 0) writeExtensions(w, ch.extensions, 'client_hello', EXTENSIONS_MIN);
}
