/**
 * Streams an HTTP/3 extension takes over from the session (WebTransport's streams,
 * draft-ietf-webtrans-http3 §4): a peer's bidirectional stream whose first varint is one of the
 * configured signals (0x41, in place of a frame type), a peer's unidirectional stream of one of
 * the configured types (0x54), and the streams the extension opens itself.
 *
 * The session only recognises such a stream and passes its bytes through: after an
 * `extension-stream` event (the signal or type), the rest of the stream arrives as plain `data`
 * events (session ID first, for WebTransport), and `reset`, `stop-sending` and `writable` follow
 * as for request streams. Parsing what follows the signal is the extension's business.
 *
 * A bidirectional stream whose first varint is not a signal is handed back to the request path
 * with that varint replayed, as if nothing had been read. Per-stream state is one small record;
 * lookups are O(1).
 */
import type { QuicTransport } from '../../quic/api.js';
import { RangeSet } from '../../util/range-set.js';
import { concatBytes } from '../../wire/hex.js';
import { peekVarint } from '../stream-prefix.js';
import type { SendQueue } from './send-queue.js';
import type { H3Event } from './types.js';

const EMPTY = new Uint8Array(0);

/** One stream owned by the extension. */
interface ExtStream {
  /** Receive side finished (FIN delivered, reset by the peer, or reading stopped). */
  recvDone: boolean;
  /** Send side finished (FIN queued, reset, or not ours to write). */
  sendDone: boolean;
}

/** What becomes of a chunk of a bidirectional stream. */
export const BidiRoute = {
  /** Not an extension stream: the caller handles the chunk as request-stream data. */
  REQUEST: 0,
  /** Taken: either the extension's, or held until the first varint is complete. */
  TAKEN: 1,
  /** Not an extension stream; the first varint was consumed and must be replayed first. */
  REPLAY: 2,
} as const;
export type BidiRouteValue = (typeof BidiRoute)[keyof typeof BidiRoute];

export class ExtensionStreams {
  readonly #transport: QuicTransport;
  readonly #send: SendQueue;
  readonly #bidiSignals: ReadonlySet<bigint>;
  readonly #uniTypes: ReadonlySet<bigint>;
  readonly #streams = new Map<number, ExtStream>();
  /** Peer bidirectional streams whose first varint is still incomplete. */
  readonly #pending = new Map<number, Uint8Array>();
  /** Quarter IDs of the peer's bidirectional streams taken so far. */
  readonly #seen = new RangeSet();
  /** After `REPLAY`: the bytes read so far (the first varint, or a fragment of it), and the rest. */
  replayPrefix: Uint8Array = EMPTY;
  replayRest: Uint8Array = EMPTY;

  constructor(
    transport: QuicTransport,
    send: SendQueue,
    bidiSignals: readonly number[],
    uniTypes: readonly number[],
  ) {
    this.#transport = transport;
    this.#send = send;
    this.#bidiSignals = new Set(bidiSignals.map(BigInt));
    this.#uniTypes = new Set(uniTypes.map(BigInt));
  }

  /** True when some bidirectional signal is configured. */
  get bidiEnabled(): boolean {
    return this.#bidiSignals.size > 0;
  }

  /** Streams currently owned by the extension. */
  get size(): number {
    return this.#streams.size;
  }

