/**
 * A QPACK encoder (RFC 9204 §2.1), sans-IO, single pass (in the manner of Appendix C).
 *
 * Per field line, in order of preference: an exact static match; an exact dynamic match it may
 * reference; a new dynamic entry when the insertion policy asks for one and it fits without
 * evicting unevictable entries; otherwise a literal, with the name taken from the static table,
 * a referenceable dynamic entry, or sent literally. Huffman coding is used where it shortens a
 * string (configurable).
 *
 * Referencing an entry the decoder has not acknowledged may block the stream; the encoder does
 * so only while fewer than SETTINGS_QPACK_BLOCKED_STREAMS streams could be blocked, or on a
 * stream that could already be blocked (§2.1.2: "An encoder MUST limit the number of streams
 * that could become blocked to the value of SETTINGS_QPACK_BLOCKED_STREAMS at all times").
 * Every referenced entry is counted until its section is acknowledged or its stream cancelled,
 * and never evicted while counted (§2.1.1).
 *
 * Usage: `encode(streamId, fields)` returns the field section; `takeEncoderStreamData()` returns
 * what to write on our encoder stream (write it before or with the section); bytes from the
 * peer's decoder stream go to `receiveDecoderStream`. The explicit `setCapacity`, `insert` and
 * `duplicate` let a caller (or a test reproducing RFC 9204 Appendix B) drive the table.
 */
import { ByteWriter } from '../wire/writer.js';
import { type DynamicEntrySnapshot, DynamicTable, entrySize } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import {
  type Field,
  type FieldLine,
  writeFieldLine,
  writeFieldSectionPrefix,
} from './field-lines.js';
import { DecoderStreamParser } from './instruction-parser.js';
import {
  type DecoderInstruction,
  type EncoderInstruction,
  writeEncoderInstruction,
} from './instructions.js';
import type { HuffmanMode } from './prefixed-int.js';
import { staticIndexOf, staticNameIndexOf } from './static-table.js';

/** Per-field decisions; each defaults to the encoder's built-in policy. */
export interface EncodePolicy {
  /** Whether to add this field line to the dynamic table when it is not there yet. */
  readonly shouldInsert?: (name: string, value: string) => boolean;
  /** Whether to send this field line as a literal with the N bit (never indexed, §7.1.3). */
  readonly neverIndex?: (name: string, value: string) => boolean;
  /** When to Huffman-encode strings. Default `auto`: when strictly shorter. */
  readonly huffman?: HuffmanMode;
}

export interface QpackEncoderOptions extends EncodePolicy {
  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY (0 until its SETTINGS arrive). */
  readonly maxTableCapacity: number;
  /** The peer's SETTINGS_QPACK_BLOCKED_STREAMS. */
  readonly maxBlockedStreams: number;
  /** Capacity to use, at most `maxTableCapacity`. Default: `min(maxTableCapacity, 4096)`. */
  readonly tableCapacity?: number;
}

/** Field names sent never-indexed by default: credentials and cookies (§7.1.3). */
const SENSITIVE = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
/** Field lines remembered by the default insertion policy ("insert what repeats"). */
const SEEN_LIMIT = 512;
/** What {@link QpackEncoder.takeEncoderStreamData} returns before any instruction. */
const EMPTY = new Uint8Array(0);

interface Section {
  readonly requiredInsertCount: number;
  readonly refs: number[];
}

export class QpackEncoder {
  readonly #table: DynamicTable;
  readonly #maxBlocked: number;
  readonly #policy: Required<EncodePolicy>;
  readonly #parser = new DecoderStreamParser();
  /** Pending encoder-stream bytes; made on the first instruction (most connections never insert). */
  #stream: ByteWriter | undefined;
  /** Unacknowledged sections with dynamic references, per stream, oldest first. */
  readonly #sections = new Map<number, Section[]>();
  readonly #seen = new Set<string>();
  #targetCapacity: number;

  constructor(options: QpackEncoderOptions) {
    this.#table = new DynamicTable(options.maxTableCapacity, { tracking: true });
    this.#maxBlocked = options.maxBlockedStreams;
    this.#targetCapacity = Math.min(options.tableCapacity ?? 4096, options.maxTableCapacity);
    this.#policy = {
      shouldInsert: options.shouldInsert ?? ((n, v) => this.#repeats(n, v)),
      neverIndex: options.neverIndex ?? ((n) => SENSITIVE.has(n)),
      huffman: options.huffman ?? 'auto',
    };
  }

  /** Entries inserted so far. */
  get insertCount(): number {
    return this.#table.insertCount;
  }

  /** Insertions the decoder is known to have received. */
  get knownReceivedCount(): number {
    return this.#table.knownReceivedCount;
  }

  /** Current dynamic table capacity (0 until the first Set Dynamic Table Capacity). */
  get capacity(): number {
    return this.#table.capacity;
  }

