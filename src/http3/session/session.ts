/**
 * An HTTP/3 session (RFC 9114) over an abstract QUIC transport, sans-IO, for both roles.
 *
 * Inputs: `handleEvent(quicEvent, now)`, `handleTimeout(now)` at `nextTimeout`, and the API calls
 * (`request`, `respond`, `sendData`, ...). Outputs: the `H3Event`s `handleEvent` and
 * `handleTimeout` return, and calls on the `QuicTransport`.
 *
 * This file routes; the work is done by `LocalStreams` (our control / QPACK / grease streams),
 * `UniStreams` (the peer's), `RequestStreams` + `RequestStream` (message framing, validation,
 * stream errors), `QpackLink`, `MessageWriter` + `SendQueue` (HEADERS / DATA out, backpressure),
 * `DatagramRouter`, `CapsuleStream` and `GoawayState`. Protocol errors are thrown deep as
 * `H3Error` / `QpackError` / `CapsuleError` and caught at one boundary (`handleEvent`) that
 * closes the connection or aborts the stream, per the error's scope. API misuse throws
 * `H3UsageError` and sends nothing.
 *
 * Event order matters only per stream; no method may be called from inside `handleEvent`.
 */
import { SATURATED_ID } from '../../capsule/datagram.js';
import { CapsuleError } from '../../capsule/errors.js';
import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { QpackError } from '../../qpack/errors.js';
import type { QuicAppEvent, QuicTransport } from '../../quic/api.js';
import type { Random } from '../../util/random.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import { encodeFrame, type H3BufferedFrame } from '../frames.js';
import { CapsuleStream } from './capsule-stream.js';
import { DatagramRouter } from './datagrams.js';
import { BidiRoute, ExtensionStreams } from './extension-streams.js';
import { GOAWAY_MAX_SERVER, GoawayState } from './goaway.js';
import { HeaderWatch } from './header-watch.js';
import { LocalStreams } from './local-streams.js';
import { MessageWriter, prepareRequest, prepareResponse, prepareTrailers } from './outgoing.js';
import { QpackLink, type QpackStats } from './qpack-link.js';
import { RequestStream, type RequestStreamHost, SendPhase } from './request-stream.js';
import { RequestStreams } from './request-streams.js';
import { SendQueue } from './send-queue.js';
import {
  localSettings,
  peerSettings,
  type ResolvedOptions,
  resolveOptions,
} from './settings-policy.js';
import {
  type H3Event,
  type H3Headers,
  type H3Role,
  type H3SessionOptions,
  H3UsageError,
  type PeerSettings,
} from './types.js';
import { UniStreams } from './uni-streams.js';

const EMPTY = new Uint8Array(0);

/** Counters for tests and diagnostics. */
export interface H3SessionStats extends QpackStats {
  /** Request streams open. */
  readonly activeStreams: number;
  /** Datagrams held for streams not yet ready, and datagrams evicted so far. */
  readonly bufferedDatagrams: number;
  readonly droppedDatagrams: number;
  /** Bytes of incomplete request header sections held now. */
  readonly incompleteHeaderBytes: number;
  /** Request streams reset because incomplete header sections held too many bytes. */
  readonly headerRefusals: number;
  /** Request streams reset because their header section did not complete in time. */
  readonly headerTimeouts: number;
}

export class H3Session {
  readonly role: H3Role;
  readonly #transport: QuicTransport;
  readonly #opts: ResolvedOptions;
  readonly #send: SendQueue;
  readonly #local: LocalStreams;
  readonly #uni: UniStreams;
  readonly #streams: RequestStreams;
  readonly #qpack: QpackLink;
  readonly #writer: MessageWriter;
  #peer: PeerSettings | undefined;
  readonly #goaway: GoawayState;
  #draining = false;
  #maxPushId: bigint | undefined;
  readonly #dgrams = new DatagramRouter();
  readonly #ext: ExtensionStreams;
  readonly #host: RequestStreamHost;
  #started = false;
  #closing = false;
  #closed = false;
  /** Time of the event being handled, when the caller gave one. */
  #now: number | undefined;
  readonly #headers: HeaderWatch<RequestStream>;
  /** Output of the event being handled (the hooks below append to it). */
  #out: H3Event[] = [];