  /** True when `streamId` belongs to the extension. */
  has(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  /** True for a configured unidirectional stream type. */
  isUniType(type: bigint): boolean {
    return this.#uniTypes.has(type);
  }

  /** True while the send side of an extension stream may be written. */
  canWrite(streamId: number): boolean {
    const s = this.#streams.get(streamId);
    return s !== undefined && !s.sendDone;
  }

  /**
   * A chunk of a bidirectional stream that is not a live request stream. `peer`: the peer opened
   * it; `fresh`: it may be new (not a request stream the caller has seen).
   */
  onBidiData(
    streamId: number,
    data: Uint8Array,
    fin: boolean,
    peer: boolean,
    fresh: boolean,
    out: H3Event[],
  ): BidiRouteValue {
    const s = this.#streams.get(streamId);
    if (s !== undefined) {
      this.#deliver(streamId, s, data, fin, out);
      return BidiRoute.TAKEN;
    }
    // A finished extension stream of the peer's: whatever still arrives is discarded.
    if (peer && this.#seen.has(Math.floor(streamId / 4))) return BidiRoute.TAKEN;
    const held = this.#pending.get(streamId);
    if (held === undefined && (!fresh || this.#bidiSignals.size === 0)) return BidiRoute.REQUEST;
    // The first varint split across chunks (rare): join what is held (under 8 bytes) with this.
    const bytes = held === undefined ? data : concatBytes(held, data);
    const head = peekVarint(bytes);
    if (head === undefined) {
      this.#pending.delete(streamId);
      if (fin) {
        // Ended inside its first varint: let the request path judge the fragment.
        this.replayPrefix = bytes;
        this.replayRest = EMPTY;
        return BidiRoute.REPLAY;
      }
      this.#pending.set(streamId, bytes.slice());
      return BidiRoute.TAKEN;
    }
    this.#pending.delete(streamId);
    const rest = bytes.subarray(head.length);
    if (!this.#bidiSignals.has(head.value)) {
      this.replayPrefix = bytes.subarray(0, head.length);
      this.replayRest = rest;
      return BidiRoute.REPLAY;
    }
    const ext: ExtStream = { recvDone: false, sendDone: false };
    this.#streams.set(streamId, ext);
    this.#seen.add(Math.floor(streamId / 4));
    out.push({
      type: 'extension-stream',
      streamId,
      signal: Number(head.value),
      bidirectional: true,
    });
    this.#deliver(streamId, ext, rest, fin, out);
    return BidiRoute.TAKEN;
  }

  /** A peer's unidirectional stream whose type is configured (see `isUniType`). */
  onUniStart(streamId: number, type: bigint, rest: Uint8Array, fin: boolean, out: H3Event[]): void {
    const ext: ExtStream = { recvDone: false, sendDone: true };
    this.#streams.set(streamId, ext);
    out.push({ type: 'extension-stream', streamId, signal: Number(type), bidirectional: false });
    this.#deliver(streamId, ext, rest, fin, out);
  }

  /** More data on a peer's unidirectional extension stream. */
  onUniData(streamId: number, data: Uint8Array, fin: boolean, out: H3Event[]): void {
    const s = this.#streams.get(streamId);
    if (s !== undefined) this.#deliver(streamId, s, data, fin, out);
  }

  /**
   * The peer reset a stream. Returns true when it was the extension's (or still undecided, in
   * which case it is forgotten quietly).
   */
  onReset(streamId: number, code: number, out: H3Event[]): boolean {
    if (this.#pending.delete(streamId)) return true;
    const s = this.#streams.get(streamId);
    if (s === undefined) return false;
    if (!s.recvDone) {
      s.recvDone = true;
      out.push({ type: 'reset', streamId, code });
    }
    this.#maybeForget(streamId, s);
    return true;
  }

  /** The peer sent STOP_SENDING; the transport answers with RESET_STREAM itself. */
  onStopSending(streamId: number, code: number, out: H3Event[]): boolean {
    const s = this.#streams.get(streamId);
    if (s === undefined) return false;
    this.#send.drop(streamId);
    if (!s.sendDone) {
      s.sendDone = true;
      out.push({ type: 'stop-sending', streamId, code });
    }
    this.#maybeForget(streamId, s);
    return true;
  }

  // ---- the extension's calls ----

  /** Opens a stream and writes `header` (the signal or type and what follows it). */
  open(bidirectional: boolean, header: Uint8Array): number | undefined {
    const id = this.#transport.openStream(bidirectional);
    if (id === undefined) return undefined;
    this.#streams.set(id, { recvDone: !bidirectional, sendDone: false });
    this.#send.write(id, header);
    return id;
  }

  /** Writes to an extension stream (queued beyond the transport's buffer). */
  write(streamId: number, data: Uint8Array, fin: boolean): void {
    const s = this.#streams.get(streamId)!;
    this.#send.write(streamId, data, fin);
    if (fin) {
      s.sendDone = true;
      this.#maybeForget(streamId, s);
    }
  }

  /** Resets our sending side. */
  reset(streamId: number, code: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined || s.sendDone) {
      // A FIN still queued can be cut short too.
      if (s !== undefined && this.#send.has(streamId)) {
        this.#send.drop(streamId);
        this.#transport.resetStream(streamId, code);
      }
      return;
    }
    s.sendDone = true;
    this.#send.drop(streamId);
    this.#transport.resetStream(streamId, code);
    this.#maybeForget(streamId, s);
  }

  /** Stops reading (STOP_SENDING); later data is discarded. */
  stopReading(streamId: number, code: number): void {
    const s = this.#streams.get(streamId);
    if (s === undefined || s.recvDone) return;
    s.recvDone = true;
    this.#transport.stopSending(streamId, code);
    this.#maybeForget(streamId, s);
  }

  /** Forgets every stream (the connection is gone). */
  clear(): void {
    this.#streams.clear();
    this.#pending.clear();
  }

  #deliver(streamId: number, s: ExtStream, data: Uint8Array, fin: boolean, out: H3Event[]): void {
    if (s.recvDone) return;
    if (data.length === 0 && !fin) return;
    out.push({ type: 'data', streamId, data, fin });
    if (fin) {
      s.recvDone = true;
      this.#maybeForget(streamId, s);
    }
  }

  #maybeForget(streamId: number, s: ExtStream): void {
    // A backlog still draining keeps the record, so `writable` can be reported.
    if (s.recvDone && s.sendDone && !this.#send.has(streamId)) this.#streams.delete(streamId);
  }

  /** A stream's backlog was fully handed over: forget it if both sides are done. */
  flushed(streamId: number): void {
    const s = this.#streams.get(streamId);
    if (s !== undefined) this.#maybeForget(streamId, s);
  }
}
