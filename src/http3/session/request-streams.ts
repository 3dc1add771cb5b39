/**
 * The table of live request streams and what happens to them as a whole: transport events on
 * bidirectional streams, accepting a new request (server) unless GOAWAY excludes it, aborting a
 * stream on a stream error (RFC 9114 §8), answering STOP_SENDING, and forgetting a stream once
 * both of its directions are finished.
 */

import type { QuicTransport } from '../../quic/api.js';
import { RangeSet } from '../../util/range-set.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import type { DatagramRouter } from './datagrams.js';
import type { HeaderWatch } from './header-watch.js';
import type { MessageWriter } from './outgoing.js';
import type { QpackLink } from './qpack-link.js';
import { RequestStream, type RequestStreamHost, SendPhase } from './request-stream.js';
import type { SendQueue } from './send-queue.js';
import type { H3Event, H3Role } from './types.js';

/** What the table uses from its session. */
export interface RequestStreamsDeps {
  /** Our role. */
  readonly role: H3Role;
  /** Where resets and STOP_SENDING go. */
  readonly transport: QuicTransport;
  /** Backlogs to drop when a sending side is reset. */
  readonly send: SendQueue;
  /** For Stream Cancellation. */
  readonly qpack: QpackLink;
  /** For the 431 response. */
  readonly writer: MessageWriter;
  /** Datagrams held per stream. */
  readonly dgrams: DatagramRouter;
  /** Handed to each stream's receive path. */
  readonly host: RequestStreamHost;
  /** Largest encoded HEADERS payload read. */
  readonly maxEncodedFieldSection: number;
  /** Called after a stream is forgotten (graceful shutdown may complete). */
  readonly onForget: () => void;
  /** Server: incomplete request header sections, their bytes and deadlines. */
  readonly headers: HeaderWatch<RequestStream>;
  /** The time of the event being handled, when the caller gave one. */
  readonly now: () => number | undefined;
}

export class RequestStreams {
  readonly #d: RequestStreamsDeps;
  readonly #streams = new Map<number, RequestStream>();
  /** Server: quarter stream IDs of request streams that have arrived (alive or finished). */
  readonly seen = new RangeSet();
  /** Server: requests at or above this stream ID are refused (our GOAWAY). */
  refuseFrom: bigint | undefined;
  /** Bound once: lookups for the datagram router (no closure per datagram). */
  readonly lookup = (id: number): RequestStream | undefined => this.#streams.get(id);
  readonly mayArrive = (q: number): boolean => this.#d.role === 'server' && !this.seen.has(q);

  constructor(deps: RequestStreamsDeps) {
    this.#d = deps;
  }

  get size(): number {
    return this.#streams.size;
  }

  has(id: number): boolean {
    return this.#streams.has(id);
  }

  get(id: number): RequestStream | undefined {
    return this.#streams.get(id);
  }

  /** Client: registers a request stream we opened. */
  add(s: RequestStream): void {
    this.#streams.set(s.id, s);
  }

  clear(): void {
    this.#streams.clear();
    this.#d.headers.clear();
  }

  /** Stream data on a bidirectional stream. */
  onData(id: number, data: Uint8Array, fin: boolean, out: H3Event[]): void {
    const role = this.#d.role;
    if ((id & 1) !== 0) {
      // §6.1: "Clients MUST treat receipt of a server-initiated bidirectional stream as a
      // connection error of type H3_STREAM_CREATION_ERROR unless such an extension has been
      // negotiated."
      if (role === 'client') {
        throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `server-initiated stream ${id}`);
      }
      return;
    }
    let s = this.#streams.get(id);
    if (s === undefined) {
      if (role === 'client') return; // late data on a request we finished
      s = this.#accept(id);
      if (s === undefined) return;
    }
    s.receive(data, fin, this.#d.host, out);
    if (role === 'server') this.checkHeaders(s);
    this.maybeForget(s);
  }

  /**
   * Server: recounts the bytes of the stream's incomplete header section against the caps, or
   * lets go of it once the section is complete. Throws the stream error for a refusal.
   */
  checkHeaders(s: RequestStream): void {
    const watch = this.#d.headers;
    if (!s.awaitingHeaders || s.recvDone) {
      watch.settle(s);
      return;
    }
    const refusal = watch.update(s);
    if (refusal !== undefined) {
      throw new H3Error(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        refusal === 'connection-cap'
          ? 'too many bytes of incomplete header sections on this connection'
          : 'too many bytes of incomplete header sections on this server',
        'stream',
      );
    }
  }

