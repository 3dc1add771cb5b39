/**
 * The state of one QUIC connection, shared by the files that act on it (`receive.ts`,
 * `frame-handlers.ts`, `handshake.ts`, `send.ts`, `close.ts`). `QuicConnection` owns one and only
 * routes calls to those files; this class holds data and the few helpers everyone needs (events,
 * idle timer, PTO).
 */

import type { CipherSuite } from '../../crypto/suites.js';
import type { Random } from '../../util/random.js';
import type { QuicAppEvent, QuicCloseInfo } from '../api.js';
import { LocalCids, PeerCids } from '../cid/index.js';
import {
  AmplificationLimit,
  BASE_PLPMTU,
  PathResponder,
  type PathValidator,
  PmtuDiscovery,
} from '../path/index.js';
import {
  type CongestionController,
  Cubic,
  LossDetection,
  NewReno,
  Pacer,
  PacketSpace,
  RttEstimator,
} from '../recovery/index.js';
import { StreamManager } from '../streams/index.js';
import type { ResolvedTransportParameters } from '../transport-params/index.js';
import type { AckFrequencyPolicy, AckFrequencySender } from './ack-frequency.js';
import type { CommonConfig, QlogEvent, TransportSettings } from './config.js';
import type { OneRttKeys } from './one-rtt-keys.js';
import { createSpaces, type PacketSpaceState } from './packet-space.js';
import type { SentInfo } from './sent-info.js';
import type { TlsSessionLike } from './tls-adapter.js';

export type ConnectionState = 'handshaking' | 'established' | 'closing' | 'draining' | 'closed';

/** The network path the connection uses (RFC 9000 §9): one remote address. */
export class PathState {
  readonly remote: string;
  /** Anti-amplification limit toward this address until it is validated (RFC 9000 §8). */
  readonly amp: AmplificationLimit;
  /**
   * This path's maximum datagram size, found by DPLPMTUD: RFC 9000 §14.2 "SHOULD maintain a
   * maximum datagram size for each combination of local and remote IP addresses", so a new path
   * starts again at BASE_PLPMTU.
   */
  readonly pmtud: PmtuDiscovery;
  /** Validation of this path by PATH_CHALLENGE (migration, RFC 9000 §8.2). */
  validator: PathValidator | undefined;
  /** A second validation with a full-size datagram was started (RFC 9000 §8.2.1). */
  mtuRecheck = false;

  constructor(remote: string, validated: boolean, pmtud: PmtuDiscovery) {
    this.remote = remote;
    this.amp = new AmplificationLimit(validated);
    this.pmtud = pmtud;
  }
}

/** What we send on CONNECTION_CLOSE, and remember while closing. */
export interface CloseReason {
  errorCode: number;
  frameType: number;
  reason: string;
  app: boolean;
}

/** A CID routing change for the endpoint (seam 2). */
export interface CidEvent {
  type: 'cid-added' | 'cid-removed';
  cid: Uint8Array;
  resetToken?: Uint8Array;
}

/** Secrets TLS gave before both 1-RTT directions were available. */
export interface PendingSecret {
  suite: CipherSuite;
  secret: Uint8Array;
}

export class ConnectionCore {
  readonly role: 'client' | 'server';
  readonly random: Random;
  readonly settings: TransportSettings;
  readonly cidLength: number;
  readonly alpnOffered: readonly string[];
  readonly qlog: ((e: QlogEvent) => void) | undefined;
  readonly keylog: ((line: string) => void) | undefined;
  readonly datagramQueueSize: number;
  readonly datagramQueueBytes: number;
  /** Bytes of the payloads in `datagrams`. */
  queuedDatagramBytes = 0;
  /**
   * The queue went above a quarter of `datagramQueueBytes` (or refused a payload): the
   * application should pause; `datagrams-writable` follows once it is down to an eighth.
   */
  datagramsBlocked = false;
  /** Queued DATAGRAM payloads dropped because the path shrank below them (RFC 9221 §5). */
  datagramsDroppedTooLarge = 0;
  /**
   * Ceiling of PMTU discovery on every path: `maxUdpPayload` of the configuration, capped by the
   * peer's max_udp_payload_size once known.
   */
  pmtuCeiling: number;
  /** PMTU_RAISE_TIMER of new paths (ms). */
  readonly pmtuRaiseInterval: number | undefined;
  /** The maximum datagram size congestion control was last told (follows `maxUdpPayload`). */
  appliedPmtu = BASE_PLPMTU;
  /** The `maxDatagramPayload` last reported by a `max-datagram-payload` event (or at start). */
  reportedDatagramPayload = 0;

