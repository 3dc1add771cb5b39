/**
 * A sans-IO QUIC version 1 connection (RFC 9000, RFC 9001, RFC 9002, RFC 9221).
 *
 * Driven by three inputs — `receive(datagram, remote, now)`, `handleTimeout(now)` and the
 * application's calls — and read through `pollTransmit(now)`, `nextTimeout()`, `pollEvent()` and
 * `pollCidEvent()`. A driver loops: feed input, then call `pollTransmit` until it returns
 * undefined, then re-arm its one timer at `nextTimeout()`.
 *
 * `now` is milliseconds on the driver's clock, and should be the wall clock (`Date.now()`-based,
 * e.g. `performance.timeOrigin + performance.now()`): TLS checks certificate validity against it.
 * Datagrams passed to `receive` are decrypted in place and must not be reused by the caller.
 *
 * This class routes; the work lives in `receive.ts`, `frame-handlers.ts`, `handshake.ts`,
 * `send.ts`, `close.ts` and `migration.ts`, all acting on one {@link ConnectionCore}. Errors thrown
 * below (`TransportError`, TLS alerts) are caught here, at one boundary, and become
 * CONNECTION_CLOSE.
 */
import { randomBytes } from '../../util/random.js';
import { DatagramTooLargeError, type QuicAppEvent, type QuicTransport } from '../api.js';
import type { PmtudState } from '../path/index.js';
import { initialKeys, PacketProtector } from '../protection/index.js';
import { INITIAL_SUITE } from '../protection/initial.js';
import { StreamApiError, StreamApiErrorCode } from '../streams/index.js';
import { onLossTimeout } from './ack-handler.js';
import {
  closeOnError,
  enterClosing,
  onCloseTimers,
  onKeepAlive,
  onPacketWhileClosing,
} from './close.js';
import {
  type ClientConfig,
  type ParsedInitialInfo,
  resolveMaxUdpPayload,
  resolveSettings,
  type ServerConfig,
} from './config.js';
import { type CidEvent, ConnectionCore, type ConnectionState } from './core.js';
import { applyPeerTransportParameters, localTransportParameters, pumpTls } from './handshake.js';
import { onPathTimers } from './migration.js';
import { DatagramBuilder } from './packet-builder.js';
import { maxDatagramPayload, onPmtuTimer, pmtuDeadline } from './pmtu.js';
import { receiveDatagram } from './receive.js';
import { buildDatagram, type Transmit } from './send.js';
import { defaultTlsFactory } from './tls-adapter.js';

/** Smallest client-chosen Destination Connection ID (RFC 9000 §7.2: at least 8 bytes). */
const CLIENT_DCID_LENGTH = 8;

export class QuicConnection implements QuicTransport {
  readonly #c: ConnectionCore;
  readonly #builder: DatagramBuilder;

  private constructor(core: ConnectionCore) {
    this.#c = core;
    // Room for the largest probe PMTU discovery may send (the configured ceiling).
    this.#builder =
      core.qlog !== undefined
        ? new DatagramBuilder(core.pmtuCeiling, true)
        : DatagramBuilder.shared(core.pmtuCeiling);
  }

  /** A client connection to `config.remote`; its first Initial is ready to send. */
  static client(config: ClientConfig, now: number): QuicConnection {
    const settings = resolveSettings(config.transport);
    const cidLength = config.cidLength ?? 8;
    const dcid = randomBytes(config.random, CLIENT_DCID_LENGTH);
    const c = new ConnectionCore(
      'client',
      config,
      settings,
      cidLength,
      resolveMaxUdpPayload(config.maxUdpPayload),
      config.remote,
      undefined,
      dcid,
      dcid,
      now,
    );
    if (config.token !== undefined) c.initialToken = config.token.slice();
    installInitialKeys(c, dcid);
    const transportParams = localTransportParameters(c, config.extraTransportParameters);
    const factory = config.tlsFactory ?? defaultTlsFactory;
    c.tls = factory({
      role: 'client',
      options: config.tls,
      alpn: config.alpn,
      transportParams,
      now,
      random: config.random,
    });
    pumpTls(c, now);
    return new QuicConnection(c);
  }

