/**
 * A bounds-checked cursor over a `Uint8Array`, with methods named after wire types. Every read
 * past the end throws `CodecError('TRUNCATED')`; nothing here throws a `RangeError`.
 *
 * Byte strings come back as zero-copy `subarray` views of the input: callers that keep them
 * beyond the life of the input buffer copy them (`slice()`).
 */
import { CodecError } from './errors.js';
import {
  decodeVarint,
  decodeVarintBig,
  type VarintResult,
  varintLengthFromFirstByte,
} from './varint.js';

export class ByteReader {
  readonly #buf: Uint8Array;
  /** Made on the first multi-byte fixed-width read: most readers (packet headers, frames) never need one. */
  #dataView: DataView | undefined;
  #pos: number;
  readonly #end: number;
  readonly #vr: VarintResult = { value: 0, next: 0 };

  /** Reads `buf[start, end)`. Offsets reported by {@link offset} are relative to `buf`. */
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new CodecError(
        'TRUNCATED',
        `reader window [${start}, ${end}) outside ${buf.length} bytes`,
      );
    }
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** Current position, as an index into the underlying `buf`. */
  get offset(): number {
    return this.#pos;
  }

  get #view(): DataView {
    // The view must honour byteOffset and byteLength: `buf` is often a view into a larger pool.
    const b = this.#buf;
    this.#dataView ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.#dataView;
  }

  /** Bytes left before the end of the window. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The whole underlying buffer (for callers that need absolute offsets, such as header protection). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  #need(n: number, what: string): void {
    if (n < 0 || this.#pos + n > this.#end) {
      throw new CodecError(
        'TRUNCATED',
        `${what}: need ${n} bytes at offset ${this.#pos}, have ${this.#end - this.#pos}`,
      );
    }
  }

  u8(): number {
    this.#need(1, 'u8');
    return this.#buf[this.#pos++];
  }

  peekU8(): number {
    this.#need(1, 'u8');
    return this.#buf[this.#pos];
  }

  u16(): number {
    this.#need(2, 'u16');
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u24(): number {
    this.#need(3, 'u24');
    const b = this.#buf;
    const p = this.#pos;
    this.#pos += 3;
    return (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
  }

  u32(): number {
    this.#need(4, 'u32');
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8, 'u64');
    const v = this.#view.getBigUint64(this.#pos);
    this.#pos += 8;
    return v;
  }

  /** A varint as an exact `number`; VARINT_RANGE above 2^53 - 1. */
  varint(): number {
    decodeVarint(this.#buf, this.#pos, this.#end, this.#vr);
    this.#pos = this.#vr.next;
    return this.#vr.value;
  }

  /** A varint as an exact `bigint` (up to 2^62 - 1). */
  varintBig(): bigint {
    const r = decodeVarintBig(this.#buf, this.#pos, this.#end);
    this.#pos = r.next;
    return r.value;
  }

  /**
   * A varint saturated at `Number.MAX_SAFE_INTEGER`: for limits where anything larger means the
   * same ("practically unlimited") and for codes that are only compared against registered values.
   */
  varintClamped(): number {
    // 1 to 4 bytes (first byte below 0xc0) cannot exceed 2^30: no bigint for the common case.
    if (this.#pos < this.#end && this.#buf[this.#pos] < 0xc0) return this.varint();
    const r = decodeVarintBig(this.#buf, this.#pos, this.#end);
    this.#pos = r.next;
    return r.value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(r.value);
  }

  /** Encoded length of the varint at the cursor, without consuming it. */
  peekVarintLength(): 1 | 2 | 4 | 8 {
    return varintLengthFromFirstByte(this.peekU8());
  }

  /** `n` bytes as a zero-copy view. */
  bytes(n: number): Uint8Array {
    this.#need(n, 'bytes');
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Everything left in the window, as a view. */
  rest(): Uint8Array {
    const out = this.#buf.subarray(this.#pos, this.#end);
    this.#pos = this.#end;
    return out;
  }

  skip(n: number): void {
    this.#need(n, 'skip');
    this.#pos += n;
  }

  /** Bytes prefixed by a 1-byte length. */
  vec8(max = 0xff): Uint8Array {
    return this.#vec(this.u8(), max, 'vec8');
  }

  /** Bytes prefixed by a 2-byte length. */
  vec16(max = 0xffff): Uint8Array {
    return this.#vec(this.u16(), max, 'vec16');
  }

  /** Bytes prefixed by a 3-byte length. */
  vec24(max = 0xff_ffff): Uint8Array {
    return this.#vec(this.u24(), max, 'vec24');
  }

  /** Bytes prefixed by a varint length. `max` caps what a peer may declare. */
  vecVarint(max = Number.MAX_SAFE_INTEGER): Uint8Array {
    return this.#vec(this.varint(), max, 'vecVarint');
  }

  #vec(len: number, max: number, what: string): Uint8Array {
    if (len > max) throw new CodecError('TOO_LARGE', `${what}: length ${len} above cap ${max}`);
    return this.bytes(len);
  }

  /**
   * Runs `fn` over the next `len` bytes as a child reader, advances past them, and checks that
   * `fn` consumed them exactly (LENGTH_MISMATCH otherwise).
   */
  block<T>(len: number, fn: (r: ByteReader) => T, what = 'block'): T {
    this.#need(len, what);
    const child = new ByteReader(this.#buf, this.#pos, this.#pos + len);
    const value = fn(child);
    if (!child.done) {
      throw new CodecError('LENGTH_MISMATCH', `${what}: ${child.remaining} unread bytes`);
    }
    this.#pos += len;
    return value;
  }

  /** A child reader over the next `len` bytes (advancing past them), without an exactness check. */
  sub(len: number, what = 'sub'): ByteReader {
    this.#need(len, what);
    const child = new ByteReader(this.#buf, this.#pos, this.#pos + len);
    this.#pos += len;
    return child;
  }

  /** Throws LENGTH_MISMATCH if bytes remain. */
  expectEnd(what = 'structure'): void {
    if (this.#pos !== this.#end) {
      throw new CodecError('LENGTH_MISMATCH', `${what}: ${this.#end - this.#pos} trailing bytes`);
    }
  }
}
