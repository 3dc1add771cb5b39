/**
 * EncryptedExtensions (RFC 9846 §4.3.1) and CertificateRequest (§4.3.2):
 *
 *   struct { Extension extensions<0..2^16-1>; } EncryptedExtensions;
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       Extension extensions<0..2^16-1>;
 *   } CertificateRequest;
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { decodeGuard } from '../alert.js';
import { readOpaque, writeOpaque } from '../codec.js';
import { readExtensions, writeExtensions } from '../extensions/block.js';
import type { Extension } from '../extensions/types.js';

/** A decoded EncryptedExtensions message. */
export interface EncryptedExtensions {
  readonly kind: 'encrypted_extensions';
  /** Extensions in wire order (QUIC: quic_transport_parameters and ALPN, RFC 9001 §8). */
  readonly extensions: readonly Extension[];
}

/** A decoded CertificateRequest message. */
export interface CertificateRequest {
  readonly kind: 'certificate_request';
  /** Echoed in the client's Certificate; empty in the main handshake. */
  readonly certificateRequestContext: Uint8Array;
  /** Extensions in wire order; signature_algorithms is required by §4.3.2 (checked by the handshake). */
  readonly extensions: readonly Extension[];
}

export function decodeEncryptedExtensionsBody(body: Uint8Array): EncryptedExtensions {
  return decodeGuard('EncryptedExtensions', () => {
    const r = new ByteReader(body);
    const extensions = readExtensions(r, 'encrypted_extensions');
    r.expectEnd('EncryptedExtensions');
    return { kind: 'encrypted_extensions', extensions };
  });
}

export function encodeEncryptedExtensionsBody(w: ByteWriter, msg: EncryptedExtensions): void {
  writeExtensions(w, msg.extensions, 'encrypted_extensions');
}

export function decodeCertificateRequestBody(body: Uint8Array): CertificateRequest {
  return decodeGuard('CertificateRequest', () => {
    const r = new ByteReader(body);
    const certificateRequestContext = readOpaque(r, 1, 0, 0xff, 'certificate_request_context');
    const extensions = readExtensions(r, 'certificate_request');
    r.expectEnd('CertificateRequest');
    return { kind: 'certificate_request', certificateRequestContext, extensions };
  });
}

export function encodeCertificateRequestBody(w: ByteWriter, msg: CertificateRequest): void {
  writeOpaque(w, 1, msg.certificateRequestContext, 0, 0xff, 'certificate_request_context');
  writeExtensions(w, msg.extensions, 'certificate_request');
}
