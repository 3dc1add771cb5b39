/**
 * Which extension may appear in which message (RFC 9846 §4.2, table "TLS Extensions"; RFC 9001
 * §8.2 for quic_transport_parameters), and the body codec of each extension this module
 * interprets.
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { decodeAlpn, encodeAlpn } from './alpn.js';
import { decodeKeyShare, encodeKeyShare } from './key-share.js';
import {
  decodePskKeyExchangeModes,
  decodeSignatureAlgorithms,
  decodeSupportedGroups,
  decodeSupportedVersions,
  encodePskKeyExchangeModes,
  encodeSignatureAlgorithms,
  encodeSupportedGroups,
  encodeSupportedVersions,
} from './lists.js';
import { decodePreSharedKey, encodePreSharedKey } from './pre-shared-key.js';
import { decodeServerName, encodeServerName } from './server-name.js';
import {
  decodeCookie,
  decodeEarlyData,
  decodeQuicTransportParameters,
  encodeCookie,
  encodeEarlyData,
  encodeQuicTransportParameters,
} from './simple.js';
import {
  type Extension,
  type ExtensionContext,
  type ExtensionKind,
  ExtensionType,
  type UnknownExtension,
} from './types.js';

const CH = 'client_hello';
const SH = 'server_hello';
const HRR = 'hello_retry_request';
const EE = 'encrypted_extensions';
const CT = 'certificate';
const CR = 'certificate_request';
const NST = 'new_session_ticket';

const T = ExtensionType;

/** RFC 9846 §4.2: the messages each recognised extension is specified for. */
const ALLOWED = new Map<number, readonly ExtensionContext[]>([
  [T.server_name, [CH, EE, CR]],
  [T.status_request, [CH, CR, CT]],
  [T.supported_groups, [CH, EE]],
  [T.signature_algorithms, [CH, CR]],
  [T.use_srtp, [CH, EE]],
  [T.heartbeat, [CH, EE]],
  [T.application_layer_protocol_negotiation, [CH, EE]],
  [T.client_certificate_type, [CH, EE]],
  [T.server_certificate_type, [CH, EE]],
  [T.padding, [CH]],
  [T.compress_certificate, [CH, CR]],
  [T.record_size_limit, [CH, EE]],
  [T.delegated_credential, [CH, CR, CT]],
  [T.supported_ekt_ciphers, [CH, EE]],
  [T.pre_shared_key, [CH, SH]],
  [T.early_data, [CH, EE, NST]],
  [T.supported_versions, [CH, SH, HRR]],
  [T.cookie, [CH, HRR]],
  [T.psk_key_exchange_modes, [CH]],
  [T.certificate_authorities, [CH, CR]],
  [T.oid_filters, [CR]],
  [T.post_handshake_auth, [CH]],
  [T.signature_algorithms_cert, [CH, CR]],
  [T.key_share, [CH, SH, HRR]],
  [T.transparency_info, [CH, CR, CT]],
  [T.external_id_hash, [CH, EE]],
  [T.external_session_id, [CH, EE]],
  [T.quic_transport_parameters, [CH, EE]],
  [T.ticket_request, [CH, EE]],
  [T.ech_outer_extensions, [CH]],
  [T.encrypted_client_hello, [CH, HRR, EE]],
]);

/**
 * Whether an extension type may appear in a message. Types missing from the RFC's table are
 * unknown to us and always allowed (RFC 9846 §4.2 only forbids extensions the receiver
 * "recognizes").
 */
export function extensionAllowedIn(type: number, ctx: ExtensionContext): boolean {
  const allowed = ALLOWED.get(type);
  return allowed === undefined || allowed.includes(ctx);
}

/** The extension kinds this module interprets. */
export type KnownKind = Exclude<ExtensionKind, 'unknown'>;
type KnownExtension = Exclude<Extension, UnknownExtension>;

/** ExtensionType code of each interpreted kind. */
export const KIND_TYPE: Readonly<Record<KnownKind, number>> = {
  server_name: T.server_name,
  supported_groups: T.supported_groups,
  signature_algorithms: T.signature_algorithms,
  signature_algorithms_cert: T.signature_algorithms_cert,
  alpn: T.application_layer_protocol_negotiation,
  pre_shared_key: T.pre_shared_key,
  early_data: T.early_data,
  supported_versions: T.supported_versions,
  cookie: T.cookie,
  psk_key_exchange_modes: T.psk_key_exchange_modes,
  key_share: T.key_share,
  quic_transport_parameters: T.quic_transport_parameters,
};

const INTERPRETED = new Set<number>(Object.values(KIND_TYPE));

/** Whether this module decodes extensions of `type` (others are kept as `unknown`). */
export function isInterpreted(type: number): boolean {
  return INTERPRETED.has(type);
}

/**
 * Decodes the extension_data of an interpreted type (the caller checks `isInterpreted` and that
 * the body is consumed exactly).
 */
export function decodeBody(type: number, r: ByteReader, ctx: ExtensionContext): KnownExtension {
  switch (type) {
    case T.server_name:
      return decodeServerName(r, ctx);
    case T.supported_groups:
      return decodeSupportedGroups(r);
    case T.signature_algorithms:
      return decodeSignatureAlgorithms(r, 'signature_algorithms');
    case T.signature_algorithms_cert:
      return decodeSignatureAlgorithms(r, 'signature_algorithms_cert');
    case T.application_layer_protocol_negotiation:
      return decodeAlpn(r, ctx);
    case T.pre_shared_key:
      return decodePreSharedKey(r, ctx);
    case T.early_data:
      return decodeEarlyData(r, ctx);
    case T.supported_versions:
      return decodeSupportedVersions(r, ctx);
    case T.cookie:
      return decodeCookie(r);
    case T.psk_key_exchange_modes:
      return decodePskKeyExchangeModes(r);
    case T.key_share:
      return decodeKeyShare(r, ctx);
    case T.quic_transport_parameters:
      return decodeQuicTransportParameters(r);
    default:
      throw new TlsAlertError('internal_error', `extension ${type} is not interpreted`);
  }
}

/** Encodes the extension_data of an interpreted extension in the form `ctx` requires. */
export function encodeBody(w: ByteWriter, ext: KnownExtension, ctx: ExtensionContext): void {
  switch (ext.kind) {
    case 'server_name':
      encodeServerName(w, ext, ctx);
      return;
    case 'supported_groups':
      encodeSupportedGroups(w, ext);
      return;
    case 'signature_algorithms':
    case 'signature_algorithms_cert':
      encodeSignatureAlgorithms(w, ext);
      return;
    case 'alpn':
      encodeAlpn(w, ext, ctx);
      return;
    case 'pre_shared_key':
      encodePreSharedKey(w, ext, ctx);
      return;
    case 'early_data':
      encodeEarlyData(w, ext, ctx);
      return;
    case 'supported_versions':
      encodeSupportedVersions(w, ext, ctx);
      return;
    case 'cookie':
      encodeCookie(w, ext);
      return;
    case 'psk_key_exchange_modes':
      encodePskKeyExchangeModes(w, ext);
      return;
    case 'key_share':
      encodeKeyShare(w, ext, ctx);
      return;
    case 'quic_transport_parameters':
      encodeQuicTransportParameters(w, ext);
      return;
  }
}
