/**
 * The one pump between a QUIC connection and its HTTP/3 session, shared by the server and the
 * client:
 *
 *   connection.pollEvent() → session.handleEvent(ev) → H3Event[] → dispatch
 *     - stream events go to the {@link StreamSink} attached to their stream ID
 *     - request / settings / goaway / streams-available / close go to the {@link DriverListener}
 *
 * Then the owner's `flush` (the UDP adapter's) sends what the calls queued. `pump()` is called by
 * the adapter's `onWake` (a flush follows it there); API calls made later, from async code, call
 * {@link SessionDriver.kick}, which coalesces every call of one tick into one pump + flush.
 *
 * Time: every event is handed to the session with the clock's `now`, and one timer per driver
 * follows `session.nextTimeout` (request header deadlines) and calls `handleTimeout` when due.
 *
 * Event byte views are valid only during dispatch (the next `handleEvent` may reuse them): sinks
 * copy what they keep. Sinks are called synchronously; an exception from one is logged and does
 * not stop the pump.
 */
import type { Logger } from 'pino';
import type { CapsuleParserOptions } from '../../capsule/parser.js';
import { H3ErrorCode } from '../../http3/errors.js';
import {
  type H3Event,
  type H3Role,
  H3Session,
  type H3SessionOptions,
  type PeerSettings,
  type TunnelHead,
} from '../../http3/session/index.js';
import type { QuicAppEvent, QuicCloseInfo, QuicTransport } from '../../quic/api.js';
import type { Clock, ScheduledTimer } from '../../util/clock.js';
import type { Random } from '../../util/random.js';
import { nodeClock } from '../clock.js';

/** A QUIC connection as the driver needs it: the transport plus its event queue. */
export interface DrivenConnection extends QuicTransport {
  pollEvent(): QuicAppEvent | undefined;
}

/** The H3 events that belong to one request stream. */
export type StreamEvent = Exclude<
  H3Event,
  {
    type:
      | 'request'
      | 'settings'
      | 'goaway'
      | 'streams-available'
      | 'connection-error'
      | 'closed'
      | 'extension-stream'
      | 'datagrams-writable';
  }
>;

/** A peer's stream handed to an extension (see `H3SessionOptions.extensionBidiSignals`). */
export type ExtensionStreamEvent = Extract<H3Event, { type: 'extension-stream' }>;

/** The server's view of a new request. */
export type RequestEvent = Extract<H3Event, { type: 'request' }>;

/** Receives the events of one stream. */
export interface StreamSink {
  /** An event of this stream; byte views are valid only during the call. */
  onStreamEvent(ev: StreamEvent): void;
  /** The connection ended while the stream was attached. */
  onConnectionEnd(info: QuicCloseInfo): void;
  /** Client: the 2xx of this tunnel arrived; capsule parser options if its DATA is capsules. */
  capsuleParsing?(head: TunnelHead): CapsuleParserOptions | undefined;
}

/** Receives the connection-wide events. Every method is optional. */
export interface DriverListener {
  /** Server: a request header section arrived (attach a sink to see its body). */
  onRequest?(ev: RequestEvent): void;
  onSettings?(settings: PeerSettings): void;
  onGoaway?(id: number): void;
  onStreamsAvailable?(): void;
  /** The transport refused a datagram earlier and has room again. */
  onDatagramsWritable?(): void;
  /** The connection is gone (after every sink heard `onConnectionEnd`). */
  onClosed?(info: QuicCloseInfo): void;
  /** Server: a tunnel was requested; capsule parser options if its DATA is capsules. */
  capsuleParsing?(head: TunnelHead): CapsuleParserOptions | undefined;
}

/** The HTTP/3 session a driver creates over its connection. */
export interface DriverSessionOptions {
  readonly role: H3Role;
  readonly random: Random;
  /** Session options; `capsuleMode` is the driver's own (see {@link SessionDriver}). */
  readonly options?: Omit<H3SessionOptions, 'capsuleMode'>;
}