  state: ConnectionState = 'handshaking';
  readonly spaces: [PacketSpaceState, PacketSpaceState, PacketSpaceState];
  oneRtt: OneRttKeys | undefined;
  pendingRead1Rtt: PendingSecret | undefined;
  pendingWrite1Rtt: PendingSecret | undefined;
  /** Test hook: AEAD limits for the 1-RTT keys. */
  aeadLimits: { confidentiality?: number; integrity?: number } | undefined;
  tls!: TlsSessionLike;

  readonly rtt: RttEstimator;
  readonly loss: LossDetection<SentInfo>;
  readonly pacer: Pacer;
  readonly streams: StreamManager;
  readonly localCids: LocalCids;
  peerCids: PeerCids;
  path: PathState;
  /** The path we came from while a migration is being validated (RFC 9000 §9.3.2). */
  previousPath: PathState | undefined;
  readonly responder = new PathResponder();
  /** Where the datagram being processed came from, and its size (PATH_CHALLENGE replies there). */
  rxRemote = '';
  rxDatagramSize = 0;

  /** Client: DCID of its first Initial. Server: the client's original DCID (before any Retry). */
  originalDcid: Uint8Array;
  /** Client: SCID of the Retry it accepted. Server: SCID of the endpoint's Retry. */
  retrySourceCid: Uint8Array | undefined;
  /** Client: token to carry in Initial packets (Retry or NEW_TOKEN). */
  initialToken: Uint8Array = new Uint8Array(0);
  /** The peer's SCID from its first Initial (the client fixes it from then on, RFC 9000 §7.2). */
  peerInitialScid: Uint8Array | undefined;
  /** Client: tokens received in NEW_TOKEN frames, newest last. */
  readonly receivedTokens: Uint8Array[] = [];
  /** Client: the last session ticket TLS reported. */
  ticket: unknown;

  peerParams: ResolvedTransportParameters | undefined;
  /** What we ask of the peer (draft-ietf-quic-ack-frequency-14); `false`: nothing. */
  readonly ackFrequencyPolicy: AckFrequencyPolicy | false;
  /** Present once the peer advertised min_ack_delay and we ask things of it. */
  ackFrequency: AckFrequencySender | undefined;
  /** Largest ACK_FREQUENCY Sequence Number processed (-1: none). */
  ackFrequencySeqReceived = -1;
  handshakeComplete = false;
  handshakeConfirmed = false;
  alpn: string | undefined;
  resumed = false;
  handshakeDonePending = false;
  newTokenPending: Uint8Array | undefined;
  /** Sequence numbers of our CIDs to announce in NEW_CONNECTION_ID. */
  readonly newCidQueue: number[] = [];
  /** Outgoing DATAGRAM payloads. */
  readonly datagrams: Uint8Array[] = [];
  /** The application asked for a key update. */
  keyUpdateRequested = false;

  readonly #events: QuicAppEvent[] = [];
  #eventHead = 0;
  readonly #cidEvents: CidEvent[] = [];
  #cidHead = 0;

  /** Idle timeout in effect (ms, 0 = none) and when it fires. */
  idleTimeout: number;
  idleDeadline: number | undefined;
  /** True once an ack-eliciting packet was sent since the last packet received (RFC 9000 §10.1). */
  sentAckElicitingSinceReceive = false;
  /** Closing/draining: what we said, when the state ends, and close-frame pacing. */
  closeReason: CloseReason | undefined;
  closeDeadline: number | undefined;
  closePending = false;
  lastCloseSentAt = Number.NEGATIVE_INFINITY;
  /** When the pacer lets the next packet out (ms), or undefined. */
  pacingDeadline: number | undefined;
  /** The latest `now` any input carried (for API calls that take no time, like `close`). */
  lastNow: number;
  /** Packets declared lost, PTO expirations, persistent congestion periods (diagnostics). */
  lostPackets = 0;
  ptoCount = 0;
  persistentCongestions = 0;
  /** Packets that failed to decrypt (RFC 9001 §6.6 counting and diagnostics). */
  undecryptable = 0;
  /** Packets waiting for their keys (copies), with the address they came from. */
  readonly buffered: Array<{ bytes: Uint8Array; remote: string }> = [];
  /** Set while building a datagram: it carries a PATH_CHALLENGE (padded, RFC 9000 §8.2.1). */
  pathChallengeSent = false;
  /** Set while processing a packet: it carried a non-probing frame (RFC 9000 §9.1). */
  nonProbing = false;

