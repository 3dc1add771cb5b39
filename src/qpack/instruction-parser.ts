/**
 * Incremental parsers for the encoder and decoder streams (RFC 9204 §4.2): fed chunks split
 * anywhere (inside a prefixed integer, inside a string), they return the instructions completed
 * so far and keep only the bytes of the unfinished one. An instruction is measured from its
 * first bytes before it is buffered, so a declared string length above the cap fails at once,
 * and a long instruction is parsed once, when complete, not on every chunk.
 *
 * Malformed input throws `QpackError` with QPACK_ENCODER_STREAM_ERROR (encoder stream) or
 * QPACK_DECODER_STREAM_ERROR (decoder stream); the parser is unusable afterwards.
 */
import { ByteReader } from '../wire/reader.js';
import { QpackError, QpackErrorCode, type QpackErrorCodeValue } from './errors.js';
import {
  type DecoderInstruction,
  type EncoderInstruction,
  measureDecoderInstruction,
  measureEncoderInstruction,
  readDecoderInstruction,
  readEncoderInstruction,
} from './instructions.js';

class InstructionParser<T> {
  readonly #measure: (buf: Uint8Array, start: number, end: number) => number;
  readonly #read: (r: ByteReader) => T;
  readonly #code: QpackErrorCodeValue;
  readonly #what: string;
  /** Unfinished instruction bytes are `#buf[#start, #end)`. */
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Bytes the unfinished instruction needs at least before it is worth measuring again. */
  #need = 0;
  #failed = false;

  constructor(
    measure: (buf: Uint8Array, start: number, end: number) => number,
    read: (r: ByteReader) => T,
    code: QpackErrorCodeValue,
    what: string,
  ) {
    this.#measure = measure;
    this.#read = read;
    this.#code = code;
    this.#what = what;
  }

  /** Bytes held for an unfinished instruction. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Feeds `chunk` (not retained) and returns the instructions it completes, in order. */
  push(chunk: Uint8Array): T[] {
    if (this.#failed) throw new QpackError(this.#code, `${this.#what}: parser already failed`);
    const out: T[] = [];
    try {
      let buf = chunk;
      let pos = 0;
      let end = chunk.length;
      if (this.#end > this.#start) {
        this.#append(chunk);
        buf = this.#buf;
        pos = this.#start;
        end = this.#end;
      }
      while (pos < end && end - pos >= this.#need) {
        const len = this.#measure(buf, pos, end);
        if (len > end - pos) {
          this.#need = len;
          break;
        }
        const r = new ByteReader(buf, pos, pos + len);
        out.push(this.#read(r));
        r.expectEnd(this.#what);
        pos += len;
        this.#need = 0;
      }
      if (buf === chunk) {
        this.#buf = chunk.slice(pos);
        this.#start = 0;
        this.#end = this.#buf.length;
      } else {
        this.#start = pos;
      }
    } catch (err) {
      this.#failed = true;
      throw QpackError.wrap(err, this.#code, this.#what);
    }
    return out;
  }

  #append(chunk: Uint8Array): void {
    const held = this.#end - this.#start;
    if (this.#end + chunk.length > this.#buf.length) {
      if (held + chunk.length <= this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let cap = Math.max(64, this.#buf.length * 2);
        while (cap < held + chunk.length) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = held;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }
}

/** Parses the peer's encoder stream (what our decoder receives). */
export class EncoderStreamParser extends InstructionParser<EncoderInstruction> {
  /** `maxStringLength` caps each name or value as sent (Huffman-encoded or not). */
  constructor(maxStringLength: number) {
    super(
      (buf, start, end) => measureEncoderInstruction(buf, start, end, maxStringLength),
      (r) => readEncoderInstruction(r, maxStringLength),
      QpackErrorCode.QPACK_ENCODER_STREAM_ERROR,
      'encoder stream',
    );
  }
}

/** Parses the peer's decoder stream (what our encoder receives). */
export class DecoderStreamParser extends InstructionParser<DecoderInstruction> {
  constructor() {
    super(
      measureDecoderInstruction,
      readDecoderInstruction,
      QpackErrorCode.QPACK_DECODER_STREAM_ERROR,
      'decoder stream',
    );
  }
}
