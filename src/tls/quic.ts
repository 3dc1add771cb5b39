/**
 * The constraints QUIC puts on the TLS handshake messages (RFC 9001 §4.2, §6, §8), as checks
 * the handshake driver calls on decoded messages. TLS-level failures throw `TlsAlertError` (the
 * QUIC layer sends CRYPTO_ERROR 0x0100 + alert); the ones RFC 9001 makes a PROTOCOL_VIOLATION throw
 * `QuicProtocolViolation`, which the QUIC layer turns into that transport error. (TLS does not
 * import QUIC's error types: the layers depend one way, QUIC on TLS.)
 */
import { TlsAlertError } from './alert.js';
import { HandshakeType, ProtocolVersion } from './constants.js';
import { findExtension } from './extensions/block.js';
import type { Extension } from './extensions/types.js';
import type { ClientHello } from './messages/client-hello.js';
import type { EncryptedExtensions } from './messages/encrypted-extensions.js';

/**
 * A handshake message that breaks a rule RFC 9001 enforces with a transport error of type
 * PROTOCOL_VIOLATION (0x0a) rather than a TLS alert. QUIC's `tlsCall` maps it.
 */
export class QuicProtocolViolation extends Error {
  override readonly name = 'QuicProtocolViolation';
}

/**
 * Rejects handshake message types QUIC never carries, before decoding them.
 * RFC 9001 §6: "Endpoints MUST treat the receipt of a TLS KeyUpdate message as a connection
 * error of type 0x010a, equivalent to a fatal TLS alert of unexpected_message."
 * RFC 9001 §8.3: "Clients MUST NOT send the EndOfEarlyData message."
 */
export function rejectNonQuicHandshakeType(type: number): void {
  if (type === HandshakeType.key_update) {
    throw new TlsAlertError('unexpected_message', 'KeyUpdate is not used with QUIC');
  }
  if (type === HandshakeType.end_of_early_data) {
    throw new TlsAlertError('unexpected_message', 'EndOfEarlyData is not used with QUIC');
  }
}

function requireTransportParameters(exts: readonly Extension[], where: string): void {
  if (!findExtension(exts, 'quic_transport_parameters')) {
    // RFC 9001 §8.2: receivers of a ClientHello or EncryptedExtensions without it "MUST close
    // the connection with an error of type 0x016d" (missing_extension).
    throw new TlsAlertError('missing_extension', `${where} without quic_transport_parameters`);
  }
}

/** Server-side checks of a ClientHello received over QUIC. */
export function checkQuicClientHello(ch: ClientHello): void {
  if (ch.legacySessionId.length !== 0) {
    // RFC 9001 §8.4: "A server SHOULD treat the receipt of a TLS ClientHello with a non-empty
    // legacy_session_id field as a connection error of type PROTOCOL_VIOLATION."
    throw new QuicProtocolViolation(
      'ClientHello with a non-empty legacy_session_id (TLS compatibility mode)',
    );
  }
  const versions = findExtension(ch.extensions, 'supported_versions');
  if (
    !versions ||
    !('versions' in versions) ||
    !versions.versions.includes(ProtocolVersion.TLS_1_3)
  ) {
    // RFC 9001 §4.2: "An endpoint MUST terminate the connection if a version of TLS older than
    // 1.3 is negotiated"; RFC 9846 §4.2.1 names protocol_version for an unsupported version.
    throw new TlsAlertError('protocol_version', 'ClientHello does not offer TLS 1.3');
  }
  if (!findExtension(ch.extensions, 'alpn')) {
    // RFC 9001 §8.1: endpoints "MUST use ALPN"; failing to negotiate is no_application_protocol.
    throw new TlsAlertError('no_application_protocol', 'ClientHello without ALPN');
  }
  requireTransportParameters(ch.extensions, 'ClientHello');
}

/** Client-side checks of an EncryptedExtensions received over QUIC. */
export function checkQuicEncryptedExtensions(ee: EncryptedExtensions): void {
  if (!findExtension(ee.extensions, 'alpn')) {
    // RFC 9001 §8.1: "QUIC clients MUST use error 0x0178 to terminate a connection when ALPN
    // negotiation fails."
    throw new TlsAlertError('no_application_protocol', 'EncryptedExtensions without ALPN');
  }
  requireTransportParameters(ee.extensions, 'EncryptedExtensions');
}