  /** Current dynamic table size in bytes. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Streams with an unacknowledged section that needs entries the decoder may lack. */
  get blockedStreamCount(): number {
    let n = 0;
    for (const streamId of this.#sections.keys()) if (this.#mayBlock(streamId)) n++;
    return n;
  }

  /** The dynamic table with reference counts, oldest entry first. */
  tableSnapshot(): DynamicEntrySnapshot[] {
    return this.#table.snapshot();
  }

  /** Bytes to write on our encoder stream (empty when nothing is pending). */
  takeEncoderStreamData(): Uint8Array {
    if (this.#stream === undefined) return EMPTY;
    const out = this.#stream.toBytes();
    this.#stream.reset();
    return out;
  }

  /**
   * Sets the dynamic table capacity and emits Set Dynamic Table Capacity (§4.3.1). Throws
   * `RangeError` above the peer's maximum ("The encoder MUST NOT set a dynamic table capacity
   * that exceeds this maximum"), and `Error` when the reduction would evict entries that are not
   * evictable (§4.3.1: "This MUST NOT cause the eviction of entries that are not evictable").
   */
  setCapacity(capacity: number): void {
    if (!Number.isSafeInteger(capacity) || capacity < 0 || capacity > this.#table.maxCapacity) {
      throw new RangeError(`capacity ${capacity} outside 0..${this.#table.maxCapacity}`);
    }
    this.#targetCapacity = capacity;
    // §3.2.3: with a maximum of zero the encoder "MUST NOT send any encoder instructions".
    if (this.#table.maxCapacity === 0) return;
    this.#table.setCapacity(capacity);
    this.#emit({ type: 'setCapacity', capacity }, 'never');
  }

  /**
   * Inserts a field line now (speculatively, §2.1), referencing its name in the static or the
   * dynamic table when possible. Returns its absolute index, or `undefined` when it cannot be
   * inserted without evicting entries that are not evictable.
   */
  insert(
    name: string,
    value: string,
    huffman: HuffmanMode = this.#policy.huffman,
  ): number | undefined {
    return this.#insert(name, value, huffman);
  }

  /**
   * Duplicates the entry at absolute index `absolute` (§4.3.4). Returns the new entry's absolute
   * index, or `undefined` when there is no room. Throws `RangeError` for a missing entry.
   */
  duplicate(absolute: number): number | undefined {
    const entry = this.#table.get(absolute);
    if (entry === undefined) throw new RangeError(`no dynamic entry ${absolute}`);
    if (!this.#table.canInsert(entry.size)) return undefined;
    const index = this.#table.insertionRelative(absolute);
    this.#emit({ type: 'duplicate', index }, 'never');
    return this.#table.insert(entry.name, entry.value);
  }

  /**
   * Encodes one field section for `streamId`. Field strings hold one character per octet
   * (`TypeError` otherwise). `policy` overrides the encoder's policy for this section.
   */
  encode(streamId: number, fields: ReadonlyArray<Field>, policy: EncodePolicy = {}): Uint8Array {
    const shouldInsert = policy.shouldInsert ?? this.#policy.shouldInsert;
    const neverIndex = policy.neverIndex ?? this.#policy.neverIndex;
    const huffman = policy.huffman ?? this.#policy.huffman;
    const table = this.#table;
    const base = table.insertCount;
    const mayBlock = this.#mayBlock(streamId) || this.blockedStreamCount < this.#maxBlocked;
    const refs: number[] = [];
    let ric = 0;
    const reference = (absolute: number): boolean => {
      if (absolute >= table.knownReceivedCount && !mayBlock) return false;
      table.addRef(absolute);
      refs.push(absolute);
      if (absolute + 1 > ric) ric = absolute + 1;
      return true;
    };
    const lines = new ByteWriter(64);
    for (const [name, value] of fields) {
      const line = this.#encodeLine(name, value, {
        never: neverIndex(name, value),
        shouldInsert,
        huffman,
        base,
        reference,
      });
      writeFieldLine(lines, line, huffman);
    }
    if (ric > 0) {
      let queue = this.#sections.get(streamId);
      if (queue === undefined) {
        queue = [];
        this.#sections.set(streamId, queue);
      }
      queue.push({ requiredInsertCount: ric, refs });
    }
    const out = new ByteWriter(lines.length + 8);
    writeFieldSectionPrefix(out, { requiredInsertCount: ric, base }, table.maxEntries);
    out.bytes(lines.view());
    return out.toBytes();
  }

  /**
   * Processes bytes of the peer's decoder stream. Malformed or invalid instructions throw
   * `QpackError(QPACK_DECODER_STREAM_ERROR)`.
   */
  receiveDecoderStream(chunk: Uint8Array): void {
    for (const inst of this.#parser.push(chunk)) this.#apply(inst);
  }

  #encodeLine(
    name: string,
    value: string,
    ctx: {
      never: boolean;
      shouldInsert: (name: string, value: string) => boolean;
      huffman: HuffmanMode;
      base: number;
      reference: (absolute: number) => boolean;
    },
  ): FieldLine {
    const table = this.#table;
    const { base, reference } = ctx;
    if (!ctx.never) {
      const index = staticIndexOf(name, value);
      if (index !== undefined) return { kind: 'indexed', isStatic: true, index };
      let absolute = table.findField(name, value);
      if (absolute === undefined && ctx.shouldInsert(name, value)) {
        absolute = this.#insert(name, value, ctx.huffman);
      }
      if (absolute !== undefined && reference(absolute)) {
        return absolute < base
          ? { kind: 'indexed', isStatic: false, index: base - 1 - absolute }
          : { kind: 'indexedPostBase', index: absolute - base };
      }
    }
    const neverIndex = ctx.never;
    const nameIndex = staticNameIndexOf(name);
    if (nameIndex !== undefined) {
      return { kind: 'literalNameRef', neverIndex, isStatic: true, nameIndex, value };
    }
    const absolute = table.findName(name);
    if (absolute !== undefined && reference(absolute)) {
      return absolute < base
        ? {
            kind: 'literalNameRef',
            neverIndex,
            isStatic: false,
            nameIndex: base - 1 - absolute,
            value,
          }
        : { kind: 'literalPostBaseNameRef', neverIndex, nameIndex: absolute - base, value };
    }
    return { kind: 'literalName', neverIndex, name, value };
  }

  #insert(name: string, value: string, huffman: HuffmanMode): number | undefined {
    const table = this.#table;
    if (table.capacity === 0 && this.#targetCapacity > 0) this.setCapacity(this.#targetCapacity);
    if (!table.canInsert(entrySize(name, value))) return undefined;
    const staticName = staticNameIndexOf(name);
    const dynamicName = staticName === undefined ? table.findName(name) : undefined;
    if (staticName !== undefined) {
      this.#emit(
        { type: 'insertWithNameRef', isStatic: true, nameIndex: staticName, value },
        huffman,
      );
    } else if (dynamicName !== undefined) {
      const nameIndex = table.insertionRelative(dynamicName);
      this.#emit({ type: 'insertWithNameRef', isStatic: false, nameIndex, value }, huffman);
    } else {
      this.#emit({ type: 'insertWithLiteralName', name, value }, huffman);
    }
    return table.insert(name, value);
  }

  #emit(inst: EncoderInstruction, huffman: HuffmanMode): void {
    this.#stream ??= new ByteWriter(256);
    writeEncoderInstruction(this.#stream, inst, huffman);
  }

  /** Whether `streamId` has an unacknowledged section the decoder may not be able to decode. */
  #mayBlock(streamId: number): boolean {
    const queue = this.#sections.get(streamId);
    if (queue === undefined) return false;
    const known = this.#table.knownReceivedCount;
    for (const section of queue) if (section.requiredInsertCount > known) return true;
    return false;
  }