/** What a driver needs from its owner. */
export interface DriverHost {
  /**
   * Sends what the driver's connection has queued, at the end of the event-loop turn (with what
   * else the turn brings: the ACK of received packets, other replies). The endpoint polls only
   * connections with pending work, so the host must flag this connection
   * (`UdpEndpoint.flush(conn)`), not just flush: API calls queue data it cannot otherwise see.
   */
  flush(): void;
  /**
   * Sends what the connection has queued now (`UdpEndpoint.flushNow(conn)`): stream writes, so
   * that stream data leaves before datagrams queued after it in the same turn. Default: `flush`.
   */
  flushNow?(): void;
  logger: Logger;
  /** Time for the session's deadlines. Default: the Node runtime's monotonic clock. */
  clock?: Clock;
}

export class SessionDriver {
  readonly connection: DrivenConnection;
  readonly session: H3Session;
  readonly #host: DriverHost;
  readonly #sinks = new Map<number, StreamSink>();
  #listener: DriverListener = {};
  #datagramWaiters: Array<() => void> = [];
  #kicked = false;
  /** A kick since the last pump asked for the send now (stream work), not at the turn's end. */
  #urgent = false;
  #pumping = false;
  #closeInfo: QuicCloseInfo | undefined;
  readonly #clock: Clock;
  #timer: ScheduledTimer | undefined;
  #timerAt: number | undefined;
  /** Bound once: the callback of the deadline timer. */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = undefined;
    const out = this.session.handleTimeout(this.#clock.now());
    for (let i = 0; i < out.length; i++) this.#dispatch(out[i]);
    this.#arm();
    this.#host.flush();
  };
  /** Bound once: the microtask of {@link SessionDriver.kick}. */
  readonly #onKick = (): void => {
    this.#kicked = false;
    const urgent = this.#urgent;
    this.#urgent = false;
    this.pump();
    if (urgent && this.#host.flushNow !== undefined) this.#host.flushNow();
    else this.#host.flush();
  };

  /**
   * Creates the connection's HTTP/3 session. Whether a tunnel's DATA is capsules (RFC 9297 §3.2)
   * is decided in the session as the tunnel's header section arrives: by the stream's sink when
   * one is attached (a client's CONNECT), else by the listener (a server's request).
   */
  constructor(connection: DrivenConnection, session: DriverSessionOptions, host: DriverHost) {
    this.connection = connection;
    this.session = new H3Session(connection, session.role, session.random, {
      ...session.options,
      capsuleMode: (head) => this.#capsuleMode(head),
    });
    this.#host = host;
    this.#clock = host.clock ?? nodeClock;
  }

