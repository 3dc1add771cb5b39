/**
 * The contract between the sans-IO endpoint and the connections it routes to, and the endpoint's
 * own inputs and outputs. `QuicConnection` (src/quic/connection) satisfies
 * {@link EndpointConnection}; tests use a small fake.
 */
import type { CidSteering } from '../cid/steering.js';

/** Connection states, as the endpoint sees them (only `closed` matters for removal). */
export type EndpointConnectionState =
  | 'handshaking'
  | 'established'
  | 'closing'
  | 'draining'
  | 'closed';

/** A change in the set of connection IDs a connection can be addressed with (seam 2). */
export interface CidEvent {
  type: 'cid-added' | 'cid-removed';
  /** The connection ID (copied by the endpoint when it keeps it). */
  cid: Uint8Array;
  /** Its stateless reset token, for `cid-added`. */
  resetToken?: Uint8Array;
}

/** One datagram to send. */
export interface Transmit {
  /** The UDP payload. */
  data: Uint8Array;
  /** Destination address, "host:port" ("[v6]:port" for IPv6). */
  to: string;
}

/** What the endpoint needs from a connection: nothing but the sans-IO driver surface. */
export interface EndpointConnection {
  /** One UDP datagram from `remote` (possibly several coalesced packets). Never throws on input. */
  receive(datagram: Uint8Array, remote: string, now: number): void;
  /** The next datagram the connection wants to send now, or undefined. */
  pollTransmit(now: number): Transmit | undefined;
  /** Earliest deadline (ms on the caller's clock), or undefined when no timer is armed. */
  nextTimeout(): number | undefined;
  /** Runs the timers due at `now`. */
  handleTimeout(now: number): void;
  /** Routing changes since the last call, one at a time. */
  pollCidEvent(): CidEvent | undefined;
  /** The connection's state; `closed` connections are dropped with their routes. */
  readonly state: EndpointConnectionState;
  /** Closes with an application error code (CONNECTION_CLOSE 0x1d), used by endpoint shutdown. */
  close(errorCode: number, reason?: string): void;
}

/**
 * What the endpoint learned from a client's first Initial, handed to the server connection
 * factory. Mirrors `ParsedInitialInfo` plus the Retry outcome (`ServerConfig.originalDcid`,
 * `retrySourceCid`, `addressValidated`).
 */
export interface ServerInitialInfo {
  /** Destination Connection ID of this Initial (the client's choice, or our Retry's SCID). */
  dcid: Uint8Array;
  /** Source Connection ID of this Initial. */
  scid: Uint8Array;
  /** The Initial's token (empty when none). */
  token: Uint8Array;
  /** QUIC version of the Initial (1). */
  version: number;
  /**
   * The DCID of the client's very first Initial: `dcid` without Retry, the ODCID carried in the
   * Retry token otherwise (original_destination_connection_id, RFC 9000 §7.3).
   */
  originalDcid: Uint8Array;
  /** The SCID of our Retry when this Initial answers one (retry_source_connection_id). */
  retrySourceCid: Uint8Array | undefined;
  /** True when a valid Retry or NEW_TOKEN token proved the client's address (RFC 9000 §8.1). */
  addressValidated: boolean;
}

/** What a connection factory gets besides the connection's own inputs. */
export interface FactoryContext {
  /** The endpoint creating the connection: its CID length and reset tokens must be used. */
  endpoint: {
    readonly localCidLength: number;
    /** Marks this worker in the CIDs its connections issue, when the port is shared. */
    readonly cidSteering?: CidSteering;
    resetTokenFor(cid: Uint8Array): Uint8Array | undefined;
    issueNewToken(remote: string, now: number): Uint8Array;
  };
  /** NSS key log sink (SSLKEYLOGFILE), when the driver has one. */
  keylog?: (line: string) => void;
  /** qlog event sink for this connection, when the driver has one. */
  qlog?: (event: { time: number; name: string; data: Record<string, unknown> }) => void;
}

/** The invariant header fields offered to the claim hook (RFC 8999 §5). */
export interface ClaimHeaderInfo {
  form: 'long' | 'short';
  /** Destination Connection ID (for short headers: the endpoint's CID length). A view. */
  dcid: Uint8Array;
  /** Version of a long header. */
  version: number | undefined;
}

/**
 * Seam 1 (MASQUE forwarded mode): sees every parsable datagram before connection lookup; returning
 * true takes it over and the endpoint does nothing else with it.
 */
export type ClaimHook = (
  datagram: Uint8Array,
  header: ClaimHeaderInfo,
  remote: string,
  now: number,
) => boolean;

