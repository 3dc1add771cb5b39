/**
 * Configuration of a {@link QuicConnection}: what both roles share, what each role adds, and the
 * defaults. Transport parameter values are ours (what we advertise); the peer's arrive in the
 * handshake.
 */
import type { Random } from '../../util/random.js';
import { BASE_PLPMTU, DEFAULT_PLPMTU_CEILING, MAX_PLPMTU } from '../path/index.js';
import type { TransportParameters } from '../transport-params/index.js';
import type { AckFrequencyPolicy } from './ack-frequency.js';
import type { TlsClientOptions, TlsFactory, TlsServerOptions } from './tls-adapter.js';

/** Transport parameter values we advertise (RFC 9000 §18.2). Times are milliseconds. */
export interface TransportSettings {
  /** max_idle_timeout (0 disables our side of the idle timeout). */
  maxIdleTimeout: number;
  /** initial_max_data: connection-level receive window. */
  initialMaxData: number;
  /** initial_max_stream_data_bidi_local: window of bidirectional streams we open. */
  initialMaxStreamDataBidiLocal: number;
  /** initial_max_stream_data_bidi_remote: window of bidirectional streams the peer opens. */
  initialMaxStreamDataBidiRemote: number;
  /** initial_max_stream_data_uni: window of unidirectional streams the peer opens. */
  initialMaxStreamDataUni: number;
  /** initial_max_streams_bidi: bidirectional streams the peer may open. */
  initialMaxStreamsBidi: number;
  /** initial_max_streams_uni: unidirectional streams the peer may open. */
  initialMaxStreamsUni: number;
  /**
   * max_udp_payload_size: the largest UDP payload we are willing to *receive* (RFC 9000 §18.2),
   * not the size we send (that is found by PMTU discovery, up to `maxUdpPayload`). Default 65527.
   */
  maxUdpPayloadSize: number;
  /** max_datagram_frame_size (RFC 9221 §3); 0 disables DATAGRAM reception. */
  maxDatagramFrameSize: number;
  /** active_connection_id_limit (at least 2). */
  activeConnectionIdLimit: number;
  /** ack_delay_exponent (0..20). */
  ackDelayExponent: number;
  /** max_ack_delay (below 2^14 ms). */
  maxAckDelay: number;
  /** disable_active_migration. */
  disableActiveMigration: boolean;
  /**
   * min_ack_delay in MICROseconds (draft-ietf-quic-ack-frequency-14 §3): advertising it lets the
   * peer send ACK_FREQUENCY and IMMEDIATE_ACK frames, which we then honour. 0 does not advertise
   * (either frame is then a PROTOCOL_VIOLATION). At most `maxAckDelay` * 1000. Default 1000 (our
   * timers' granularity is 1 ms), or `maxAckDelay` * 1000 when that is smaller.
   */
  minAckDelay: number;
}

/** Defaults: generous windows so a single stream can fill a fast path. */
export const DEFAULT_TRANSPORT_SETTINGS: Readonly<TransportSettings> = Object.freeze({
  maxIdleTimeout: 30_000,
  initialMaxData: 16 * 1024 * 1024,
  initialMaxStreamDataBidiLocal: 4 * 1024 * 1024,
  initialMaxStreamDataBidiRemote: 4 * 1024 * 1024,
  initialMaxStreamDataUni: 4 * 1024 * 1024,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
  maxUdpPayloadSize: 65_527,
  maxDatagramFrameSize: 0,
  activeConnectionIdLimit: 4,
  ackDelayExponent: 3,
  maxAckDelay: 25,
  disableActiveMigration: false,
  minAckDelay: 1000,
});

/** A qlog-style event (draft-ietf-quic-qlog-quic-events naming, abridged). */
export interface QlogEvent {
  time: number;
  name:
    | 'transport:packet_sent'
    | 'transport:packet_received'
    | 'recovery:metrics_updated'
    | 'connectivity:mtu_updated'
    | 'connectivity:connection_closed';
  data: Record<string, unknown>;
}

