/**
 * A set of non-negative integers kept as sorted, disjoint, non-adjacent half-open ranges
 * `[start, end)`. It backs received-packet tracking (ACK ranges), stream reassembly and
 * acknowledged send ranges. Ranges are few in practice (bounded by reordering), so a sorted array
 * with binary search beats tree structures here.
 */
export class RangeSet {
  /** Flattened pairs: starts[i] < ends[i] <= starts[i + 1] - 1 (merged when touching). */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];

  /** Number of disjoint ranges. */
  get size(): number {
    return this.#starts.length;
  }

  get empty(): boolean {
    return this.#starts.length === 0;
  }

  /** Smallest member, or undefined. */
  get min(): number | undefined {
    return this.#starts[0];
  }

  /** Largest member, or undefined. */
  get max(): number | undefined {
    const n = this.#ends.length;
    return n === 0 ? undefined : this.#ends[n - 1] - 1;
  }

  /** Adds `[start, end)`. Returns how many new members were added. */
  add(start: number, end: number = start + 1): number {
    if (!(end > start)) return 0;
    const starts = this.#starts;
    const ends = this.#ends;
    // First range whose end >= start (could merge or lie after).
    let lo = this.#firstEndingAtOrAfter(start);
    let added = end - start;
    let newStart = start;
    let newEnd = end;
    let hi = lo;
    while (hi < starts.length && starts[hi] <= end) {
      const s = starts[hi];
      const e = ends[hi];
      added -= Math.max(0, Math.min(e, end) - Math.max(s, start));
      if (s < newStart) newStart = s;
      if (e > newEnd) newEnd = e;
      hi++;
    }
    if (hi === lo) {
      starts.splice(lo, 0, newStart);
      ends.splice(lo, 0, newEnd);
    } else {
      starts[lo] = newStart;
      ends[lo] = newEnd;
      lo++;
      if (hi > lo) {
        starts.splice(lo, hi - lo);
        ends.splice(lo, hi - lo);
      }
    }
    return added;
  }

  has(value: number): boolean {
    const i = this.#firstEndingAtOrAfter(value + 1);
    return i < this.#starts.length && this.#starts[i] <= value;
  }

  /** True when every member of `[start, end)` is in the set. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.#firstEndingAtOrAfter(start + 1);
    return i < this.#starts.length && this.#starts[i] <= start && this.#ends[i] >= end;
  }

  /** Removes every member below `value`. */
  removeBelow(value: number): void {
    const starts = this.#starts;
    const ends = this.#ends;
    let n = 0;
    while (n < starts.length && ends[n] <= value) n++;
    if (n > 0) {
      starts.splice(0, n);
      ends.splice(0, n);
    }
    if (starts.length > 0 && starts[0] < value) starts[0] = value;
  }

  /** Removes `[start, end)`. */
  remove(start: number, end: number): void {
    if (!(end > start)) return;
    const starts = this.#starts;
    const ends = this.#ends;
    let i = this.#firstEndingAtOrAfter(start + 1);
    while (i < starts.length && starts[i] < end) {
      const s = starts[i];
      const e = ends[i];
      if (s < start && e > end) {
        ends[i] = start;
        starts.splice(i + 1, 0, end);
        ends.splice(i + 1, 0, e);
        return;
      }
      if (s < start) {
        ends[i] = start;
        i++;
      } else if (e > end) {
        starts[i] = end;
        return;
      } else {
        starts.splice(i, 1);
        ends.splice(i, 1);
      }
    }
  }

  /** Drops the lowest ranges until at most `maxRanges` remain. */
  keepHighest(maxRanges: number): void {
    const extra = this.#starts.length - maxRanges;
    if (extra > 0) {
      this.#starts.splice(0, extra);
      this.#ends.splice(0, extra);
    }
  }

  /** Ranges as `[start, end)` pairs, highest first (the order ACK frames use). */
  *descending(): IterableIterator<[number, number]> {
    for (let i = this.#starts.length - 1; i >= 0; i--) yield [this.#starts[i], this.#ends[i]];
  }

  /** Number of ranges (for indexed walks: {@link startAt}, {@link endAt}). */
  get count(): number {
    return this.#starts.length;
  }

  /** Start of range `i` (0 is the lowest). */
  startAt(i: number): number {
    return this.#starts[i];
  }

  /** End (exclusive) of range `i`. */
  endAt(i: number): number {
    return this.#ends[i];
  }

  /** Ranges as `[start, end)` pairs, lowest first. */
  *ascending(): IterableIterator<[number, number]> {
    for (let i = 0; i < this.#starts.length; i++) yield [this.#starts[i], this.#ends[i]];
  }

  /** End of the contiguous run starting at `from` (== `from` when `from` is absent). */
  contiguousEnd(from: number): number {
    const i = this.#firstEndingAtOrAfter(from + 1);
    if (i < this.#starts.length && this.#starts[i] <= from) return this.#ends[i];
    return from;
  }

  clear(): void {
    this.#starts.length = 0;
    this.#ends.length = 0;
  }

  /** Index of the first range whose end is >= `x` (binary search). */
  #firstEndingAtOrAfter(x: number): number {
    const ends = this.#ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
