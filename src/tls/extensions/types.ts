/**
 * TLS extension code points (RFC 9846 §4.2, RFC 9001 §8.2) and the decoded forms of the
 * extensions this codec understands. The same extension type can have a different body per
 * message (RFC 9846 §4.2.1, §4.2.8, §4.2.10, §4.2.11), so every codec takes an
 * {@link ExtensionContext}.
 */

/** ExtensionType values (RFC 9846 §4.2). */
export const ExtensionType = {
  server_name: 0,
  status_request: 5,
  supported_groups: 10,
  signature_algorithms: 13,
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  client_certificate_type: 19,
  server_certificate_type: 20,
  padding: 21,
  compress_certificate: 27,
  record_size_limit: 28,
  delegated_credential: 34,
  supported_ekt_ciphers: 39,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  transparency_info: 52,
  external_id_hash: 55,
  external_session_id: 56,
  /** RFC 9001 §8.2. */
  quic_transport_parameters: 0x39,
  ticket_request: 58,
  ech_outer_extensions: 0xfd00,
  encrypted_client_hello: 0xfe0d,
} as const;
export type ExtensionTypeName = keyof typeof ExtensionType;

/** The message an extension block belongs to (the column heads of RFC 9846 §4.2's table). */
export type ExtensionContext =
  | 'client_hello'
  | 'server_hello'
  | 'hello_retry_request'
  | 'encrypted_extensions'
  | 'certificate'
  | 'certificate_request'
  | 'new_session_ticket';

/** server_name (RFC 6066 §3): a host name in ClientHello/CertificateRequest, empty in EncryptedExtensions. */
export interface ServerNameExtension {
  readonly kind: 'server_name';
  /** ASCII DNS host name (ClientHello, CertificateRequest); absent in EncryptedExtensions. */
  readonly hostName?: string;
}

/** supported_groups (RFC 9846 §4.2.7). */
export interface SupportedGroupsExtension {
  readonly kind: 'supported_groups';
  /** NamedGroup values, most preferred first; non-empty. */
  readonly groups: readonly number[];
}

/** signature_algorithms (RFC 9846 §4.2.3): schemes accepted in CertificateVerify. */
export interface SignatureAlgorithmsExtension {
  readonly kind: 'signature_algorithms';
  /** SignatureScheme values, most preferred first; non-empty. */
  readonly schemes: readonly number[];
}

/** signature_algorithms_cert (RFC 9846 §4.2.3): schemes accepted in certificates. */
export interface SignatureAlgorithmsCertExtension {
  readonly kind: 'signature_algorithms_cert';
  /** SignatureScheme values, most preferred first; non-empty. */
  readonly schemes: readonly number[];
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1). */
export interface AlpnExtension {
  readonly kind: 'alpn';
  /** Protocol names (1..255 bytes each); exactly one in EncryptedExtensions. */
  readonly protocols: readonly Uint8Array[];
}

/** One PskIdentity (RFC 9846 §4.2.11). */
export interface PskIdentity {
  /** Ticket or external PSK label, 1..65535 bytes. */
  readonly identity: Uint8Array;
  /** Ticket age in ms plus ticket_age_add, mod 2^32 (§4.2.11.1). */
  readonly obfuscatedTicketAge: number;
}

/** pre_shared_key in a ClientHello: OfferedPsks (RFC 9846 §4.2.11). */
export interface PreSharedKeyOfferExtension {
  readonly kind: 'pre_shared_key';
  /** Offered identities, non-empty. */
  readonly identities: readonly PskIdentity[];
  /** One binder (32..255 bytes) per identity, same order. */
  readonly binders: readonly Uint8Array[];
}

/** pre_shared_key in a ServerHello (RFC 9846 §4.2.11). */
export interface PreSharedKeySelectedExtension {
  readonly kind: 'pre_shared_key';
  /** 0-based index into the client's identities. */
  readonly selectedIdentity: number;
}

