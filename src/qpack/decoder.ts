/**
 * A QPACK decoder (RFC 9204 §2.2), sans-IO. It consumes the peer's encoder stream, decodes
 * field sections (or reports them blocked), and produces the bytes of our decoder stream:
 * Section Acknowledgments, Stream Cancellations and Insert Count Increments.
 *
 * Usage by the HTTP/3 layer:
 * - `receiveEncoderStream(bytes)` for data on the peer's encoder stream; it returns the streams
 *   whose blocked field section can now be decoded;
 * - `decodeFieldSection(streamId, block)` for each HEADERS frame payload; a `blocked` result
 *   means: keep the block and call again once the stream is reported unblocked;
 * - `cancelStream(streamId)` when a request stream is reset or abandoned before all its field
 *   sections were decoded;
 * - `takeDecoderStreamData()` after any of the above, to write on our decoder stream.
 */
import { ByteWriter } from '../wire/writer.js';
import { type DynamicEntrySnapshot, DynamicTable } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import { decodeFieldSection, type FieldSectionResult } from './field-lines.js';
import { EncoderStreamParser } from './instruction-parser.js';
import {
  type DecoderInstruction,
  type EncoderInstruction,
  writeDecoderInstruction,
} from './instructions.js';
import { staticEntry } from './static-table.js';

export interface QpackDecoderOptions {
  /** Our SETTINGS_QPACK_MAX_TABLE_CAPACITY: the largest capacity the peer's encoder may set. */
  readonly maxTableCapacity: number;
  /** Our SETTINGS_QPACK_BLOCKED_STREAMS. */
  readonly maxBlockedStreams: number;
  /**
   * Largest decoded field section accepted (name + value + 32 per field, RFC 9114 §4.2.2), as
   * announced in SETTINGS_MAX_FIELD_SECTION_SIZE. Default: unlimited.
   */
  readonly maxFieldSectionSize?: number;
  /**
   * Cap on one name or value on the encoder stream, as sent. Default: the longest encoding of a
   * string that could fit the maximum capacity (Huffman codes are at most 30 bits per octet).
   */
  readonly maxStringLength?: number;
}

export class QpackDecoder {
  readonly #table: DynamicTable;
  readonly #parser: EncoderStreamParser;
  readonly #maxBlocked: number;
  readonly #maxFieldSectionSize: number;
  /** Blocked streams and the Required Insert Count each waits for. */
  readonly #blocked = new Map<number, number>();
  /** Decoder instructions not yet taken, in order. */
  readonly #pending: DecoderInstruction[] = [];
  /** Insert Count the encoder knows we reached (via acknowledgments and increments). */
  #reported = 0;

