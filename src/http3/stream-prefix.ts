/**
 * Reading the leading varint(s) of a stream that arrives in chunks of any size: the type of a
 * unidirectional stream (RFC 9114 §6.2), the Push ID after it, or the first varint of a
 * bidirectional stream, which is a frame type for HTTP/3 but WebTransport's WEBTRANSPORT_STREAM
 * signal (0x41) for a WebTransport stream.
 *
 * For a bidirectional stream the caller peeks without committing: once {@link VarintPrefixReader}
 * is done, either the value is the extension's signal, or the caller hands `encoded` and the rest
 * of the chunk to an `H3FrameParser` as if nothing had been read.
 */
import { decodeVarintBig, varintLengthFromFirstByte } from '../wire/varint.js';

/**
 * The varint at `bytes[offset]` as an exact value and its encoded length, or `undefined` when
 * `bytes` ends before the varint does. Never throws for a valid offset.
 */
export function peekVarint(
  bytes: Uint8Array,
  offset = 0,
): { value: bigint; length: 1 | 2 | 4 | 8 } | undefined {
  if (offset >= bytes.length) return undefined;
  const length = varintLengthFromFirstByte(bytes[offset]);
  if (offset + length > bytes.length) return undefined;
  return { value: decodeVarintBig(bytes, offset).value, length };
}

/** Accumulates one varint across chunks without allocating per chunk. Reusable via {@link reset}. */
export class VarintPrefixReader {
  readonly #buf = new Uint8Array(8);
  #have = 0;
  #need = 0;

  /**
   * Consumes bytes of `chunk` from `offset` until the varint is complete; returns the offset in
   * `chunk` just after the bytes consumed (`chunk.length` if it is still incomplete). Consumes
   * nothing once {@link done}.
   */
  push(chunk: Uint8Array, offset = 0): number {
    let pos = offset;
    if (this.#need === 0) {
      if (pos >= chunk.length) return pos;
      this.#need = varintLengthFromFirstByte(chunk[pos]);
    }
    while (this.#have < this.#need && pos < chunk.length) this.#buf[this.#have++] = chunk[pos++];
    return pos;
  }

  /** True once the whole varint has been read. */
  get done(): boolean {
    return this.#need !== 0 && this.#have === this.#need;
  }

  /** Bytes held so far (at most 8). */
  get buffered(): number {
    return this.#have;
  }

  /** The exact value; throws `Error` if not {@link done} (a caller bug, not a peer error). */
  get value(): bigint {
    this.#assertDone();
    return decodeVarintBig(this.#buf, 0, this.#have).value;
  }

  /** The value saturated at `Number.MAX_SAFE_INTEGER`, for comparing with registered code points. */
  get valueClamped(): number {
    const v = this.value;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  /** A copy of the varint's bytes as received (for replaying them into a frame parser). */
  get encoded(): Uint8Array {
    this.#assertDone();
    return this.#buf.slice(0, this.#have);
  }

  reset(): void {
    this.#have = 0;
    this.#need = 0;
  }

  #assertDone(): void {
    if (!this.done) throw new Error('VarintPrefixReader: varint not complete');
  }
}
