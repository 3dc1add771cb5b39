/**
 * Send core shared by {@link SendStream} and the CRYPTO send side: the bytes written so far, what
 * has been sent, what the peer acknowledged and what must be sent again.
 *
 * Ownership: `push(data)` keeps a reference to the caller's array, without copying. The caller
 * must not modify it afterwards; it is released once every byte of it is acknowledged (or on
 * `discard()`). Outgoing chunks are views into those arrays unless a chunk spans two writes, in
 * which case the bytes are gathered into a fresh array.
 *
 * Acknowledged bytes are a {@link RangeSet} above the acknowledged front; lost bytes are a second
 * RangeSet that always excludes acknowledged ones. Both stay small (bounded by reordering).
 */
import { RangeSet } from '../../util/range-set.js';

const EMPTY = new Uint8Array(0);

export class SendBuffer {
  /** Written arrays and their stream offsets; slots below #head are released. */
  readonly #chunks: Uint8Array[] = [];
  readonly #starts: number[] = [];
  #head = 0;
  #written = 0;
  #sentEnd = 0;
  #ackedFront = 0;
  readonly #acked = new RangeSet();
  readonly #lost = new RangeSet();

  /** Total bytes written: the offset the next write starts at. */
  get written(): number {
    return this.#written;
  }

  /** Offset of the first byte never sent (bytes below it were sent at least once). */
  get sentEnd(): number {
    return this.#sentEnd;
  }

  /** Every byte below this offset is acknowledged. */
  get ackedFront(): number {
    return this.#ackedFront;
  }

  /** Bytes written but never sent. */
  get unsent(): number {
    return this.#written - this.#sentEnd;
  }

  /** True when lost bytes wait for retransmission. */
  get hasLost(): boolean {
    return !this.#lost.empty;
  }

  /** Offset of the first lost byte, or -1. */
  get lostStart(): number {
    return this.#lost.empty ? -1 : (this.#lost.min as number);
  }

  /** Bytes written and not yet acknowledged (the memory this buffer pins). */
  get unacked(): number {
    return this.#written - this.#ackedFront;
  }

  /** Appends `data` by reference. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#chunks.push(data);
    this.#starts.push(this.#written);
    this.#written += data.length;
  }

  /** Up to `max` bytes of the lowest lost range (call only when `hasLost`); they leave the set. */
  takeLost(max: number): Uint8Array {
    const start = this.#lost.min as number;
    const end = Math.min(this.#lost.contiguousEnd(start), start + max);
    this.#lost.remove(start, end);
    return this.#gather(start, end);
  }

  /** The next `n` never-sent bytes (`n <= unsent`). */
  takeNew(n: number): Uint8Array {
    const start = this.#sentEnd;
    this.#sentEnd = start + n;
    return this.#gather(start, start + n);
  }

  /** The peer acknowledged `[offset, offset + length)`. */
  onAcked(offset: number, length: number): void {
    const end = Math.min(offset + length, this.#sentEnd);
    if (end <= offset) return;
    this.#acked.add(offset, end);
    this.#lost.remove(offset, end);
    const front = this.#acked.contiguousEnd(this.#ackedFront);
    if (front === this.#ackedFront) return;
    this.#ackedFront = front;
    this.#acked.removeBelow(front);
    this.#release(front);
  }

  /** `[offset, offset + length)` was declared lost: queue the unacknowledged part again. */
  onLost(offset: number, length: number): void {
    const start = Math.max(offset, this.#ackedFront);
    const end = Math.min(offset + length, this.#sentEnd);
    if (end <= start) return;
    this.#lost.add(start, end);
    for (const [a, b] of this.#acked.ascending()) {
      if (a >= end) break;
      if (b > start) this.#lost.remove(a, b);
    }
  }

  /**
   * Forgets every byte (stream reset, or keys discarded for a CRYPTO level): unsent bytes are
   * dropped (`written` falls back to `sentEnd`) and nothing is left to send or to acknowledge.
   */
  discard(): void {
    this.#written = this.#sentEnd;
    this.#ackedFront = this.#sentEnd;
    this.#chunks.length = 0;
    this.#starts.length = 0;
    this.#head = 0;
    this.#lost.clear();
    this.#acked.clear();
  }

  /** Bytes `[start, end)`: a view when one write holds them all, else a gathered copy. */
  #gather(start: number, end: number): Uint8Array {
    if (end <= start) return EMPTY;
    const starts = this.#starts;
    const chunks = this.#chunks;
    // Last chunk starting at or before `start`.
    let lo = this.#head;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= start) lo = mid;
      else hi = mid - 1;
    }
    const first = chunks[lo];
    const from = start - starts[lo];
    if (starts[lo] + first.length >= end) return first.subarray(from, from + (end - start));
    const out = new Uint8Array(end - start);
    let pos = 0;
    let i = lo;
    let skip = from;
    while (pos < out.length) {
      const c = chunks[i++];
      const take = Math.min(c.length - skip, out.length - pos);
      out.set(c.subarray(skip, skip + take), pos);
      pos += take;
      skip = 0;
    }
    return out;
  }

  /** Drops writes that lie wholly below `front`. */
  #release(front: number): void {
    const chunks = this.#chunks;
    const starts = this.#starts;
    let h = this.#head;
    while (h < chunks.length && starts[h] + chunks[h].length <= front) {
      chunks[h] = EMPTY;
      h++;
    }
    if (h === chunks.length) {
      chunks.length = 0;
      starts.length = 0;
      h = 0;
    } else if (h >= 32 && h * 2 >= chunks.length) {
      chunks.splice(0, h);
      starts.splice(0, h);
      h = 0;
    }
    this.#head = h;
  }
}