  /**
   * A server connection for a client whose first Initial the endpoint parsed (`first`), coming
   * from `remote`. Feed that Initial's datagram with `receive` next.
   */
  static server(
    config: ServerConfig,
    first: ParsedInitialInfo,
    remote: string,
    now: number,
  ): QuicConnection {
    const settings = resolveSettings(config.transport);
    const cidLength = config.cidLength ?? 8;
    const c = new ConnectionCore(
      'server',
      config,
      settings,
      cidLength,
      resolveMaxUdpPayload(config.maxUdpPayload),
      remote,
      config.localCid ??
        config.generateCid?.(config.random) ??
        randomBytes(config.random, cidLength),
      first.scid,
      config.originalDcid ?? first.dcid,
      now,
    );
    c.peerInitialScid = first.scid.slice();
    c.retrySourceCid = config.retrySourceCid?.slice();
    if (config.addressValidated) c.path.amp.setValidated();
    c.newTokenPending = undefined;
    installInitialKeys(c, first.dcid);
    const transportParams = localTransportParameters(c, config.extraTransportParameters);
    const factory = config.tlsFactory ?? defaultTlsFactory;
    c.tls = factory({
      role: 'server',
      options: config.tls,
      alpn: config.alpn,
      transportParams,
      onPeerTransportParams: (raw) => applyPeerTransportParameters(c, raw),
      now,
      random: config.random,
    });
    const token = config.newToken?.(remote);
    if (token !== undefined) c.newTokenPending = token;
    return new QuicConnection(c);
  }

  /** @internal The connection state, for tests and diagnostics only. */
  get internals(): ConnectionCore {
    return this.#c;
  }

  // ---- driver interface ----

  get role(): 'client' | 'server' {
    return this.#c.role;
  }

  get state(): ConnectionState {
    return this.#c.state;
  }

  /**
   * One UDP datagram (possibly several coalesced packets) from `remote`. The connection takes the
   * bytes over: it decrypts them in place and its `datagram` events are views of them, so the
   * caller must not reuse the buffer (a socket's fresh datagram, or a copy).
   */
  receive(datagram: Uint8Array, remote: string, now: number): void {
    const c = this.#c;
    c.lastNow = now;
    if (c.terminated) return;
    if (c.state === 'closing') {
      // RFC 9000 §10.2.1: packets in the closing state are answered, not processed.
      onPacketWhileClosing(c, now);
      return;
    }
    try {
      receiveDatagram(c, datagram, remote, now);
    } catch (err) {
      closeOnError(c, err, now);
    }
  }

