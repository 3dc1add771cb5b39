/**
 * The sans-IO QUIC endpoint: one UDP socket's worth of connections. It routes datagrams to
 * connections by Destination Connection ID (RFC 9000 §5.2), answers what no connection owns
 * (Version Negotiation §6.1, Retry §8.1.2, stateless reset §10.3, refusals §5.2.2), creates server
 * connections through an injected factory, and multiplexes the connections' output and timers.
 *
 * Driving contract (as for a connection): call `receive` per datagram, then `pollTransmit` until it
 * returns undefined, then arm one timer at `nextTimeout()` and call `handleTimeout` when it fires.
 * After an application call on a connection (stream data, a datagram, close...), call
 * `markActive(conn)` and flush again: only connections with pending work are polled. Events
 * (`pollEvent`) announce new and closed connections; `activeConnections` lists the connections
 * that input reached, whose application events a driver should read.
 *
 * Complexity (see `activity.ts`): `receive` is O(1) for routed packets and touches one
 * connection; `pollTransmit` visits only the active connections (round-robin); `nextTimeout` is a
 * heap peek and `handleTimeout` pops only the due connections (O(log n) each). Nothing is O(n) in
 * the number of idle connections, which is what lets one busy connection keep its pace beside
 * thousands of idle ones.
 *
 * Seam 1 (MASQUE forwarded mode, loop detection): the claim hook and claimed CIDs see datagrams
 * before connection lookup, `isCidRouted` asks whether a CID belongs here, `sendRaw` queues a
 * datagram from this endpoint's socket.
 */

import { CryptoError } from '../../crypto/errors.js';
import { type Random, randomBytes } from '../../util/random.js';
import { CodecError } from '../../wire/errors.js';
import { CidSteering } from '../cid/steering.js';
import { TransportErrorCode } from '../errors.js';
import {
  HEADER_FORM_BIT,
  type InvariantHeader,
  type LongHeader,
  LongPacketType,
  parseInvariantHeader,
  parsePacketHeader,
  QUIC_V1,
} from '../packet/index.js';
import {
  AddressTokens,
  buildStatelessReset,
  MIN_STATELESS_RESET_LENGTH,
  StatelessResetKey,
} from '../path/index.js';
import { initialKeys, PacketProtector } from '../protection/index.js';
import { INITIAL_SUITE } from '../protection/initial.js';
import { ActivitySchedule, ConnectionSlot } from './activity.js';
import { addressHost, judgeInitialToken } from './address-validation.js';
import { Admission, type AdmissionRefusal } from './admission.js';
import { TokenBucket } from './rate-limiter.js';
import { cidKey, cidKeyAt, RoutingTable } from './routing.js';
import { SourceBuckets, type SourceRate } from './source-buckets.js';
import { buildInitialClose, buildRetry, buildVersionNegotiation } from './stateless-packets.js';
import {
  type ClaimedCidHandler,
  type ClaimHook,
  DropReason,
  type EndpointConnection,
  type EndpointEvent,
  type EndpointStats,
  type FactoryContext,
  type RetryPolicy,
  type ServerInitialInfo,
  type Transmit,
} from './types.js';

/** RFC 9000 §14.1: the smallest datagram that may carry a client Initial. */
export const MIN_INITIAL_DATAGRAM_SIZE = 1200;
/** RFC 9000 §7.2: a client's first Destination Connection ID "MUST be at least 8 bytes". */
export const MIN_INITIAL_DCID_LENGTH = 8;
/** Versions we speak (RFC 9000 §15). */
export const SUPPORTED_VERSIONS: readonly number[] = [QUIC_V1];

