/**
 * An incremental Capsule Protocol parser (RFC 9297 §3.2) for a request's data stream, fed byte
 * chunks of any size: a chunk may end anywhere, including inside the Capsule Type or Capsule
 * Length varint.
 *
 * - Known types (DATAGRAM plus the types the caller registers, each with a cap on its Capsule
 *   Length) are emitted whole. The cap is checked as soon as the Capsule Length is known, before
 *   any byte of the value is buffered.
 * - Unknown types are skipped as they stream past, without buffering: RFC 9297 §3.2 "Endpoints
 *   which receive a Capsule with an unknown Capsule Type MUST silently drop that Capsule and skip
 *   over it to parse the next Capsule." Types beyond 2^53 - 1 are unknown by construction.
 * - A DATAGRAM capsule longer than `maxDatagramLength` is dropped unbuffered by default: RFC 9297
 *   §3.5 "if an incoming DATAGRAM capsule has a length that is known to be so large as to not be
 *   usable, the implementation SHOULD discard the capsule without buffering its contents".
 * - {@link CapsuleParser.end} at the end of the stream throws if a capsule was cut short (§3.3).
 *
 * Values of known capsules are not decoded here; their codecs do that (and throw CapsuleError on
 * truncated fields or trailing bytes). After any error the parser stays failed.
 */
import { decodeVarint, type VarintResult, varintLengthFromFirstByte } from '../wire/varint.js';
import { CapsuleError } from './errors.js';
import { type Capsule, CapsuleType } from './types.js';

/**
 * Default cap on a DATAGRAM capsule's length: the largest connect-udp-bind uncompressed payload,
 * an 8-byte Context ID + IP Version (1) + IPv6 address (16) + port (2) + the largest UDP payload
 * (65527, RFC 9298 §5) = 65554 bytes. Plain connect-udp needs at most 8 + 65527.
 */
export const DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH = 8 + 1 + 16 + 2 + 65_527;

/** What to do with a DATAGRAM capsule above its cap. */
export type OversizeDatagramPolicy =
  /** Skip it without buffering and count it in `droppedDatagrams` (RFC 9297 §3.5 SHOULD). */
  | 'drop'
  /** Throw CapsuleError('TOO_LARGE'), as for any other known capsule. */
  | 'error';

export interface CapsuleParserOptions {
  /**
   * Capsule types to emit besides DATAGRAM, each with the largest Capsule Length accepted; a
   * longer one is an error. Types not listed are skipped.
   */
  known?: Iterable<readonly [type: number, maxLength: number]>;
  /** Cap on a DATAGRAM capsule's length. Default {@link DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH}. */
  maxDatagramLength?: number;
  /** Default `'drop'`. */
  oversizeDatagram?: OversizeDatagramPolicy;
  /**
   * Told of every capsule skipped unread: an unknown type (RFC 9297 §3.2 "silently drop", but we
   * count it) or a DATAGRAM above its cap (§3.5). `type` and `length` saturate at 2^53 - 1.
   */
  onDiscard?: (type: number, length: number, reason: CapsuleDiscardReason) => void;
}

/** Why a capsule was skipped unread. */
export type CapsuleDiscardReason = 'unknown-type' | 'oversize-datagram';

const HEADER = 0;
const VALUE = 1;
const SKIP = 2;
type State = typeof HEADER | typeof VALUE | typeof SKIP;

const EMPTY = new Uint8Array(0);
const CLAMP = Number.MAX_SAFE_INTEGER;

export class CapsuleParser {
  readonly #caps = new Map<number, number>();
  readonly #dropOversize: boolean;
  readonly #onDiscard: CapsuleParserOptions['onDiscard'];
  readonly #vr: VarintResult = { value: 0, next: 0 };
  /** Holds a Capsule Type + Capsule Length split across chunks (at most 8 + 8 bytes). */
  readonly #hdr = new Uint8Array(16);
  #hdrLen = 0;
  #state: State = HEADER;
  #type = 0;
  #value: Uint8Array = EMPTY;
  #filled = 0;
  #skipLeft = 0;
  #skipped = 0;
  #dropped = 0;
  #failed: CapsuleError | undefined;

