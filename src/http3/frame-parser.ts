/**
 * Incremental HTTP/3 frame parser for one stream (control, request or push), fed chunks of any
 * size. Memory never scales with a peer's declared length:
 * - DATA payloads pass through as views of the pushed chunks, never buffered;
 * - unknown and reserved frame types are skipped byte by byte (RFC 9114 §9: "MUST ignore");
 * - HEADERS / PUSH_PROMISE are buffered up to `maxFieldSectionBytes`, SETTINGS up to
 *   `maxSettingsBytes`, and the one-varint frames (CANCEL_PUSH, GOAWAY, MAX_PUSH_ID) up to 8
 *   bytes, all checked against the declared length before a byte is held.
 *
 * Events carry views of the pushed chunk (or fresh copies when a payload spanned chunks): a
 * caller that reuses its chunk buffers consumes or copies them before the next push. If `push`
 * throws, that call's events are dropped; the parser then stays failed and rethrows.
 */
import { H3Error, H3ErrorCode } from './errors.js';
import {
  checkFrameAllowed,
  frameTypeName,
  type H3FrameStreamKind,
  H3FrameType,
  isHttp2OnlyFrameType,
} from './frame-types.js';
import { decodeBufferedFrame, type H3BufferedFrame, isBufferedFrameType } from './frames.js';

/** What the parser reports, in stream order. */
export type H3FrameEvent =
  /** Every frame, as soon as its Type and Length are known (before any payload). */
  | {
      readonly kind: 'frame-header';
      /** Frame type; types above 2^53 - 1 (all unknown) saturate at `Number.MAX_SAFE_INTEGER`. */
      readonly type: number;
      /** Declared payload length, saturated the same way (no stream reaches 2^53 bytes). */
      readonly length: number;
    }
  /** A piece of a DATA frame's payload, as it arrives (never empty). */
  | { readonly kind: 'data'; readonly chunk: Uint8Array }
  /** A complete HEADERS, PUSH_PROMISE, SETTINGS, GOAWAY, CANCEL_PUSH or MAX_PUSH_ID frame. */
  | { readonly kind: 'frame'; readonly frame: H3BufferedFrame };

/** Limits and optional static checks. */
export interface H3FrameParserOptions {
  /** Largest HEADERS / PUSH_PROMISE payload held (encoded bytes). Default 65536. */
  readonly maxFieldSectionBytes?: number;
  /** Largest SETTINGS payload held. Default 16384. */
  readonly maxSettingsBytes?: number;
  /** When set, frames are checked against RFC 9114 §7.2 Table 1 with `checkFrameAllowed`. */
  readonly stream?: H3FrameStreamKind;
  /** The peer's role, when known (with `stream`): enables the PUSH_PROMISE / MAX_PUSH_ID checks. */
  readonly sender?: 'client' | 'server';
}

const ST_TYPE = 0;
const ST_LENGTH = 1;
const ST_DATA = 2;
const ST_BUFFER = 3;
const ST_SKIP = 4;

const EMPTY = new Uint8Array(0);

export class H3FrameParser {
  readonly #maxFieldSection: number;
  readonly #maxSettings: number;
  readonly #stream: H3FrameStreamKind | undefined;
  readonly #sender: 'client' | 'server' | undefined;

  #state = ST_TYPE;
  /** Partial varint bytes carried across chunks. */
  readonly #vbuf = new Uint8Array(8);
  #vhave = 0;
  #vneed = 0;
  /** Last varint decoded (saturated). */
  #v = 0;

  #type = 0;
  #length = 0;
  #remaining = 0;
  #parts: Uint8Array[] = [];
  #partsLen = 0;
  #first = true;
  #ended = false;
  #error: unknown;

  constructor(opts: H3FrameParserOptions = {}) {
    this.#maxFieldSection = opts.maxFieldSectionBytes ?? 65536;
    this.#maxSettings = opts.maxSettingsBytes ?? 16384;
    this.#stream = opts.stream;
    this.#sender = opts.sender;
  }

  /** True between frames: ending the stream here is clean. */
  get atFrameBoundary(): boolean {
    return this.#state === ST_TYPE && this.#vneed === 0;
  }

  /** Bytes currently held by the parser (partial varints and partial buffered payloads). */
  get bufferedBytes(): number {
    return this.#vhave + this.#partsLen;
  }

