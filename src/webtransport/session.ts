/**
 * A WebTransport session at the server (draft-ietf-webtrans-http3 §3-§5): the extended CONNECT
 * stream with `:protocol webtransport` is the session; its ID is that stream's ID. The session
 * offers the peer's bidirectional and unidirectional streams as async iterables, HTTP/3
 * datagrams (quarter stream ID of the CONNECT stream, no context ID), streams of our own, and
 * the close handshake:
 *
 * - The CONNECT stream's DATA carries capsules (draft §5): CLOSE_WEBTRANSPORT_SESSION (code +
 *   reason) and DRAIN_WEBTRANSPORT_SESSION are understood, DATAGRAM capsules count as datagrams,
 *   others are skipped (RFC 9297 §3.2).
 * - `close()` sends CLOSE_WEBTRANSPORT_SESSION and ends the stream (FIN); on the peer's
 *   capsule we end ours too. Once the session is over its streams are reset and stopped with
 *   WT_SESSION_GONE (draft §6).
 */
import type { Capsule } from '../capsule/types.js';
import { H3ErrorCode } from '../http3/errors.js';
import { H3UsageError } from '../http3/session/index.js';
import { AsyncQueue } from '../runtime/h3/async-queue.js';
import type { ConnectCloseInfo } from '../runtime/h3/connect-session.js';
import { type HeadersInit, headerValue, toFields } from '../runtime/h3/headers.js';
import type { ServerConnectSession } from '../runtime/server/server-connect.js';
import {
  decodeCloseSessionValue,
  encodeCloseSessionValue,
  type WtCloseSession,
} from './capsules.js';
import { WtConnection, type WtSessionHandle } from './connection.js';
import { DRAFT_RESPONSE_HEADER, DRAFT02_REQUEST_HEADER, WtCapsuleType } from './constants.js';
import { WebTransportError } from './errors.js';
import { encodeWtStreamHeader } from './stream-header.js';
import { WtStreamSink } from './stream-sink.js';
import type {
  WebTransportBidiStream,
  WebTransportReceiveStream,
  WebTransportSendStream,
  WtStreamLimits,
} from './streams.js';

/** How a session ended. */
export interface WebTransportCloseInfo extends WtCloseSession {
  /**
   * `closed`: a CLOSE_WEBTRANSPORT_SESSION was exchanged, or the CONNECT stream ended cleanly
   * (code 0, empty reason, draft §5); `reset`: the CONNECT stream was reset; `connection`.
   */
  readonly kind: 'closed' | 'reset' | 'connection';
  /** True when the peer closed first. */
  readonly byPeer: boolean;
}

/** Options of a {@link WebTransportSession}. */
export interface WebTransportSessionOptions extends WtStreamLimits {
  /** Unread incoming streams held per direction before new ones are refused. Default 256. */
  readonly streamBacklog?: number;
  /** Unread datagrams kept for `datagrams()`; older ones are dropped beyond it. Default 1024. */
  readonly datagramBacklog?: number;
}

export class WebTransportSession implements WtSessionHandle {
  /** The CONNECT stream's ID. */
  readonly sessionId: number;
  /** The extended CONNECT exchange that carries the session. */
  readonly connect: ServerConnectSession;
  readonly limits: WtStreamLimits;
  readonly #conn: WtConnection;
  readonly #bidi = new AsyncQueue<WebTransportBidiStream>();
  readonly #uni = new AsyncQueue<WebTransportReceiveStream>();
  readonly #backlog: number;
  readonly #sinks = new Set<WtStreamSink>();
  #dgramListeners: Array<(payload: Uint8Array) => void> = [];
  #dgramQueue: AsyncQueue<Uint8Array> | undefined;
  readonly #datagramBacklog: number;
  #droppedDatagrams = 0;
  #accepted = false;
  #closeSent: WtCloseSession | undefined;
  #closeReceived: WtCloseSession | undefined;
  #drainReceived = false;
  #info: WebTransportCloseInfo | undefined;
  readonly #closed: Promise<WebTransportCloseInfo>;
  #resolve!: (info: WebTransportCloseInfo) => void;