  #capsuleMode(head: TunnelHead): CapsuleParserOptions | undefined {
    const sink = this.#sinks.get(head.streamId);
    if (sink !== undefined) return sink.capsuleParsing?.(head);
    return this.#listener.capsuleParsing?.(head);
  }

  /** Sets who hears the connection-wide events. */
  listen(listener: DriverListener): void {
    this.#listener = listener;
  }

  /** The owner's logger (sessions log what they drop here). */
  get logger(): Logger {
    return this.#host.logger;
  }

  /** Why the connection ended, once it has. */
  get closeInfo(): QuicCloseInfo | undefined {
    return this.#closeInfo;
  }

  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** Streams with a sink attached. */
  get attached(): number {
    return this.#sinks.size;
  }

  attach(streamId: number, sink: StreamSink): void {
    this.#sinks.set(streamId, sink);
  }

  detach(streamId: number, sink?: StreamSink): void {
    if (sink === undefined || this.#sinks.get(streamId) === sink) this.#sinks.delete(streamId);
  }

  /**
   * Calls `cb` each time the transport has room for datagrams again after refusing one (the
   * connection's queue is shared by every stream). Returns an unsubscribe.
   */
  onDatagramsWritable(cb: () => void): () => void {
    this.#datagramWaiters.push(cb);
    return () => {
      this.#datagramWaiters = this.#datagramWaiters.filter((w) => w !== cb);
    };
  }

  #datagramsWritable(): void {
    // Snapshot: a callback may unsubscribe (or subscribe) while we iterate.
    for (const cb of [...this.#datagramWaiters]) cb();
  }

  /** Drains the connection's events through the session and dispatches the results. */
  pump(): void {
    // A sink's callback may call kick → pump: the outer loop picks its events up.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const conn = this.connection;
      for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
        let out: H3Event[];
        try {
          out = this.session.handleEvent(ev, this.#clock.now());
        } catch (err) {
          // The session closed the connection with H3_INTERNAL_ERROR; a bug worth a log line.
          this.#host.logger.error({ err }, 'HTTP/3 session failed');
          continue;
        }
        for (let i = 0; i < out.length; i++) this.#dispatch(out[i]);
      }
    } finally {
      this.#pumping = false;
    }
    this.#arm();
  }

  /** Follows the session's next deadline with the one timer (none once the connection ended). */
  #arm(): void {
    const at = this.#closeInfo === undefined ? this.session.nextTimeout : undefined;
    if (at === this.#timerAt) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === undefined) return;
    this.#timer = this.#clock.schedule(at - this.#clock.now(), this.#onTimer);
  }

  /**
   * Schedules one pump for the end of this tick (after API calls from async code) and a send at
   * once: for stream work, whose bytes must not fall behind datagrams queued later in the turn
   * (a compression capsule before the datagrams that use its context).
   */
  kick(): void {
    this.#urgent = true;
    if (this.#kicked) return;
    this.#kicked = true;
    queueMicrotask(this.#onKick);
  }

  /**
   * As {@link kick}, but the send waits for the end of the event-loop turn: for datagrams, which
   * then share packets (and carry the ACK of what the turn received).
   */
  kickDatagrams(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    queueMicrotask(this.#onKick);
  }

  #dispatch(ev: H3Event): void {
    const l = this.#listener;
    try {
      switch (ev.type) {
        case 'request':
          l.onRequest?.(ev);
          return;
        case 'settings':
          l.onSettings?.(ev.settings);
          return;
        case 'goaway':
          l.onGoaway?.(ev.id);
          return;
        case 'streams-available':
          l.onStreamsAvailable?.();
          return;
        case 'datagrams-writable':
          l.onDatagramsWritable?.();
          this.#datagramsWritable();
          return;
        case 'connection-error':
          this.#host.logger.debug({ code: ev.code, reason: ev.reason }, 'HTTP/3 connection error');
          return;
        case 'closed':
          this.#onClosed(ev.info);
          return;
        case 'extension-stream':
          this.#onExtensionStream(ev);
          return;
        default:
          this.#sinks.get(ev.streamId)?.onStreamEvent(ev);
      }
    } catch (err) {
      this.#host.logger.error({ err, event: ev.type }, 'HTTP/3 event handler threw');
    }
  }

  /**
   * Who takes the peer's extension streams (WebTransport): it attaches a sink for the stream's
   * later events. Unset, such a stream is refused both ways with H3_STREAM_CREATION_ERROR.
   */
  onExtensionStream: ((ev: ExtensionStreamEvent) => void) | undefined;

  #onExtensionStream(ev: ExtensionStreamEvent): void {
    if (this.onExtensionStream !== undefined) {
      this.onExtensionStream(ev);
      return;
    }
    this.session.stopExtensionStream(ev.streamId, H3ErrorCode.H3_STREAM_CREATION_ERROR);
    this.session.resetExtensionStream(ev.streamId, H3ErrorCode.H3_STREAM_CREATION_ERROR);
    this.kick();
  }

  #onClosed(info: QuicCloseInfo): void {
    this.#closeInfo = info;
    // Snapshot: sinks detach themselves while being told.
    const sinks = [...this.#sinks.values()];
    this.#sinks.clear();
    for (const s of sinks) {
      try {
        s.onConnectionEnd(info);
      } catch (err) {
        this.#host.logger.error({ err }, 'stream sink threw on connection end');
      }
    }
    this.#listener.onClosed?.(info);
  }
}
