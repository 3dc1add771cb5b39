/**
 * Cuts complete handshake messages out of one encryption level's CRYPTO stream (RFC 9001 §4.1.3:
 * "TLS is responsible for buffering handshake bytes that have arrived in order"). Bytes may come
 * in chunks of any size; each message's length is checked against a cap as soon as its header is
 * seen, before its body is buffered.
 */
import { TlsAlertError } from '../alert.js';
import { HandshakeType } from '../constants.js';
import { HANDSHAKE_HEADER_LENGTH, type RawHandshake } from './framing.js';

/** Size caps, in body bytes (the 4-byte header is not counted). */
export interface HandshakeReaderLimits {
  /** Cap for every message type without its own entry. Default 65536. */
  readonly maxMessageSize?: number;
  /** Cap for Certificate messages (certificate chains are large). Default 1 MiB. */
  readonly maxCertificateSize?: number;
  /** Per-type overrides, keyed by HandshakeType. */
  readonly perType?: Readonly<Record<number, number>>;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024;
export const DEFAULT_MAX_CERTIFICATE_SIZE = 1024 * 1024;

export class HandshakeReader {
  #buf = new Uint8Array(0);
  /** Start of unconsumed data in #buf. */
  #start = 0;
  /** End of valid data in #buf. */
  #end = 0;
  #failed: TlsAlertError | undefined;
  readonly #maxDefault: number;
  readonly #maxCertificate: number;
  readonly #perType: Readonly<Record<number, number>>;

  constructor(limits: HandshakeReaderLimits = {}) {
    this.#maxDefault = limits.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.#maxCertificate = limits.maxCertificateSize ?? DEFAULT_MAX_CERTIFICATE_SIZE;
    this.#perType = limits.perType ?? {};
  }

  /** Bytes received but not yet returned as a message (non-zero means a message is incomplete). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** The cap applied to a message of `type`. */
  limitFor(type: number): number {
    const own = this.#perType[type];
    if (own !== undefined) return own;
    return type === HandshakeType.certificate ? this.#maxCertificate : this.#maxDefault;
  }

  /**
   * Appends in-order stream bytes (copied). Throws the cap error at once if a buffered header
   * already announces a message above its cap; after any error the reader stays failed.
   */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    if (chunk.length === 0) return;
    this.#reserve(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    this.#checkHeader();
  }

  /** The next complete message, or undefined when more bytes are needed. */
  next(): RawHandshake | undefined {
    if (this.#failed) throw this.#failed;
    const bodyLen = this.#checkHeader();
    if (bodyLen === undefined) return undefined;
    const total = HANDSHAKE_HEADER_LENGTH + bodyLen;
    if (this.buffered < total) return undefined;
    const raw = this.#buf.slice(this.#start, this.#start + total);
    this.#start += total;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { type: raw[0], body: raw.subarray(HANDSHAKE_HEADER_LENGTH), raw };
  }

  /** Pushes a chunk and returns every message it completes. */
  feed(chunk: Uint8Array): RawHandshake[] {
    this.push(chunk);
    const out: RawHandshake[] = [];
    for (let m = this.next(); m !== undefined; m = this.next()) out.push(m);
    return out;
  }

  /** Body length of the message at the head, after checking its cap; undefined if no header yet. */
  #checkHeader(): number | undefined {
    if (this.buffered < HANDSHAKE_HEADER_LENGTH) return undefined;
    const b = this.#buf;
    const p = this.#start;
    const type = b[p];
    const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    const cap = this.limitFor(type);
    if (len > cap) {
      // A local resource limit on a syntactically valid length; reported as decode_error
      // (RFC 9846 §6.2: "some field was out of the specified range").
      this.#failed = new TlsAlertError(
        'decode_error',
        `handshake message type ${type} of ${len} bytes exceeds the ${cap}-byte cap`,
      );
      throw this.#failed;
    }
    return len;
  }

  #reserve(n: number): void {
    if (this.#end + n <= this.#buf.length) return;
    const live = this.#end - this.#start;
    if (live + n <= this.#buf.length && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      let cap = Math.max(256, this.#buf.length);
      while (cap < live + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
    }
    this.#start = 0;
    this.#end = live;
  }
}
