/**
 * Owned copies of packet-sized bytes without an ArrayBuffer of their own (issue 13: no per-packet
 * allocation of buffers on the hot path). `Uint8Array.prototype.slice` of a 1,200-byte datagram
 * allocates a fresh off-heap ArrayBuffer, about 1 µs with its share of garbage collection (Node
 * 20 and 24, `bench/README.md`); a copy carved out of a 64 KiB slab costs a view and a memcpy.
 *
 * The copies are plain Uint8Array views (not Buffers, whose `slice` would not copy), owned by
 * whoever receives them: the slab never hands the same bytes out twice. The price is node's
 * Buffer-pool price: a view kept alive keeps its whole slab alive, so only bytes that are
 * consumed soon come from here (datagrams in and out, DATAGRAM frame payloads), never state kept
 * for the life of a connection.
 */

const SLAB_BYTES = 64 * 1024;
/** Larger copies get a buffer of their own (they are rare and would waste slab space). */
const MAX_POOLED = 4096;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** `n` zero bytes owned by the caller (a slab is zeroed once and never handed out twice). */
export function pooledBytes(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  // 8-byte alignment keeps each copy's start word-aligned for the memcpy.
  used = (used + n + 7) & ~7;
  return out;
}

/** A copy of `src[start, end)` that the caller owns (see the module header for the trade). */
export function pooledCopy(src: Uint8Array, start = 0, end = src.length): Uint8Array {
  const out = pooledBytes(end - start);
  out.set(start === 0 && end === src.length ? src : src.subarray(start, end));
  return out;
}
