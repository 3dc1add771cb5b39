/**
 * The peer's unidirectional streams (RFC 9114 §6.2): reads each stream's type varint (split
 * anywhere across chunks), then routes the rest: control stream frames through an
 * `H3FrameParser` in control mode (SETTINGS first, §6.2.1), QPACK encoder and decoder stream bytes
 * (RFC 9204 §4.2) to the session, and unknown or reserved types to STOP_SENDING (§6.2: "MUST
 * either abort reading of the stream or discard incoming data").
 *
 * Connection errors are thrown as `H3Error`; the session's boundary closes the connection.
 */
import { H3Error, H3ErrorCode } from '../errors.js';
import { type H3FrameEvent, H3FrameParser } from '../frame-parser.js';
import type { H3BufferedFrame } from '../frames.js';
import { VarintPrefixReader } from '../stream-prefix.js';
import { H3StreamType } from '../stream-types.js';
import type { H3Role } from './types.js';

/** What the router needs from its session. */
export interface UniStreamHost {
  /** A complete frame from the peer's control stream (SETTINGS first, already checked). */
  onControlFrame(frame: H3BufferedFrame): void;
  /** Bytes of the peer's QPACK encoder stream (for our decoder). */
  onEncoderStream(data: Uint8Array): void;
  /** Bytes of the peer's QPACK decoder stream (for our encoder). */
  onDecoderStream(data: Uint8Array): void;
  /** Abort reading a stream of a type we do not handle. */
  stopSending(streamId: number, code: number): void;
  /** True when an extension takes streams of this type (e.g. WebTransport's 0x54). */
  isExtensionType(type: bigint): boolean;
  /** An extension's stream: its type, and the bytes after the type in this chunk. */
  onExtensionStream(streamId: number, type: bigint, rest: Uint8Array, fin: boolean): void;
  /** Later bytes of an extension's stream. */
  onExtensionData(streamId: number, data: Uint8Array, fin: boolean): void;
}

const PENDING = 0;
const CONTROL = 1;
const ENCODER = 2;
const DECODER = 3;
const IGNORED = 4;
const EXTENSION = 5;

interface UniState {
  kind: number;
  reader: VarintPrefixReader | undefined;
}

function closedCritical(what: string): H3Error {
  // §6.2.1 and RFC 9204 §4.2: closure of the control, encoder or decoder stream "MUST be treated
  // as a connection error of type H3_CLOSED_CRITICAL_STREAM".
  return new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, `peer closed its ${what} stream`);
}

export class UniStreams {
  readonly #role: H3Role;
  readonly #host: UniStreamHost;
  readonly #states = new Map<number, UniState>();
  readonly #control: H3FrameParser;
  readonly #events: H3FrameEvent[] = [];
  #controlId: number | undefined;
  #encoderId: number | undefined;
  #decoderId: number | undefined;

  constructor(role: H3Role, host: UniStreamHost) {
    this.#role = role;
    this.#host = host;
    this.#control = new H3FrameParser({
      stream: 'control',
      sender: role === 'client' ? 'server' : 'client',
    });
  }

  /** The peer's control stream ID, once its type has been read. */
  get controlStreamId(): number | undefined {
    return this.#controlId;
  }

  /** True for the peer's control, encoder and decoder streams. */
  isCritical(streamId: number): boolean {
    return (
      streamId === this.#controlId || streamId === this.#encoderId || streamId === this.#decoderId
    );
  }

  /** Data on a peer-initiated unidirectional stream. */
  onData(streamId: number, data: Uint8Array, fin: boolean): void {
    let state = this.#states.get(streamId);
    if (state === undefined) {
      state = { kind: PENDING, reader: new VarintPrefixReader() };
      this.#states.set(streamId, state);
    }
    let rest = data;
    if (state.kind === PENDING) {
      const reader = state.reader!;
      const pos = reader.push(data);
      if (!reader.done) {
        // §6.2: "A receiver MUST tolerate unidirectional streams being closed or reset prior to
        // the reception of the unidirectional stream header."
        if (fin) this.#states.delete(streamId);
        return;
      }
      const type = reader.value;
      state.kind = this.#classify(streamId, type);
      state.reader = undefined;
      rest = pos === 0 ? data : data.subarray(pos);
      if (state.kind === EXTENSION) {
        if (fin) this.#states.delete(streamId);
        this.#host.onExtensionStream(streamId, type, rest, fin);
        return;
      }
    }
    switch (state.kind) {
      case CONTROL: {
        const events = this.#events;
        events.length = 0;
        if (rest.length > 0) this.#control.push(rest, events);
        for (let i = 0; i < events.length; i++) {
          const ev = events[i];
          if (ev.kind === 'frame') this.#host.onControlFrame(ev.frame);
        }
        events.length = 0;
        if (fin) this.#control.end(); // always H3_CLOSED_CRITICAL_STREAM
        return;
      }
      case ENCODER:
        if (rest.length > 0) this.#host.onEncoderStream(rest);
        if (fin) throw closedCritical('QPACK encoder');
        return;
      case DECODER:
        if (rest.length > 0) this.#host.onDecoderStream(rest);
        if (fin) throw closedCritical('QPACK decoder');
        return;
      case EXTENSION:
        if (fin) this.#states.delete(streamId);
        this.#host.onExtensionData(streamId, rest, fin);
        return;
      default:
        // IGNORED: discard.
        if (fin) this.#states.delete(streamId);
    }
  }

  /** The peer reset one of its unidirectional streams. */
  onReset(streamId: number): void {
    if (streamId === this.#controlId) throw closedCritical('control');
    if (streamId === this.#encoderId) throw closedCritical('QPACK encoder');
    if (streamId === this.#decoderId) throw closedCritical('QPACK decoder');
    this.#states.delete(streamId);
  }

  #classify(streamId: number, type: bigint): number {
    switch (type) {
      case BigInt(H3StreamType.CONTROL):
        this.#checkSingle(this.#controlId, 'control');
        this.#controlId = streamId;
        return CONTROL;
      case BigInt(H3StreamType.QPACK_ENCODER):
        this.#checkSingle(this.#encoderId, 'QPACK encoder');
        this.#encoderId = streamId;
        return ENCODER;
      case BigInt(H3StreamType.QPACK_DECODER):
        this.#checkSingle(this.#decoderId, 'QPACK decoder');
        this.#decoderId = streamId;
        return DECODER;
      case BigInt(H3StreamType.PUSH):
        if (this.#role === 'server') {
          // §6.2.2: "if a server receives a client-initiated push stream, this MUST be treated as
          // a connection error of type H3_STREAM_CREATION_ERROR".
          throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, 'push stream from a client');
        }
        // §4.6: "A client MUST treat receipt of a push stream as a connection error of type
        // H3_ID_ERROR when no MAX_PUSH_ID frame has been sent"; we never send one.
        throw new H3Error(H3ErrorCode.H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
      default:
        if (this.#host.isExtensionType(type)) return EXTENSION;
        // §6.2: unknown and reserved types; "If reading is aborted, the recipient SHOULD use the
        // H3_STREAM_CREATION_ERROR error code".
        this.#host.stopSending(streamId, H3ErrorCode.H3_STREAM_CREATION_ERROR);
        return IGNORED;
    }
  }

  #checkSingle(existing: number | undefined, what: string): void {
    if (existing !== undefined) {
      // §6.2.1 and RFC 9204 §4.2: a second control / encoder / decoder stream "MUST be treated as
      // a connection error of type H3_STREAM_CREATION_ERROR".
      throw new H3Error(H3ErrorCode.H3_STREAM_CREATION_ERROR, `second ${what} stream`);
    }
  }
}