/** early_data (RFC 9846 §4.2.10): empty in ClientHello/EncryptedExtensions. */
export interface EarlyDataExtension {
  readonly kind: 'early_data';
  /** uint32, present only in NewSessionTicket. */
  readonly maxEarlyDataSize?: number;
}

/** supported_versions in a ClientHello (RFC 9846 §4.2.1). */
export interface SupportedVersionsOfferExtension {
  readonly kind: 'supported_versions';
  /** ProtocolVersion values, most preferred first; 1..127 entries. */
  readonly versions: readonly number[];
}

/** supported_versions in a ServerHello/HelloRetryRequest (RFC 9846 §4.2.1). */
export interface SupportedVersionsSelectedExtension {
  readonly kind: 'supported_versions';
  /** The negotiated ProtocolVersion. */
  readonly selectedVersion: number;
}

/** cookie (RFC 9846 §4.2.2). */
export interface CookieExtension {
  readonly kind: 'cookie';
  /** Opaque, 1..65535 bytes. */
  readonly cookie: Uint8Array;
}

/** psk_key_exchange_modes (RFC 9846 §4.2.9). */
export interface PskKeyExchangeModesExtension {
  readonly kind: 'psk_key_exchange_modes';
  /** PskKeyExchangeMode values, 1..255 entries. */
  readonly modes: readonly number[];
}

/** One KeyShareEntry (RFC 9846 §4.2.8). */
export interface KeyShareEntry {
  /** NamedGroup of the share. */
  readonly group: number;
  /** The public value, 1..65535 bytes (32 for x25519, 65 for secp256r1). */
  readonly keyExchange: Uint8Array;
}

/** key_share in a ClientHello: KeyShareClientHello (RFC 9846 §4.2.8). */
export interface KeyShareOfferExtension {
  readonly kind: 'key_share';
  /** Shares in preference order; may be empty; one per group at most. */
  readonly clientShares: readonly KeyShareEntry[];
}

/** key_share in a ServerHello: KeyShareServerHello (RFC 9846 §4.2.8). */
export interface KeyShareServerExtension {
  readonly kind: 'key_share';
  /** The server's share. */
  readonly serverShare: KeyShareEntry;
}

/** key_share in a HelloRetryRequest: KeyShareHelloRetryRequest (RFC 9846 §4.2.8). */
export interface KeyShareRetryExtension {
  readonly kind: 'key_share';
  /** The group the client must send a share for. */
  readonly selectedGroup: number;
}

/** quic_transport_parameters (RFC 9001 §8.2): opaque here, decoded by the QUIC layer. */
export interface QuicTransportParametersExtension {
  readonly kind: 'quic_transport_parameters';
  /** The encoded transport parameters (RFC 9000 §18). */
  readonly data: Uint8Array;
}

/** Any extension this codec does not interpret, kept byte for byte. */
export interface UnknownExtension {
  readonly kind: 'unknown';
  /** ExtensionType code (must not be one this codec interprets). */
  readonly type: number;
  /** extension_data, 0..65535 bytes. */
  readonly data: Uint8Array;
}

/** Every decoded extension form. */
export type Extension =
  | ServerNameExtension
  | SupportedGroupsExtension
  | SignatureAlgorithmsExtension
  | SignatureAlgorithmsCertExtension
  | AlpnExtension
  | PreSharedKeyOfferExtension
  | PreSharedKeySelectedExtension
  | EarlyDataExtension
  | SupportedVersionsOfferExtension
  | SupportedVersionsSelectedExtension
  | CookieExtension
  | PskKeyExchangeModesExtension
  | KeyShareOfferExtension
  | KeyShareServerExtension
  | KeyShareRetryExtension
  | QuicTransportParametersExtension
  | UnknownExtension;

/** The `kind` tags of {@link Extension}. */
export type ExtensionKind = Extension['kind'];
