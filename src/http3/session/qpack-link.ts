/**
 * The session's QPACK state (RFC 9204): our decoder (fed by the peer's encoder stream, writing
 * our decoder stream) and our encoder (sized by the peer's SETTINGS, writing our encoder stream,
 * fed by the peer's decoder stream).
 */
import { QpackDecoder } from '../../qpack/decoder.js';
import { type EncodePolicy, QpackEncoder } from '../../qpack/encoder.js';
import type { Field, FieldSectionResult } from '../../qpack/field-lines.js';
import { H3Error, H3ErrorCode } from '../errors.js';
import type { LocalStreams } from './local-streams.js';
import type { PeerSettings } from './types.js';

/** Cap on the peer's decoder-stream bytes held until its SETTINGS arrive. */
const MAX_EARLY_DECODER_BYTES = 65_536;

/** QPACK counters. */
export interface QpackStats {
  /** Entries our QPACK encoder inserted. */
  readonly encoderInsertCount: number;
  /** Insertions the peer's decoder acknowledged (Known Received Count). */
  readonly encoderKnownReceived: number;
  /** References to our dynamic table from field sections not yet acknowledged. */
  readonly encoderReferences: number;
  /** Entries our QPACK decoder holds from the peer's encoder stream (Insert Count). */
  readonly decoderInsertCount: number;
  /** Request streams currently blocked on the peer's encoder stream. */
  readonly blockedStreams: number;
}

/** The subset of the session options QPACK needs (see `H3SessionOptions`). */
export interface QpackLinkOptions {
  readonly qpackMaxTableCapacity: number;
  readonly qpackBlockedStreams: number;
  readonly maxFieldSectionSize: number;
  readonly qpackEncoderCapacity: number;
  readonly qpackPolicy: EncodePolicy | undefined;
}

export class QpackLink {
  readonly #local: LocalStreams;
  readonly #opts: QpackLinkOptions;
  readonly #decoder: QpackDecoder;
  #encoder: QpackEncoder;
  #sized = false;
  #early: Uint8Array[] = [];
  #earlyBytes = 0;
  #dirty = false;

  constructor(local: LocalStreams, opts: QpackLinkOptions) {
    this.#local = local;
    this.#opts = opts;
    this.#decoder = new QpackDecoder({
      maxTableCapacity: opts.qpackMaxTableCapacity,
      maxBlockedStreams: opts.qpackBlockedStreams,
      maxFieldSectionSize: opts.maxFieldSectionSize,
    });
    // §3.2.3: until the peer's SETTINGS arrive its maximum table capacity is 0.
    this.#encoder = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });
  }

  get stats(): QpackStats {
    let refs = 0;
    for (const e of this.#encoder.tableSnapshot()) refs += e.refs;
    return {
      encoderInsertCount: this.#encoder.insertCount,
      encoderKnownReceived: this.#encoder.knownReceivedCount,
      encoderReferences: refs,
      decoderInsertCount: this.#decoder.insertCount,
      blockedStreams: this.#decoder.blockedStreamCount,
    };
  }

  /** Encodes a field section for `streamId`; its encoder instructions are written first. */
  encode(streamId: number, fields: Field[]): Uint8Array {
    const section = this.#encoder.encode(streamId, fields, this.#opts.qpackPolicy);
    this.#local.writeEncoder(this.#encoder.takeEncoderStreamData());
    return section;
  }

  /** Decodes a field section received on `streamId` (may report it blocked). */
  decode(streamId: number, block: Uint8Array): FieldSectionResult {
    this.#dirty = true;
    return this.#decoder.decodeFieldSection(streamId, block);
  }

  /** §4.4.2 Stream Cancellation for a stream reset or abandoned by us. */
  cancel(streamId: number): void {
    this.#dirty = true;
    this.#decoder.cancelStream(streamId);
  }

  /** The peer's SETTINGS size our encoder (§3.2.3); held decoder-stream bytes are replayed. */
  onPeerSettings(peer: PeerSettings): void {
    this.#sized = true;
    if (peer.qpackMaxTableCapacity > 0) {
      // Safe to replace: the static-only encoder emitted no instructions and left no references.
      this.#encoder = new QpackEncoder({
        ...this.#opts.qpackPolicy,
        maxTableCapacity: peer.qpackMaxTableCapacity,
        maxBlockedStreams: peer.qpackBlockedStreams,
        tableCapacity: Math.min(this.#opts.qpackEncoderCapacity, peer.qpackMaxTableCapacity),
      });
    }
    const early = this.#early;
    this.#early = [];
    this.#earlyBytes = 0;
    for (const chunk of early) this.#encoder.receiveDecoderStream(chunk);
  }

  /** Bytes of the peer's encoder stream; returns the streams this unblocked. */
  onEncoderStream(data: Uint8Array): number[] {
    this.#dirty = true;
    return this.#decoder.receiveEncoderStream(data);
  }

  /** Bytes of the peer's decoder stream (held until its SETTINGS size our encoder). */
  onDecoderStream(data: Uint8Array): void {
    if (this.#sized) {
      this.#encoder.receiveDecoderStream(data);
      return;
    }
    this.#earlyBytes += data.length;
    if (this.#earlyBytes > MAX_EARLY_DECODER_BYTES) {
      throw new H3Error(H3ErrorCode.H3_EXCESSIVE_LOAD, 'decoder stream data before SETTINGS');
    }
    this.#early.push(data.slice());
  }

  /** Writes pending decoder instructions (acknowledgments, cancellations, increments). */
  flush(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#local.writeDecoder(this.#decoder.takeDecoderStreamData());
  }
}
