/** Configuration and events of the sans-IO TLS 1.3 session for QUIC (RFC 9001 §4.1). */
import type { CipherSuite } from '../../crypto/index.js';
import type { CertificateVerifyOptions } from '../certs/verify.js';
import type { HandshakeReaderLimits } from '../messages/index.js';
import type { ServerCredential } from './credential.js';
import type { GroupName } from './key-exchange.js';
import type { StoredTicket } from './ticket.js';

/** The QUIC encryption levels that carry CRYPTO frames (RFC 9001 §4.1.3). */
export type CryptoLevel = 'initial' | 'handshake' | 'application';

/** The encryption levels TLS hands keys out for ('early' is 0-RTT). */
export type KeyLevel = 'early' | 'handshake' | 'application';

/** The cipher suites QUIC can use (RFC 9001 §5.3), by RFC name. */
export type QuicCipherSuiteName =
  | 'TLS_AES_128_GCM_SHA256'
  | 'TLS_AES_256_GCM_SHA384'
  | 'TLS_CHACHA20_POLY1305_SHA256';

/** Handshake bytes to send in CRYPTO frames at `level`. */
export interface SendEvent {
  readonly kind: 'send';
  readonly level: CryptoLevel;
  /** One or more complete handshake messages. */
  readonly data: Uint8Array;
}

/** A traffic secret became available (RFC 9001 §4.1.4); QUIC derives its packet keys from it. */
export interface KeysEvent {
  readonly kind: 'keys';
  readonly level: KeyLevel;
  /** 'read' protects packets from the peer, 'write' packets to it. */
  readonly direction: 'read' | 'write';
  /** The negotiated cipher suite (AEAD and KDF hash). */
  readonly suite: CipherSuite;
  /** The traffic secret (Hash.length bytes). */
  readonly secret: Uint8Array;
}

/** The handshake completed (RFC 9001 §4.1.1): Finished sent and the peer's Finished verified. */
export interface CompleteEvent {
  readonly kind: 'complete';
  /** The negotiated ALPN protocol. */
  readonly alpn: string;
  /** The peer's quic_transport_parameters, raw (authenticated from here on). */
  readonly peerTransportParams: Uint8Array;
  /** True if a session ticket was resumed (no certificate was exchanged). */
  readonly resumed: boolean;
  /** The negotiated cipher suite. */
  readonly suite: CipherSuite;
  /** The SNI the client sent (server side), or the name the client asked for (client side). */
  readonly serverName: string | undefined;
}

/** A NewSessionTicket was received (client): store it to resume later. */
export interface TicketEvent {
  readonly kind: 'ticket';
  readonly ticket: StoredTicket;
}

/** One NSS key log line (SSLKEYLOGFILE format), without the trailing newline. */
export interface KeylogEvent {
  readonly kind: 'keylog';
  readonly line: string;
}

/** Everything a session reports through `poll()`. */
export type TlsEvent = SendEvent | KeysEvent | CompleteEvent | TicketEvent | KeylogEvent;

/** Client configuration. */
export interface TlsClientConfig {
  /**
   * The server's name: sent as SNI when it is a DNS name (RFC 6066 §3: not for IP literals) and
   * checked against the certificate.
   */
  readonly serverName: string;
  /** ALPN protocols offered, most preferred first (RFC 9001 §8.1: mandatory). */
  readonly alpn: readonly string[];
  /** Our encoded transport parameters (RFC 9001 §8.2). */
  readonly transportParameters: Uint8Array;
  /** Offered cipher suites, preferred first. Default: all three. */
  readonly cipherSuites?: readonly QuicCipherSuiteName[];
  /** Supported groups, preferred first. Default: x25519, secp256r1. */
  readonly groups?: readonly GroupName[];
  /** Groups to send a key share for in the first ClientHello. Default: the first group. */
  readonly keyShareGroups?: readonly GroupName[];
  /** How to authenticate the server. Default: node's root store only. */
  readonly verify?: CertificateVerifyOptions;
  /** A ticket from an earlier connection to resume (ignored if expired or for another name). */
  readonly resumption?: StoredTicket;
  /** Caps on incoming handshake message sizes. */
  readonly limits?: HandshakeReaderLimits;
}

/** What the server's transport-parameter hook learns about the connection. */
export interface TransportParametersContext {
  /** The client's SNI, if any. */
  readonly serverName: string | undefined;
  /** The ALPN protocol the server selected. */
  readonly alpn: string;
}

/** Session ticket settings of a server. */
export interface TicketConfig {
  /** 32-byte key sealing the tickets (share it across servers that should accept them). */
  readonly key: Uint8Array;
  /** ticket_lifetime in seconds (at most 604800, RFC 9846 §4.6.1). Default 86400. */
  readonly lifetimeSeconds?: number;
}

/** Server configuration. */
export interface TlsServerConfig {
  /** Certificates with their keys; the first is the default, others are chosen by SNI. */
  readonly credentials: readonly ServerCredential[];
  /** ALPN protocols, in the server's order of preference (the first the client offers wins). */
  readonly alpn: readonly string[];
  /**
   * Called once with the client's raw transport parameters, before the server answers; returns
   * the server's encoded parameters. Throwing (e.g. a `TransportError` for an invalid parameter)
   * aborts the handshake with that error.
   */
  readonly transportParameters: (
    clientParams: Uint8Array,
    context: TransportParametersContext,
  ) => Uint8Array;
  /** Accepted cipher suites in preference order. Default: all three. */
  readonly cipherSuites?: readonly QuicCipherSuiteName[];
  /**
   * Accepted groups in preference order. Default: x25519, secp256r1. The most preferred group
   * the client supports is used, with a HelloRetryRequest if the client sent no share for it.
   */
  readonly groups?: readonly GroupName[];
  /** Issue and accept session tickets (psk_dhe_ke resumption). Off when absent. */
  readonly tickets?: TicketConfig;
  /** Put a cookie in HelloRetryRequest and require the client to echo it (RFC 9846 §4.2.2). */
  readonly hrrCookie?: boolean;
  /** Caps on incoming handshake message sizes. */
  readonly limits?: HandshakeReaderLimits;
}