  constructor(options: CapsuleParserOptions = {}) {
    const maxDatagram = options.maxDatagramLength ?? DEFAULT_MAX_DATAGRAM_CAPSULE_LENGTH;
    checkCap(maxDatagram);
    this.#caps.set(CapsuleType.DATAGRAM, maxDatagram);
    for (const [type, max] of options.known ?? []) {
      // CLAMP stands for "any type too large to be exact", so it cannot be registered.
      if (!Number.isSafeInteger(type) || type < 0 || type >= CLAMP) {
        throw new RangeError(`capsule type ${type} cannot be registered`);
      }
      if (type === CapsuleType.DATAGRAM) throw new RangeError('set maxDatagramLength instead');
      checkCap(max);
      this.#caps.set(type, max);
    }
    this.#dropOversize = (options.oversizeDatagram ?? 'drop') === 'drop';
    this.#onDiscard = options.onDiscard;
  }

  /** Capsules skipped because their type is unknown (grease included). */
  get skippedCapsules(): number {
    return this.#skipped;
  }

  /** DATAGRAM capsules dropped unbuffered because they were above `maxDatagramLength`. */
  get droppedDatagrams(): number {
    return this.#dropped;
  }

  /** Bytes held for an incomplete capsule (header bytes plus the allocated value). */
  get buffered(): number {
    return this.#hdrLen + (this.#state === VALUE ? this.#value.length : 0);
  }

  /** True between capsules: ending the stream now is clean. */
  get atBoundary(): boolean {
    return this.#state === HEADER && this.#hdrLen === 0;
  }

  /**
   * Consumes `chunk` and calls `emit` for each complete known capsule, in order. Throws
   * CapsuleError on a capsule above its cap (before buffering it). `emit` must not call `push`.
   */
  push(chunk: Uint8Array, emit: (capsule: Capsule) => void): void {
    if (this.#failed) throw this.#failed;
    try {
      this.#push(chunk, emit);
    } catch (err) {
      if (err instanceof CapsuleError) this.#failed = err;
      throw err;
    }
  }

  /**
   * Signals the clean end of the stream (a FIN). RFC 9297 §3.3: "If the receive side of a stream
   * carrying capsules is terminated cleanly ... and the last capsule on the stream was truncated,
   * this MUST be treated as if it were a malformed or incomplete message."
   */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (!this.atBoundary) {
      const where = this.#state === HEADER ? 'header' : 'value';
      this.#failed = new CapsuleError(`stream ended inside a capsule ${where}`, 'INCOMPLETE');
      throw this.#failed;
    }
  }

