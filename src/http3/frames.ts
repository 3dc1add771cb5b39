/**
 * HTTP/3 frames (RFC 9114 §7): `Frame { Type (i), Length (i), Frame Payload (..) }`.
 *
 * Encoders for every frame, header-only encoders for DATA and HEADERS (so content can be written
 * after its header without copying), and payload decoders shared by the whole-buffer
 * {@link readFrame} and the incremental `H3FrameParser`.
 *
 * Push IDs and stream IDs are exact `bigint`s: they may legitimately reach 2^62 - 1.
 */
import { CodecError } from '../wire/errors.js';
import { ByteReader } from '../wire/reader.js';
import { varintLength } from '../wire/varint.js';
import { ByteWriter } from '../wire/writer.js';
import { H3Error, H3ErrorCode } from './errors.js';
import {
  frameTypeName,
  H3FrameType,
  isHttp2OnlyFrameType,
  isKnownFrameType,
} from './frame-types.js';
import {
  decodeSettingsPayload,
  encodeSettingsPayload,
  type H3Settings,
  type SettingsEncodeOptions,
} from './settings.js';

/** DATA (0x00, §7.2.1): request or response content. */
export interface DataFrame {
  readonly kind: 'DATA';
  /** The content bytes. */
  readonly payload: Uint8Array;
}

/** HEADERS (0x01, §7.2.2): a QPACK-encoded field section. */
export interface HeadersFrame {
  readonly kind: 'HEADERS';
  /** Encoded Field Section, for the QPACK decoder. */
  readonly fieldSection: Uint8Array;
}

/** CANCEL_PUSH (0x03, §7.2.3). */
export interface CancelPushFrame {
  readonly kind: 'CANCEL_PUSH';
  /** Push ID of the push being cancelled. */
  readonly pushId: bigint;
}

/** SETTINGS (0x04, §7.2.4). */
export interface SettingsFrame {
  readonly kind: 'SETTINGS';
  /** The decoded parameters. */
  readonly settings: H3Settings;
}

/** PUSH_PROMISE (0x05, §7.2.5). */
export interface PushPromiseFrame {
  readonly kind: 'PUSH_PROMISE';
  /** Push ID of the promised push. */
  readonly pushId: bigint;
  /** Encoded Field Section of the promised request. */
  readonly fieldSection: Uint8Array;
}

/** GOAWAY (0x07, §7.2.6). */
export interface GoawayFrame {
  readonly kind: 'GOAWAY';
  /** A client-initiated bidirectional stream ID (from a server) or a push ID (from a client). */
  readonly id: bigint;
}

/** MAX_PUSH_ID (0x0d, §7.2.7). */
export interface MaxPushIdFrame {
  readonly kind: 'MAX_PUSH_ID';
  /** The largest push ID the server may use. */
  readonly pushId: bigint;
}

/** A frame of a type this layer does not interpret, reserved types included (§7.2.8, §9). */
export interface UnknownFrame {
  readonly kind: 'UNKNOWN';
  /** The exact frame type. */
  readonly type: bigint;
  /** The uninterpreted payload. */
  readonly payload: Uint8Array;
}

export type H3Frame =
  | DataFrame
  | HeadersFrame
  | CancelPushFrame
  | SettingsFrame
  | PushPromiseFrame
  | GoawayFrame
  | MaxPushIdFrame
  | UnknownFrame;

/** Frames the incremental parser delivers whole (all but DATA and unknown types). */
export type H3BufferedFrame = Exclude<H3Frame, DataFrame | UnknownFrame>;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Bytes taken by a frame header (Type and Length varints). */
export function frameHeaderLength(type: number | bigint, payloadLength: number): number {
  return varintLength(type) + varintLength(payloadLength);
}

/** Writes `Type (i), Length (i)`; the caller writes exactly `payloadLength` bytes after it. */
export function writeFrameHeader(
  w: ByteWriter,
  type: number | bigint,
  payloadLength: number,
): ByteWriter {
  return w.varint(type).varint(payloadLength);
}

/** The header of a DATA frame whose `length` content bytes the caller sends separately. */
export function writeDataFrameHeader(w: ByteWriter, length: number): ByteWriter {
  return writeFrameHeader(w, H3FrameType.DATA, length);
}

/** The header of a DATA frame, as fresh bytes. */
export function encodeDataFrameHeader(length: number): Uint8Array {
  return writeDataFrameHeader(new ByteWriter(16), length).toBytes();
}