export interface QuicEndpointOptions<C extends EndpointConnection, ClientConfig = unknown> {
  /** Randomness for CIDs, tokens, grease and reset sizes. */
  random: Random;
  /** Length of the CIDs our connections issue, 0..20 (default 8): needed to parse short headers. */
  localCidLength?: number;
  /** Builds a server connection for an accepted Initial; without it the endpoint is client-only. */
  createServerConnection?: (
    info: ServerInitialInfo,
    remote: string,
    now: number,
    ctx: FactoryContext,
  ) => C;
  /** Builds a client connection for `connect`. */
  createClientConnection?: (
    config: ClientConfig,
    remote: string,
    now: number,
    ctx: FactoryContext,
  ) => C;
  /** When to demand a Retry round trip (default 'never'). */
  retry?: RetryPolicy;
  /** 'under-load': half-open (handshaking) server connections from which Retry is required (default 64). */
  retryLoadThreshold?: number;
  /** Seals and opens Retry / NEW_TOKEN tokens; a random-key instance is made when absent. */
  addressTokens?: AddressTokens;
  /** Static key for stateless reset tokens (RFC 9000 §10.3.2); no resets are sent without it. */
  statelessResetKey?: Uint8Array | StatelessResetKey;
  /**
   * Version Negotiation packets allowed per second and in a burst (default 100/s, burst 20): each
   * is a reply to an unauthenticated packet (RFC 9000 §6.1: a server "MAY limit the number of
   * Version Negotiation packets it sends"; §21.5 on reflection).
   */
  versionNegotiationRate?: { perSecond: number; burst: number };
  /** Stateless resets allowed per second and in a burst (default 100/s, burst 20). */
  resetRate?: { perSecond: number; burst: number };
  /**
   * Initials for no connection accepted per source IP address (any port), per second and in a
   * burst, before they are decrypted: each costs a key derivation and a decryption, then a
   * Retry, a refusal or a handshake. Over it they are dropped (`initial-rate-limited`); the
   * client's retransmissions come later. Default 100/s, burst 200 (sources behind one NAT share it).
   */
  initialRatePerSource?: SourceRate;
  /** Connections at once; further Initials are refused with CONNECTION_REFUSED (default unlimited). */
  maxConnections?: number;
  /**
   * Server connections at once from one source IP address (any port); further Initials from it
   * are refused with CONNECTION_REFUSED (default unlimited).
   */
  maxConnectionsPerSource?: number;
  /**
   * Half-open (handshaking) server connections at once; further Initials are dropped, also those
   * with a valid Retry or NEW_TOKEN token (default unlimited).
   */
  maxHalfOpen?: number;
  /**
   * Half-open server connections at once from one source IP address. An Initial from a source at
   * its limit is dropped when its token proved the address; without one it is answered with a
   * Retry when the retry policy is not 'never' (a spoofed source cannot complete it), else
   * dropped (default unlimited).
   */
  maxHalfOpenPerSource?: number;
  /** Seam 1: sees every datagram before connection lookup; true takes it over. */
  claimDatagram?: ClaimHook;
  /**
   * One of several worker processes on one port: every CID made here (connections' CIDs, Retry
   * SCIDs) names this worker, and once `enforced` (the kernel steers by it) a short header for
   * no connection that names another worker is dropped instead of reset.
   */
  cidSteering?: CidSteering;
}

export class QuicEndpoint<C extends EndpointConnection, ClientConfig = unknown> {
  readonly #random: Random;
  readonly #cidLength: number;
  readonly #createServer: QuicEndpointOptions<C>['createServerConnection'];
  readonly #createClient: QuicEndpointOptions<C, ClientConfig>['createClientConnection'];
  readonly #retry: RetryPolicy;
  readonly #retryThreshold: number;
  readonly #tokens: AddressTokens;
  readonly #resetKey: StatelessResetKey | undefined;
  readonly #resetBucket: TokenBucket;
  readonly #vnBucket: TokenBucket;
  readonly #initialBuckets: SourceBuckets;
  readonly #admission: Admission<C>;
  readonly #claim: ClaimHook | undefined;
  readonly #steering: CidSteering | undefined;

  readonly #routes = new RoutingTable<ConnectionSlot<C>>();
  readonly #claimedCids = new Map<string, ClaimedCidHandler>();
  /** Every connection, in adoption order. */
  readonly #slots = new Map<C, ConnectionSlot<C>>();
  /** Active ring and deadline heap: what to poll, and when timers are due. */
  readonly #schedule = new ActivitySchedule<C>();
  /** Connections by the last address they sent to (RFC 9000 §10.3.1). */
  readonly #byRemote = new Map<string, Set<ConnectionSlot<C>>>();
  #accepting = true;

