/**
 * Reassembly core shared by {@link RecvStream} and the CRYPTO receive side: places byte ranges
 * that arrive out of order, overlapping or duplicated, and hands back the contiguous prefix.
 *
 * Storage is a sorted list of disjoint chunks above the read offset. Only bytes not already held
 * are copied in (each copy is exactly the new sub-range, so a duplicate costs nothing and the
 * caller's packet buffer can be reused at once). `read()` returns stored chunks themselves, or a
 * view of one, so delivery to the application does not copy again.
 *
 * Complexity: insert is O(log n) to locate plus O(n) per new gap spliced in, where n is the
 * number of out-of-order chunks held (bounded by the flow-control window the caller enforces);
 * read is amortised O(1).
 */
export class ReassemblyBuffer {
  /** Stream offset of each chunk, ascending; slots below #head are spent. */
  readonly #offsets: number[] = [];
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  /** Bytes delivered by read(). */
  #readOffset = 0;
  /** End of the contiguous run of held bytes starting at #readOffset. */
  #contigEnd = 0;
  /** Number of chunks, from #head, that make up that contiguous run. */
  #contigCount = 0;
  /** Bytes held (contiguous and out of order). */
  #buffered = 0;

  /** Bytes already handed to the reader. */
  get readOffset(): number {
    return this.#readOffset;
  }

  /** End of the data available without a gap: `readOffset + readable`. */
  get contiguousEnd(): number {
    return this.#contigEnd;
  }

  /** Bytes that read() can return now. */
  get readable(): number {
    return this.#contigEnd - this.#readOffset;
  }

  /** Bytes held in total, including those stuck behind a gap. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Bytes held behind a gap (received out of order). */
  get outOfOrder(): number {
    return this.#buffered - (this.#contigEnd - this.#readOffset);
  }

  /**
   * Places `data` at stream `offset`. Bytes below the contiguous end or already held are skipped;
   * the rest are copied. Returns the number of bytes newly stored.
   */
  insert(offset: number, data: Uint8Array): number {
    const end = offset + data.length;
    let start = offset < this.#contigEnd ? this.#contigEnd : offset;
    if (end <= start) return 0;
    const offsets = this.#offsets;
    const chunks = this.#chunks;
    // First chunk (after the contiguous run) that ends beyond `start`.
    let lo = this.#head + this.#contigCount;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (offsets[mid] + chunks[mid].length <= start) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    let added = 0;
    while (start < end) {
      if (i < offsets.length && offsets[i] <= start) {
        // Held already; this chunk ends beyond `start` (binary search, then sorted order).
        start = offsets[i] + chunks[i].length;
        i++;
        continue;
      }
      const gapEnd = i < offsets.length && offsets[i] < end ? offsets[i] : end;
      offsets.splice(i, 0, start);
      chunks.splice(i, 0, data.slice(start - offset, gapEnd - offset));
      added += gapEnd - start;
      start = gapEnd;
      i++;
    }
    this.#buffered += added;
    // Extend the contiguous run over chunks that now touch it.
    let j = this.#head + this.#contigCount;
    while (j < offsets.length && offsets[j] === this.#contigEnd) {
      this.#contigEnd += chunks[j].length;
      this.#contigCount++;
      j++;
    }
    return added;
  }

  /**
   * Up to `max` contiguous bytes from the read offset, or null when none are available. Returns at
   * most one stored chunk (call again for more); the caller owns the returned bytes.
   */
  read(max = Number.POSITIVE_INFINITY): Uint8Array | null {
    if (this.#contigCount === 0 || !(max >= 1)) return null;
    const h = this.#head;
    const chunk = this.#chunks[h];
    if (chunk.length <= max) {
      this.#head = h + 1;
      this.#contigCount--;
      this.#readOffset += chunk.length;
      this.#buffered -= chunk.length;
      this.#compact();
      return chunk;
    }
    const n = Math.floor(max);
    this.#chunks[h] = chunk.subarray(n);
    this.#offsets[h] += n;
    this.#readOffset += n;
    this.#buffered -= n;
    return chunk.subarray(0, n);
  }

  /**
   * Drops everything held and moves the read offset to `offset` (at least the current one), as
   * when the application stops reading or the stream is reset.
   */
  discard(offset = this.#contigEnd): void {
    this.#offsets.length = 0;
    this.#chunks.length = 0;
    this.#head = 0;
    this.#contigCount = 0;
    this.#buffered = 0;
    if (offset > this.#readOffset) this.#readOffset = offset;
    this.#contigEnd = this.#readOffset;
  }

  /** Releases spent slots once they dominate the arrays (amortised O(1) per read). */
  #compact(): void {
    const h = this.#head;
    if (h === this.#offsets.length) {
      this.#offsets.length = 0;
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (h >= 32 && h * 2 >= this.#offsets.length) {
      this.#offsets.splice(0, h);
      this.#chunks.splice(0, h);
      this.#head = 0;
    }
  }
}