  /**
   * Server: resets every request stream whose header section is overdue at `now` with
   * H3_REQUEST_INCOMPLETE (RFC 9114 §8.1: the stream "terminated without containing a fully
   * formed request").
   */
  expireHeaders(now: number, out: H3Event[]): void {
    for (const s of this.#d.headers.expired(now)) {
      if (this.#streams.get(s.id) !== s) continue;
      this.abort(s, H3ErrorCode.H3_REQUEST_INCOMPLETE, 'header section not complete in time', out);
    }
  }

  /** Server: a new request stream, unless GOAWAY excludes it (§5.2). */
  #accept(id: number): RequestStream | undefined {
    const q = id / 4;
    if (this.seen.has(q)) return undefined;
    this.seen.add(q);
    if (this.refuseFrom !== undefined && BigInt(id) >= this.refuseFrom) {
      // §5.2: requests at or above the GOAWAY identifier are rejected; §4.1.1: "The server SHOULD
      // abort its response stream with the error code H3_REQUEST_REJECTED".
      this.#d.transport.stopSending(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.#d.transport.resetStream(id, H3ErrorCode.H3_REQUEST_REJECTED);
      this.#d.dgrams.drop(id);
      return undefined;
    }
    const s = new RequestStream(id, 'client', this.#d.maxEncodedFieldSection);
    this.#streams.set(id, s);
    this.#d.headers.arm(s, this.#d.now());
    return s;
  }

  /** The peer reset its sending side of a bidirectional stream. */
  onReset(id: number, code: number, out: H3Event[]): void {
    const s = this.#streams.get(id);
    if (s === undefined) {
      if (this.#d.role === 'server' && (id & 1) === 0) this.seen.add(id / 4);
      return;
    }
    if (!s.recvDone) {
      s.abortReceive();
      // RFC 9204 §2.2.2.2: a reset "before the end of a stream" calls for Stream Cancellation.
      this.#d.qpack.cancel(id);
    }
    if (this.#d.role === 'server' && !s.headersDelivered) {
      // Nothing reached the application: finish the stream quietly.
      this.resetSend(s, H3ErrorCode.H3_REQUEST_CANCELLED);
      this.forget(s);
      return;
    }
    out.push({ type: 'reset', streamId: id, code });
    this.maybeForget(s);
  }

  /** The peer asked us to stop sending on a bidirectional stream. */
  onStopSending(id: number, code: number, out: H3Event[]): void {
    const s = this.#streams.get(id);
    if (s === undefined) return;
    // RFC 9000 §3.5: answered with RESET_STREAM; the peer's code is echoed.
    this.resetSend(s, code);
    out.push({ type: 'stop-sending', streamId: id, code });
    this.maybeForget(s);
  }

  /** Resets our sending side unless it is already finished and fully handed over. */
  resetSend(s: RequestStream, code: number): void {
    if (s.sendPhase < SendPhase.DONE || this.#d.send.has(s.id)) {
      this.#d.send.drop(s.id);
      this.#d.transport.resetStream(s.id, code);
      s.sendPhase = SendPhase.RESET;
    }
  }

  /** Aborts reading: STOP_SENDING, and RFC 9204 §4.4.2 Stream Cancellation. */
  stopReading(s: RequestStream, code: number): void {
    if (s.recvDone) return;
    s.abortReceive();
    this.#d.transport.stopSending(s.id, code);
    this.#d.qpack.cancel(s.id);
  }

  /** Cancels both directions and forgets the stream. */
  cancel(s: RequestStream, code: number): void {
    this.resetSend(s, code);
    this.stopReading(s, code);
    this.forget(s);
  }

  /** Ends both directions of a request stream with `code` (RFC 9114 §8: a stream error). */
  abort(s: RequestStream, code: number, reason: string, out: H3Event[]): void {
    if (
      this.#d.role === 'server' &&
      code === H3ErrorCode.H3_EXCESSIVE_LOAD &&
      s.awaitingHeaders &&
      s.sendPhase === SendPhase.IDLE
    ) {
      // §4.2.2: "A server that receives a larger header section than it is willing to handle can
      // send an HTTP 431 (Request Header Fields Too Large) status code".
      this.#d.writer.writeSection(s.id, [[':status', '431']], true);
      s.sendPhase = SendPhase.DONE;
      out.push({ type: 'stream-error', streamId: s.id, code, reason });
      this.stopReading(s, code);
      this.forget(s);
      return;
    }
    out.push({ type: 'stream-error', streamId: s.id, code, reason });
    this.cancel(s, code);
  }

  /**
   * Client, on GOAWAY: requests at or above `id` "will not be processed" (§5.2); they are
   * cancelled to clean up transport state and reported retryable.
   */
  rejectFrom(id: bigint, out: H3Event[]): void {
    // Keys are snapshotted: forget() edits the map.
    for (const sid of [...this.#streams.keys()]) {
      if (BigInt(sid) < id) continue;
      out.push({ type: 'rejected', streamId: sid });
      this.cancel(this.#streams.get(sid)!, H3ErrorCode.H3_REQUEST_CANCELLED);
    }
  }

  forget(s: RequestStream): void {
    this.#d.headers.settle(s);
    if (!this.#streams.delete(s.id)) return;
    this.#d.dgrams.drop(s.id);
    this.#d.onForget();
  }

  maybeForget(s: RequestStream): void {
    if (s.finished) this.forget(s);
  }
}