/** Options common to both roles. */
export interface CommonConfig {
  /** Randomness for connection IDs, path challenges, key shares and padding. */
  random: Random;
  /** ALPN protocols, in preference order. */
  alpn: readonly string[];
  /** Transport parameter values to advertise (merged over {@link DEFAULT_TRANSPORT_SETTINGS}). */
  transport?: Partial<TransportSettings>;
  /** Length of the connection IDs we issue (default 8). */
  cidLength?: number;
  /**
   * Makes the connection IDs we issue (`cidLength` bytes; random when absent). A proxy whose
   * workers share a port names the worker in them (src/quic/cid/steering.ts).
   */
  generateCid?: (random: Random) => Uint8Array;
  /** Congestion controller (default 'newreno'). */
  congestionControl?: 'newreno' | 'cubic';
  /** Receives NSS key log lines (SSLKEYLOGFILE format). */
  keylog?: (line: string) => void;
  /** Receives a few qlog-style events. */
  qlog?: (event: QlogEvent) => void;
  /**
   * Ceiling of path MTU discovery: the largest UDP payload we ever send (1200..65527, default
   * 1452, the Ethernet size over IPv6). Packets start at 1200 bytes (RFC 9000 §14.1) and grow as
   * DPLPMTUD (RFC 9000 §14.3, RFC 8899) confirms larger ones with probes, per path; the peer's
   * max_udp_payload_size caps it too. 1200 turns probing off. Both ends need not agree: each
   * discovers what the path carries in its own direction.
   */
  maxUdpPayload?: number;
  /**
   * PMTU_RAISE_TIMER (RFC 8899 §5.1.1) in ms: how long after a search that stopped below the
   * ceiling a new one tries larger sizes again (default 600,000; 0 never).
   */
  pmtuRaiseInterval?: number;
  /**
   * Outgoing DATAGRAM payloads queued at most, by count (default 4096) and by bytes (default
   * 1 MiB); `sendDatagram` refuses more. A burst is queued, not lost: the queue drains as fast as
   * congestion control lets it. Above a quarter of the byte bound `datagramsWritable` turns false
   * (pause), and `datagrams-writable` follows once the queue is down to an eighth.
   */
  datagramQueueSize?: number;
  datagramQueueBytes?: number;
  /** Stateless reset token of a CID we issue (RFC 9000 §10.3.2); random tokens when absent. */
  resetTokenFor?: (cid: Uint8Array) => Uint8Array;
  /** Initial RTT estimate in ms (default 333, RFC 9002 §6.2.2). */
  initialRtt?: number;
  /**
   * Keep-alive interval in ms (default off): once established, a PING goes out when nothing was
   * sent or received for this long, so a quiet connection outlives the idle timeout (RFC 9000
   * §10.1.2). Pick it well below the idle timeout.
   */
  keepAlive?: number;
  /**
   * Builds the TLS session. Defaults to the project's TLS 1.3 implementation; tests may pass a
   * stand-in that honours the same event contract.
   */
  tlsFactory?: TlsFactory;
  /** Extra transport parameters (e.g. grease or experiments); ours win on conflicts. */
  extraTransportParameters?: Partial<TransportParameters>;
  /**
   * What we ask of a peer that advertises min_ack_delay (draft-ietf-quic-ack-frequency-14): ACKs
   * less often as the congestion window grows (src/quic/connection/ack-frequency.ts). `false`
   * never sends ACK_FREQUENCY or IMMEDIATE_ACK. Default `{}` (an ACK per 10 packets at most).
   */
  ackFrequency?: AckFrequencyPolicy | false;
}