  readonly #queue: Transmit[] = [];
  #queueHead = 0;
  readonly #events: EndpointEvent<C>[] = [];
  #eventHead = 0;

  readonly #stats: EndpointStats;

  constructor(options: QuicEndpointOptions<C, ClientConfig>) {
    this.#random = options.random;
    this.#cidLength = options.localCidLength ?? 8;
    if (!(Number.isInteger(this.#cidLength) && this.#cidLength >= 0 && this.#cidLength <= 20)) {
      throw new RangeError(`local CID length ${this.#cidLength} outside 0..20`);
    }
    this.#createServer = options.createServerConnection;
    this.#createClient = options.createClientConnection;
    this.#retry = options.retry ?? 'never';
    this.#retryThreshold = options.retryLoadThreshold ?? 64;
    this.#tokens =
      options.addressTokens ?? new AddressTokens(randomBytes(options.random, 16), options.random);
    const key = options.statelessResetKey;
    this.#resetKey = key instanceof Uint8Array ? new StatelessResetKey(key) : key;
    const rate = options.resetRate ?? { perSecond: 100, burst: 20 };
    this.#resetBucket = new TokenBucket(rate.perSecond, rate.burst);
    const vn = options.versionNegotiationRate ?? { perSecond: 100, burst: 20 };
    this.#vnBucket = new TokenBucket(vn.perSecond, vn.burst);
    this.#initialBuckets = new SourceBuckets(
      options.initialRatePerSource ?? { perSecond: 100, burst: 200 },
    );
    this.#admission = new Admission({
      maxConnections: options.maxConnections,
      maxConnectionsPerSource: options.maxConnectionsPerSource,
      maxHalfOpen: options.maxHalfOpen,
      maxHalfOpenPerSource: options.maxHalfOpenPerSource,
    });
    this.#claim = options.claimDatagram;
    this.#steering = options.cidSteering;
    const dropped = {} as Record<DropReason, number>;
    for (const reason of Object.values(DropReason)) dropped[reason] = 0;
    this.#stats = {
      received: 0,
      sent: 0,
      dropped,
      claimed: 0,
      vnSent: 0,
      retrySent: 0,
      resetsSent: 0,
      refusalsSent: 0,
      resetsDetected: 0,
      connections: 0,
      halfOpen: 0,
    };
  }

  /** Length of the CIDs connections of this endpoint must issue. */
  get localCidLength(): number {
    return this.#cidLength;
  }

  /** The worker mark of this endpoint's CIDs, when it shares its port with other workers. */
  get cidSteering(): CidSteering | undefined {
    return this.#steering;
  }

  /** Stateless reset token of `cid` under the endpoint's key (for `resetTokenFor` in configs). */
  resetTokenFor(cid: Uint8Array): Uint8Array | undefined {
    return this.#resetKey?.tokenFor(cid);
  }

  /** A NEW_TOKEN token for a client at `remote` (bound to its host, RFC 9000 §8.1.3). */
  issueNewToken(remote: string, now: number): Uint8Array {
    return this.#tokens.sealNewToken(addressHost(remote), now);
  }

  /** How many connections the endpoint owns. */
  get connectionCount(): number {
    return this.#slots.size;
  }

  /** The connections, in no particular order (a snapshot). */
  connections(): C[] {
    return Array.from(this.#slots.keys());
  }

  /**
   * Flags `conn` as having work the endpoint cannot see: call it after an application call that
   * queued something on the connection (stream data, a datagram, a reset, close) or may have moved
   * its timers. The next `pollTransmit` visits it and its deadline is read again. Connections are
   * otherwise polled only after a datagram or a timer reached them. Unknown connections are ignored.
   */
  markActive(conn: C): void {
    const slot = this.#slots.get(conn);
    if (slot !== undefined) this.#schedule.touch(slot);
  }

  /**
   * The connections with pending work (input reached them, or `markActive`) that have not yet
   * reported an empty `pollTransmit`: after `receive` or `handleTimeout`, the ones whose events a
   * driver should read. Fills `out` (cleared first; pass a reused array to avoid allocating) and
   * returns it; it is a snapshot, safe to iterate while connections change.
   */
  activeConnections(out: C[] = []): C[] {
    return this.#schedule.activeConnections(out);
  }

  /** True when some connection (or a claim) routes `cid`. */
  isCidRouted(cid: Uint8Array): boolean {
    return this.#routes.has(cid) || this.#claimedCids.has(cidKey(cid));
  }

  /**
   * Seam 1: datagrams whose DCID is `cid` go to `handler` instead of a connection (checked after
   * the claim hook, before connections). Short headers are parsed with the endpoint's CID length,
   * so claimed CIDs meant for short headers must have that length.
   */
  claimCid(cid: Uint8Array, handler: ClaimedCidHandler): void {
    this.#claimedCids.set(cidKey(cid), handler);
  }

  /** Undoes {@link claimCid}. */
  unclaimCid(cid: Uint8Array): void {
    this.#claimedCids.delete(cidKey(cid));
  }

  /** Counters (a copy). */
  stats(): EndpointStats {
    return {
      ...this.#stats,
      dropped: { ...this.#stats.dropped },
      connections: this.#slots.size,
      halfOpen: this.#admission.halfOpen,
    };
  }

  /** Next endpoint event, or undefined. */
  pollEvent(): EndpointEvent<C> | undefined {
    if (this.#eventHead === this.#events.length) return undefined;
    const ev = this.#events[this.#eventHead++];
    if (this.#eventHead === this.#events.length) {
      this.#events.length = 0;
      this.#eventHead = 0;
    }
    return ev;
  }

  /** Opens a client connection through `createClientConnection`. */
  connect(config: ClientConfig, remote: string, now: number): C {
    if (this.#createClient === undefined) {
      throw new Error('this endpoint has no createClientConnection factory');
    }
    const conn = this.#createClient(config, remote, now, { endpoint: this });
    this.#adopt(new ConnectionSlot(conn), remote);
    return conn;
  }

  /** Queues a datagram from this endpoint's socket (seam 1: forwarded packets). */
  sendRaw(data: Uint8Array, to: string): void {
    this.#enqueue({ data, to });
  }

  /**
   * Stops accepting connections and closes every connection with `errorCode` (application
   * CONNECTION_CLOSE); flush afterwards to send the close packets.
   */
  shutdown(errorCode = 0, reason = ''): void {
    this.#accepting = false;
    // Snapshot: #afterActivity may remove connections.
    for (const slot of Array.from(this.#slots.values())) {
      slot.conn.close(errorCode, reason);
      this.#schedule.touch(slot);
      this.#afterActivity(slot);
    }
  }

  /**
   * One UDP datagram from `remote`, handed over: connections decrypt it in place and their
   * `datagram` events are views of it, so the caller must not reuse the buffer.
   */
  receive(datagram: Uint8Array, remote: string, now: number): void {
    this.#stats.received++;
    // The common case first: a short header (RFC 8999 §5.2: the form bit clear, the DCID next, of
    // the length we issue) for a connection, when no claim sees datagrams first. Anything else,
    // or a CID that routes nowhere, takes the full path below.
    const n = this.#cidLength;
    if (
      (datagram[0] & HEADER_FORM_BIT) === 0 &&
      datagram.length > n &&
      this.#claim === undefined &&
      this.#claimedCids.size === 0
    ) {
      const slot = this.#routes.getByKey(cidKeyAt(datagram, 1, n));
      if (slot !== undefined) {
        slot.conn.receive(datagram, remote, now);
        this.#schedule.touch(slot);
        this.#afterActivity(slot);
        return;
      }
    }
    let header: InvariantHeader;
    try {
      header = parseInvariantHeader(datagram, this.#cidLength);
    } catch {
      this.#drop(DropReason.Malformed);
      return;
    }
    const version = header.form === 'long' ? header.version : undefined;
    if (this.#claim?.(datagram, { form: header.form, dcid: header.dcid, version }, remote, now)) {
      this.#stats.claimed++;
      return;
    }
    if (this.#claimedCids.size > 0) {
      const handler = this.#claimedCids.get(cidKey(header.dcid));
      if (handler !== undefined) {
        this.#stats.claimed++;
        handler(datagram, remote, now);
        return;
      }
    }
    const slot = this.#routes.get(header.dcid);
    if (slot !== undefined) {
      slot.conn.receive(datagram, remote, now);
      this.#schedule.touch(slot);
      this.#afterActivity(slot);
      return;
    }
    if (header.form === 'short') {
      this.#unroutedShort(header.dcid, datagram, remote, now);
      return;
    }
    if (header.version === 0) {
      // RFC 9000 §6.1: "An endpoint MUST NOT send a Version Negotiation packet in response to
      // receiving a Version Negotiation packet."
      this.#drop(DropReason.UnroutedVersionNegotiation);
      return;
    }
    if (header.version !== QUIC_V1) {
      this.#unsupportedVersion(header.dcid, header.scid, datagram, remote, now);
      return;
    }
    this.#unroutedLong(datagram, remote, now);
  }

  /**
   * The next datagram to send: the active connections and the endpoint's own queue, round-robin
   * (one datagram per turn). A connection with nothing to send leaves the active set and its
   * deadline is filed; a closed one is removed.
   */
  pollTransmit(now: number): Transmit | undefined {
    const schedule = this.#schedule;
    for (let turn = schedule.next(); turn !== undefined; turn = schedule.next()) {
      if (turn === null) {
        const t = this.#dequeue();
        if (t === undefined) continue;
        schedule.requeueOwn();
        this.#stats.sent++;
        return t;
      }
      const conn = turn.conn;
      const t = conn.pollTransmit(now);
      this.#drainCids(turn);
      if (turn.halfOpen) this.#settleHandshake(turn);
      if (t !== undefined) {
        this.#noteRemote(turn, t.to);
        schedule.requeue(turn);
        this.#stats.sent++;
        return t;
      }
      if (conn.state === 'closed') this.#remove(turn);
      else schedule.settle(turn);
    }
    return undefined;
  }

  /** Earliest deadline over all connections (a heap peek), or undefined. */
  nextTimeout(): number | undefined {
    return this.#schedule.nextTimeout();
  }

  /** Runs the timers of the connections due at `now` (only those); removes any that close. */
  handleTimeout(now: number): void {
    const schedule = this.#schedule;
    schedule.refreshActive();
    // A popped connection is active until polled, so it is not filed again during this loop.
    for (let slot = schedule.popDue(now); slot !== undefined; slot = schedule.popDue(now)) {
      slot.conn.handleTimeout(now);
      schedule.touch(slot);
      this.#afterActivity(slot);
    }
  }

  // --- unrouted datagrams ---

  #unroutedShort(dcid: Uint8Array, datagram: Uint8Array, remote: string, now: number): void {
    // RFC 9000 §10.3.1: the reset-token comparison "MUST be performed when the first packet in an
    // incoming datagram ... cannot be associated with a connection", against the tokens of the
    // remote address it came from. Connections hold their peer's tokens, so those that last sent
    // to this address get the datagram; one that recognises a reset enters draining.
    const candidates = this.#byRemote.get(remote);
    if (candidates !== undefined && datagram.length >= MIN_STATELESS_RESET_LENGTH) {
      const several = candidates.size > 1;
      // Snapshot: a connection that closes leaves the set.
      for (const slot of Array.from(candidates)) {
        const conn = slot.conn;
        if (isTerminal(conn)) continue;
        // A connection may remove header protection in place; each gets pristine bytes.
        conn.receive(several ? datagram.slice() : datagram, remote, now);
        const reset = isTerminal(conn);
        this.#schedule.touch(slot);
        this.#afterActivity(slot);
        if (reset) {
          this.#stats.resetsDetected++;
          return;
        }
      }
    }
    const steering = this.#steering;
    if (
      steering?.enforced === true &&
      CidSteering.workerOf(dcid, steering.workers) !== steering.worker
    ) {
      this.#drop(DropReason.OtherWorker);
      return;
    }
    // §10.3.3: a reset "MUST" be smaller than its trigger, so a trigger of 21 bytes or less (the
    // smallest reset) gets none; this also ends reset loops between stateless endpoints.
    if (this.#resetKey === undefined || datagram.length <= MIN_STATELESS_RESET_LENGTH) {
      this.#drop(DropReason.UnknownConnection);
      return;
    }
    if (!this.#resetBucket.take(now)) {
      this.#drop(DropReason.ResetRateLimited);
      return;
    }
    const reset = buildStatelessReset(this.#resetKey.tokenFor(dcid), datagram.length, this.#random);
    if (reset === undefined) {
      this.#drop(DropReason.UnknownConnection);
      return;
    }
    this.#stats.resetsSent++;
    this.#enqueue({ data: reset, to: remote });
  }

  #unsupportedVersion(
    dcid: Uint8Array,
    scid: Uint8Array,
    datagram: Uint8Array,
    remote: string,
    now: number,
  ): void {
    if (this.#createServer === undefined || !this.#accepting) {
      this.#drop(DropReason.UnsupportedVersion);
      return;
    }
    // RFC 9000 §5.2.2: "Servers MUST drop smaller packets that specify unsupported versions."
    if (datagram.length < MIN_INITIAL_DATAGRAM_SIZE) {
      this.#drop(DropReason.UnsupportedVersionSmall);
      return;
    }
    if (!this.#vnBucket.take(now)) {
      this.#drop(DropReason.VersionNegotiationRateLimited);
      return;
    }
    this.#stats.vnSent++;
    this.#enqueue({
      data: buildVersionNegotiation(dcid, scid, SUPPORTED_VERSIONS, this.#random),
      to: remote,
    });
  }

  #unroutedLong(datagram: Uint8Array, remote: string, now: number): void {
    let h: ReturnType<typeof parsePacketHeader>;
    try {
      h = parsePacketHeader(datagram, 0, this.#cidLength);
    } catch {
      this.#drop(DropReason.Malformed);
      return;
    }
    // §5.2.2: 0-RTT for no connection MAY be buffered (we do not); Handshake SHOULD be ignored.
    if (h.kind !== 'long' || h.type !== LongPacketType.Initial) {
      this.#drop(DropReason.UnroutedLongHeader);
      return;
    }
    if (this.#createServer === undefined || !this.#accepting) {
      this.#drop(DropReason.NotAccepting);
      return;
    }
    // §14.1: "A server MUST discard an Initial packet that is carried in a UDP datagram with a
    // payload that is smaller than the smallest allowed maximum datagram size of 1200 bytes."
    if (datagram.length < MIN_INITIAL_DATAGRAM_SIZE) {
      this.#drop(DropReason.InitialTooSmall);
      return;
    }
    // §7.2: the client's first DCID "MUST be at least 8 bytes"; our Retry SCIDs are too.
    if (h.dcid.length < MIN_INITIAL_DCID_LENGTH) {
      this.#drop(DropReason.InitialShortDcid);
      return;
    }
    // What follows costs crypto: a source over its rate stops here (issue 10, point 5).
    const source = addressHost(remote);
    if (!this.#initialBuckets.take(source, now)) {
      this.#drop(DropReason.InitialRateLimited);
      return;
    }
    // No state for an Initial we cannot authenticate: forged or corrupted Initials would
    // otherwise each hold a half-open connection (and its TLS and HTTP/3 state) until timeout.
    if (!initialDecrypts(datagram, h)) {
      this.#drop(DropReason.InitialUndecryptable);
      return;
    }
    const verdict = judgeInitialToken(this.#tokens, h.token, remote, h.dcid, now);
    if (verdict.kind === 'invalid-retry') {
      // §8.1.2: a server "cannot send another Retry packet"; it "SHOULD immediately close ... the
      // connection with an INVALID_TOKEN error".
      this.#refuse(h.dcid, h.scid, TransportErrorCode.INVALID_TOKEN, remote);
      this.#drop(DropReason.InvalidRetryToken);
      return;
    }
    const admission = this.#admission;
    const full = admission.connectionRefusal(source, this.#slots.size);
    if (full !== undefined) {
      // §5.2.2: a server refusing a connection "SHOULD send an Initial packet containing a
      // CONNECTION_CLOSE frame with error code CONNECTION_REFUSED".
      this.#refuse(h.dcid, h.scid, TransportErrorCode.CONNECTION_REFUSED, remote);
      this.#drop(REFUSAL_DROP[full]);
      return;
    }
    const validated = verdict.kind === 'retry' || verdict.kind === 'new-token';
    if (!validated && this.#retryRequired(source)) {
      this.#sendRetry(h.dcid, h.scid, remote, now);
      return;
    }
    // Half-open limits hold for every Initial, also one whose token proved its address (§8
    // validates addresses, not intentions): dropping is the cheapest refusal, and the client
    // retransmits its Initial later.
    const busy = admission.halfOpenRefusal(source);
    if (busy !== undefined) {
      this.#drop(REFUSAL_DROP[busy]);
      return;
    }
    const info: ServerInitialInfo = {
      dcid: h.dcid.slice(),
      scid: h.scid.slice(),
      token: h.token.slice(),
      version: h.version,
      originalDcid: verdict.kind === 'retry' ? verdict.originalDcid.slice() : h.dcid.slice(),
      retrySourceCid: verdict.kind === 'retry' ? verdict.retryScid.slice() : undefined,
      addressValidated: validated,
    };
    const conn = this.#createServer(info, remote, now, { endpoint: this });
    const slot = new ConnectionSlot(conn);
    admission.admit(conn, source);
    slot.halfOpen = true;
    // §5.2: until the client switches to our CIDs, its Initial and 0-RTT packets carry this DCID;
    // the route stays for the connection's life so a late Initial cannot start a second one.
    this.#routes.add(info.dcid, slot);
    this.#events.push({ type: 'connection', conn });
    this.#adopt(slot, remote);
    if (conn.state !== 'closed') {
      conn.receive(datagram, remote, now);
      this.#afterActivity(slot);
    }
  }

  /**
   * Whether an Initial without a valid token from `source` must first prove its address: always,
   * never, or 'under-load' while many handshakes are half-open overall or from this source.
   */
  #retryRequired(source: string): boolean {
    if (this.#retry === 'always') return true;
    if (this.#retry === 'never') return false;
    const a = this.#admission;
    return (
      a.halfOpen >= this.#retryThreshold || a.halfOpenFrom(source) >= a.limits.maxHalfOpenPerSource
    );
  }

  /** Stops counting a server connection as half-open once it has left the handshake. */
  #settleHandshake(slot: ConnectionSlot<C>): void {
    if (slot.conn.state === 'handshaking') return;
    slot.halfOpen = false;
    this.#admission.settle(slot.conn);
  }

  #sendRetry(odcid: Uint8Array, clientScid: Uint8Array, remote: string, now: number): void {
    const retryScid = this.#freshCid(Math.max(MIN_INITIAL_DCID_LENGTH, this.#cidLength));
    const token = this.#tokens.sealRetry(remote, now, odcid, retryScid);
    this.#stats.retrySent++;
    this.#enqueue({
      data: buildRetry(clientScid, odcid, retryScid, token, randomBytes(this.#random, 1)[0]),
      to: remote,
    });
  }

  #refuse(clientDcid: Uint8Array, clientScid: Uint8Array, code: number, remote: string): void {
    const scid = this.#freshCid(Math.max(MIN_INITIAL_DCID_LENGTH, this.#cidLength));
    this.#stats.refusalsSent++;
    this.#enqueue({ data: buildInitialClose(clientDcid, clientScid, scid, code), to: remote });
  }

  /** A random CID of `length` bytes that routes nowhere (naming this worker, when steered). */
  #freshCid(length: number): Uint8Array {
    for (;;) {
      const cid = randomBytes(this.#random, length);
      this.#steering?.mark(cid);
      if (!this.isCidRouted(cid)) return cid;
    }
  }

  // --- bookkeeping ---

  #adopt(slot: ConnectionSlot<C>, remote: string): void {
    this.#slots.set(slot.conn, slot);
    this.#noteRemote(slot, remote);
    this.#schedule.touch(slot);
    this.#afterActivity(slot);
  }

  #afterActivity(slot: ConnectionSlot<C>): void {
    if (slot.halfOpen) this.#settleHandshake(slot);
    this.#drainCids(slot);
    if (slot.conn.state === 'closed') this.#remove(slot);
  }

  #drainCids(slot: ConnectionSlot<C>): void {
    const conn = slot.conn;
    for (let e = conn.pollCidEvent(); e !== undefined; e = conn.pollCidEvent()) {
      if (e.type === 'cid-added') this.#routes.add(e.cid.slice(), slot);
      else this.#routes.remove(e.cid, slot);
    }
  }

  #noteRemote(slot: ConnectionSlot<C>, remote: string): void {
    const old = slot.remote;
    if (old === remote) return;
    if (old !== undefined) this.#unindexRemote(slot, old);
    slot.remote = remote;
    const set = this.#byRemote.get(remote);
    if (set === undefined) this.#byRemote.set(remote, new Set([slot]));
    else set.add(slot);
  }

  #unindexRemote(slot: ConnectionSlot<C>, remote: string): void {
    const set = this.#byRemote.get(remote);
    if (set === undefined) return;
    set.delete(slot);
    if (set.size === 0) this.#byRemote.delete(remote);
  }

  #remove(slot: ConnectionSlot<C>): void {
    if (slot.removed) return;
    const conn = slot.conn;
    this.#slots.delete(conn);
    this.#schedule.forget(slot);
    this.#routes.removeConnection(slot);
    if (slot.remote !== undefined) this.#unindexRemote(slot, slot.remote);
    slot.halfOpen = false;
    this.#admission.remove(conn);
    this.#events.push({ type: 'closed', conn });
  }

  /** Queues a datagram of the endpoint's own and gives the queue a turn. */
  #enqueue(t: Transmit): void {
    this.#queue.push(t);
    this.#schedule.touchOwn();
  }

  #dequeue(): Transmit | undefined {
    if (this.#queueHead === this.#queue.length) return undefined;
    const t = this.#queue[this.#queueHead++];
    if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
    }
    return t;
  }

  #drop(reason: DropReason): void {
    this.#stats.dropped[reason]++;
  }
}

