/**
 * A single-consumer push queue read as an async iterator: the Node glue's way of turning
 * HTTP/3 events (body chunks, datagrams) into `for await` loops. The producer pushes, ends or
 * fails it; the consumer iterates. Items are counted in "units" (bytes for body chunks, 1 for
 * datagrams) so the owner can enforce a cap on what sits unread.
 *
 * Complexity: push and shift are O(1) amortised (an array with a moving head, compacted now and
 * then); no promise is created while items are waiting.
 */

/** The result an iterator returns once the queue has ended. */
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #head = 0;
  #units = 0;
  readonly #sizeOf: (item: T) => number;
  #ended = false;
  #error: Error | undefined;
  #waiter: ((r: IteratorResult<T>) => void) | undefined;
  #waiterFail: ((err: Error) => void) | undefined;
  #iterating = false;
  /** Called after the consumer took an item (the owner may resume a producer). */
  onConsumed: (() => void) | undefined;
  /** Called when the consumer stops iterating early (`break`): what follows is unwanted. */
  onAbandon: (() => void) | undefined;

  /** @param sizeOf units an item counts for (default 1 per item) */
  constructor(sizeOf: (item: T) => number = one) {
    this.#sizeOf = sizeOf;
  }

  /** Units pushed and not yet read. */
  get units(): number {
    return this.#units;
  }

  /** Items pushed and not yet read. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** True once `end` or `fail` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** True when a consumer has started iterating. */
  get iterating(): boolean {
    return this.#iterating;
  }

  /** Adds an item (ignored after the end). */
  push(item: T): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      this.#waiterFail = undefined;
      waiter({ done: false, value: item });
      this.onConsumed?.();
      return;
    }
    this.#items.push(item);
    this.#units += this.#sizeOf(item);
  }

  /** Removes the oldest unread item (used to drop datagrams under a cap). */
  dropOldest(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#take();
    return item;
  }

  /** No more items: the iterator finishes after the buffered ones. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.#waiterFail = undefined;
    waiter?.(DONE);
  }

  /** Ends with an error: the iterator throws it once the buffered items are read. */
  fail(err: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = err;
    const fail = this.#waiterFail;
    this.#waiter = undefined;
    this.#waiterFail = undefined;
    fail?.(err);
  }

  /** Forgets buffered items (the consumer went away). */
  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#units = 0;
  }

  /** The next item, or done. */
  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#take();
      this.onConsumed?.();
      return Promise.resolve({ done: false, value });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(DONE);
    if (this.#waiter !== undefined) {
      return Promise.reject(new Error('AsyncQueue has a single consumer'));
    }
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterFail = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    this.#iterating = true;
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<T>> => {
        // The consumer stopped early (break): drop what it will never read.
        const early = !this.#ended;
        this.clear();
        this.end();
        if (early) this.onAbandon?.();
        return Promise.resolve(DONE);
      },
    };
  }

  #take(): T {
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined as T;
    this.#head++;
    this.#units -= this.#sizeOf(item);
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }
}

function one(): number {
  return 1;
}
