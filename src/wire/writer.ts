/**
 * An append-only byte writer. Two modes:
 * - growable (default): doubles its buffer as needed, for control-plane encoding;
 * - fixed (`ByteWriter.into(buf)`): writes into a caller's buffer and throws
 *   `CodecError('TOO_LARGE')` instead of growing, for packet building on hot paths.
 */
import { CodecError } from './errors.js';
import { encodeVarint, varintLength } from './varint.js';

export type LengthPrefix = 'u8' | 'u16' | 'u24' | 'varint';

const PREFIX_MAX: Record<Exclude<LengthPrefix, 'varint'>, number> = {
  u8: 0xff,
  u16: 0xffff,
  u24: 0xff_ffff,
};

export class ByteWriter {
  #buf: Uint8Array;
  /** Made on the first multi-byte fixed-width write (packet building rarely needs one). */
  #dataView: DataView | undefined;
  #pos: number;
  #start: number;
  /** End of the writable window: the buffer's length, or less after {@link rewind}. */
  #end: number;
  readonly #fixed: boolean;

  /**
   * `new ByteWriter(capacity)` grows as needed; `new ByteWriter(buf, start)` writes into `buf`
   * from `start` and never reallocates (see also {@link ByteWriter.into}).
   */
  constructor(capacityOrBuffer: number | Uint8Array = 256, start = 0) {
    if (typeof capacityOrBuffer === 'number') {
      this.#buf = new Uint8Array(Math.max(16, capacityOrBuffer));
      this.#fixed = false;
      this.#start = 0;
    } else {
      if (start < 0 || start > capacityOrBuffer.length) {
        throw new CodecError(
          'TOO_LARGE',
          `start ${start} outside a ${capacityOrBuffer.length}-byte buffer`,
        );
      }
      this.#buf = capacityOrBuffer;
      this.#fixed = true;
      this.#start = start;
    }
    this.#pos = this.#start;
    this.#end = this.#buf.length;
  }

  get #view(): DataView {
    const b = this.#buf;
    this.#dataView ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    return this.#dataView;
  }

  /** A writer over `buf[start, buf.length)` that never reallocates. */
  static into(buf: Uint8Array, start = 0): ByteWriter {
    return new ByteWriter(buf, start);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos - this.#start;
  }

  /** Absolute position in the underlying buffer (for back-patching). */
  get position(): number {
    return this.#pos;
  }

  /** The underlying buffer (for back-patching at positions taken from {@link position}). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#end) return;
    if (this.#fixed) {
      throw new CodecError('TOO_LARGE', `writer full: need ${n} more bytes at ${this.#pos}`);
    }
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#end = cap;
    this.#dataView = undefined;
  }

  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.#ensure(2);
    this.#view.setUint16(this.#pos, v);
    this.#pos += 2;
    return this;
  }

  u24(v: number): this {
    this.#ensure(3);
    this.#buf[this.#pos] = v >>> 16;
    this.#buf[this.#pos + 1] = v >>> 8;
    this.#buf[this.#pos + 2] = v;
    this.#pos += 3;
    return this;
  }

  u32(v: number): this {
    this.#ensure(4);
    this.#view.setUint32(this.#pos, v >>> 0);
    this.#pos += 4;
    return this;
  }

  u64(v: bigint): this {
    this.#ensure(8);
    this.#view.setBigUint64(this.#pos, v);
    this.#pos += 8;
    return this;
  }

  /** A varint, minimal unless `length` asks for a longer encoding. */
  varint(v: number | bigint, length?: 1 | 2 | 4 | 8): this {
    const len = length ?? varintLength(v);
    this.#ensure(len);
    this.#pos = encodeVarint(this.#buf, this.#pos, v, len);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }

  /** `n` zero bytes (padding). */
  zeros(n: number): this {
    this.#ensure(n);
    const b = this.#buf;
    const end = this.#pos + n;
    // A packet number placeholder is 1-4 bytes: a loop beats fill()'s call into the runtime.
    if (n <= 16) for (let i = this.#pos; i < end; i++) b[i] = 0;
    else b.fill(0, this.#pos, end);
    this.#pos = end;
    return this;
  }

  vec8(b: Uint8Array): this {
    return this.#checkPrefix('u8', b.length).u8(b.length).bytes(b);
  }

  vec16(b: Uint8Array): this {
    return this.#checkPrefix('u16', b.length).u16(b.length).bytes(b);
  }

  vec24(b: Uint8Array): this {
    return this.#checkPrefix('u24', b.length).u24(b.length).bytes(b);
  }

  vecVarint(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  #checkPrefix(kind: Exclude<LengthPrefix, 'varint'>, len: number): this {
    if (len > PREFIX_MAX[kind]) {
      throw new CodecError('TOO_LARGE', `${len} bytes do not fit a ${kind} length prefix`);
    }
    return this;
  }

  /**
   * Writes a length prefix of the given kind followed by whatever `fn` writes, back-filling the
   * length once known. For `varint` the body is moved if its length needs more than one byte.
   */
  lengthPrefixed(kind: LengthPrefix, fn: (w: this) => void): this {
    const size = kind === 'u8' ? 1 : kind === 'u16' ? 2 : kind === 'u24' ? 3 : 1;
    this.#ensure(size);
    const at = this.#pos;
    this.#pos += size;
    fn(this);
    const len = this.#pos - at - size;
    if (kind === 'varint') {
      const need = varintLength(len);
      if (need > size) {
        this.#ensure(need - size);
        this.#buf.copyWithin(at + need, at + size, this.#pos);
        this.#pos += need - size;
      }
      encodeVarint(this.#buf, at, len, need);
      return this;
    }
    this.#checkPrefix(kind, len);
    if (kind === 'u8') this.#buf[at] = len;
    else if (kind === 'u16') this.#view.setUint16(at, len);
    else {
      this.#buf[at] = len >>> 16;
      this.#buf[at + 1] = len >>> 8;
      this.#buf[at + 2] = len;
    }
    return this;
  }

  /** A view of the bytes written (valid until the next write that grows the buffer). */
  view(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#pos);
  }

  /** A copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.#buf.slice(this.#start, this.#pos);
  }

  /**
   * Fixed writers: writes `buffer[start, end)` from now on, forgetting what was written (a packet
   * builder reuses one writer for every packet rather than making one per packet).
   */
  rewind(start: number, end: number): void {
    if (!this.#fixed || start < 0 || start > end || end > this.#buf.length) {
      throw new CodecError('TOO_LARGE', `cannot rewind to [${start}, ${end})`);
    }
    this.#start = start;
    this.#pos = start;
    this.#end = end;
  }

  /** Forgets what was written, keeping the buffer. */
  reset(): void {
    this.#pos = this.#start;
  }
}
