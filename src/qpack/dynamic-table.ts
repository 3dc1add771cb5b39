/**
 * The QPACK dynamic table (RFC 9204 §3.2): a FIFO of field lines with a capacity in bytes,
 * addressed by absolute index (§3.2.4), by index relative to the insertion point on the encoder
 * stream (§3.2.5) or relative to a field section's Base (§3.2.5, §3.2.6).
 *
 * Both sides keep one. The decoder's copy evicts freely (the encoder is the one bound by the
 * evictability rules). The encoder's copy (`tracking: true`) also keeps, per entry, the number
 * of unacknowledged field sections that reference it and the Known Received Count (§2.1.4), and
 * refuses evictions of entries that are not evictable (§2.1.1): "Once the insertion of a dynamic
 * table entry has been acknowledged and there are no outstanding references to the entry in
 * unacknowledged representations, the entry becomes evictable."
 */
import { QpackError, QpackErrorCode } from './errors.js';

/** Per-entry overhead added to the name and value lengths (RFC 9204 §3.2.1). */
export const ENTRY_OVERHEAD = 32;

/** Size of an entry: octets of name and value (one character per octet) plus 32. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

/** One dynamic table entry. */
export interface DynamicEntry {
  /** Field name (one character per octet). */
  readonly name: string;
  /** Field value (one character per octet). */
  readonly value: string;
  /** `name.length + value.length + 32`. */
  readonly size: number;
}

/** A snapshot row of the table, oldest first (for diagnostics and tests). */
export interface DynamicEntrySnapshot extends DynamicEntry {
  /** Absolute index. */
  readonly absolute: number;
  /** Unacknowledged field sections referencing the entry (always 0 when not tracking). */
  readonly refs: number;
}

interface Slot extends DynamicEntry {
  refs: number;
}

export interface DynamicTableOptions {
  /** Keep references and the Known Received Count, and forbid evicting unevictable entries. */
  readonly tracking?: boolean;
}

export class DynamicTable {
  /** The decoder's SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §3.2.3). */
  readonly maxCapacity: number;
  /** `floor(maxCapacity / 32)`, used to encode the Required Insert Count (§4.5.1.1). */
  readonly maxEntries: number;
  readonly #tracking: boolean;
  #capacity = 0;
  #size = 0;
  /** Live entries are `#slots[#head ..]`; the one at `#head` has absolute index `#dropped`. */
  #slots: Slot[] = [];
  #head = 0;
  #dropped = 0;
  #knownReceived = 0;
  // Lookup indexes, made on the first insertion: most tables (every one of capacity 0) never get
  // one, and an idle HTTP/3 connection holds two tables (memory per idle connection, issue 10).
  #byField: Map<string, Map<string, number>> | undefined;
  #byName: Map<string, number> | undefined;

  constructor(maxCapacity: number, options: DynamicTableOptions = {}) {
    if (!Number.isSafeInteger(maxCapacity) || maxCapacity < 0) {
      throw new RangeError(`invalid maximum table capacity ${maxCapacity}`);
    }
    this.maxCapacity = maxCapacity;
    this.maxEntries = Math.floor(maxCapacity / ENTRY_OVERHEAD);
    this.#tracking = options.tracking ?? false;
  }

  /** Current capacity, set by Set Dynamic Table Capacity (initially 0, §3.2.2). */
  get capacity(): number {
    return this.#capacity;
  }

  /** Sum of the entry sizes. */
  get size(): number {
    return this.#size;
  }

  /** Total number of insertions so far (the Insert Count, §2.1.4 / §3.2.4). */
  get insertCount(): number {
    return this.#dropped + this.#slots.length - this.#head;
  }

  /** Absolute index of the oldest live entry (= number of evicted entries). */
  get droppedCount(): number {
    return this.#dropped;
  }

  /** Number of live entries. */
  get length(): number {
    return this.#slots.length - this.#head;
  }

  /** Encoder side: insertions the decoder is known to have received (§2.1.4). */
  get knownReceivedCount(): number {
    return this.#knownReceived;
  }

