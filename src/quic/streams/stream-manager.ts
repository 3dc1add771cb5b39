/**
 * All streams of one connection (RFC 9000 §2-§4): opening within the peer's MAX_STREAMS, implicit
 * opening of peer streams, per-frame state checks, connection-level flow control, scheduling of
 * STREAM and control frames, and retirement of closed streams with MAX_STREAMS credit.
 *
 * Contract with the connection (sans-IO):
 * - inputs: `on*` for each received frame, `onStreamFrameAcked/Lost`, `onControlFrameAcked/Lost`
 *   for the fate of frames sent, and `setPeerParameters` once the peer's limits are known;
 * - outputs: `pollControlFrame(now, rtt)`, then `nextStreamFrame(space)`, repeated while the
 *   packet has room; `pollEvent()` for the application. A polled frame that cannot be sent must
 *   be handed back through `onControlFrameLost`.
 * Errors are thrown as `TransportError` with the RFC's code and frame type.
 *
 * Limits mapping (RFC 9000 §18.2): our initial_max_stream_data_bidi_local applies to the
 * receiving part of bidi streams WE open, bidi_remote to the receiving part of bidi streams the
 * PEER opens, uni to uni streams the peer opens; the peer's bidi_remote applies to the sending
 * part of bidi streams we open, its uni to our uni streams, its bidi_local to the sending part of
 * bidi streams it opens.
 */
import { varintLength } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frames/types.js';
import { ConnectionRecvFlow, ConnectionSendFlow } from './flow-control.js';
import type { StreamOwner } from './owner.js';
import { RecvStream, RecvStreamState } from './recv-stream.js';
import { SendStream, type StreamChunk } from './send-stream.js';
import { checkMaxStreams, StreamCounts } from './stream-counts.js';
import { isBidi, isLocal, MAX_STREAMS_LIMIT, type Role } from './stream-id.js';
import type {
  StreamControlFrame,
  StreamEvent,
  StreamLimitParameters,
  StreamManagerOptions,
} from './types.js';

/** One stream: the parts this endpoint has (a unidirectional stream has one). */
export interface StreamParts {
  readonly id: number;
  readonly send: SendStream | null;
  readonly recv: RecvStream | null;
}

const NO_LIMITS: StreamLimitParameters = {
  initialMaxData: 0,
  initialMaxStreamDataBidiLocal: 0,
  initialMaxStreamDataBidiRemote: 0,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsBidi: 0,
  initialMaxStreamsUni: 0,
};

export class StreamManager {
  readonly role: Role;
  readonly #local: StreamLimitParameters;
  #peer: StreamLimitParameters;
  readonly #streams = new Map<number, StreamParts>();
  readonly #connSend: ConnectionSendFlow;
  readonly #connRecv: ConnectionRecvFlow;
  readonly #counts: StreamCounts;
  // Scheduling: FIFO of stream IDs with data (round robin), set of IDs with control frames.
  readonly #dataQueue: number[] = [];
  #dataHead = 0;
  readonly #queued = new Set<number>();
  readonly #control = new Set<number>();
  readonly #events: StreamEvent[] = [];
  #eventHead = 0;
  readonly #owner: StreamOwner;

