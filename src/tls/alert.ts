/**
 * TLS alerts (RFC 9846 §6) and the one typed error every TLS codec throws. QUIC carries no alert
 * records: an alert becomes CONNECTION_CLOSE with CRYPTO_ERROR 0x0100 + description
 * (RFC 9001 §4.8), which `cryptoErrorCode(err.alert)` in `src/quic/errors.ts` computes.
 */
import { CodecError } from '../wire/index.js';

/** AlertDescription code points (RFC 9846 §6, §B.2). */
export const AlertDescription = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  general_error: 117,
  no_application_protocol: 120,
} as const;

/** Name of a registered alert description. */
export type AlertName = keyof typeof AlertDescription;
/** Numeric code of a registered alert description. */
export type AlertCode = (typeof AlertDescription)[AlertName];

/** The name of an alert code, or `alert(<n>)` for an unregistered one. */
export function alertName(code: number): string {
  for (const [name, value] of Object.entries(AlertDescription)) if (value === code) return name;
  return `alert(${code})`;
}

/**
 * A fatal TLS condition, carrying the alert the peer must be sent (RFC 9846 §6.2). Decoders throw
 * `decode_error` for bytes that do not parse and `illegal_parameter` for well-formed but forbidden
 * values (RFC 9846 §6: "syntactically correct but semantically invalid"); encoders throw
 * `internal_error` when asked to encode something the format cannot carry.
 */
export class TlsAlertError extends Error {
  override readonly name = 'TlsAlertError';
  /** The AlertDescription code to send (and to add to 0x0100 for QUIC's CRYPTO_ERROR). */
  readonly alert: AlertCode;
  /** The alert's registered name, for logs and tests. */
  readonly alertName: AlertName;

  constructor(alert: AlertName, message: string, options?: { cause?: unknown }) {
    super(`${alert}: ${message}`, options);
    this.alert = AlertDescription[alert];
    this.alertName = alert;
  }
}

/** Narrowing helper for catch blocks. */
export function isTlsAlertError(err: unknown): err is TlsAlertError {
  return err instanceof TlsAlertError;
}

/**
 * Runs a decoder, turning byte-level failures (`CodecError`: truncation, length mismatch, ...)
 * into `decode_error` (RFC 9846 §6: a message "which cannot be parsed according to the syntax"
 * MUST be answered with "decode_error"). `TlsAlertError`s pass through unchanged.
 */
export function decodeGuard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CodecError) {
      throw new TlsAlertError('decode_error', `${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/** Runs an encoder, turning byte-level failures (a vector too long for its prefix) into `internal_error`. */
export function encodeGuard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CodecError) {
      throw new TlsAlertError('internal_error', `${what}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