  constructor(
    transport: QuicTransport,
    role: H3Role,
    random: Random,
    options: H3SessionOptions = {},
  ) {
    this.role = role;
    this.#transport = transport;
    this.#opts = resolveOptions(options);
    this.#send = new SendQueue(transport);
    this.#local = new LocalStreams(
      transport,
      this.#send,
      random,
      localSettings(this.#opts),
      this.#opts.grease,
    );
    this.#goaway = new GoawayState(role);
    this.#qpack = new QpackLink(this.#local, this.#opts);
    this.#writer = new MessageWriter(this.#send, this.#qpack);
    const qpack = this.#qpack;
    this.#headers = new HeaderWatch(
      this.#opts.maxIncompleteHeaderBytes,
      this.#opts.headerTimeout,
      options.headerBudget,
    );
    const host: RequestStreamHost = {
      role,
      acceptExtendedConnect: this.#opts.enableConnectProtocol,
      maxBlockedBytes: this.#opts.maxBlockedStreamBytes,
      decodeSection: (streamId, block) => qpack.decode(streamId, block),
      headersDelivered: (stream, out) => {
        this.#chooseCapsuleMode(stream, out);
        this.#dgrams.flush(stream, out);
      },
    };
    this.#streams = new RequestStreams({
      role,
      transport,
      send: this.#send,
      qpack,
      writer: this.#writer,
      dgrams: this.#dgrams,
      host,
      maxEncodedFieldSection: this.#opts.maxEncodedFieldSection,
      onForget: () => this.#checkDrained(),
      headers: this.#headers,
      now: () => this.#now,
    });
    this.#host = host;
    const ext = new ExtensionStreams(
      transport,
      this.#send,
      this.#opts.extensionBidiSignals,
      this.#opts.extensionUniTypes,
    );
    this.#ext = ext;
    this.#uni = new UniStreams(role, {
      onControlFrame: (frame) => this.#onControlFrame(frame),
      onEncoderStream: (data) => this.#onEncoderStream(data),
      onDecoderStream: (data) => qpack.onDecoderStream(data),
      stopSending: (id, code) => this.#transport.stopSending(id, code),
      isExtensionType: (type) => ext.isUniType(type),
      onExtensionStream: (id, type, rest, fin) => ext.onUniStart(id, type, rest, fin, this.#out),
      onExtensionData: (id, data, fin) => ext.onUniData(id, data, fin, this.#out),
    });
  }

  // -------------------------------------------------------------------------------------------
  // State

  /** The peer's SETTINGS, once received. */
  get peerSettings(): PeerSettings | undefined {
    return this.#peer;
  }

  /** True when HTTP/3 datagrams may be sent: both SETTINGS say H3_DATAGRAM=1 (RFC 9297 §2.1.1). */
  get datagramsEnabled(): boolean {
    return (
      this.#opts.h3Datagram &&
      this.#peer?.h3Datagram === true &&
      this.#transport.maxDatagramPayload > 0
    );
  }

  /** Our control / QPACK encoder / QPACK decoder stream IDs, once opened. */
  get localStreamIds(): { control?: number; encoder?: number; decoder?: number } {
    return {
      control: this.#local.controlStreamId,
      encoder: this.#local.encoderStreamId,
      decoder: this.#local.decoderStreamId,
    };
  }

  /** The identifier of the last GOAWAY received, if any (exact). */
  get goawayReceived(): bigint | undefined {
    return this.#goaway.received;
  }

  get stats(): H3SessionStats {
    return {
      ...this.#qpack.stats,
      activeStreams: this.#streams.size,
      bufferedDatagrams: this.#dgrams.buffered,
      droppedDatagrams: this.#dgrams.dropped,
      incompleteHeaderBytes: this.#headers.bytes,
      headerRefusals: this.#headers.refused,
      headerTimeouts: this.#headers.timedOut,
    };
  }

  /** Bytes queued on a stream that the transport has not accepted yet. */
  bufferedAmount(streamId: number): number {
    return this.#send.buffered(streamId);
  }

  // -------------------------------------------------------------------------------------------
  // Transport events: the error boundary

  /** Opens our control, QPACK and grease streams and sends SETTINGS. Idempotent. */
  start(): void {
    if (this.#started || this.#closing) return;
    this.#started = true;
    this.#local.open();
  }

  /**
   * Consumes one transport event; returns what it means for HTTP/3. `now` (ms) starts the header
   * deadline of a request stream it opens; without it no deadline is kept.
   */
  handleEvent(ev: QuicAppEvent, now?: number): H3Event[] {
    const out: H3Event[] = [];
    if (this.#closed) return out;
    this.#now = now;
    if (ev.type === 'connection-closed') {
      this.#closing = true;
      this.#closed = true;
      this.#streams.clear();
      this.#ext.clear();
      out.push({ type: 'closed', info: ev.info });
      return out;
    }
    if (this.#closing) return out;
    this.#out = out;
    let streamId = -1;
    try {
      switch (ev.type) {
        case 'handshake-complete':
          this.start();
          break;
        case 'stream-data':
          streamId = ev.streamId;
          // Unidirectional streams carry data to us only when the peer opened them.
          if ((streamId & 2) !== 0) this.#uni.onData(streamId, ev.data, ev.fin);
          else this.#onBidiData(streamId, ev.data, ev.fin, out);
          break;
        case 'stream-reset':
          streamId = ev.streamId;
          if ((streamId & 2) !== 0) {
            this.#uni.onReset(streamId);
            this.#ext.onReset(streamId, ev.errorCode, out);
          } else if (this.#ext.onReset(streamId, ev.errorCode, out)) {
            if (this.role === 'server' && (streamId & 1) === 0)
              this.#streams.seen.add(streamId / 4);
          } else {
            this.#streams.onReset(streamId, ev.errorCode, out);
          }
          break;
        case 'stop-sending':
          streamId = ev.streamId;
          if (this.#ext.onStopSending(streamId, ev.errorCode, out)) break;
          if ((streamId & 2) === 0) this.#streams.onStopSending(streamId, ev.errorCode, out);
          else if (this.#local.isCritical(streamId)) {
            // §6.2.1 / RFC 9204 §4.2: "the receiver MUST NOT request that the sender close" these.
            throw new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `STOP_SENDING on ${streamId}`);
          }
          break;
        case 'stream-writable':
          if (this.#send.flush(ev.streamId)) {
            if (this.#streams.has(ev.streamId)) {
              out.push({ type: 'writable', streamId: ev.streamId });
            } else if (this.#ext.has(ev.streamId)) {
              out.push({ type: 'writable', streamId: ev.streamId });
              this.#ext.flushed(ev.streamId);
            }
          }
          break;
        case 'streams-available':
          if (!ev.bidirectional) this.#local.open();
          else if (this.role === 'client') out.push({ type: 'streams-available' });
          break;
        case 'datagram':
          this.#onDatagram(ev.data, out);
          break;
        case 'datagrams-writable':
          out.push({ type: 'datagrams-writable' });
          break;
      }
    } catch (err) {
      this.#onError(err, streamId, out);
    }
    if (!this.#closing) this.#qpack.flush();
    return out;
  }

  /** When {@link handleTimeout} has work: the earliest header deadline, if any. */
  get nextTimeout(): number | undefined {
    return this.#closing ? undefined : this.#headers.nextDeadline();
  }

  /** Resets request streams whose header section is overdue at `now`. */
  handleTimeout(now: number): H3Event[] {
    const out: H3Event[] = [];
    if (this.#closing) return out;
    this.#out = out;
    this.#now = now;
    try {
      this.#streams.expireHeaders(now, out);
    } catch (err) {
      this.#onError(err, -1, out);
    }
    if (!this.#closing) this.#qpack.flush();
    return out;
  }

  /**
   * The one error boundary: stream-scoped errors on a request stream abort that stream, others
   * close the connection with their code. Anything else is a bug: H3_INTERNAL_ERROR, rethrown.
   */
  #onError(err: unknown, streamId: number, out: H3Event[]): void {
    let code: number;
    let scope: 'stream' | 'connection';
    if (err instanceof H3Error || err instanceof CapsuleError) {
      code = err.code;
      scope = err.scope;
    } else if (err instanceof QpackError) {
      // RFC 9204 §6: QPACK errors are connection errors.
      code = err.code;
      scope = 'connection';
    } else {
      this.#closeWithError(H3ErrorCode.H3_INTERNAL_ERROR, 'internal error', out);
      throw err;
    }
    const s = scope === 'stream' ? this.#streams.get(streamId) : undefined;
    if (s !== undefined) {
      this.#streams.abort(s, code, err.message, out);
    } else {
      this.#closeWithError(code, err.message, out);
    }
  }

  #closeWithError(code: number, reason: string, out: H3Event[]): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#transport.close(code, reason);
    out.push({ type: 'connection-error', code, reason });
  }

  /**
   * Data on a bidirectional stream: a request stream, or (with `extensionBidiSignals`) a stream
   * whose first varint hands it to an extension. Undecided streams are held by `ExtensionStreams`
   * until that varint is complete; a stream that turns out to be a request gets it replayed.
   */
  #onBidiData(id: number, data: Uint8Array, fin: boolean, out: H3Event[]): void {
    const ext = this.#ext;
    if ((ext.bidiEnabled || ext.size > 0) && !this.#streams.has(id)) {
      const server = this.role === 'server';
      const peer = (id & 1) === (server ? 0 : 1);
      const fresh = peer && (!server || !this.#streams.seen.has(id / 4));
      const route = ext.onBidiData(id, data, fin, peer, fresh, out);
      if (route === BidiRoute.TAKEN) {
        // GOAWAY accounting counts every client-initiated bidirectional stream that arrived.
        if (server && peer && ext.has(id)) this.#streams.seen.add(id / 4);
        return;
      }
      if (route === BidiRoute.REPLAY) {
        const prefix = ext.replayPrefix;
        const rest = ext.replayRest;
        this.#streams.onData(id, prefix, fin && rest.length === 0, out);
        if (rest.length > 0) this.#streams.onData(id, rest, fin, out);
        return;
      }
    }
    this.#streams.onData(id, data, fin, out);
  }

  // -------------------------------------------------------------------------------------------
  // Control and QPACK streams

  #onControlFrame(frame: H3BufferedFrame): void {
    if (this.#closing) return; // e.g. a client that closed on the previous GOAWAY
    switch (frame.kind) {
      case 'SETTINGS':
        this.#onSettings(peerSettings(frame.settings, this.#opts.acceptLegacyH3Datagram));
        return;
      case 'GOAWAY':
        this.#onGoaway(frame.id);
        return;
      case 'MAX_PUSH_ID':
        // §7.2.7: "receipt of a MAX_PUSH_ID frame that contains a smaller value than previously
        // received MUST be treated as a connection error of type H3_ID_ERROR". (A client never
        // gets here: the frame parser refuses MAX_PUSH_ID from a server.)
        if (this.#maxPushId !== undefined && frame.pushId < this.#maxPushId) {
          throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'MAX_PUSH_ID decreased');
        }
        this.#maxPushId = frame.pushId;
        return;
      case 'CANCEL_PUSH':
        // §7.2.3: a push ID "greater than currently allowed" (a client: we never allow any) or,
        // at a server, "not yet mentioned by a PUSH_PROMISE" (we never promise) "MUST be treated as
        // a connection error of type H3_ID_ERROR".
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, `CANCEL_PUSH ${frame.pushId}: no such push`);
      default:
        // HEADERS / PUSH_PROMISE never pass the control-stream parser.
        throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `${frame.kind} on the control stream`);
    }
  }

  #onSettings(peer: PeerSettings): void {
    this.#peer = peer;
    this.#qpack.onPeerSettings(peer);
    this.#out.push({ type: 'settings', settings: peer });
  }

  #onGoaway(id: bigint): void {
    this.#goaway.receive(id);
    const out = this.#out;
    out.push({ type: 'goaway', id: id > BigInt(SATURATED_ID) ? SATURATED_ID : Number(id) });
    if (this.role !== 'client') return;
    this.#streams.rejectFrom(id, out);
    this.#checkDrained();
  }

  #onEncoderStream(data: Uint8Array): void {
    const unblocked = this.#qpack.onEncoderStream(data);
    const out = this.#out;
    for (let i = 0; i < unblocked.length && !this.#closing; i++) {
      const s = this.#streams.get(unblocked[i]);
      if (s === undefined) continue;
      try {
        s.resume(this.#host, out);
        if (this.role === 'server') this.#streams.checkHeaders(s);
        this.#streams.maybeForget(s);
      } catch (err) {
        this.#onError(err, s.id, out);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Datagrams (RFC 9297 §2.1)

  #onDatagram(data: Uint8Array, out: H3Event[]): void {
    // We never offered datagrams (or the peer said it sends none): drop.
    if (!this.#opts.h3Datagram || this.#peer?.h3Datagram === false) return;
    this.#dgrams.receive(data, this.#streams.lookup, this.#streams.mayArrive, out);
  }

  /**
   * Sends an HTTP/3 datagram on a request stream. Returns false when the transport's queue is
   * full or the stream's sending side is not open (RFC 9297 §2.1: "MUST NOT be sent unless the
   * corresponding stream's send side is open"). Throws `DatagramTooLargeError` from the transport.
   */
  sendDatagram(streamId: number, payload: Uint8Array): boolean {
    this.#assertOpen();
    if (!this.datagramsEnabled) {
      // RFC 9297 §2.1.1: "QUIC DATAGRAM frames MUST NOT be sent until the SETTINGS_H3_DATAGRAM
      // setting has been both sent and received with a value of 1."
      throw new H3UsageError('DATAGRAMS_UNAVAILABLE', 'HTTP/3 datagrams are not negotiated');
    }
    const s = this.#streams.get(streamId);
    if (s === undefined || s.sendPhase >= SendPhase.DONE) return false;
    return this.#transport.sendDatagram(DatagramRouter.encode(streamId, payload));
  }

  // -------------------------------------------------------------------------------------------
  // Extension streams (see `extension-streams.ts`)

  /**
   * Opens a stream for an extension and queues `header` on it (e.g. WebTransport's signal and
   * session ID); returns the stream ID. Throws `H3UsageError` STREAM_LIMIT at the peer's limit.
   */
  openExtensionStream(bidirectional: boolean, header: Uint8Array): number {
    this.#assertOpen();
    const id = this.#ext.open(bidirectional, header);
    if (id === undefined) throw new H3UsageError('STREAM_LIMIT', 'stream limit reached');
    return id;
  }

  /** Writes bytes to an extension stream (queued when the transport is full; see `writable`). */
  writeExtensionStream(streamId: number, data: Uint8Array, fin = false): void {
    this.#assertOpen();
    if (!this.#ext.has(streamId)) {
      throw new H3UsageError('UNKNOWN_STREAM', `no extension stream ${streamId}`);
    }
    if (!this.#ext.canWrite(streamId)) {
      throw new H3UsageError('STREAM_CLOSED', `stream ${streamId}: sending side finished`);
    }
    this.#ext.write(streamId, data, fin);
  }

  /** Resets the sending side of an extension stream (no-op when unknown or already reset). */
  resetExtensionStream(streamId: number, code: number): void {
    if (this.#closing) return;
    this.#ext.reset(streamId, code);
  }

  /** Stops reading an extension stream (STOP_SENDING; no-op when unknown or finished). */
  stopExtensionStream(streamId: number, code: number): void {
    if (this.#closing) return;
    this.#ext.stopReading(streamId, code);
  }

  // -------------------------------------------------------------------------------------------
  // Sending messages

  /** Client: sends a request header section on a new request stream; returns its stream ID. */
  request(headers: H3Headers, options: { endStream?: boolean } = {}): number {
    this.#assertOpen();
    if (this.role !== 'client') throw new H3UsageError('WRONG_ROLE', 'only a client requests');
    if (this.#goaway.received !== undefined || this.#draining) {
      // §5.2: "Endpoints MUST NOT initiate new requests ... after receipt of a GOAWAY frame".
      throw new H3UsageError('GOAWAY', 'the connection is going away');
    }
    const { fields, info } = prepareRequest(headers, this.#peer);
    const id = this.#transport.openStream(true);
    if (id === undefined) throw new H3UsageError('STREAM_LIMIT', 'request stream limit reached');
    const s = new RequestStream(id, 'server', this.#opts.maxEncodedFieldSection);
    s.method = info.method;
    s.isConnect = info.method === 'CONNECT';
    this.#streams.add(s);
    const fin = options.endStream === true;
    this.#writer.writeSection(id, fields, fin);
    s.sendPhase = fin ? SendPhase.DONE : SendPhase.HEADERS;
    return id;
  }

  /** Server: sends an interim (1xx) or the final response header section. */
  respond(streamId: number, headers: H3Headers, options: { endStream?: boolean } = {}): void {
    this.#assertOpen();
    if (this.role !== 'server') throw new H3UsageError('WRONG_ROLE', 'only a server responds');
    const s = this.#stream(streamId);
    if (s.sendPhase > SendPhase.INTERIM) {
      throw new H3UsageError('STREAM_CLOSED', `stream ${streamId} already has a final response`);
    }
    const { fields, status } = prepareResponse(headers, this.#peer);
    const interim = status < 200;
    if (interim && options.endStream === true) {
      throw new H3UsageError('INVALID_STATE', 'an interim response cannot end the stream');
    }
    const fin = options.endStream === true;
    this.#writer.writeSection(streamId, fields, fin);
    s.sendPhase = interim ? SendPhase.INTERIM : fin ? SendPhase.DONE : SendPhase.HEADERS;
    this.#streams.maybeForget(s);
  }

  /** Sends content (one DATA frame), optionally ending the stream. */
  sendData(streamId: number, data: Uint8Array, fin = false): void {
    this.#assertOpen();
    const s = this.#stream(streamId);
    this.#assertBody(s);
    this.#writer.writeData(streamId, data, fin);
    if (fin) {
      s.sendPhase = SendPhase.DONE;
      this.#streams.maybeForget(s);
    }
  }

  /** Ends our side of the stream cleanly (FIN). */
  endStream(streamId: number): void {
    this.sendData(streamId, EMPTY, true);
  }

  /** Sends a trailer section and ends the stream. */
  sendTrailers(streamId: number, headers: H3Headers): void {
    this.#assertOpen();
    const s = this.#stream(streamId);
    this.#assertBody(s);
    if (s.isConnect) {
      // §4.4: "Once the CONNECT method has completed, only DATA frames are permitted".
      throw new H3UsageError(
        'INVALID_STATE',
        `stream ${streamId}: no trailers on a CONNECT stream`,
      );
    }
    this.#writer.writeSection(streamId, prepareTrailers(headers, this.#peer), true);
    s.sendPhase = SendPhase.DONE;
    this.#streams.maybeForget(s);
  }

  /**
   * Cancels a request stream in both directions (§4.1.1). Clients SHOULD use the default,
   * H3_REQUEST_CANCELLED; a server that did not process the request uses H3_REQUEST_REJECTED.
   */
  resetRequest(streamId: number, code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    this.#assertOpen();
    this.#streams.cancel(this.#stream(streamId), code);
    this.#qpack.flush();
  }

  /**
   * A tunnel's header section was just pushed to `out` (last): asks `capsuleMode` whether its DATA
   * is capsules, before any DATA that followed in the same packet is parsed.
   */
  #chooseCapsuleMode(stream: RequestStream, out: H3Event[]): void {
    const hook = this.#opts.capsuleMode;
    if (hook === undefined || !stream.tunnel) return;
    const ev = out[out.length - 1];
    if (ev === undefined || (ev.type !== 'request' && ev.type !== 'headers')) return;
    const options = hook({
      role: this.role,
      streamId: stream.id,
      headers: ev.headers,
      protocol: ev.type === 'request' ? ev.protocol : undefined,
    });
    if (options === undefined) return;
    stream.enableCapsules(options);
    ev.capsules = true;
  }

  /** Treats the stream's DATA payload as capsules from now on (RFC 9297 §3.2). */
  enableCapsules(streamId: number, options?: CapsuleParserOptions): void {
    this.#stream(streamId).enableCapsules(options);
  }

  /** Bytes of HTTP datagrams queued in the transport and not yet sent (all streams). */
  get queuedDatagramBytes(): number {
    return this.#transport.queuedDatagramBytes ?? 0;
  }

  /** False while the transport asks datagram senders to pause (until `datagrams-writable`). */
  get datagramsWritable(): boolean {
    return this.#transport.datagramsWritable ?? true;
  }

  /** Sends one capsule as the payload of a DATA frame. */
  sendCapsule(streamId: number, type: number | bigint, value: Uint8Array): void {
    this.sendData(streamId, CapsuleStream.encode(type, value));
  }

  /**
   * Graceful shutdown (§5.2). With `announce`, sends GOAWAY with the largest identifier (server:
   * 2^62 - 4) so the peer stops opening requests, and nothing else. Otherwise sends GOAWAY with
   * the first request stream the server will not process (client: push ID 0, as we allow no
   * pushes) and refuses new requests. A client then closes with H3_NO_ERROR once its requests
   * have finished; a server reports {@link H3Session.drained}.
   */
  shutdown(options: { announce?: boolean } = {}): void {
    this.#assertOpen();
    let wanted: bigint;
    if (this.role === 'server') {
      const max = this.#streams.seen.max;
      wanted =
        options.announce === true
          ? GOAWAY_MAX_SERVER
          : BigInt(max === undefined ? 0 : (max + 1) * 4);
    } else {
      wanted = 0n;
    }
    const id = this.#goaway.next(wanted);
    if (this.role === 'server') this.#streams.refuseFrom = id;
    this.#local.writeControl(encodeFrame({ kind: 'GOAWAY', id }));
    if (options.announce !== true) {
      this.#draining = true;
      this.#checkDrained();
    }
  }

  /** Closes the connection now with an application error code (default H3_NO_ERROR). */
  close(code: number = H3ErrorCode.H3_NO_ERROR, reason = ''): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#transport.close(code, reason);
  }

  /**
   * Server: true once a final GOAWAY was sent, every request below its identifier has arrived and
   * every accepted request has finished. The application then closes (`close()`) when it judges
   * the last responses delivered, or lets the connection go idle (§5.2): closing the moment the
   * last response is queued could discard it unsent.
   */
  get drained(): boolean {
    if (!this.#draining || this.#streams.size > 0) return false;
    const limit = this.#goaway.sent;
    if (this.role === 'server' && limit !== undefined && limit > 0n) {
      return this.#streams.seen.covers(0, Number(limit / 4n));
    }
    return true;
  }

  /**
   * Client: after a GOAWAY (received or sent), closes with H3_NO_ERROR once its last request has
   * finished: every response it waited for has been received in full, so nothing is lost (§5.2:
   * "An endpoint that completes a graceful shutdown SHOULD use the H3_NO_ERROR error code").
   */
  #checkDrained(): void {
    if (this.role !== 'client' || this.#closing || this.#streams.size > 0) return;
    if (this.#goaway.received === undefined && !this.#draining) return;
    this.close(H3ErrorCode.H3_NO_ERROR, 'graceful shutdown');
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  #stream(streamId: number): RequestStream {
    const s = this.#streams.get(streamId);
    if (s === undefined) throw new H3UsageError('UNKNOWN_STREAM', `no request stream ${streamId}`);
    return s;
  }

  #assertBody(s: RequestStream): void {
    if (s.sendPhase < SendPhase.HEADERS) {
      throw new H3UsageError('INVALID_STATE', `stream ${s.id}: no header section sent yet`);
    }
    if (s.sendPhase > SendPhase.HEADERS) {
      throw new H3UsageError('STREAM_CLOSED', `stream ${s.id}: sending side finished`);
    }
  }

  #assertOpen(): void {
    if (this.#closing) throw new H3UsageError('CLOSED', 'the session is closed');
  }
}