  /** The next datagram to send now, or undefined. */
  pollTransmit(now: number): Transmit | undefined {
    const c = this.#c;
    c.lastNow = now;
    try {
      return buildDatagram(c, this.#builder, now);
    } catch (err) {
      closeOnError(c, err, now);
      return undefined;
    }
  }

  /** The earliest deadline at which `handleTimeout` has work, or undefined. */
  nextTimeout(): number | undefined {
    const c = this.#c;
    if (c.state === 'closed') return undefined;
    let t = c.closeDeadline ?? Number.POSITIVE_INFINITY;
    if (c.terminated || c.state === 'closing')
      return t === Number.POSITIVE_INFINITY ? undefined : t;
    t = min(t, c.idleDeadline);
    if (c.state === 'established') {
      t = min(t, c.keepAliveDeadline);
      t = min(t, pmtuDeadline(c));
    }
    t = min(t, c.loss.lossDetectionDeadline());
    t = min(t, c.oneRtt?.discardDeadline);
    // Send-side deadlines (ACK delay, pacing, path challenges) are served by pollTransmit, which
    // the driver calls after every input: one already due was blocked by something only a later
    // input changes (window, amplification budget), so it is not reported again.
    const after = c.lastNow;
    t = minAfter(t, c.pacingDeadline, after);
    t = minAfter(t, c.path.validator?.deadline(), after);
    for (const s of c.spaces) {
      if (!s.discarded && s.received.hasNewPackets)
        t = minAfter(t, s.received.ackDeadline(), after);
    }
    return t === Number.POSITIVE_INFINITY ? undefined : t;
  }

  /** Runs the timers due at `now`. */
  handleTimeout(now: number): void {
    const c = this.#c;
    c.lastNow = now;
    try {
      onCloseTimers(c, now);
      if (c.terminated || c.state === 'closing') return;
      c.oneRtt?.onTimeout(now);
      onPathTimers(c, now);
      onKeepAlive(c, now);
      onPmtuTimer(c, now);
      const deadline = c.loss.lossDetectionDeadline();
      if (deadline !== undefined && deadline <= now) onLossTimeout(c, now);
    } catch (err) {
      closeOnError(c, err, now);
    }
  }

  /** Next application event, in order. */
  pollEvent(): QuicAppEvent | undefined {
    return this.#c.pollEvent();
  }

  /** Next change of the CIDs that route to this connection (for the endpoint). */
  pollCidEvent(): CidEvent | undefined {
    return this.#c.pollCidEvent();
  }

  // ---- connection IDs and handshake facts ----

  /** CIDs the peer may address us with (the endpoint's routing keys). */
  get localCids(): Uint8Array[] {
    return this.#c.localCids.active().map((e) => e.cid);
  }

  /** The CID we currently put in packets to the peer. */
  get peerCid(): Uint8Array | undefined {
    return this.#c.peerCids.current?.cid;
  }

  /** The client's original Destination Connection ID. */
  get originalDcid(): Uint8Array {
    return this.#c.originalDcid;
  }

  /** The negotiated ALPN protocol, once the handshake completed. */
  get alpn(): string | undefined {
    return this.#c.alpn;
  }

  /** The peer's transport parameters (defaults filled in), once known. */
  get peerTransportParameters(): ConnectionCore['peerParams'] {
    return this.#c.peerParams;
  }

  /** True once the handshake is confirmed (RFC 9001 §4.1.2). */
  get handshakeConfirmed(): boolean {
    return this.#c.handshakeConfirmed;
  }

  /** The remote address currently in use. */
  get remote(): string {
    return this.#c.path.remote;
  }

  /** Client: tokens from NEW_TOKEN frames, for a later connection (RFC 9000 §8.1.3). */
  get receivedTokens(): readonly Uint8Array[] {
    return this.#c.receivedTokens;
  }

  /** True once the handshake completed by resuming a session (no certificate exchanged). */
  get resumed(): boolean {
    return this.#c.resumed;
  }

  /** Client: the last TLS session ticket received, for resumption. */
  get sessionTicket(): unknown {
    return this.#c.ticket;
  }

  /** Diagnostics: RTT estimate, congestion window, bytes in flight, packets dropped. */
  get stats(): {
    smoothedRtt: number;
    cwnd: number;
    bytesInFlight: number;
    undecryptable: number;
    keyGeneration: number;
    lostPackets: number;
    ptoCount: number;
    persistentCongestions: number;
    ssthresh: number;
    /** Queued DATAGRAM payloads dropped because the path shrank below them. */
    datagramsDroppedTooLarge: number;
  } {
    const c = this.#c;
    return {
      smoothedRtt: c.rtt.smoothed,
      cwnd: c.loss.congestion.window(),
      bytesInFlight: c.loss.bytesInFlight,
      undecryptable: c.undecryptable,
      keyGeneration: c.oneRtt?.writeGeneration ?? 0,
      lostPackets: c.lostPackets,
      ptoCount: c.ptoCount,
      persistentCongestions: c.persistentCongestions,
      ssthresh: c.loss.congestion.slowStartThreshold(),
      datagramsDroppedTooLarge: c.datagramsDroppedTooLarge,
    };
  }

  /**
   * Requests a 1-RTT key update (RFC 9001 §6). It happens with the next packet once the handshake
   * is confirmed and the peer acknowledged a packet of the current keys.
   */
  keyUpdate(): void {
    this.#c.keyUpdateRequested = true;
  }

  /**
   * Switches the Destination Connection ID to an unused one the peer issued and retires the old one
   * (RFC 9000 §5.1.2, §9.5: e.g. to avoid linkability). Returns false when none is available.
   */
  rotatePeerCid(): boolean {
    return this.#c.peerCids.rotate() !== undefined;
  }

  /** Test hook: lower the AEAD limits of the 1-RTT keys (RFC 9001 §6.6) before they exist. */
  setAeadLimitsForTesting(limits: { confidentiality?: number; integrity?: number }): void {
    this.#c.aeadLimits = limits;
  }

  // ---- QuicTransport ----

  openStream(bidirectional: boolean): number | undefined {
    const c = this.#c;
    if (c.state !== 'established') return undefined;
    return c.streams.openStream(bidirectional) ?? undefined;
  }

  writeStream(streamId: number, data: Uint8Array, fin = false): number {
    const c = this.#c;
    const send = c.streams.sendStream(streamId);
    if (send === null) {
      const known = c.streams.get(streamId) !== undefined;
      throw new StreamApiError(
        known ? StreamApiErrorCode.WRONG_DIRECTION : StreamApiErrorCode.UNKNOWN_STREAM,
        known ? `stream ${streamId} is receive-only` : `stream ${streamId} is not open`,
      );
    }
    // Nothing more leaves a connection that is closing: the true capacity is 0.
    if (c.state !== 'established') return 0;
    const accepted = send.write(data);
    if (fin && accepted === data.length) send.end();
    return accepted;
  }

  writableBytes(streamId: number): number {
    const c = this.#c;
    if (c.state !== 'established') return 0;
    return c.streams.sendStream(streamId)?.writableBytes ?? 0;
  }

  resetStream(streamId: number, errorCode: number): void {
    this.#c.streams.sendStream(streamId)?.reset(errorCode);
  }

  stopSending(streamId: number, errorCode: number): void {
    this.#c.streams.recvStream(streamId)?.stopSending(errorCode);
  }

  sendDatagram(data: Uint8Array): boolean {
    const c = this.#c;
    const max = this.maxDatagramPayload;
    if (data.length > max) throw new DatagramTooLargeError(data.length, max);
    if (
      c.datagrams.length >= c.datagramQueueSize ||
      c.queuedDatagramBytes + data.length > c.datagramQueueBytes
    ) {
      c.datagramsBlocked = true;
      return false;
    }
    c.datagrams.push(data);
    c.queuedDatagramBytes += data.length;
    if (c.queuedDatagramBytes > c.datagramQueueBytes / 4) c.datagramsBlocked = true;
    return true;
  }

  /** Bytes of DATAGRAM payloads queued and not yet sent. */
  get queuedDatagramBytes(): number {
    return this.#c.queuedDatagramBytes;
  }

  /**
   * False while the datagram queue is above its high-water mark (a quarter of its byte bound) or
   * after a refusal, until `datagrams-writable`: senders should pause, as with stream writes.
   */
  get datagramsWritable(): boolean {
    return !this.#c.datagramsBlocked;
  }

  /**
   * Largest payload `sendDatagram` accepts now: it follows the path's maximum datagram size as
   * PMTU discovery raises or lowers it (a `max-datagram-payload` event says when).
   */
  get maxDatagramPayload(): number {
    return maxDatagramPayload(this.#c);
  }

  /**
   * PMTU discovery on the current path (RFC 9000 §14.3): its state, the maximum datagram size in
   * use (`current`), the ceiling, and what it counted.
   */
  get pmtu(): {
    state: PmtudState;
    current: number;
    ceiling: number;
    probesSent: number;
    probesAcked: number;
    probesLost: number;
    blackHoles: number;
  } {
    const d = this.#c.path.pmtud;
    return { state: d.state, current: d.current, ceiling: d.ceiling, ...d.counters };
  }

  close(errorCode: number, reason = ''): void {
    const c = this.#c;
    if (c.terminated || c.state === 'closing') return;
    enterClosing(c, { errorCode, frameType: 0, reason, app: true }, c.lastNow);
  }
}

function installInitialKeys(c: ConnectionCore, dcid: Uint8Array): void {
  const keys = initialKeys(dcid);
  const s = c.initialSpace;
  const mine = c.role === 'client' ? keys.client : keys.server;
  const theirs = c.role === 'client' ? keys.server : keys.client;
  s.writeKeys = PacketProtector.fromKeys(INITIAL_SUITE, mine);
  s.readKeys = PacketProtector.fromKeys(INITIAL_SUITE, theirs);
}

function min(a: number, b: number | undefined): number {
  return b !== undefined && b < a ? b : a;
}

function minAfter(a: number, b: number | undefined, after: number): number {
  return b !== undefined && b > after && b < a ? b : a;
}