  /** The live entry at absolute index `absolute`, or `undefined` (evicted or not yet inserted). */
  get(absolute: number): DynamicEntry | undefined {
    if (!Number.isInteger(absolute) || absolute < this.#dropped) return undefined;
    return this.#slots[this.#head + absolute - this.#dropped];
  }

  /** Absolute index of the entry at encoder-stream relative index `relative` (§3.2.5), or -1. */
  absoluteFromInsertionRelative(relative: number): number {
    const absolute = this.insertCount - 1 - relative;
    return absolute >= this.#dropped ? absolute : -1;
  }

  /** Encoder-stream relative index of the live entry at `absolute` (§3.2.5). */
  insertionRelative(absolute: number): number {
    return this.insertCount - 1 - absolute;
  }

  /** Newest absolute index holding exactly `name` and `value`, if any. */
  findField(name: string, value: string): number | undefined {
    return this.#byField?.get(name)?.get(value);
  }

  /** Newest absolute index holding `name`, if any. */
  findName(name: string): number | undefined {
    return this.#byName?.get(name);
  }

  /** Unacknowledged references to the entry at `absolute` (tracking tables). */
  refs(absolute: number): number {
    return this.#slot(absolute).refs;
  }

  addRef(absolute: number): void {
    this.#slot(absolute).refs++;
  }

  releaseRef(absolute: number): void {
    const slot = this.get(absolute) as Slot | undefined;
    // An entry is never evicted while referenced, so a missing slot is a bookkeeping bug.
    if (slot === undefined || slot.refs === 0) {
      throw new Error(`QPACK: release of unreferenced dynamic entry ${absolute}`);
    }
    slot.refs--;
  }

  /** Raises the Known Received Count to `count` if lower (Section Acknowledgment, §2.1.4). */
  acknowledgeUpTo(count: number): void {
    if (count > this.#knownReceived) this.#knownReceived = count;
  }

  /**
   * Adds `increment` to the Known Received Count (Insert Count Increment, §4.4.3). Returns false,
   * changing nothing, when that would pass the Insert Count.
   */
  incrementKnownReceived(increment: number): boolean {
    if (this.#knownReceived + increment > this.insertCount) return false;
    this.#knownReceived += increment;
    return true;
  }

  /** Whether the entry at `absolute` may be evicted now (§2.1.1); always true when not tracking. */
  isEvictable(absolute: number): boolean {
    if (!this.#tracking) return true;
    return absolute < this.#knownReceived && this.#slot(absolute).refs === 0;
  }

  /** Whether an entry of `size` bytes fits, evicting only evictable entries (§2.1.1, §3.2.2). */
  canInsert(size: number): boolean {
    return this.#canShrinkTo(this.#capacity - size);
  }

  /**
   * Sets the capacity (Set Dynamic Table Capacity, §4.3.1), evicting from the oldest entry until
   * the size fits. Above the maximum: QPACK_ENCODER_STREAM_ERROR ("The decoder MUST treat a new
   * dynamic table capacity value that exceeds this limit as a connection error of type
   * QPACK_ENCODER_STREAM_ERROR").
   */
  setCapacity(capacity: number): void {
    if (capacity > this.maxCapacity) {
      throw new QpackError(
        QpackErrorCode.QPACK_ENCODER_STREAM_ERROR,
        `dynamic table capacity ${capacity} above the maximum ${this.maxCapacity}`,
      );
    }
    if (!this.#canShrinkTo(capacity)) {
      throw new Error(`QPACK: capacity ${capacity} would evict unevictable entries`);
    }
    this.#evictUntil(capacity);
    this.#capacity = capacity;
  }

  /**
   * Inserts an entry at the next absolute index, which it returns, evicting older entries first
   * (§3.2.2). An entry larger than the capacity is QPACK_ENCODER_STREAM_ERROR ("the decoder MUST
   * treat this as a connection error of type QPACK_ENCODER_STREAM_ERROR").
   */
  insert(name: string, value: string): number {
    const size = entrySize(name, value);
    if (size > this.#capacity) {
      throw new QpackError(
        QpackErrorCode.QPACK_ENCODER_STREAM_ERROR,
        `dynamic table entry of ${size} bytes above the capacity ${this.#capacity}`,
      );
    }
    if (!this.canInsert(size)) {
      throw new Error('QPACK: insertion would evict unevictable entries');
    }
    this.#evictUntil(this.#capacity - size);
    const absolute = this.insertCount;
    this.#slots.push({ name, value, size, refs: 0 });
    this.#size += size;
    this.#byField ??= new Map();
    this.#byName ??= new Map();
    let values = this.#byField.get(name);
    if (values === undefined) {
      values = new Map();
      this.#byField.set(name, values);
    }
    values.set(value, absolute);
    this.#byName.set(name, absolute);
    return absolute;
  }

  /** The live entries, oldest first. */
  snapshot(): DynamicEntrySnapshot[] {
    const out: DynamicEntrySnapshot[] = [];
    for (let i = this.#head; i < this.#slots.length; i++) {
      const { name, value, size, refs } = this.#slots[i];
      out.push({ absolute: this.#dropped + i - this.#head, name, value, size, refs });
    }
    return out;
  }

  #slot(absolute: number): Slot {
    const slot = this.get(absolute) as Slot | undefined;
    if (slot === undefined) throw new Error(`QPACK: no dynamic entry ${absolute}`);
    return slot;
  }

  #canShrinkTo(target: number): boolean {
    if (target < 0) return false;
    let size = this.#size;
    for (let i = this.#head; size > target; i++) {
      if (!this.isEvictable(this.#dropped + i - this.#head)) return false;
      size -= this.#slots[i].size;
    }
    return true;
  }

  #evictUntil(target: number): void {
    while (this.#size > target) {
      const slot = this.#slots[this.#head];
      const absolute = this.#dropped;
      this.#head++;
      this.#dropped++;
      this.#size -= slot.size;
      const values = this.#byField?.get(slot.name);
      if (values?.get(slot.value) === absolute) {
        values.delete(slot.value);
        if (values.size === 0) this.#byField?.delete(slot.name);
      }
      if (this.#byName?.get(slot.name) === absolute) this.#byName?.delete(slot.name);
    }
    if (this.#head > 32 && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }
}