  constructor(
    role: 'client' | 'server',
    config: CommonConfig,
    settings: TransportSettings,
    cidLength: number,
    pmtuCeiling: number,
    remote: string,
    localCid: Uint8Array | undefined,
    peerCid: Uint8Array,
    originalDcid: Uint8Array,
    now: number,
  ) {
    this.role = role;
    this.random = config.random;
    this.keepAlive = config.keepAlive ?? 0;
    this.ackFrequencyPolicy = config.ackFrequency ?? {};
    this.settings = settings;
    this.cidLength = cidLength;
    this.alpnOffered = config.alpn;
    this.qlog = config.qlog;
    this.keylog = config.keylog;
    this.datagramQueueSize = config.datagramQueueSize ?? 4096;
    this.datagramQueueBytes = config.datagramQueueBytes ?? 1024 * 1024;
    this.pmtuCeiling = pmtuCeiling;
    this.pmtuRaiseInterval = config.pmtuRaiseInterval;
    this.spaces = createSpaces(settings.maxAckDelay);
    this.rtt = new RttEstimator({ initialRtt: config.initialRtt });
    const cc: CongestionController =
      config.congestionControl === 'cubic'
        ? new Cubic({ maxDatagramSize: BASE_PLPMTU })
        : new NewReno({ maxDatagramSize: BASE_PLPMTU });
    this.loss = new LossDetection<SentInfo>({
      isServer: role === 'server',
      congestion: cc,
      rtt: this.rtt,
    });
    this.pacer = new Pacer(cc, this.rtt);
    this.streams = new StreamManager({
      role,
      local: settings,
      maxConnectionWindow: Math.max(settings.initialMaxData, 64 * 1024 * 1024),
    });
    const random = config.random;
    const resetTokenFor =
      config.resetTokenFor ??
      ((): Uint8Array => {
        const t = new Uint8Array(16);
        random.fill(t);
        return t;
      });
    this.localCids = new LocalCids({
      cidLength,
      random,
      resetTokenFor,
      initialCid: localCid,
      generateCid: config.generateCid,
    });
    this.peerCids = new PeerCids({
      initialCid: peerCid,
      activeLimit: settings.activeConnectionIdLimit,
    });
    this.path = new PathState(remote, role === 'client', this.newPmtud());
    this.originalDcid = originalDcid;
    this.lastNow = now;
    this.idleTimeout = settings.maxIdleTimeout;
    this.idleDeadline = this.idleTimeout > 0 ? now + this.idleTimeout : undefined;
    this.drainCidEvents();
  }

  get initialSpace(): PacketSpaceState {
    return this.spaces[PacketSpace.Initial];
  }

  get handshakeSpace(): PacketSpaceState {
    return this.spaces[PacketSpace.Handshake];
  }

  get appSpace(): PacketSpaceState {
    return this.spaces[PacketSpace.ApplicationData];
  }

  /**
   * Largest UDP payload we send outside PMTU probes: the current path's PLPMTU (1200 until
   * DPLPMTUD confirms more, never above the peer's max_udp_payload_size).
   */
  get maxUdpPayload(): number {
    return this.path.pmtud.current;
  }

  /** PMTU discovery for a new path: it starts at BASE_PLPMTU (RFC 9000 §14.2). */
  newPmtud(): PmtuDiscovery {
    return new PmtuDiscovery({ ceiling: this.pmtuCeiling, raiseInterval: this.pmtuRaiseInterval });
  }

  /** The peer's max_udp_payload_size (RFC 9000 §18.2) caps what we send on every path. */
  limitPmtuCeiling(max: number): void {
    if (max >= this.pmtuCeiling) return;
    this.pmtuCeiling = max;
    this.path.pmtud.limitCeiling(max, this.lastNow);
    this.previousPath?.pmtud.limitCeiling(max, this.lastNow);
  }