  constructor(connect: ServerConnectSession, options: WebTransportSessionOptions = {}) {
    this.connect = connect;
    this.sessionId = connect.streamId;
    this.limits = { maxBuffered: options.maxBuffered, highWaterMark: options.highWaterMark };
    this.#backlog = options.streamBacklog ?? 256;
    this.#datagramBacklog = options.datagramBacklog ?? 1024;
    this.#closed = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#conn = WtConnection.of(connect.driver, this.limits);
    connect.onCapsule((c) => this.#onCapsule(c));
    connect.onDatagram((payload) => this.#onDatagram(payload));
    void connect.closed.then((info) => this.#onConnectClosed(info));
    this.#conn.register(this);
  }

  /** `:path` of the CONNECT request. */
  get path(): string {
    return this.connect.path;
  }

  /** The `origin` request header (browsers send it, draft §3.2). */
  get origin(): string | undefined {
    return headerValue(this.connect.headers, 'origin');
  }

  /** True when the client offered the draft-02 handshake (`sec-webtransport-http3-draft02`). */
  get draft02(): boolean {
    return headerValue(this.connect.headers, DRAFT02_REQUEST_HEADER) !== undefined;
  }

  get accepted(): boolean {
    return this.#accepted;
  }

  /** Settles once the session is over. Never rejects. */
  get closed(): Promise<WebTransportCloseInfo> {
    return this.#closed;
  }

  get closeInfo(): WebTransportCloseInfo | undefined {
    return this.#info;
  }

  /** True once the peer sent DRAIN_WEBTRANSPORT_SESSION. */
  get draining(): boolean {
    return this.#drainReceived;
  }

  /** Answers 200 (with `sec-webtransport-http3-draft: draft02`, which draft-02 clients expect). */
  accept(headers?: HeadersInit): void {
    const fields: Array<[string, string]> = [[DRAFT_RESPONSE_HEADER, 'draft02']];
    for (const f of toFields(headers)) fields.push(f);
    this.connect.accept(fields);
    this.#accepted = true;
  }

  /** Refuses the session with a non-2xx status. */
  reject(status: number, headers?: HeadersInit): void {
    this.connect.reject(status, headers);
  }

  // ---- streams ----

  /** The peer's bidirectional streams, in arrival order. */
  incomingBidirectionalStreams(): AsyncIterable<WebTransportBidiStream> {
    return this.#bidi;
  }

  /** The peer's unidirectional streams, in arrival order. */
  incomingUnidirectionalStreams(): AsyncIterable<WebTransportReceiveStream> {
    return this.#uni;
  }

  /** Opens a bidirectional stream (after `accept`). */
  createBidirectionalStream(): WebTransportBidiStream {
    return this.#open(true).bidi;
  }

  /** Opens a unidirectional stream (after `accept`). */
  createUnidirectionalStream(): WebTransportSendStream {
    return this.#open(false).send!;
  }

  #open(bidirectional: boolean): WtStreamSink {
    if (!this.#accepted || this.#info !== undefined) {
      throw new WebTransportError('INVALID_STATE', 'the session is not open');
    }
    const driver = this.connect.driver;
    let id: number;
    try {
      id = driver.session.openExtensionStream(
        bidirectional,
        encodeWtStreamHeader(bidirectional, this.sessionId),
      );
    } catch (err) {
      if (err instanceof H3UsageError && err.code === 'STREAM_LIMIT') {
        throw new WebTransportError('STREAM_LIMIT', 'the peer allows no more streams now');
      }
      throw err;
    }
    driver.kick();
    const sink = WtStreamSink.outgoing(driver, id, bidirectional, this.limits);
    this.#track(sink);
    return sink;
  }

  /** WtSessionHandle: a peer's stream for this session. */
  adopt(sink: WtStreamSink): void {
    const waiting = sink.bidirectional ? this.#bidi.length : this.#uni.length;
    if (this.#info !== undefined || waiting >= this.#backlog) {
      sink.abandon(new WebTransportError('SESSION_GONE', 'stream refused'), true);
      return;
    }
    this.#track(sink);
    if (sink.bidirectional) this.#bidi.push(sink.bidi);
    else this.#uni.push(sink.recv!);
  }

  #track(sink: WtStreamSink): void {
    this.#sinks.add(sink);
    sink.onFinished = () => this.#sinks.delete(sink);
  }

  // ---- datagrams ----

  /**
   * Datagrams as an async iterable of copies; beyond `datagramBacklog` unread ones the oldest
   * are dropped (datagrams are unreliable). One consumer.
   */
  datagrams(): AsyncIterable<Uint8Array> {
    if (this.#dgramQueue === undefined) {
      this.#dgramQueue = new AsyncQueue<Uint8Array>();
      if (this.#info !== undefined) this.#dgramQueue.end();
    }
    return this.#dgramQueue;
  }

  /** Calls `cb` for each datagram (a view valid during the call). Returns an unsubscribe. */
  onDatagram(cb: (payload: Uint8Array) => void): () => void {
    this.#dgramListeners.push(cb);
    return () => {
      this.#dgramListeners = this.#dgramListeners.filter((l) => l !== cb);
    };
  }

  /** Datagrams dropped because the iterator's backlog was full. */
  get droppedDatagrams(): number {
    return this.#droppedDatagrams;
  }

  #onDatagram(payload: Uint8Array): void {
    if (this.#info !== undefined) return;
    const listeners = this.#dgramListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i](payload);
    const q = this.#dgramQueue;
    if (q === undefined || q.ended) return;
    if (q.length >= this.#datagramBacklog) {
      q.dropOldest();
      this.#droppedDatagrams++;
    }
    q.push(payload.slice());
  }

  /**
   * Sends a datagram. Returns false when it was not queued. Without negotiated HTTP/3 datagrams
   * it goes as a DATAGRAM capsule on the CONNECT stream (RFC 9297 §3.5).
   */
  sendDatagram(payload: Uint8Array): boolean {
    if (this.#info !== undefined || this.#closeSent !== undefined) return false;
    return this.connect.sendDatagram(payload);
  }

  /** Largest datagram payload that fits now (0: none). */
  get maxDatagramSize(): number {
    const max = this.connect.driver.connection.maxDatagramPayload;
    // The quarter stream ID prefix: at most 8 bytes.
    return Math.max(0, max - 8);
  }

  // ---- closing ----

  /** Asks the peer to wrap up (DRAIN_WEBTRANSPORT_SESSION, draft §5). */
  drain(): void {
    if (this.#info !== undefined || this.#closeSent !== undefined) return;
    this.connect.sendCapsule(WtCapsuleType.DRAIN_WEBTRANSPORT_SESSION, new Uint8Array(0));
  }

  /** Closes the session: CLOSE_WEBTRANSPORT_SESSION, then FIN on the CONNECT stream. */
  close(close: WtCloseSession = { code: 0, reason: '' }): void {
    if (this.#info !== undefined || this.#closeSent !== undefined) return;
    const value = encodeCloseSessionValue(close);
    this.#closeSent = close;
    if (!this.#accepted) {
      this.connect.close();
      return;
    }
    this.connect.sendCapsule(WtCapsuleType.CLOSE_WEBTRANSPORT_SESSION, value);
    this.connect.close();
    this.#endStreams(true);
  }

  /** Capsules the session parsed on the CONNECT stream (DATAGRAM capsules arrive as datagrams). */
  #onCapsule(c: Capsule): void {
    if (this.#closeReceived !== undefined) {
      // draft §5: "If any additional stream data is received on the CONNECT stream after
      // receiving a CLOSE_WEBTRANSPORT_SESSION capsule, the stream MUST be reset with code
      // H3_MESSAGE_ERROR."
      this.connect.abort(H3ErrorCode.H3_MESSAGE_ERROR);
      return;
    }
    switch (c.type) {
      case WtCapsuleType.CLOSE_WEBTRANSPORT_SESSION:
        this.#closeReceived = decodeCloseSessionValue(c.value);
        // draft §5: the receiver of the capsule closes its side of the CONNECT stream too.
        this.connect.close();
        this.#endStreams(true);
        return;
      case WtCapsuleType.DRAIN_WEBTRANSPORT_SESSION:
        this.#drainReceived = true;
        return;
    }
  }

  #onConnectClosed(info: ConnectCloseInfo): void {
    const byPeer = this.#closeSent === undefined;
    let result: WebTransportCloseInfo;
    if (info.kind === 'end') {
      const c = this.#closeReceived ?? this.#closeSent ?? { code: 0, reason: '' };
      result = { kind: 'closed', code: c.code, reason: c.reason, byPeer };
    } else {
      const c = this.#closeReceived ?? { code: 0, reason: '' };
      result = { kind: info.kind, code: c.code, reason: c.reason, byPeer };
    }
    this.#info = result;
    this.#endStreams(info.kind !== 'connection');
    this.#conn.unregister(this);
    this.#bidi.end();
    this.#uni.end();
    this.#dgramQueue?.end();
    this.#resolve(result);
  }

  /** Ends every stream of the session (draft §6: WT_SESSION_GONE both ways). */
  #endStreams(signal: boolean): void {
    if (this.#sinks.size === 0) return;
    const err = new WebTransportError('SESSION_GONE', 'the WebTransport session is over');
    // Snapshot: abandoning a stream removes it from the set.
    for (const sink of [...this.#sinks]) sink.abandon(err, signal);
    this.#sinks.clear();
  }
}
