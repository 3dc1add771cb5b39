/**
 * One extended CONNECT stream (RFC 9220) as an application session, for both roles: HTTP/3
 * datagrams (RFC 9297 §2), capsules (RFC 9297 §3) when both sides use the Capsule Protocol, or
 * plain tunnelled bytes for protocols without it. The server's handler gets it before answering
 * (`accept` / `reject`, see `ServerConnectSession`); the client gets it after a 2xx.
 *
 * Capsules are parsed by the sans-IO session (`src/capsule`'s parser, one path): the session
 * asks the driver, as the tunnel's header section arrives, whether the stream carries them
 * (`capsuleMode`: the server's handler options, or the client's request), so DATA in the same
 * packet is parsed too; a malformed capsule stream is a stream error there (RFC 9297 §3.3).
 *
 * Datagrams and tunnel bytes that arrive before the first consumer is attached (the client's
 * `await connect()` resumes a microtask after the 2xx was dispatched) are held, capped, and
 * handed to the first listener or iterator.
 *
 * Lifetime: the tunnel ends when either side ends or resets the stream. When the peer ends its
 * side cleanly we end ours too (after what is queued), so `closed` settles once the stream is
 * finished both ways, reset, or the connection is gone.
 */
import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { type Capsule, CapsuleType } from '../../capsule/types.js';
import { H3ErrorCode } from '../../http3/errors.js';
import { type H3Headers, H3UsageError } from '../../http3/session/index.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import { varintLength } from '../../wire/varint.js';
import { AsyncQueue } from './async-queue.js';
import type { SessionDriver, StreamEvent, StreamSink } from './driver.js';
import { StreamWriter } from './stream-writer.js';

/** Tuning of a {@link ConnectSession}. */
export interface ConnectSessionOptions {
  /** Capsule types to deliver besides DATAGRAM, with their largest accepted length. */
  readonly knownCapsules?: Iterable<readonly [type: number, maxLength: number]>;
  /** Unread datagrams kept for the iterator; older ones are dropped beyond it. Default 4096. */
  readonly datagramBacklog?: number;
  /** Unread capsule / tunnel bytes held before the stream is aborted. Default 4 MiB. */
  readonly maxBuffered?: number;
  /** High-water mark of the send backlog. Default 256 KiB. */
  readonly highWaterMark?: number;
}

/** How a session ended. */
export interface ConnectCloseInfo {
  /** `end`: both sides ended cleanly; `reset`: a stream reset or stream error; `connection`. */
  readonly kind: 'end' | 'reset' | 'connection';
  /** The HTTP/3 error code of a reset / stream error / connection close. */
  readonly code?: number;
}

type Listener<T> = (item: T) => void;

export class ConnectSession implements StreamSink {
  readonly streamId: number;
  /** The extended CONNECT request's header section. */
  readonly headers: H3Headers;
  /** The connection's driver (extensions such as WebTransport reach the session through it). */
  readonly driver: SessionDriver;
  protected readonly writer: StreamWriter;
  /** Capsule mode: DATA payload is a sequence of capsules. */
  #capsuleMode = false;
  /** How the session parses this stream's capsules, when it carries them. */
  protected readonly parserOptions: CapsuleParserOptions;
  readonly #maxBuffered: number;
  readonly #datagramBacklog: number;
  #dgramListeners: Array<Listener<Uint8Array>> = [];
  #dgramQueue: AsyncQueue<Uint8Array> | undefined;
  #capsuleListeners: Array<Listener<Capsule>> = [];
  #capsuleBacklog: Capsule[] = [];
  #dataListeners: Array<Listener<Uint8Array>> = [];
  #dataQueue: AsyncQueue<Uint8Array> | undefined;
  /** Datagrams and tunnel bytes that arrived before any consumer (copies, capped). */
  #dgramStash: Uint8Array[] = [];
  #dataStash: Uint8Array[] = [];
  #dataStashBytes = 0;
  #heldBytes = 0;
  #recvDone = false;
  #droppedDatagrams = 0;
  #discardedCapsules = 0;
  #offs: Array<() => void> = [];
  #closeInfo: ConnectCloseInfo | undefined;
  readonly #closed: Promise<ConnectCloseInfo>;
  #resolveClosed!: (info: ConnectCloseInfo) => void;