  constructor(options: StreamManagerOptions) {
    this.role = options.role;
    this.#local = options.local;
    this.#peer = NO_LIMITS;
    this.#counts = new StreamCounts(
      options.role,
      options.local.initialMaxStreamsBidi,
      options.local.initialMaxStreamsUni,
    );
    this.#connRecv = new ConnectionRecvFlow(
      options.local.initialMaxData,
      options.maxConnectionWindow ?? options.local.initialMaxData,
    );
    this.#connSend = new ConnectionSendFlow(0);
    // One owner object for every stream: no closure per stream or per packet.
    this.#owner = {
      streamWantsSend: (id) => this.#wantsSend(id),
      streamConsumed: (_id, bytes) => this.#connRecv.onConsumed(bytes),
      streamStateChanged: (id) => {
        const parts = this.#streams.get(id);
        if (parts) this.#retireIfDone(parts);
      },
    };
    if (options.peer) {
      this.setPeerParameters(options.peer);
      this.#events.length = 0; // limits known from the start are not news
    }
  }

  /** Connection-level send credit (the peer's MAX_DATA). */
  get sendFlow(): ConnectionSendFlow {
    return this.#connSend;
  }

  /** Connection-level receive accounting (our MAX_DATA). */
  get recvFlow(): ConnectionRecvFlow {
    return this.#connRecv;
  }

  /** Streams currently held (open or not yet retired). */
  get size(): number {
    return this.#streams.size;
  }

  /** The limit we advertised for streams the peer opens. */
  localMaxStreams(bidi: boolean): number {
    return this.#counts.localMax(bidi);
  }

  /** How many more streams we may open now in that direction. */
  openableStreams(bidi: boolean): number {
    return this.#counts.openable(bidi);
  }

  get(id: number): StreamParts | undefined {
    return this.#streams.get(id);
  }

  sendStream(id: number): SendStream | null {
    return this.#streams.get(id)?.send ?? null;
  }

  recvStream(id: number): RecvStream | null {
    return this.#streams.get(id)?.recv ?? null;
  }

  /**
   * The peer's transport parameters arrived (or 0-RTT remembered ones are replaced). Limits only
   * grow; streams already open get the new initial stream credit.
   */
  setPeerParameters(peer: StreamLimitParameters): void {
    for (const n of [peer.initialMaxStreamsBidi, peer.initialMaxStreamsUni]) {
      // RFC 9000 §4.6: a max_streams parameter above 2^60 is a TRANSPORT_PARAMETER_ERROR.
      if (n > MAX_STREAMS_LIMIT) {
        throw new TransportError(
          TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
          `initial_max_streams ${n} exceeds 2^60`,
        );
      }
    }
    this.#peer = peer;
    this.#connSend.onMaxData(peer.initialMaxData);
    this.#raisePeerMaxStreams(true, peer.initialMaxStreamsBidi);
    this.#raisePeerMaxStreams(false, peer.initialMaxStreamsUni);
    for (const parts of this.#streams.values()) {
      const send = parts.send;
      if (send?.onMaxStreamData(this.#sendLimitFor(parts.id))) this.#writableEvent(send);
    }
  }

  /**
   * Opens a stream of our own. Returns its ID, or null when the peer's MAX_STREAMS forbids it (a
   * STREAMS_BLOCKED is then queued once per limit, RFC 9000 §4.6).
   */
  openStream(bidi: boolean): number | null {
    const id = this.#counts.open(bidi);
    if (id < 0) return null;
    const send = new SendStream(id, this.#sendLimitFor(id), this.#owner);
    const recv = bidi
      ? new RecvStream(id, this.#local.initialMaxStreamDataBidiLocal, this.#owner)
      : null;
    this.#streams.set(id, { id, send, recv });
    return id;
  }

  // ---- received frames ----

  /** STREAM frame (RFC 9000 §19.8). */
  onStreamFrame(id: number, offset: number, data: Uint8Array, fin: boolean): void {
    const parts = this.#admit(id, FrameType.STREAM, true);
    const recv = parts?.recv;
    if (!recv) return;
    const readableBefore = recv.readable;
    const stateBefore = recv.state;
    const delta = recv.onData(offset, data, fin);
    if (delta > 0) this.#connRecv.onReceived(delta, FrameType.STREAM);
    if (
      (readableBefore === 0 && recv.readable > 0) ||
      (stateBefore !== RecvStreamState.DataRecvd && recv.state === RecvStreamState.DataRecvd)
    ) {
      this.#events.push({ type: 'readable', streamId: id });
    }
  }

  /** RESET_STREAM frame (RFC 9000 §19.4). */
  onResetStream(id: number, errorCode: number, finalSize: number): void {
    const parts = this.#admit(id, FrameType.RESET_STREAM, true);
    const recv = parts?.recv;
    if (!recv) return;
    const stateBefore = recv.state;
    const delta = recv.onReset(errorCode, finalSize);
    if (delta > 0) this.#connRecv.onReceived(delta, FrameType.RESET_STREAM);
    if (stateBefore !== RecvStreamState.ResetRecvd && recv.state === RecvStreamState.ResetRecvd) {
      this.#events.push({ type: 'reset', streamId: id, errorCode });
    }
  }

  /** STREAM_DATA_BLOCKED frame (RFC 9000 §19.13). */
  onStreamDataBlocked(id: number, maximum: number): void {
    this.#admit(id, FrameType.STREAM_DATA_BLOCKED, true)?.recv?.onStreamDataBlocked(maximum);
  }

  /** STOP_SENDING frame (RFC 9000 §19.5). */
  onStopSending(id: number, errorCode: number): void {
    const send = this.#admit(id, FrameType.STOP_SENDING, false)?.send;
    if (send?.onStopSending(errorCode)) {
      this.#events.push({ type: 'stop_sending', streamId: id, errorCode });
    }
  }

  /** MAX_STREAM_DATA frame (RFC 9000 §19.10). */
  onMaxStreamData(id: number, maximum: number): void {
    const send = this.#admit(id, FrameType.MAX_STREAM_DATA, false)?.send;
    if (send?.onMaxStreamData(maximum)) this.#writableEvent(send);
  }

  /** MAX_DATA frame (RFC 9000 §19.9). */
  onMaxData(maximum: number): void {
    this.#connSend.onMaxData(maximum);
  }

  /** DATA_BLOCKED frame (RFC 9000 §19.12). */
  onDataBlocked(maximum: number): void {
    this.#connRecv.onDataBlocked(maximum);
  }

  /** MAX_STREAMS frame (RFC 9000 §19.11). */
  onMaxStreams(bidi: boolean, maximum: number): void {
    checkMaxStreams(maximum, bidi ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI);
    this.#raisePeerMaxStreams(bidi, maximum);
  }

  /** STREAMS_BLOCKED frame (RFC 9000 §19.14): resend our limit if it is already higher. */
  onStreamsBlocked(bidi: boolean, maximum: number): void {
    this.#counts.onStreamsBlocked(bidi, maximum);
  }

  // ---- what to send ----

  /**
   * The next control frame to send, or null: MAX_DATA, MAX_STREAMS, DATA_BLOCKED,
   * STREAMS_BLOCKED, then per stream RESET_STREAM, STREAM_DATA_BLOCKED, STOP_SENDING,
   * MAX_STREAM_DATA. `now` and `rtt` (ms) let the connection receive window grow.
   */
  pollControlFrame(now?: number, rtt?: number): StreamControlFrame | null {
    const maxData = this.#connRecv.pollMaxData(now, rtt);
    if (maxData >= 0) return { kind: 'MAX_DATA', maximum: maxData };
    const counts = this.#counts;
    const maxStreams = counts.pollMaxStreams();
    if (maxStreams !== null) {
      return { kind: 'MAX_STREAMS', bidi: maxStreams, maximum: counts.localMax(maxStreams) };
    }
    const dataBlocked = this.#connSend.pollDataBlocked();
    if (dataBlocked >= 0) return { kind: 'DATA_BLOCKED', maximum: dataBlocked };
    const blocked = counts.pollStreamsBlocked();
    if (blocked !== null) {
      return { kind: 'STREAMS_BLOCKED', bidi: blocked, maximum: counts.blockedAt(blocked) };
    }
    // Deleting the current entry while iterating a Set is safe; nothing else adds here.
    for (const id of this.#control) {
      const parts = this.#streams.get(id);
      const frame = parts ? this.#streamControl(parts) : null;
      if (!parts || !(parts.send?.hasControl || parts.recv?.hasControl)) this.#control.delete(id);
      if (frame) return frame;
    }
    return null;
  }

  /**
   * The next STREAM frame fitting in `space` bytes (type, ID, offset, length and data), streams
   * served round robin, retransmissions first within a stream; null when none. New bytes are
   * charged to connection credit; DATA_BLOCKED is queued when that credit runs out.
   */
  nextStreamFrame(space: number): StreamChunk | null {
    const queue = this.#dataQueue;
    const rounds = queue.length - this.#dataHead;
    for (let k = 0; k < rounds; k++) {
      const id = queue[this.#dataHead++];
      const send = this.#streams.get(id)?.send;
      if (!send?.hasData) {
        this.#queued.delete(id);
        continue;
      }
      // Upper bound of the frame header: type, ID, offset (at most sentEnd), length (at most space).
      const room =
        space -
        1 -
        varintLength(id) -
        varintLength(send.sentEnd) -
        varintLength(Math.max(space, 0));
      if (room < 0) {
        queue.push(id);
        this.#compactQueue();
        return null;
      }
      const before = send.sentEnd;
      const chunk = send.nextChunk(room, this.#connSend.available);
      const charged = send.sentEnd - before;
      if (charged > 0) this.#connSend.consume(charged);
      if (send.needsCredit && this.#connSend.available === 0) this.#connSend.blocked();
      if (send.hasData) queue.push(id);
      else this.#queued.delete(id);
      if (chunk) {
        this.#compactQueue();
        return chunk;
      }
    }
    this.#compactQueue();
    return null;
  }

  /** Next application event, or undefined. */
  pollEvent(): StreamEvent | undefined {
    if (this.#eventHead === this.#events.length) return undefined;
    const ev = this.#events[this.#eventHead++];
    if (this.#eventHead === this.#events.length) {
      this.#events.length = 0;
      this.#eventHead = 0;
    }
    return ev;
  }

  // ---- fate of frames sent ----

  onStreamFrameAcked(id: number, offset: number, length: number, fin: boolean): void {
    this.#streams.get(id)?.send?.onAcked(offset, length, fin);
  }

  onStreamFrameLost(id: number, offset: number, length: number, fin: boolean): void {
    this.#streams.get(id)?.send?.onLost(offset, length, fin);
  }

  onControlFrameAcked(frame: StreamControlFrame): void {
    if (frame.kind === 'RESET_STREAM') this.#streams.get(frame.streamId)?.send?.onResetAcked();
  }

  /** A control frame was lost (or polled and not sent): queue what is still current. */
  onControlFrameLost(frame: StreamControlFrame): void {
    switch (frame.kind) {
      case 'MAX_DATA':
        this.#connRecv.onMaxDataLost(frame.maximum);
        break;
      case 'DATA_BLOCKED':
        this.#connSend.onDataBlockedLost(frame.maximum);
        break;
      case 'MAX_STREAMS':
        this.#counts.onMaxStreamsLost(frame.bidi, frame.maximum);
        break;
      case 'STREAMS_BLOCKED':
        this.#counts.onStreamsBlockedLost(frame.bidi, frame.maximum);
        break;
      case 'MAX_STREAM_DATA':
        this.#streams.get(frame.streamId)?.recv?.onMaxStreamDataLost(frame.maximum);
        break;
      case 'STREAM_DATA_BLOCKED':
        this.#streams.get(frame.streamId)?.send?.onStreamDataBlockedLost(frame.maximum);
        break;
      case 'RESET_STREAM':
        this.#streams.get(frame.streamId)?.send?.onResetLost();
        break;
      case 'STOP_SENDING':
        this.#streams.get(frame.streamId)?.recv?.onStopSendingLost();
        break;
    }
  }

  // ---- internals ----

  /**
   * The stream a frame about our receiving part (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED) or
   * sending part (MAX_STREAM_DATA, STOP_SENDING) refers to, after the §19 checks, opening peer
   * streams as needed; null for a stream already retired (the frame is then ignored).
   */
  #admit(id: number, frameType: number, recv: boolean): StreamParts | null {
    const fresh = this.#counts.admit(id, frameType, recv);
    // RFC 9000 §3.2: "Before a stream is created, all streams of the same type with
    // lower-numbered stream IDs MUST be created." Bounded by our own MAX_STREAMS.
    for (let k = fresh - 1; k >= 0; k--) this.#openRemote(id - 4 * k);
    return this.#streams.get(id) ?? null;
  }

  #openRemote(id: number): void {
    const bidi = isBidi(id);
    const recvLimit = bidi
      ? this.#local.initialMaxStreamDataBidiRemote
      : this.#local.initialMaxStreamDataUni;
    const recv = new RecvStream(id, recvLimit, this.#owner);
    const send = bidi ? new SendStream(id, this.#sendLimitFor(id), this.#owner) : null;
    this.#streams.set(id, { id, send, recv });
    this.#events.push({ type: 'opened', streamId: id });
  }

  /** The peer's initial MAX_STREAM_DATA for our sending part of stream `id` (§18.2). */
  #sendLimitFor(id: number): number {
    const p = this.#peer;
    if (!isBidi(id)) return p.initialMaxStreamDataUni;
    return isLocal(id, this.role)
      ? p.initialMaxStreamDataBidiRemote
      : p.initialMaxStreamDataBidiLocal;
  }

  #raisePeerMaxStreams(bidi: boolean, maximum: number): void {
    if (this.#counts.onPeerMax(bidi, maximum)) {
      this.#events.push({ type: 'streams_available', bidi });
    }
  }

  #streamControl(parts: StreamParts): StreamControlFrame | null {
    const id = parts.id;
    const send = parts.send;
    if (send) {
      const reset = send.pollResetStream();
      if (reset) {
        return {
          kind: 'RESET_STREAM',
          streamId: id,
          errorCode: reset.errorCode,
          finalSize: reset.finalSize,
        };
      }
      const blocked = send.pollStreamDataBlocked();
      if (blocked >= 0) return { kind: 'STREAM_DATA_BLOCKED', streamId: id, maximum: blocked };
    }
    const recv = parts.recv;
    if (recv) {
      const stop = recv.pollStopSending();
      if (stop >= 0) return { kind: 'STOP_SENDING', streamId: id, errorCode: stop };
      const limit = recv.pollMaxStreamData();
      if (limit >= 0) return { kind: 'MAX_STREAM_DATA', streamId: id, maximum: limit };
    }
    return null;
  }

  #wantsSend(id: number): void {
    const parts = this.#streams.get(id);
    if (!parts) return;
    if (parts.send?.hasData && !this.#queued.has(id)) {
      this.#queued.add(id);
      this.#dataQueue.push(id);
    }
    if (parts.send?.hasControl || parts.recv?.hasControl) this.#control.add(id);
  }

  #writableEvent(send: SendStream): void {
    if (send.writableBytes > 0) this.#events.push({ type: 'writable', streamId: send.id });
  }

  /**
   * Forgets a stream whose parts are all terminal; a peer stream returns its slot as MAX_STREAMS
   * credit (RFC 9000 §4.6: "increase limits as streams are closed"). Idempotent.
   */
  #retireIfDone(parts: StreamParts): void {
    if (parts.send && !parts.send.isTerminal) return;
    if (parts.recv && !parts.recv.isTerminal) return;
    const id = parts.id;
    if (this.#streams.get(id) !== parts) return;
    this.#streams.delete(id);
    this.#events.push({ type: 'closed', streamId: id });
    if (!isLocal(id, this.role)) this.#counts.onRemoteClosed(isBidi(id));
  }

  #compactQueue(): void {
    const h = this.#dataHead;
    if (h === 0) return;
    if (h === this.#dataQueue.length) {
      this.#dataQueue.length = 0;
      this.#dataHead = 0;
    } else if (h >= 32 && h * 2 >= this.#dataQueue.length) {
      this.#dataQueue.splice(0, h);
      this.#dataHead = 0;
    }
  }
}