/** The header of a HEADERS frame whose `length`-byte field section the caller sends separately. */
export function writeHeadersFrameHeader(w: ByteWriter, length: number): ByteWriter {
  return writeFrameHeader(w, H3FrameType.HEADERS, length);
}

/** The header of a HEADERS frame, as fresh bytes. */
export function encodeHeadersFrameHeader(length: number): Uint8Array {
  return writeHeadersFrameHeader(new ByteWriter(16), length).toBytes();
}

function singleVarintFrame(w: ByteWriter, type: number, value: number | bigint): ByteWriter {
  return writeFrameHeader(w, type, varintLength(value)).varint(value);
}

/**
 * Writes a whole frame. `opts.grease` adds a reserved setting to a SETTINGS frame. An UNKNOWN
 * frame whose type is registered or HTTP/2-only is refused (`CodecError('MALFORMED')`): it would
 * not decode back to itself, and HTTP/2-only types "MUST NOT be sent" (§7.2.8).
 */
export function writeFrame(
  w: ByteWriter,
  frame: H3Frame,
  opts?: SettingsEncodeOptions,
): ByteWriter {
  switch (frame.kind) {
    case 'DATA':
      return writeFrameHeader(w, H3FrameType.DATA, frame.payload.length).bytes(frame.payload);
    case 'HEADERS':
      return writeFrameHeader(w, H3FrameType.HEADERS, frame.fieldSection.length).bytes(
        frame.fieldSection,
      );
    case 'CANCEL_PUSH':
      return singleVarintFrame(w, H3FrameType.CANCEL_PUSH, frame.pushId);
    case 'SETTINGS': {
      const payload = encodeSettingsPayload(frame.settings, opts);
      return writeFrameHeader(w, H3FrameType.SETTINGS, payload.length).bytes(payload);
    }
    case 'PUSH_PROMISE':
      return writeFrameHeader(
        w,
        H3FrameType.PUSH_PROMISE,
        varintLength(frame.pushId) + frame.fieldSection.length,
      )
        .varint(frame.pushId)
        .bytes(frame.fieldSection);
    case 'GOAWAY':
      return singleVarintFrame(w, H3FrameType.GOAWAY, frame.id);
    case 'MAX_PUSH_ID':
      return singleVarintFrame(w, H3FrameType.MAX_PUSH_ID, frame.pushId);
    case 'UNKNOWN':
      if (
        frame.type <= 0x0dn &&
        (isKnownFrameType(Number(frame.type)) || isHttp2OnlyFrameType(frame.type))
      ) {
        throw new CodecError('MALFORMED', `type ${frameTypeName(frame.type)} is not unknown`);
      }
      return writeFrameHeader(w, frame.type, frame.payload.length).bytes(frame.payload);
  }
}

/** {@link writeFrame} into a fresh buffer. */
export function encodeFrame(frame: H3Frame, opts?: SettingsEncodeOptions): Uint8Array {
  return writeFrame(new ByteWriter(64), frame, opts).toBytes();
}

/** Several frames back to back, as one stream would carry them. */
export function encodeFrames(frames: readonly H3Frame[], opts?: SettingsEncodeOptions): Uint8Array {
  const w = new ByteWriter(256);
  for (const f of frames) writeFrame(w, f, opts);
  return w.toBytes();
}