  #push(chunk: Uint8Array, emit: (capsule: Capsule) => void): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#state === HEADER) {
        let type: number;
        let length: number;
        if (this.#hdrLen === 0) {
          const n = headerSize(chunk, pos, end);
          if (n === 0) {
            this.#hdr.set(chunk.subarray(pos, end));
            this.#hdrLen = end - pos;
            return;
          }
          type = this.#clamped(chunk, pos);
          length = this.#clamped(chunk, pos + varintLengthFromFirstByte(chunk[pos]));
          pos += n;
        } else {
          // Complete a header split across chunks, one byte at a time (16 bytes at most).
          const hdr = this.#hdr;
          while (headerSize(hdr, 0, this.#hdrLen) === 0) {
            if (pos >= end) return;
            hdr[this.#hdrLen++] = chunk[pos++];
          }
          type = this.#clamped(hdr, 0);
          length = this.#clamped(hdr, varintLengthFromFirstByte(hdr[0]));
          this.#hdrLen = 0;
        }
        pos = this.#begin(type, length, chunk, pos, emit);
      } else if (this.#state === VALUE) {
        const value = this.#value;
        const take = Math.min(value.length - this.#filled, end - pos);
        value.set(chunk.subarray(pos, pos + take), this.#filled);
        this.#filled += take;
        pos += take;
        if (this.#filled === value.length) {
          this.#state = HEADER;
          this.#value = EMPTY;
          emit({ type: this.#type, value });
        }
      } else {
        const take = Math.min(this.#skipLeft, end - pos);
        this.#skipLeft -= take;
        pos += take;
        if (this.#skipLeft === 0) this.#state = HEADER;
      }
    }
  }

  /** Starts a capsule whose header ended at `pos`; returns the new position in `chunk`. */
  #begin(
    type: number,
    length: number,
    chunk: Uint8Array,
    pos: number,
    emit: (capsule: Capsule) => void,
  ): number {
    const cap = this.#caps.get(type);
    if (cap === undefined) {
      this.#skipped++;
      this.#onDiscard?.(type, length, 'unknown-type');
      return this.#skip(length, chunk, pos);
    }
    if (length > cap) {
      if (type === CapsuleType.DATAGRAM && this.#dropOversize) {
        this.#dropped++;
        this.#onDiscard?.(type, length, 'oversize-datagram');
        return this.#skip(length, chunk, pos);
      }
      const len = length === CLAMP ? '>= 2^53 - 1' : String(length);
      throw new CapsuleError(
        `capsule type 0x${type.toString(16)}: length ${len} above cap ${cap}`,
        'TOO_LARGE',
      );
    }
    const avail = chunk.length - pos;
    if (avail >= length) {
      emit({ type, value: length === 0 ? EMPTY : chunk.subarray(pos, pos + length) });
      return pos + length;
    }
    this.#type = type;
    this.#value = new Uint8Array(length);
    this.#value.set(chunk.subarray(pos));
    this.#filled = avail;
    this.#state = VALUE;
    return chunk.length;
  }

  #skip(length: number, chunk: Uint8Array, pos: number): number {
    const avail = chunk.length - pos;
    if (avail >= length) return pos + length;
    // A length clamped at 2^53 - 1 is skipped as that many bytes: no stream gets that far.
    this.#skipLeft = length - avail;
    this.#state = SKIP;
    return chunk.length;
  }

  /** A complete varint at `off`, saturated at 2^53 - 1 (only compared or counted down). */
  #clamped(buf: Uint8Array, off: number): number {
    const first = buf[off];
    // 8-byte encoding 11xxxxxx: the value exceeds 2^53 - 1 when any of bits 61..53 is set.
    if (first >= 0xc0 && ((first & 0x3f) !== 0 || buf[off + 1] > 0x1f)) return CLAMP;
    return decodeVarint(buf, off, buf.length, this.#vr).value;
  }
}

/** Length of the Capsule Type + Capsule Length fields at `start`, or 0 if not all there yet. */
function headerSize(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return 0;
  const typeLen = varintLengthFromFirstByte(buf[start]);
  if (start + typeLen >= end) return 0;
  const lenLen = varintLengthFromFirstByte(buf[start + typeLen]);
  if (start + typeLen + lenLen > end) return 0;
  return typeLen + lenLen;
}

function checkCap(max: number): void {
  if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`invalid capsule cap ${max}`);
}

/**
 * Parses a complete capsule stream held in one buffer (the stream ends after `bytes`): the known
 * capsules in order. Throws CapsuleError as {@link CapsuleParser} does, including INCOMPLETE when
 * the last capsule is cut short.
 */
export function parseCapsules(bytes: Uint8Array, options?: CapsuleParserOptions): Capsule[] {
  const parser = new CapsuleParser(options);
  const out: Capsule[] = [];
  parser.push(bytes, (c) => out.push(c));
  parser.end();
  return out;
}
