/**
 * The WebTransport state of one HTTP/3 connection: it takes the connection's extension streams
 * (0x41 / 0x54, recognised by the HTTP/3 session), reads each one's Session ID and hands the
 * stream to its session. Streams for a session not known yet are held (draft §4.6: buffering is
 * bounded; beyond the bound they are refused with WT_BUFFERED_STREAM_REJECTED); streams for a
 * session that is over are refused with WT_SESSION_GONE.
 *
 * One instance per `SessionDriver`, created by the first WebTransport session of the connection
 * (streams that arrive before any WebTransport CONNECT has been seen are refused by the driver).
 */

import { H3ErrorCode } from '../http3/errors.js';
import type { ExtensionStreamEvent, SessionDriver } from '../runtime/h3/driver.js';
import { WtErrorCode } from './constants.js';
import { WebTransportError } from './errors.js';
import { isSessionId } from './stream-header.js';
import { WtStreamSink } from './stream-sink.js';
import type { WtStreamLimits } from './streams.js';

/** Streams held for sessions not known yet, per connection. */
export const MAX_PENDING_STREAMS = 16;

/** What a session offers its connection. */
export interface WtSessionHandle {
  readonly sessionId: number;
  readonly limits: WtStreamLimits;
  /** A peer's stream with this session's ID. */
  adopt(sink: WtStreamSink): void;
}

const connections = new WeakMap<SessionDriver, WtConnection>();

export class WtConnection {
  readonly driver: SessionDriver;
  readonly #sessions = new Map<number, WtSessionHandle>();
  /** Sessions that are over (their streams are refused). */
  readonly #gone = new Set<number>();
  readonly #pending: Array<{ sessionId: number; sink: WtStreamSink }> = [];
  readonly #limits: WtStreamLimits;

  private constructor(driver: SessionDriver, limits: WtStreamLimits) {
    this.driver = driver;
    this.#limits = limits;
    driver.onExtensionStream = (ev) => this.#onStream(ev);
  }

  /** The connection state of `driver`, created on first use. */
  static of(driver: SessionDriver, limits: WtStreamLimits = {}): WtConnection {
    let c = connections.get(driver);
    if (c === undefined) {
      c = new WtConnection(driver, limits);
      connections.set(driver, c);
    }
    return c;
  }

  /** Sessions open on this connection. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Registers a session; streams held for it are handed over now. */
  register(session: WtSessionHandle): void {
    this.#sessions.set(session.sessionId, session);
    // Snapshot: adopt() may not touch the list, but keep the iteration independent of it.
    const held = this.#pending.splice(0);
    for (const p of held) {
      if (p.sessionId === session.sessionId) session.adopt(p.sink);
      else this.#pending.push(p);
    }
  }

  /** The session is over: its later streams are refused. */
  unregister(session: WtSessionHandle): void {
    this.#sessions.delete(session.sessionId);
    this.#gone.add(session.sessionId);
    const held = this.#pending.splice(0);
    for (const p of held) {
      if (p.sessionId === session.sessionId) this.#refuse(p.sink, WtErrorCode.WT_SESSION_GONE);
      else this.#pending.push(p);
    }
  }

  #onStream(ev: ExtensionStreamEvent): void {
    WtStreamSink.incoming(this.driver, ev.streamId, ev.bidirectional, this.#limits, (id, sink) =>
      this.#route(id, sink),
    );
  }

  #route(id: bigint, sink: WtStreamSink): void {
    if (!isSessionId(id)) {
      // draft §4.1/§4.2: a Session ID that is not a client-initiated bidirectional stream ID
      // "MUST close the connection with an H3_ID_ERROR error code".
      this.driver.session.close(H3ErrorCode.H3_ID_ERROR, `stream ${sink.streamId}: session ${id}`);
      this.driver.kick();
      return;
    }
    const sessionId = id > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(id);
    const session = this.#sessions.get(sessionId);
    if (session !== undefined) {
      session.adopt(sink);
      return;
    }
    if (sessionId < 0 || this.#gone.has(sessionId)) {
      this.#refuse(sink, WtErrorCode.WT_SESSION_GONE);
      return;
    }
    if (this.#pending.length >= MAX_PENDING_STREAMS) {
      this.#refuse(sink, WtErrorCode.WT_BUFFERED_STREAM_REJECTED);
      return;
    }
    this.#pending.push({ sessionId, sink });
  }

  #refuse(sink: WtStreamSink, code: number): void {
    const session = this.driver.session;
    session.stopExtensionStream(sink.streamId, code);
    if (sink.bidirectional) session.resetExtensionStream(sink.streamId, code);
    sink.abandon(new WebTransportError('SESSION_GONE', 'no such session', { h3Code: code }), false);
    this.driver.kick();
  }
}