  constructor(options: QpackDecoderOptions) {
    this.#table = new DynamicTable(options.maxTableCapacity);
    this.#maxBlocked = options.maxBlockedStreams;
    this.#maxFieldSectionSize = options.maxFieldSectionSize ?? Number.MAX_SAFE_INTEGER;
    this.#parser = new EncoderStreamParser(
      options.maxStringLength ?? Math.ceil((options.maxTableCapacity * 30) / 8),
    );
  }

  /** Entries inserted so far (the decoder's Insert Count). */
  get insertCount(): number {
    return this.#table.insertCount;
  }

  /** Current dynamic table capacity. */
  get capacity(): number {
    return this.#table.capacity;
  }

  /** Current dynamic table size in bytes. */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Streams currently blocked on the encoder stream. */
  get blockedStreamCount(): number {
    return this.#blocked.size;
  }

  /** The dynamic table, oldest entry first. */
  tableSnapshot(): DynamicEntrySnapshot[] {
    return this.#table.snapshot();
  }

  /**
   * Processes bytes of the peer's encoder stream. Returns the IDs of blocked streams whose
   * Required Insert Count has now been reached. Malformed or invalid instructions throw
   * `QpackError(QPACK_ENCODER_STREAM_ERROR)`.
   */
  receiveEncoderStream(chunk: Uint8Array): number[] {
    for (const inst of this.#parser.push(chunk)) this.#apply(inst);
    const unblocked: number[] = [];
    if (this.#blocked.size === 0) return unblocked;
    const count = this.#table.insertCount;
    // Collect first, delete after: the map is not modified while iterated.
    for (const [streamId, ric] of this.#blocked) if (ric <= count) unblocked.push(streamId);
    for (const streamId of unblocked) this.#blocked.delete(streamId);
    return unblocked;
  }

  /**
   * Decodes the field section `block` received on `streamId`. Invalid sections throw
   * `QpackError(QPACK_DECOMPRESSION_FAILED)`, as does one more blocked stream than allowed.
   */
  decodeFieldSection(streamId: number, block: Uint8Array): FieldSectionResult {
    const result = decodeFieldSection(block, this.#table, this.#maxFieldSectionSize);
    if (result.status === 'blocked') {
      this.#blocked.set(streamId, result.requiredInsertCount);
      // §2.1.2: "If a decoder encounters more blocked streams than it promised to support, it
      // MUST treat this as a connection error of type QPACK_DECOMPRESSION_FAILED."
      if (this.#blocked.size > this.#maxBlocked) {
        throw new QpackError(
          QpackErrorCode.QPACK_DECOMPRESSION_FAILED,
          `${this.#blocked.size} blocked streams, more than the ${this.#maxBlocked} allowed`,
        );
      }
      return result;
    }
    this.#blocked.delete(streamId);
    // §4.4.1: a section with a non-zero Required Insert Count is acknowledged once processed.
    // A section refused as too large is acknowledged too: its references are released and the
    // Insert Count it required has been reached, so the encoder's view stays exact.
    if (result.requiredInsertCount > 0) {
      this.#pending.push({ type: 'sectionAck', streamId });
      if (result.requiredInsertCount > this.#reported) this.#reported = result.requiredInsertCount;
    }
    return result;
  }

  /**
   * Reports that `streamId` was reset or abandoned before all its field sections were decoded
   * (§4.4.2). Forgets a blocked section of it. Omitted when the maximum capacity is zero, as
   * §2.2.2.2 permits.
   */
  cancelStream(streamId: number): void {
    this.#blocked.delete(streamId);
    if (this.#table.maxCapacity === 0) return;
    this.#pending.push({ type: 'streamCancel', streamId });
  }

  /** Bytes to write on our decoder stream, including an Insert Count Increment if due. */
  takeDecoderStreamData(): Uint8Array {
    const w = new ByteWriter(16);
    for (const inst of this.#pending) writeDecoderInstruction(w, inst);
    this.#pending.length = 0;
    const increment = this.#table.insertCount - this.#reported;
    if (increment > 0) {
      writeDecoderInstruction(w, { type: 'insertCountIncrement', increment });
      this.#reported += increment;
    }
    return w.toBytes();
  }

  #apply(inst: EncoderInstruction): void {
    const table = this.#table;
    switch (inst.type) {
      case 'setCapacity':
        table.setCapacity(inst.capacity);
        return;
      case 'insertWithNameRef': {
        const name = inst.isStatic
          ? staticEntry(inst.nameIndex)?.[0]
          : table.get(table.absoluteFromInsertionRelative(inst.nameIndex))?.name;
        if (name === undefined) throw badReference('name', inst.isStatic, inst.nameIndex);
        table.insert(name, inst.value);
        return;
      }
      case 'insertWithLiteralName':
        table.insert(inst.name, inst.value);
        return;
      case 'duplicate': {
        const entry = table.get(table.absoluteFromInsertionRelative(inst.index));
        if (entry === undefined) throw badReference('duplicate', false, inst.index);
        table.insert(entry.name, entry.value);
        return;
      }
    }
  }
}

/**
 * §3.1 and §2.2.3: an invalid static index, or a dynamic entry "that has already been evicted",
 * referenced on the encoder stream "MUST be treated as a connection error of type
 * QPACK_ENCODER_STREAM_ERROR".
 */
function badReference(what: string, isStatic: boolean, index: number): QpackError {
  return new QpackError(
    QpackErrorCode.QPACK_ENCODER_STREAM_ERROR,
    `${what}: no ${isStatic ? 'static' : 'dynamic'} entry at index ${index}`,
  );
}
