/**
 * Deadlines of many keys (milliseconds on the caller's clock), earliest first: an indexed binary
 * min-heap. Setting, moving or clearing a key's deadline is O(log n); the earliest deadline is
 * O(1); popping the due keys is O(log n) each. Where {@link TimerTable} holds the few named timers
 * of one state machine, this holds one deadline per item of a large set (an endpoint's
 * connections), so that finding the next timer or the due items is not a scan.
 *
 * Keys are compared by identity (a Map indexes their heap positions). The heap is kept as two
 * parallel arrays, so updates allocate nothing once a key is known. Ties pop in an unspecified but
 * deterministic order (it depends only on the sequence of calls).
 */
export class DeadlineHeap<K> {
  readonly #keys: K[] = [];
  readonly #ats: number[] = [];
  readonly #index = new Map<K, number>();

  /** Keys with a deadline. */
  get size(): number {
    return this.#keys.length;
  }

  has(key: K): boolean {
    return this.#index.has(key);
  }

  /** The deadline of `key`, or undefined. */
  get(key: K): number | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#ats[i];
  }

  /** Sets, moves or (with `at` undefined) clears the deadline of `key`. */
  set(key: K, at: number | undefined): void {
    if (at === undefined) {
      this.delete(key);
      return;
    }
    if (Number.isNaN(at)) throw new RangeError('a deadline cannot be NaN');
    const i = this.#index.get(key);
    if (i === undefined) {
      const n = this.#keys.length;
      this.#keys.push(key);
      this.#ats.push(at);
      this.#index.set(key, n);
      this.#up(n);
      return;
    }
    const old = this.#ats[i];
    if (at === old) return;
    this.#ats[i] = at;
    if (at < old) this.#up(i);
    else this.#down(i);
  }

  /** Clears the deadline of `key`; false when it had none. */
  delete(key: K): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#removeAt(i);
    return true;
  }

  /** The earliest deadline, or undefined when none is set. */
  peek(): number | undefined {
    return this.#ats.length === 0 ? undefined : this.#ats[0];
  }

  /** The key with the earliest deadline, or undefined. */
  peekKey(): K | undefined {
    return this.#keys.length === 0 ? undefined : this.#keys[0];
  }

  /**
   * Removes and returns the key with the earliest deadline if that deadline is at or before
   * `now`; undefined otherwise. Call until undefined to collect every due key, earliest first.
   */
  popDue(now: number): K | undefined {
    if (this.#ats.length === 0 || this.#ats[0] > now) return undefined;
    const key = this.#keys[0];
    this.#removeAt(0);
    return key;
  }

  clear(): void {
    this.#keys.length = 0;
    this.#ats.length = 0;
    this.#index.clear();
  }

  #removeAt(i: number): void {
    const keys = this.#keys;
    const ats = this.#ats;
    this.#index.delete(keys[i]);
    const last = keys.length - 1;
    if (i !== last) {
      const moved = keys[last];
      const at = ats[last];
      keys[i] = moved;
      ats[i] = at;
      this.#index.set(moved, i);
      keys.pop();
      ats.pop();
      // The moved entry may belong above or below its new place.
      if (i > 0 && at < ats[(i - 1) >> 1]) this.#up(i);
      else this.#down(i);
      return;
    }
    keys.pop();
    ats.pop();
  }

  #up(i: number): void {
    const keys = this.#keys;
    const ats = this.#ats;
    const key = keys[i];
    const at = ats[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ats[parent] <= at) break;
      keys[i] = keys[parent];
      ats[i] = ats[parent];
      this.#index.set(keys[i], i);
      i = parent;
    }
    keys[i] = key;
    ats[i] = at;
    this.#index.set(key, i);
  }

  #down(i: number): void {
    const keys = this.#keys;
    const ats = this.#ats;
    const n = keys.length;
    const key = keys[i];
    const at = ats[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && ats[right] < ats[left] ? right : left;
      if (ats[child] >= at) break;
      keys[i] = keys[child];
      ats[i] = ats[child];
      this.#index.set(keys[i], i);
      i = child;
    }
    keys[i] = key;
    ats[i] = at;
    this.#index.set(key, i);
  }
}