  /** Payload bytes still expected for the current frame (0 between frames or inside a header). */
  get remaining(): number {
    return this.#state >= ST_DATA ? this.#remaining : 0;
  }

  /**
   * Parses `chunk`, appending events to `out` (a fresh array by default) and returning it.
   * Throws `H3Error` on a protocol violation.
   */
  push(chunk: Uint8Array, out: H3FrameEvent[] = []): H3FrameEvent[] {
    if (this.#error !== undefined) throw this.#error;
    if (this.#ended) throw new Error('H3FrameParser: push after end');
    try {
      this.#run(chunk, out);
    } catch (err) {
      this.#error = err;
      throw err;
    }
    return out;
  }

  /**
   * The peer ended the stream cleanly (FIN). RFC 9114 §7.1: "if the last frame on the stream was
   * truncated, this MUST be treated as a connection error of type H3_FRAME_ERROR". On a control
   * stream any end is H3_CLOSED_CRITICAL_STREAM (§6.2.1). A reset is not an end: "Streams that
   * terminate abruptly may be reset at any point in a frame".
   */
  end(): void {
    if (this.#error !== undefined) throw this.#error;
    this.#ended = true;
    let err: H3Error | undefined;
    if (this.#stream === 'control') {
      err = new H3Error(H3ErrorCode.H3_CLOSED_CRITICAL_STREAM, 'control stream closed');
    } else if (!this.atFrameBoundary) {
      const where =
        this.#state === ST_TYPE || this.#state === ST_LENGTH
          ? 'inside a frame header'
          : `with ${this.#remaining} of ${this.#length} payload bytes of ${frameTypeName(this.#type)} missing`;
      err = new H3Error(H3ErrorCode.H3_FRAME_ERROR, `stream ended ${where}`);
    }
    if (err !== undefined) {
      this.#error = err;
      throw err;
    }
  }

  #run(chunk: Uint8Array, out: H3FrameEvent[]): void {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      switch (this.#state) {
        case ST_TYPE:
          pos = this.#varint(chunk, pos);
          if (pos < 0) return;
          this.#onType(this.#v);
          break;
        case ST_LENGTH:
          pos = this.#varint(chunk, pos);
          if (pos < 0) return;
          this.#onLength(this.#v, out);
          break;
        case ST_DATA: {
          const take = Math.min(this.#remaining, n - pos);
          out.push({ kind: 'data', chunk: chunk.subarray(pos, pos + take) });
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = ST_TYPE;
          break;
        }
        case ST_BUFFER: {
          const take = Math.min(this.#remaining, n - pos);
          if (this.#partsLen === 0 && take === this.#remaining) {
            // The whole payload is in this chunk: hand out a view, no copy.
            this.#remaining = 0;
            this.#state = ST_TYPE;
            this.#emitBuffered(chunk.subarray(pos, pos + take), out);
          } else {
            this.#parts.push(chunk.slice(pos, pos + take));
            this.#partsLen += take;
            this.#remaining -= take;
            if (this.#remaining === 0) this.#finishParts(out);
          }
          pos += take;
          break;
        }
        default: {
          // ST_SKIP: unknown or reserved type, dropped without buffering.
          const take = Math.min(this.#remaining, n - pos);
          pos += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = ST_TYPE;
        }
      }
    }
  }

  /**
   * Reads a varint at `chunk[pos]` (pos < chunk.length) into `#v`, carrying partial bytes across
   * chunks. Returns the position after it, or -1 when the chunk ended first (all consumed).
   */
  #varint(chunk: Uint8Array, pos: number): number {
    if (this.#vneed === 0) {
      const len = 1 << (chunk[pos] >> 6);
      if (pos + len <= chunk.length) {
        this.#v = saturatedVarint(chunk, pos, len);
        return pos + len;
      }
      this.#vneed = len;
    }
    while (this.#vhave < this.#vneed && pos < chunk.length)
      this.#vbuf[this.#vhave++] = chunk[pos++];
    if (this.#vhave < this.#vneed) return -1;
    this.#v = saturatedVarint(this.#vbuf, 0, this.#vneed);
    this.#vhave = 0;
    this.#vneed = 0;
    return pos;
  }

  #onType(type: number): void {
    if (this.#stream !== undefined) {
      checkFrameAllowed(type, { stream: this.#stream, sender: this.#sender, first: this.#first });
    } else if (isHttp2OnlyFrameType(type)) {
      // §7.2.8: HTTP/2-only types "MUST be treated as a connection error of type
      // H3_FRAME_UNEXPECTED", on any stream.
      throw new H3Error(
        H3ErrorCode.H3_FRAME_UNEXPECTED,
        `HTTP/2 frame type ${frameTypeName(type)} is reserved in HTTP/3`,
      );
    }
    this.#first = false;
    this.#type = type;
    this.#state = ST_LENGTH;
  }

  #onLength(length: number, out: H3FrameEvent[]): void {
    const type = this.#type;
    this.#length = length;
    this.#remaining = length;
    if (isBufferedFrameType(type)) this.#checkCap(type, length);
    out.push({ kind: 'frame-header', type, length });
    if (type === H3FrameType.DATA) {
      this.#state = length > 0 ? ST_DATA : ST_TYPE;
    } else if (isBufferedFrameType(type)) {
      this.#state = ST_BUFFER;
      if (length === 0) {
        this.#state = ST_TYPE;
        this.#emitBuffered(EMPTY, out);
      }
    } else {
      this.#state = length > 0 ? ST_SKIP : ST_TYPE;
    }
  }

  /** Refuses a declared length before holding any of it. */
  #checkCap(type: number, length: number): void {
    const name = frameTypeName(type);
    if (type === H3FrameType.HEADERS || type === H3FrameType.PUSH_PROMISE) {
      if (length > this.#maxFieldSection) {
        // A valid frame above our limit: load, not layout (§10.5 "H3_EXCESSIVE_LOAD"). It concerns
        // one message, so a stream error: a server may still answer 431 (§4.2.2) before resetting.
        throw new H3Error(
          H3ErrorCode.H3_EXCESSIVE_LOAD,
          `${name} field section of ${length} bytes above limit ${this.#maxFieldSection}`,
          'stream',
        );
      }
    } else if (type === H3FrameType.SETTINGS) {
      if (length > this.#maxSettings) {
        throw new H3Error(
          H3ErrorCode.H3_EXCESSIVE_LOAD,
          `SETTINGS of ${length} bytes above limit ${this.#maxSettings}`,
        );
      }
    } else if (length === 0 || length > 8) {
      // CANCEL_PUSH, GOAWAY, MAX_PUSH_ID hold exactly one varint (1 to 8 bytes); any other length
      // is a payload "shorter than" or with "additional bytes after" its fields (§7.1).
      throw new H3Error(
        H3ErrorCode.H3_FRAME_ERROR,
        `${name} payload of ${length} bytes cannot hold exactly one varint`,
      );
    }
  }

  #finishParts(out: H3FrameEvent[]): void {
    const payload = new Uint8Array(this.#partsLen);
    let off = 0;
    for (const p of this.#parts) {
      payload.set(p, off);
      off += p.length;
    }
    this.#parts = [];
    this.#partsLen = 0;
    this.#state = ST_TYPE;
    this.#emitBuffered(payload, out);
  }

  #emitBuffered(payload: Uint8Array, out: H3FrameEvent[]): void {
    out.push({ kind: 'frame', frame: decodeBufferedFrame(this.#type, payload) });
  }
}

/** A varint of `len` bytes at `buf[off]`, saturated at `Number.MAX_SAFE_INTEGER`. */
function saturatedVarint(buf: Uint8Array, off: number, len: number): number {
  const b0 = buf[off] & 0x3f;
  switch (len) {
    case 1:
      // 00xxxxxx
      return b0;
    case 2:
      // 01xxxxxx xxxxxxxx
      return (b0 << 8) | buf[off + 1];
    case 4:
      // 10xxxxxx + 3 bytes
      return b0 * 0x100_0000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
    default: {
      // 11xxxxxx + 7 bytes: 62 bits; saturate above 2^53 - 1 (high 30 bits above 0x1fffff).
      const hi = b0 * 0x100_0000 + ((buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]);
      if (hi > 0x1f_ffff) return Number.MAX_SAFE_INTEGER;
      const lo =
        buf[off + 4] * 0x100_0000 + ((buf[off + 5] << 16) | (buf[off + 6] << 8) | buf[off + 7]);
      return hi * 0x1_0000_0000 + lo;
    }
  }
}