  /** Default insertion policy: a field line seen before that takes at most a quarter of the table. */
  #repeats(name: string, value: string): boolean {
    if (entrySize(name, value) * 4 > this.#targetCapacity) return false;
    const key = `${name.length}:${name}${value}`;
    if (this.#seen.has(key)) return true;
    if (this.#seen.size >= SEEN_LIMIT) this.#seen.clear();
    this.#seen.add(key);
    return false;
  }

  #apply(inst: DecoderInstruction): void {
    switch (inst.type) {
      case 'sectionAck': {
        const queue = this.#sections.get(inst.streamId);
        const section = queue?.shift();
        // §4.4.1: an acknowledgment for a stream with no unacknowledged section "MUST be treated
        // as a connection error of type QPACK_DECODER_STREAM_ERROR".
        if (section === undefined) {
          throw decoderStreamError(`Section Acknowledgment for stream ${inst.streamId} unexpected`);
        }
        if (queue?.length === 0) this.#sections.delete(inst.streamId);
        for (const absolute of section.refs) this.#table.releaseRef(absolute);
        this.#table.acknowledgeUpTo(section.requiredInsertCount);
        return;
      }
      case 'streamCancel': {
        const queue = this.#sections.get(inst.streamId);
        if (queue === undefined) return;
        this.#sections.delete(inst.streamId);
        for (const section of queue)
          for (const absolute of section.refs) this.#table.releaseRef(absolute);
        return;
      }
      case 'insertCountIncrement':
        // §4.4.3: "An encoder that receives an Increment field equal to zero, or one that
        // increases the Known Received Count beyond what the encoder has sent, MUST treat this
        // as a connection error of type QPACK_DECODER_STREAM_ERROR."
        if (inst.increment === 0 || !this.#table.incrementKnownReceived(inst.increment)) {
          throw decoderStreamError(`Insert Count Increment of ${inst.increment} invalid`);
        }
        return;
    }
  }
}

function decoderStreamError(message: string): QpackError {
  return new QpackError(QpackErrorCode.QPACK_DECODER_STREAM_ERROR, message);
}