  constructor(
    driver: SessionDriver,
    streamId: number,
    headers: H3Headers,
    options: ConnectSessionOptions = {},
  ) {
    this.driver = driver;
    this.streamId = streamId;
    this.headers = headers;
    this.writer = new StreamWriter(driver, streamId, options.highWaterMark);
    this.parserOptions = { known: options.knownCapsules };
    this.#maxBuffered = options.maxBuffered ?? 4 * 1024 * 1024;
    this.#datagramBacklog = options.datagramBacklog ?? 4096;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Settles when the session is over (see module header). Never rejects. */
  get closed(): Promise<ConnectCloseInfo> {
    return this.#closed;
  }

  /** How the session ended, once it has. */
  get closeInfo(): ConnectCloseInfo | undefined {
    return this.#closeInfo;
  }

  /** True when the stream's DATA is parsed as capsules. */
  get capsuleMode(): boolean {
    return this.#capsuleMode;
  }

  /** Datagrams dropped because nobody read them in time (iterator backlog full). */
  get droppedDatagrams(): number {
    return this.#droppedDatagrams;
  }

  /** Capsules received and skipped unread (unknown types, DATAGRAM capsules above the cap). */
  get discardedCapsules(): number {
    return this.#discardedCapsules;
  }

  /** True when HTTP/3 datagrams travel as QUIC DATAGRAM frames (else as DATAGRAM capsules). */
  get datagramsEnabled(): boolean {
    return this.driver.session.datagramsEnabled;
  }

  /**
   * Largest HTTP datagram payload (after the Quarter Stream ID, RFC 9297 §2.1) that rides one
   * QUIC DATAGRAM frame now; 0 when QUIC datagrams are not in use. It follows path MTU discovery
   * (the connection's `max-datagram-payload` event).
   */
  get maxDatagramPayload(): number {
    if (!this.datagramsEnabled) return 0;
    const max = this.driver.connection.maxDatagramPayload;
    return Math.max(0, max - varintLength(this.streamId / 4));
  }

  /** False while the transport asks datagram senders to pause (see `onDatagramsWritable`). */
  get datagramsWritable(): boolean {
    return this.driver.session.datagramsWritable;
  }

  /**
   * Calls `cb` when the transport has room again after refusing a datagram (connection-wide).
   * Returns an unsubscribe; ends with the session.
   */
  onDatagramsWritable(cb: () => void): () => void {
    const off = this.driver.onDatagramsWritable(cb);
    this.#offs.push(off);
    return off;
  }

  /** Bytes queued on the stream that the transport has not accepted yet. */
  get bufferedAmount(): number {
    return this.writer.bufferedAmount;
  }

  /** The session parses this stream's DATA as capsules (its header event said `capsules`). */
  protected enableCapsules(): void {
    this.#capsuleMode = true;
  }

  // ---- datagrams (RFC 9297 §2) ----

  /**
   * Sends an HTTP/3 datagram. Returns false when it was not queued (transport queue full, or the
   * stream's send side is closed). Without negotiated HTTP/3 datagrams, in capsule mode, it is
   * sent as a DATAGRAM capsule instead (RFC 9297 §3.5). Throws `DatagramTooLargeError`.
   */
  sendDatagram(payload: Uint8Array): boolean {
    if (this.#closeInfo !== undefined) return false;
    const session = this.driver.session;
    if (!session.datagramsEnabled && this.#capsuleMode) {
      return this.writer.capsule(CapsuleType.DATAGRAM, payload);
    }
    let ok: boolean;
    try {
      ok = session.sendDatagram(this.streamId, payload);
    } catch (err) {
      if (err instanceof H3UsageError && err.code === 'CLOSED') return false;
      throw err;
    }
    if (ok) this.driver.kickDatagrams();
    return ok;
  }

  /** Calls `cb` for every datagram (a view valid during the call). Returns an unsubscribe. */
  onDatagram(cb: Listener<Uint8Array>): () => void {
    this.#dgramListeners.push(cb);
    const stash = this.#takeDatagramStash();
    for (const d of stash) cb(d);
    return () => {
      this.#dgramListeners = this.#dgramListeners.filter((l) => l !== cb);
    };
  }

  /** Datagrams as an async iterable (copies; the oldest are dropped beyond the backlog cap). */
  datagrams(): AsyncIterable<Uint8Array> {
    if (this.#dgramQueue === undefined) {
      this.#dgramQueue = new AsyncQueue<Uint8Array>();
      for (const d of this.#takeDatagramStash()) this.#dgramQueue.push(d);
      if (this.#closeInfo !== undefined) this.#dgramQueue.end();
    }
    return this.#dgramQueue;
  }

  // ---- capsules (RFC 9297 §3) ----

  /** Sends one capsule. Returns false when the send backlog is above the high-water mark. */
  sendCapsule(type: number | bigint, value: Uint8Array): boolean {
    if (!this.#capsuleMode) {
      throw new H3UsageError('INVALID_STATE', 'the Capsule Protocol is not in use on this stream');
    }
    return this.writer.capsule(type, value);
  }

  /**
   * Calls `cb` for each known capsule, in order. Capsules that arrived before the first listener
   * are delivered to it at once. Values are copies the listener may keep.
   */
  onCapsule(cb: Listener<Capsule>): () => void {
    this.#capsuleListeners.push(cb);
    const backlog = this.#capsuleBacklog;
    if (backlog.length > 0) {
      this.#capsuleBacklog = [];
      this.#heldBytes = 0;
      for (const c of backlog) cb(c);
    }
    return () => {
      this.#capsuleListeners = this.#capsuleListeners.filter((l) => l !== cb);
    };
  }

  // ---- tunnelled bytes (protocols without the Capsule Protocol) ----

  /** Writes tunnel bytes (DATA). Returns false above the high-water mark. */
  write(data: Uint8Array): boolean {
    if (this.#capsuleMode) {
      throw new H3UsageError('INVALID_STATE', 'this stream carries capsules: use sendCapsule');
    }
    return this.writer.data(data);
  }

  /** Calls `cb` for each chunk of tunnel bytes (a view valid during the call). */
  onData(cb: Listener<Uint8Array>): () => void {
    this.#dataListeners.push(cb);
    for (const d of this.#takeDataStash()) cb(d);
    return () => {
      this.#dataListeners = this.#dataListeners.filter((l) => l !== cb);
    };
  }

  /** Tunnel bytes as an async iterable of copies. */
  data(): AsyncIterable<Uint8Array> {
    if (this.#dataQueue === undefined) {
      this.#dataQueue = new AsyncQueue<Uint8Array>((b) => b.length);
      for (const d of this.#takeDataStash()) this.#dataQueue.push(d);
      if (this.#recvDone) this.#dataQueue.end();
    }
    return this.#dataQueue;
  }

  /** Resolves when the send backlog is at or below the high-water mark. */
  drained(): Promise<void> {
    return this.writer.drained();
  }

  /** Ends our side cleanly (FIN); the session is over once the peer ends too. */
  close(): void {
    if (this.#closeInfo !== undefined) return;
    this.writer.end();
    this.#maybeDone();
  }

  /** Aborts both directions (RFC 9220 §2: a reset is H3_REQUEST_CANCELLED by default). */
  abort(code: number = H3ErrorCode.H3_REQUEST_CANCELLED): void {
    this.#abort(code, code);
  }

  /** Resets our side with `sendCode` and settles `closed` with `reportCode`. */
  #abort(sendCode: number, reportCode: number): void {
    if (this.#closeInfo !== undefined) return;
    try {
      this.driver.session.resetRequest(this.streamId, sendCode);
    } catch (err) {
      if (!(err instanceof H3UsageError)) throw err;
    }
    this.driver.kick();
    this.finish({ kind: 'reset', code: reportCode });
  }

  // ---- StreamSink ----

  onStreamEvent(ev: StreamEvent): void {
    switch (ev.type) {
      case 'datagram':
        this.#onDatagram(ev.payload);
        return;
      case 'data':
        if (ev.data.length > 0) this.#onBytes(ev.data);
        if (ev.fin) this.#onRemoteEnd();
        return;
      case 'capsule':
        this.#onCapsule(ev.capsule);
        return;
      case 'capsule-discarded':
        // RFC 9297 §3.2 / §3.5 let us drop these; we count them and say so at debug.
        this.#discardedCapsules++;
        this.driver.logger.debug(
          {
            streamId: this.streamId,
            capsuleType: ev.capsuleType,
            length: ev.length,
            reason: ev.reason,
          },
          'capsule discarded',
        );
        return;
      case 'writable':
        this.writer.onWritable();
        return;
      case 'reset':
        // The peer aborted the tunnel: abort ours too, and report the peer's code, not ours.
        this.#abort(H3ErrorCode.H3_REQUEST_CANCELLED, ev.code);
        return;
      case 'stop-sending':
        // The session already reset our side with the peer's code.
        this.writer.abort();
        this.abort(ev.code);
        return;
      case 'stream-error':
        this.finish({ kind: 'reset', code: ev.code });
        return;
      default:
        this.onOtherEvent(ev);
        // A header section (or trailers) may carry the end of the stream.
        if ('fin' in ev && ev.fin) this.#onRemoteEnd();
    }
  }

  onConnectionEnd(info: QuicCloseInfo): void {
    this.finish({ kind: 'connection', code: info.errorCode });
  }

  /** True once the peer ended its side of the stream. */
  protected get remoteEnded(): boolean {
    return this.#recvDone;
  }

  /** Whether our side may send DATA now (the server only after its answer). */
  protected canSend(): boolean {
    return true;
  }

  /** Role-specific events (headers, trailers, rejected). */
  protected onOtherEvent(_ev: StreamEvent): void {}

  /** Settles the session, detaches it and ends the iterators. Idempotent. */
  protected finish(info: ConnectCloseInfo): void {
    if (this.#closeInfo !== undefined) return;
    this.#closeInfo = info;
    this.writer.abort();
    this.driver.detach(this.streamId, this);
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#dgramQueue?.end();
    this.#dataQueue?.end();
    this.#resolveClosed(info);
  }

  #onDatagram(payload: Uint8Array): void {
    if (this.#closeInfo !== undefined) return;
    for (let i = 0; i < this.#dgramListeners.length; i++) this.#dgramListeners[i](payload);
    const q = this.#dgramQueue;
    if (q === undefined && this.#dgramListeners.length === 0) {
      // Nobody listens yet (e.g. the client's `await connect()` has not returned): hold a copy.
      if (this.#dgramStash.length >= this.#datagramBacklog) {
        this.#dgramStash.shift();
        this.#droppedDatagrams++;
      }
      this.#dgramStash.push(payload.slice());
      return;
    }
    if (q !== undefined && !q.ended) {
      if (q.length >= this.#datagramBacklog) {
        q.dropOldest();
        this.#droppedDatagrams++;
      }
      q.push(payload.slice());
    }
  }

  #onBytes(data: Uint8Array): void {
    if (this.#closeInfo !== undefined) return;
    for (let i = 0; i < this.#dataListeners.length; i++) this.#dataListeners[i](data);
    const q = this.#dataQueue;
    if (q === undefined && this.#dataListeners.length === 0) {
      this.#dataStashBytes += data.length;
      if (this.#dataStashBytes > this.#maxBuffered) {
        this.abort(H3ErrorCode.H3_EXCESSIVE_LOAD);
        return;
      }
      this.#dataStash.push(data.slice());
      return;
    }
    if (q !== undefined && !q.ended) {
      if (q.units + data.length > this.#maxBuffered) {
        this.abort(H3ErrorCode.H3_EXCESSIVE_LOAD);
        return;
      }
      q.push(data.slice());
    }
  }

  #takeDatagramStash(): Uint8Array[] {
    const stash = this.#dgramStash;
    if (stash.length > 0) this.#dgramStash = [];
    return stash;
  }

  #takeDataStash(): Uint8Array[] {
    const stash = this.#dataStash;
    if (stash.length > 0) {
      this.#dataStash = [];
      this.#dataStashBytes = 0;
    }
    return stash;
  }

  #onCapsule(c: Capsule): void {
    if (this.#closeInfo !== undefined) return;
    if (c.type === CapsuleType.DATAGRAM) {
      // RFC 9297 §3.5: a DATAGRAM capsule carries an HTTP Datagram, as a QUIC DATAGRAM would.
      this.#onDatagram(c.value);
      return;
    }
    const copy: Capsule = { type: c.type, value: c.value.slice() };
    if (this.#capsuleListeners.length === 0) {
      this.#heldBytes += copy.value.length;
      if (this.#heldBytes > this.#maxBuffered) {
        this.abort(H3ErrorCode.H3_EXCESSIVE_LOAD);
        return;
      }
      this.#capsuleBacklog.push(copy);
      return;
    }
    for (let i = 0; i < this.#capsuleListeners.length; i++) this.#capsuleListeners[i](copy);
  }

  /** The peer ended its side (also used when the request itself carried the FIN). */
  protected remoteEnd(): void {
    this.#onRemoteEnd();
  }

  #onRemoteEnd(): void {
    if (this.#closeInfo !== undefined || this.#recvDone) return;
    this.#recvDone = true;
    this.#dataQueue?.end();
    // The peer closed the tunnel: close ours (module header).
    if (!this.canSend()) return;
    this.writer.end();
    this.#maybeDone();
  }

  #maybeDone(): void {
    if (this.#recvDone && this.writer.ended) this.finish({ kind: 'end' });
  }
}
