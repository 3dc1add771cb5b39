/**
 * Certificate and CertificateVerify (RFC 9846 §4.4.2, §4.4.3):
 *
 *   struct {
 *       opaque cert_data<1..2^24-1>;          // X.509 DER, or a RawPublicKey SPKI
 *       Extension extensions<0..2^16-1>;
 *   } CertificateEntry;
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       CertificateEntry certificate_list<0..2^24-1>;
 *   } Certificate;
 *   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; } CertificateVerify;
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { decodeGuard } from '../alert.js';
import { checkU16, readList, readOpaque, writeList, writeOpaque } from '../codec.js';
import { readExtensions, writeExtensions } from '../extensions/block.js';
import type { Extension } from '../extensions/types.js';

/** One certificate of a chain with its per-certificate extensions. */
export interface CertificateEntry {
  /** DER certificate (or SubjectPublicKeyInfo for RawPublicKey), 1..2^24-1 bytes. */
  readonly certData: Uint8Array;
  /** Per-certificate extensions (OCSP status, SCTs), kept opaque. */
  readonly extensions: readonly Extension[];
}

/** A decoded Certificate message. */
export interface Certificate {
  readonly kind: 'certificate';
  /** Empty for server authentication; echoes CertificateRequest's context otherwise. */
  readonly certificateRequestContext: Uint8Array;
  /** End-entity certificate first. Empty only from a client declining authentication. */
  readonly certificateList: readonly CertificateEntry[];
}

/** A decoded CertificateVerify message. */
export interface CertificateVerify {
  readonly kind: 'certificate_verify';
  /** SignatureScheme used. */
  readonly algorithm: number;
  /** The signature, 0..65535 bytes. */
  readonly signature: Uint8Array;
}

export function decodeCertificateBody(body: Uint8Array): Certificate {
  return decodeGuard('Certificate', () => {
    const r = new ByteReader(body);
    const certificateRequestContext = readOpaque(r, 1, 0, 0xff, 'certificate_request_context');
    const certificateList = readList(r, 3, 0, 0xff_ffff, 'certificate_list', (x) => {
      const certData = readOpaque(x, 3, 1, 0xff_ffff, 'cert_data');
      return { certData, extensions: readExtensions(x, 'certificate') };
    });
    r.expectEnd('Certificate');
    return { kind: 'certificate', certificateRequestContext, certificateList };
  });
}

export function encodeCertificateBody(w: ByteWriter, msg: Certificate): void {
  writeOpaque(w, 1, msg.certificateRequestContext, 0, 0xff, 'certificate_request_context');
  writeList(w, 3, msg.certificateList, 0, 0xff_ffff, 'certificate_list', (x, e) => {
    writeOpaque(x, 3, e.certData, 1, 0xff_ffff, 'cert_data');
    writeExtensions(x, e.extensions, 'certificate');
  });
}

export function decodeCertificateVerifyBody(body: Uint8Array): CertificateVerify {
  return decodeGuard('CertificateVerify', () => {
    const r = new ByteReader(body);
    const algorithm = r.u16();
    const signature = readOpaque(r, 2, 0, 0xffff, 'signature');
    r.expectEnd('CertificateVerify');
    return { kind: 'certificate_verify', algorithm, signature };
  });
}

export function encodeCertificateVerifyBody(w: ByteWriter, msg: CertificateVerify): void {
  checkU16(msg.algorithm, 'algorithm');
  w.u16(msg.algorithm);
  writeOpaque(w, 2, msg.signature, 0, 0xffff, 'signature');
}