/** The encoded size of `frame` (without grease). */
export function frameLength(frame: H3Frame): number {
  switch (frame.kind) {
    case 'DATA':
      return frameHeaderLength(H3FrameType.DATA, frame.payload.length) + frame.payload.length;
    case 'HEADERS':
      return (
        frameHeaderLength(H3FrameType.HEADERS, frame.fieldSection.length) +
        frame.fieldSection.length
      );
    case 'CANCEL_PUSH':
    case 'MAX_PUSH_ID': {
      const n = varintLength(frame.pushId);
      return frameHeaderLength(0, n) + n;
    }
    case 'GOAWAY': {
      const n = varintLength(frame.id);
      return frameHeaderLength(0, n) + n;
    }
    case 'SETTINGS': {
      const n = encodeSettingsPayload(frame.settings).length;
      return frameHeaderLength(0, n) + n;
    }
    case 'PUSH_PROMISE': {
      const n = varintLength(frame.pushId) + frame.fieldSection.length;
      return frameHeaderLength(0, n) + n;
    }
    case 'UNKNOWN':
      return frameHeaderLength(frame.type, frame.payload.length) + frame.payload.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** A payload that is exactly one varint (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID). */
function singleVarint(payload: Uint8Array, what: string): bigint {
  try {
    const r = new ByteReader(payload);
    const v = r.varintBig();
    r.expectEnd(what);
    return v;
  } catch (err) {
    throw H3Error.fromCodec(err, what);
  }
}

/**
 * Decodes the payload of a frame whose type needs it whole: HEADERS, CANCEL_PUSH, SETTINGS,
 * PUSH_PROMISE, GOAWAY, MAX_PUSH_ID. Throws `H3Error` H3_FRAME_ERROR when the payload is longer
 * or shorter than its fields (§7.1: "MUST be treated as a connection error of type
 * H3_FRAME_ERROR"), and H3_SETTINGS_ERROR for bad settings. `payload` views are kept, not copied.
 */
export function decodeBufferedFrame(type: number, payload: Uint8Array): H3BufferedFrame {
  switch (type) {
    case H3FrameType.HEADERS:
      return { kind: 'HEADERS', fieldSection: payload };
    case H3FrameType.CANCEL_PUSH:
      return { kind: 'CANCEL_PUSH', pushId: singleVarint(payload, 'CANCEL_PUSH') };
    case H3FrameType.SETTINGS:
      return { kind: 'SETTINGS', settings: decodeSettingsPayload(payload) };
    case H3FrameType.PUSH_PROMISE: {
      let pushId: bigint;
      let fieldSection: Uint8Array;
      try {
        const r = new ByteReader(payload);
        pushId = r.varintBig();
        fieldSection = r.rest();
      } catch (err) {
        throw H3Error.fromCodec(err, 'PUSH_PROMISE');
      }
      return { kind: 'PUSH_PROMISE', pushId, fieldSection };
    }
    case H3FrameType.GOAWAY:
      return { kind: 'GOAWAY', id: singleVarint(payload, 'GOAWAY') };
    case H3FrameType.MAX_PUSH_ID:
      return { kind: 'MAX_PUSH_ID', pushId: singleVarint(payload, 'MAX_PUSH_ID') };
    default:
      throw new Error(`decodeBufferedFrame: type ${frameTypeName(type)} is not buffered`);
  }
}

/** True for the types {@link decodeBufferedFrame} handles. */
export function isBufferedFrameType(type: number): boolean {
  return (
    type === H3FrameType.HEADERS ||
    type === H3FrameType.CANCEL_PUSH ||
    type === H3FrameType.SETTINGS ||
    type === H3FrameType.PUSH_PROMISE ||
    type === H3FrameType.GOAWAY ||
    type === H3FrameType.MAX_PUSH_ID
  );
}

/**
 * Reads one whole frame from `r` (for buffers known to hold complete frames; streams use
 * `H3FrameParser`). A frame cut short throws H3_FRAME_ERROR with a `CodecError('TRUNCATED')`
 * cause; an HTTP/2-only type throws H3_FRAME_UNEXPECTED (§7.2.8). Byte strings are views of `r`.
 */
export function readFrame(r: ByteReader): H3Frame {
  let type: bigint;
  let payload: Uint8Array;
  try {
    type = r.varintBig();
    payload = r.bytes(r.varintClamped());
  } catch (err) {
    throw H3Error.fromCodec(err, 'frame');
  }
  if (isHttp2OnlyFrameType(type)) {
    // §7.2.8: "their receipt MUST be treated as a connection error of type H3_FRAME_UNEXPECTED".
    throw new H3Error(H3ErrorCode.H3_FRAME_UNEXPECTED, `HTTP/2 frame type 0x${type.toString(16)}`);
  }
  const small = type <= 0x0dn ? Number(type) : -1;
  if (small === H3FrameType.DATA) return { kind: 'DATA', payload };
  if (isBufferedFrameType(small)) return decodeBufferedFrame(small, payload);
  return { kind: 'UNKNOWN', type, payload };
}

/** Reads every frame in `bytes` (which must end on a frame boundary). */
export function readFrames(bytes: Uint8Array): H3Frame[] {
  const r = new ByteReader(bytes);
  const out: H3Frame[] = [];
  while (!r.done) out.push(readFrame(r));
  return out;
}
