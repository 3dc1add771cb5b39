/**
 * HTTP/3 datagrams that arrived before their request stream could take them (RFC 9297 §2.1: the
 * receiver "SHALL either drop that datagram silently or buffer it temporarily ... while awaiting
 * the creation of the corresponding stream"). Bounded per stream and in total; the oldest
 * datagram goes first when a bound is reached. Payloads are copied (the transport's buffers may
 * be reused).
 *
 * Cost: `add` is O(1) except when the total bound evicts, which scans the buffered streams
 * (at most `maxTotal` of them).
 */

interface Entry {
  readonly seq: number;
  readonly payload: Uint8Array;
}

export class DatagramBuffer {
  readonly #perStream: number;
  readonly #maxTotal: number;
  readonly #byStream = new Map<number, Entry[]>();
  #total = 0;
  #seq = 0;
  #dropped = 0;

  constructor(perStream = 16, maxTotal = 256) {
    this.#perStream = perStream;
    this.#maxTotal = maxTotal;
  }

  /** Datagrams held. */
  get size(): number {
    return this.#total;
  }

  /** Datagrams evicted by the bounds so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Holds a copy of `payload` for `streamId`. */
  add(streamId: number, payload: Uint8Array): void {
    let queue = this.#byStream.get(streamId);
    if (queue === undefined) {
      queue = [];
      this.#byStream.set(streamId, queue);
    }
    if (queue.length >= this.#perStream) {
      queue.shift();
      this.#total--;
      this.#dropped++;
    }
    queue.push({ seq: this.#seq++, payload: payload.slice() });
    this.#total++;
    if (this.#total > this.#maxTotal) this.#evictOldest();
  }

  /** Removes and returns the datagrams held for `streamId`, oldest first. */
  take(streamId: number): Uint8Array[] | undefined {
    const queue = this.#byStream.get(streamId);
    if (queue === undefined) return undefined;
    this.#byStream.delete(streamId);
    this.#total -= queue.length;
    return queue.map((e) => e.payload);
  }

  /** Drops what is held for `streamId`. */
  drop(streamId: number): void {
    const queue = this.#byStream.get(streamId);
    if (queue === undefined) return;
    this.#byStream.delete(streamId);
    this.#total -= queue.length;
    this.#dropped += queue.length;
  }

  #evictOldest(): void {
    let oldestId = -1;
    let oldestSeq = Number.POSITIVE_INFINITY;
    for (const [id, queue] of this.#byStream) {
      if (queue[0].seq < oldestSeq) {
        oldestSeq = queue[0].seq;
        oldestId = id;
      }
    }
    const queue = this.#byStream.get(oldestId)!;
    queue.shift();
    if (queue.length === 0) this.#byStream.delete(oldestId);
    this.#total--;
    this.#dropped++;
  }
}