/** Client configuration. */
export interface ClientConfig extends CommonConfig {
  /** TLS client options, passed through to the TLS session (SNI, CA, pins, ticket...). */
  tls: TlsClientOptions;
  /** Address of the server ("host:port"), where the first datagram goes. */
  remote: string;
  /** A NEW_TOKEN token from an earlier connection to this server (RFC 9000 §8.1.3). */
  token?: Uint8Array;
}

/** Server configuration. */
export interface ServerConfig extends CommonConfig {
  /** TLS server options, passed through to the TLS session (certificate, key, ticket key...). */
  tls: TlsServerOptions;
  /** Our first Source Connection ID (the endpoint may choose it so it can route); random if absent. */
  localCid?: Uint8Array;
  /**
   * Set when the endpoint sent a Retry (RFC 9000 §7.3): the DCID of the client's very first
   * Initial, and the SCID of our Retry. Both go into our transport parameters.
   */
  originalDcid?: Uint8Array;
  retrySourceCid?: Uint8Array;
  /** True when the client's address is already validated (a valid Retry or NEW_TOKEN token). */
  addressValidated?: boolean;
  /** Issue a NEW_TOKEN after the handshake (RFC 9000 §8.1.3): returns the token to send. */
  newToken?: (remote: string) => Uint8Array | undefined;
}

/** What the endpoint learned from the client's first Initial (the server connection's seed). */
export interface ParsedInitialInfo {
  /** Destination Connection ID of the client's Initial (chosen by the client, or our Retry SCID). */
  dcid: Uint8Array;
  /** Source Connection ID of the client's Initial. */
  scid: Uint8Array;
  /** The Initial's token (empty when none). */
  token?: Uint8Array;
  /** QUIC version (1). */
  version?: number;
}

/** Fills in defaults and checks ranges. Throws RangeError for a bad configuration. */
export function resolveSettings(
  partial: Partial<TransportSettings> | undefined,
): TransportSettings {
  const s: TransportSettings = { ...DEFAULT_TRANSPORT_SETTINGS, ...partial };
  if (partial?.minAckDelay === undefined) s.minAckDelay = Math.min(1000, s.maxAckDelay * 1000);
  if (s.activeConnectionIdLimit < 2) throw new RangeError('active_connection_id_limit below 2');
  if (s.ackDelayExponent < 0 || s.ackDelayExponent > 20) throw new RangeError('ack_delay_exponent');
  if (s.maxAckDelay < 0 || s.maxAckDelay >= 2 ** 14) throw new RangeError('max_ack_delay');
  // draft-ietf-quic-ack-frequency-14 §3: "An endpoint's min_ack_delay MUST NOT be greater than its
  // max_ack_delay" (microseconds against milliseconds).
  if (
    !Number.isSafeInteger(s.minAckDelay) ||
    s.minAckDelay < 0 ||
    s.minAckDelay > s.maxAckDelay * 1000
  ) {
    throw new RangeError(
      'min_ack_delay must be an integer of 0..max_ack_delay * 1000 microseconds',
    );
  }
  // RFC 9000 §18.2: "Values below 1200 are invalid"; above 65527 no UDP payload can be.
  if (
    !Number.isInteger(s.maxUdpPayloadSize) ||
    s.maxUdpPayloadSize < 1200 ||
    s.maxUdpPayloadSize > 65_527
  ) {
    throw new RangeError('max_udp_payload_size must be 1200..65527');
  }
  return s;
}

/**
 * The PMTU discovery ceiling from `maxUdpPayload`: an integer from 1200 (RFC 9000 §14: QUIC's
 * minimum) to 65527 (§18.2: the largest UDP payload), default 1452.
 */
export function resolveMaxUdpPayload(v: number | undefined): number {
  const n = v ?? DEFAULT_PLPMTU_CEILING;
  if (!(Number.isInteger(n) && n >= BASE_PLPMTU && n <= MAX_PLPMTU)) {
    throw new RangeError(`maxUdpPayload ${n} is not within ${BASE_PLPMTU}..${MAX_PLPMTU}`);
  }
  return n;
}