  /** True once no more packets are to be processed or sent. */
  get terminated(): boolean {
    return this.state === 'draining' || this.state === 'closed';
  }

  /** The current PTO period (RFC 9002 §6.2.1), without backoff. */
  pto(): number {
    return this.rtt.pto(this.handshakeConfirmed);
  }

  emit(event: QuicAppEvent): void {
    this.#events.push(event);
  }

  pollEvent(): QuicAppEvent | undefined {
    if (this.#eventHead === this.#events.length) return undefined;
    const ev = this.#events[this.#eventHead++];
    if (this.#eventHead === this.#events.length) {
      this.#events.length = 0;
      this.#eventHead = 0;
    }
    return ev;
  }

  /** Moves CID changes from the CID manager to the endpoint-facing queue. */
  drainCidEvents(): void {
    for (const e of this.localCids.drainEvents()) {
      this.#cidEvents.push(
        e.kind === 'added'
          ? { type: 'cid-added', cid: e.entry.cid, resetToken: e.entry.resetToken }
          : { type: 'cid-removed', cid: e.entry.cid },
      );
    }
  }

  pushCidEvent(e: CidEvent): void {
    this.#cidEvents.push(e);
  }

  pollCidEvent(): CidEvent | undefined {
    if (this.#cidHead === this.#cidEvents.length) return undefined;
    const ev = this.#cidEvents[this.#cidHead++];
    if (this.#cidHead === this.#cidEvents.length) {
      this.#cidEvents.length = 0;
      this.#cidHead = 0;
    }
    return ev;
  }

  /** A packet was processed: the idle timer restarts (RFC 9000 §10.1). */
  onPacketProcessed(now: number): void {
    this.sentAckElicitingSinceReceive = false;
    this.#armIdle(now);
    this.#armKeepAlive(now);
  }

  /**
   * An ack-eliciting packet was sent: the idle timer restarts if it is the first since the last
   * packet received (RFC 9000 §10.1).
   */
  onAckElicitingSent(now: number): void {
    this.#armKeepAlive(now);
    if (this.sentAckElicitingSinceReceive) return;
    this.sentAckElicitingSinceReceive = true;
    this.#armIdle(now);
  }

  /** RFC 9000 §10.1: the effective timeout is the minimum of both sides' non-zero values. */
  applyPeerIdleTimeout(peer: number): void {
    const ours = this.settings.maxIdleTimeout;
    if (ours > 0 && peer > 0) this.idleTimeout = Math.min(ours, peer);
    else this.idleTimeout = ours > 0 ? ours : peer;
  }

  /** When a keep-alive PING is due (RFC 9000 §10.1.2), or undefined. */
  keepAliveDeadline: number | undefined;
  /** Keep-alive interval (ms, 0 = off). */
  readonly keepAlive: number;

  #armKeepAlive(now: number): void {
    const every = this.keepAlive;
    this.keepAliveDeadline = every > 0 ? now + every : undefined;
  }

  #armIdle(now: number): void {
    if (this.idleTimeout <= 0) {
      this.idleDeadline = undefined;
      return;
    }
    // RFC 9000 §10.1: "the idle timeout [is] at least three times the current PTO".
    this.idleDeadline = now + Math.max(this.idleTimeout, 3 * this.pto());
  }

  /** Enters the terminal state and reports it (once). */
  finish(info: QuicCloseInfo): void {
    this.state = 'closed';
    this.closeDeadline = undefined;
    this.emitClosed(info);
  }

  #closedEmitted = false;

  /** Queues the one `connection-closed` event. */
  emitClosed(info: QuicCloseInfo): void {
    if (this.#closedEmitted) return;
    this.#closedEmitted = true;
    this.emit({ type: 'connection-closed', info });
    this.qlog?.({
      time: this.lastNow,
      name: 'connectivity:connection_closed',
      data: {
        owner: info.byPeer ? 'remote' : 'local',
        trigger: info.cause,
        [info.app ? 'application_code' : 'connection_code']: info.errorCode,
        reason: info.reason,
      },
    });
  }
}