/** Receives datagrams addressed to a CID registered with `claimCid`. */
export type ClaimedCidHandler = (datagram: Uint8Array, remote: string, now: number) => void;

/** When a client must prove its address with a Retry round trip first (RFC 9000 §8.1.2). */
export type RetryPolicy = 'always' | 'never' | 'under-load';

/** Endpoint events, in order. */
export type EndpointEvent<C> =
  /** A server connection was accepted (the client's first Initial has been delivered to it). */
  | { type: 'connection'; conn: C }
  /** A connection reached `closed` and was removed with its routes. */
  | { type: 'closed'; conn: C };

/** Why a datagram was dropped; each has a counter in {@link EndpointStats}. */
export const DropReason = {
  /** The invariant header could not be parsed (RFC 8999 §5). */
  Malformed: 'malformed',
  /** A Version Negotiation packet for no connection (RFC 9000 §6.1: never answered). */
  UnroutedVersionNegotiation: 'unrouted-version-negotiation',
  /** Unsupported version in a datagram under 1200 bytes (RFC 9000 §5.2.2: MUST drop). */
  UnsupportedVersionSmall: 'unsupported-version-small',
  /** Unsupported version at an endpoint that does not accept connections. */
  UnsupportedVersion: 'unsupported-version',
  /** Unsupported version whose Version Negotiation was rate-limited (RFC 9000 §6.1 "MAY limit"). */
  VersionNegotiationRateLimited: 'version-negotiation-rate-limited',
  /** A client Initial in a datagram under 1200 bytes (RFC 9000 §14.1: MUST discard). */
  InitialTooSmall: 'initial-too-small',
  /** A client Initial whose DCID is shorter than 8 bytes (RFC 9000 §7.2). */
  InitialShortDcid: 'initial-short-dcid',
  /** A client Initial that does not decrypt under the keys its DCID implies (RFC 9001 §5.2). */
  InitialUndecryptable: 'initial-undecryptable',
  /** An Initial for no connection from a source over its rate (`initialRatePerSource`). */
  InitialRateLimited: 'initial-rate-limited',
  /** A client Initial at an endpoint that does not accept connections. */
  NotAccepting: 'not-accepting',
  /** A client Initial carrying a Retry token that failed validation (RFC 9000 §8.1.2). */
  InvalidRetryToken: 'invalid-retry-token',
  /** A client Initial refused because the connection limit is reached. */
  ConnectionLimit: 'connection-limit',
  /** A client Initial refused because its source address holds its limit of connections. */
  SourceConnectionLimit: 'source-connection-limit',
  /** A client Initial dropped because the endpoint holds its limit of half-open connections. */
  HalfOpenLimit: 'half-open-limit',
  /** A client Initial dropped because its source address holds its limit of half-open connections. */
  SourceHalfOpenLimit: 'source-half-open-limit',
  /** 0-RTT, Handshake or Retry for no connection (RFC 9000 §5.2.2: not buffered). */
  UnroutedLongHeader: 'unrouted-long-header',
  /** A short header for no connection, answered by nothing (no reset key, or too small). */
  UnknownConnection: 'unknown-connection',
  /** A short header for no connection whose stateless reset was rate-limited (RFC 9000 §10.3.3). */
  ResetRateLimited: 'reset-rate-limited',
  /**
   * A short header for no connection whose DCID names another worker process (CID steering,
   * src/quic/cid/steering.ts): that worker's connection, which a reset from here would kill.
   */
  OtherWorker: 'other-worker',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Counters returned by `stats()`. */
export interface EndpointStats {
  /** Datagrams given to `receive`. */
  received: number;
  /** Datagrams returned by `pollTransmit` (connection packets, stateless packets, raw sends). */
  sent: number;
  /** Datagrams dropped, per reason (every reason present, 0 when none). */
  dropped: Record<DropReason, number>;
  /** Datagrams taken by the claim hook or a claimed CID. */
  claimed: number;
  /** Version Negotiation packets queued. */
  vnSent: number;
  /** Retry packets queued. */
  retrySent: number;
  /** Stateless resets queued. */
  resetsSent: number;
  /** Stateless Initial CONNECTION_CLOSE packets queued (refused connection, invalid token). */
  refusalsSent: number;
  /** Unroutable datagrams recognised as a stateless reset by a connection (RFC 9000 §10.3.1). */
  resetsDetected: number;
  /** Connections currently owned. */
  connections: number;
  /** Server connections currently half-open (created, still handshaking). */
  halfOpen: number;
}