/** The drop counter of each admission refusal. */
const REFUSAL_DROP: Readonly<Record<AdmissionRefusal, DropReason>> = {
  'connection-limit': DropReason.ConnectionLimit,
  'source-connection-limit': DropReason.SourceConnectionLimit,
  'half-open-limit': DropReason.HalfOpenLimit,
  'source-half-open-limit': DropReason.SourceHalfOpenLimit,
};

/** True once a connection neither sends nor processes packets (draining or closed). */
function isTerminal(conn: EndpointConnection): boolean {
  return conn.state === 'draining' || conn.state === 'closed';
}

/**
 * True when the client Initial in `datagram` decrypts with the Initial keys derived from its DCID
 * (RFC 9001 §5.2). Works on a copy: protection is removed in place, and the connection created
 * afterwards decrypts the original again.
 */
function initialDecrypts(datagram: Uint8Array, h: LongHeader): boolean {
  const packet = datagram.slice(h.start, h.packetEnd);
  try {
    PacketProtector.fromKeys(INITIAL_SUITE, initialKeys(h.dcid).client).open(
      packet,
      h.pnOffset - h.start,
      -1,
    );
    return true;
  } catch (err) {
    if (err instanceof CryptoError || err instanceof CodecError) return false;
    throw err;
  }
}
