/**
 * Stream counts of one connection (RFC 9000 §4.6): how many streams of each direction each side
 * has opened and may open, the checks every stream-bearing frame goes through, and the
 * MAX_STREAMS / STREAMS_BLOCKED signalling. Arrays are indexed by direction: 0 bidi, 1 uni.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frames/types.js';
import {
  isBidi,
  isLocal,
  MAX_STREAMS_LIMIT,
  type Role,
  streamIdOf,
  streamIndex,
  streamTypeFor,
} from './stream-id.js';

const dir = (bidi: boolean): number => (bidi ? 0 : 1);

export class StreamCounts {
  readonly role: Role;
  // Streams we open.
  readonly #localOpened = [0, 0];
  readonly #peerMax = [0, 0];
  readonly #blockedAt = [-1, -1];
  readonly #blockedPending = [false, false];
  // Streams the peer opens.
  readonly #remoteOpened = [0, 0];
  readonly #remoteClosed = [0, 0];
  /** Concurrency we grant: the initial limits, kept as streams close. */
  readonly #window: number[];
  readonly #localMax: number[];
  readonly #maxPending = [false, false];

  /**
   * @param role our role
   * @param maxBidi our initial_max_streams_bidi
   * @param maxUni our initial_max_streams_uni
   */
  constructor(role: Role, maxBidi: number, maxUni: number) {
    this.role = role;
    this.#window = [maxBidi, maxUni];
    this.#localMax = [maxBidi, maxUni];
  }

  /** The limit we advertised for streams the peer opens. */
  localMax(bidi: boolean): number {
    return this.#localMax[dir(bidi)];
  }

  /** The peer's limit on streams we open. */
  peerMax(bidi: boolean): number {
    return this.#peerMax[dir(bidi)];
  }

  /** How many more streams we may open now. */
  openable(bidi: boolean): number {
    const d = dir(bidi);
    return this.#peerMax[d] - this.#localOpened[d];
  }

  /**
   * The ID of the next stream of ours, now counted as opened, or -1 when the peer's limit forbids
   * it (a STREAMS_BLOCKED is then queued once per limit).
   */
  open(bidi: boolean): number {
    const d = dir(bidi);
    const index = this.#localOpened[d];
    if (index >= this.#peerMax[d]) {
      if (this.#blockedAt[d] !== this.#peerMax[d]) {
        this.#blockedAt[d] = this.#peerMax[d];
        this.#blockedPending[d] = true;
      }
      return -1;
    }
    this.#localOpened[d] = index + 1;
    return streamIdOf(streamTypeFor(this.role, bidi), index);
  }

  /**
   * initial_max_streams_* or MAX_STREAMS from the peer; returns true when the limit grew. RFC 9000
   * §4.6: "MAX_STREAMS frames that do not increase the stream limit MUST be ignored."
   */
  onPeerMax(bidi: boolean, maximum: number): boolean {
    const d = dir(bidi);
    if (maximum <= this.#peerMax[d]) return false;
    this.#peerMax[d] = maximum;
    this.#blockedPending[d] = false;
    return true;
  }

  /**
   * Checks a frame that names stream `id`, for our receiving part (`recv`: STREAM, RESET_STREAM,
   * STREAM_DATA_BLOCKED) or our sending part (MAX_STREAM_DATA, STOP_SENDING). Returns how many
   * peer streams the frame newly opens: they are `id - 4 * (n - 1)` up to `id`. Throws
   * STREAM_STATE_ERROR or STREAM_LIMIT_ERROR.
   */
  admit(id: number, frameType: number, recv: boolean): number {
    const local = isLocal(id, this.role);
    const bidi = isBidi(id);
    if (!bidi && local === recv) {
      // RFC 9000 §19.8: "An endpoint MUST terminate the connection with error
      // STREAM_STATE_ERROR if it receives a STREAM frame ... for a send-only stream" (§19.4 and
      // §19.13 likewise); §19.10 / §19.5: "An endpoint that receives a MAX_STREAM_DATA
      // [STOP_SENDING] frame for a receive-only stream MUST terminate the connection with error
      // STREAM_STATE_ERROR."
      throw new TransportError(
        TransportErrorCode.STREAM_STATE_ERROR,
        `stream ${id} is ${local ? 'send' : 'receive'}-only`,
        frameType,
      );
    }
    const d = dir(bidi);
    const index = streamIndex(id);
    if (local) {
      // RFC 9000 §19.8: STREAM_STATE_ERROR "if it receives a STREAM frame for a locally
      // initiated stream that has not yet been created" (§19.5 and §19.10 likewise).
      if (index >= this.#localOpened[d]) {
        throw new TransportError(
          TransportErrorCode.STREAM_STATE_ERROR,
          `stream ${id} was not opened by this endpoint`,
          frameType,
        );
      }
      return 0;
    }
    // RFC 9000 §4.6: "An endpoint that receives a frame with a stream ID exceeding the limit it
    // has sent MUST treat this as a connection error of type STREAM_LIMIT_ERROR".
    if (index >= this.#localMax[d]) {
      throw new TransportError(
        TransportErrorCode.STREAM_LIMIT_ERROR,
        `stream ${id} exceeds the limit of ${this.#localMax[d]} streams`,
        frameType,
      );
    }
    const opened = this.#remoteOpened[d];
    if (index < opened) return 0;
    this.#remoteOpened[d] = index + 1;
    return index + 1 - opened;
  }

  /** A peer stream was retired: grant one more (MAX_STREAMS, "as streams are closed"). */
  onRemoteClosed(bidi: boolean): void {
    const d = dir(bidi);
    this.#remoteClosed[d]++;
    const next = Math.min(this.#remoteClosed[d] + this.#window[d], MAX_STREAMS_LIMIT);
    if (next > this.#localMax[d]) {
      this.#localMax[d] = next;
      this.#maxPending[d] = true;
    }
  }

  /** STREAMS_BLOCKED from the peer: resend our limit if it is already higher. */
  onStreamsBlocked(bidi: boolean, maximum: number): void {
    // RFC 9000 §19.14: a value above 2^60 "MUST be treated as a connection error of type
    // FRAME_ENCODING_ERROR".
    checkMaxStreams(maximum, bidi ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI);
    const d = dir(bidi);
    if (this.#localMax[d] > maximum) this.#maxPending[d] = true;
  }

  /** Direction (true: bidi) of a pending MAX_STREAMS, cleared; null when none. */
  pollMaxStreams(): boolean | null {
    return takePending(this.#maxPending);
  }

  /** Direction (true: bidi) of a pending STREAMS_BLOCKED, cleared; null when none. */
  pollStreamsBlocked(): boolean | null {
    return takePending(this.#blockedPending);
  }

  /** The limit a STREAMS_BLOCKED for that direction carries. */
  blockedAt(bidi: boolean): number {
    return this.#blockedAt[dir(bidi)];
  }

  /** A MAX_STREAMS(`maximum`) was lost: resend while it is the latest. */
  onMaxStreamsLost(bidi: boolean, maximum: number): void {
    const d = dir(bidi);
    if (maximum === this.#localMax[d]) this.#maxPending[d] = true;
  }

  /** A STREAMS_BLOCKED(`maximum`) was lost: resend while still blocked at that limit. */
  onStreamsBlockedLost(bidi: boolean, maximum: number): void {
    const d = dir(bidi);
    if (maximum === this.#peerMax[d] && this.#localOpened[d] >= maximum) {
      this.#blockedPending[d] = true;
    }
  }
}

/**
 * RFC 9000 §19.11: "Receipt of a frame that permits opening of a stream larger than this limit
 * MUST be treated as a connection error of type FRAME_ENCODING_ERROR."
 */
export function checkMaxStreams(maximum: number, frameType: number): void {
  if (maximum > MAX_STREAMS_LIMIT) {
    throw new TransportError(
      TransportErrorCode.FRAME_ENCODING_ERROR,
      `stream count ${maximum} exceeds 2^60`,
      frameType,
    );
  }
}

function takePending(flags: boolean[]): boolean | null {
  for (let d = 0; d < 2; d++) {
    if (flags[d]) {
      flags[d] = false;
      return d === 0;
    }
  }
  return null;
}
