/**
 * Builds one UDP datagram of coalesced packets (RFC 9000 §12.2) in a fixed buffer: headers, frames
 * written in place, then packet protection (RFC 9001 §5) when the next packet starts or the
 * datagram ends. The last packet stays open until then, so padding a datagram to 1200 bytes
 * (RFC 9000 §14.1) adds PADDING frames to it rather than junk after it.
 *
 * What goes into the packets is the sender's policy (`send.ts`); this file only lays bytes out.
 */
import { AEAD_TAG_LENGTH } from '../../crypto/aead.js';
import { ByteWriter, pooledCopy } from '../../wire/index.js';
import { type Frame, frameLength, infoOf, writeFrame } from '../frames/index.js';
import {
  finishLongHeader,
  type LongHeaderLayout,
  LongPacketType,
  type PacketNumberLength,
  packetNumberLength,
  writeLongHeader,
  writeShortHeader,
} from '../packet/index.js';
import type { PacketProtector } from '../protection/index.js';
import type { PacketSpace } from '../recovery/index.js';
import { type QlogFrame, qlogFrame } from './qlog.js';
import type { SentRecord } from './sent-info.js';

/** Header of a packet to start. */
export interface PacketHeaderSpec {
  space: PacketSpace;
  /** 'initial' | 'handshake' use long headers, '1rtt' the short header. */
  type: 'initial' | 'handshake' | '1rtt';
  dcid: Uint8Array;
  /** Long headers only. */
  scid: Uint8Array;
  /** Initial only. */
  token?: Uint8Array;
  pn: number;
  /** largest_acked of the space, -1 when none (sets the packet number length, §17.1). */
  largestAcked: number;
  /** 1-RTT only. */
  keyPhase?: 0 | 1;
  /** 1-RTT only: write key generation, recorded for the key update rules. */
  keyGen?: number;
  protector: PacketProtector;
}

/** A packet once sealed, for loss detection and logs. */
export interface BuiltPacket {
  space: PacketSpace;
  type: 'initial' | 'handshake' | '1rtt';
  pn: number;
  /** Bytes on the wire (header, payload, tag). */
  size: number;
  ackEliciting: boolean;
  inFlight: boolean;
  hasAck: boolean;
  keyGen: number;
  records: SentRecord[];
  /** A PMTU probe (RFC 9000 §14.4), set by the sender. */
  mtuProbe?: boolean;
  /** Frame summaries, for qlog (only when tracing). */
  frames: QlogFrame[];
}

interface OpenPacket {
  spec: PacketHeaderSpec;
  start: number;
  long: LongHeaderLayout | undefined;
  pnOffset: number;
  pnLength: PacketNumberLength;
  payloadOffset: number;
  built: BuiltPacket;
}

const SHARED = new Map<number, DatagramBuilder>();

export class DatagramBuilder {
  readonly #buf: Uint8Array;
  /** Writer of the open packet, bounded to leave room for its AEAD tag. */
  readonly #w: ByteWriter;
  /** End of the sealed packets. */
  #pos = 0;
  #limit: number;
  #open: OpenPacket | undefined;
  #done: BuiltPacket[] = [];
  /** Keep frame kind names (only when someone logs them). */
  readonly #trace: boolean;

  /**
   * One builder per size for every connection that does not trace: a datagram is built, copied
   * out (`finish`) and forgotten (`reset`) within one synchronous call, so connections never see
   * each other's bytes, and an idle connection holds no datagram-sized buffer of its own (issue
   * 10: memory per idle connection). Connections that trace (qlog) keep their own: their qlog
   * callback runs while the built packets are still being read, and could build another.
   */
  static shared(maxSize: number): DatagramBuilder {
    let b = SHARED.get(maxSize);
    if (b === undefined) {
      b = new DatagramBuilder(maxSize);
      SHARED.set(maxSize, b);
    }
    return b;
  }

  constructor(maxSize: number, trace = false) {
    this.#buf = new Uint8Array(maxSize);
    this.#w = ByteWriter.into(this.#buf);
    this.#limit = maxSize;
    this.#trace = trace;
  }

  /** Bytes written so far (sealed packets plus the open one, without its tag). */
  get size(): number {
    return this.#open === undefined ? this.#pos : this.#w.position;
  }

  /** Packets sealed so far. */
  get packets(): readonly BuiltPacket[] {
    return this.#done;
  }

  /** The open packet, if any. */
  get current(): BuiltPacket | undefined {
    return this.#open?.built;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Header bytes a packet of this spec would take, plus its tag. */
  static overhead(spec: Omit<PacketHeaderSpec, 'protector'>): number {
    const pnLength = pnLen(spec.pn, spec.largestAcked);
    if (spec.type === '1rtt') return 1 + spec.dcid.length + pnLength + AEAD_TAG_LENGTH;
    const token = spec.type === 'initial' ? (spec.token?.length ?? 0) : 0;
    const tokenField = spec.type === 'initial' ? varintSize(token) + token : 0;
    return 7 + spec.dcid.length + spec.scid.length + tokenField + 2 + pnLength + AEAD_TAG_LENGTH;
  }

  /**
   * Starts a packet (sealing the open one). Returns false, leaving nothing open, when not even the
   * header and a few bytes of payload fit.
   */
  start(spec: PacketHeaderSpec): boolean {
    this.#sealOpen();
    const need = DatagramBuilder.overhead(spec) + 4;
    if (this.#pos + need > this.#limit) return false;
    const pnLength = pnLen(spec.pn, spec.largestAcked);
    const start = this.#pos;
    const w = this.#w;
    w.rewind(start, this.#limit - AEAD_TAG_LENGTH);
    let long: LongHeaderLayout | undefined;
    let pnOffset: number;
    let payloadOffset: number;
    if (spec.type === '1rtt') {
      const l = writeShortHeader(w, {
        dcid: spec.dcid,
        packetNumber: spec.pn,
        pnLength,
        keyPhase: spec.keyPhase ?? 0,
      });
      pnOffset = l.pnOffset;
      payloadOffset = l.payloadOffset;
    } else {
      long = writeLongHeader(w, {
        type: spec.type === 'initial' ? LongPacketType.Initial : LongPacketType.Handshake,
        dcid: spec.dcid,
        scid: spec.scid,
        token: spec.token,
        packetNumber: spec.pn,
        pnLength,
        lengthFieldSize: 2,
      });
      pnOffset = long.pnOffset;
      payloadOffset = long.payloadOffset;
    }
    this.#open = {
      spec,
      start,
      long,
      pnOffset,
      pnLength,
      payloadOffset,
      built: {
        space: spec.space,
        type: spec.type,
        pn: spec.pn,
        size: 0,
        ackEliciting: false,
        inFlight: false,
        hasAck: false,
        keyGen: spec.keyGen ?? -1,
        records: [],
        frames: [],
      },
    };
    return true;
  }

  /** Payload bytes the open packet can still take (0 when none is open). */
  remaining(): number {
    if (this.#open === undefined) return 0;
    return Math.max(0, this.#limit - AEAD_TAG_LENGTH - this.#w.position);
  }

  /** Payload bytes written in the open packet. */
  payloadSize(): number {
    const o = this.#open;
    return o === undefined ? 0 : this.#w.position - o.payloadOffset;
  }

  /**
   * Writes a frame into the open packet and notes it. The caller checked it fits
   * (`fits(f)`); `record` is what to do on loss/ack.
   */
  add(frame: Frame, record?: SentRecord): void {
    const o = this.#open;
    if (o === undefined) throw new Error('no open packet');
    writeFrame(this.#w, frame);
    const info = infoOf(frame);
    const b = o.built;
    if (info.ackEliciting) b.ackEliciting = true;
    if (info.inFlight) b.inFlight = true;
    if (frame.kind === 'ACK') b.hasAck = true;
    if (record !== undefined) b.records.push(record);
    if (this.#trace) b.frames.push(qlogFrame(frame));
  }

  /** True when `frame` fits in the open packet. */
  fits(frame: Frame): boolean {
    return frameLength(frame) <= this.remaining();
  }

  /** Drops the open packet if it holds no frame (its packet number is not used). */
  dropEmpty(): boolean {
    const o = this.#open;
    if (o === undefined || this.#w.position > o.payloadOffset) return false;
    this.#open = undefined;
    return true;
  }

  /** Pads the open packet so the datagram reaches `target` bytes (no-op if it already does). */
  padTo(target: number): void {
    if (this.#open === undefined) return;
    const want = Math.min(target, this.#limit) - AEAD_TAG_LENGTH - this.#w.position;
    if (want > 0) this.add({ kind: 'PADDING', length: want });
  }

  /**
   * Seals the open packet and returns the datagram (a copy), or undefined when nothing was
   * written. {@link packets} then lists what it holds.
   */
  finish(): Uint8Array | undefined {
    this.#sealOpen();
    if (this.#pos === 0) return undefined;
    return pooledCopy(this.#buf, 0, this.#pos);
  }

  /** Forgets everything for the next datagram, whose size is capped at `limit`. */
  reset(limit: number): void {
    this.#pos = 0;
    this.#open = undefined;
    // A new list rather than `length = 0` (a call into the runtime, once per datagram built).
    if (this.#done.length > 0) this.#done = [];
    this.#limit = Math.min(limit, this.#buf.length);
  }

  #sealOpen(): void {
    const o = this.#open;
    if (o === undefined) return;
    this.#open = undefined;
    const w = this.#w;
    if (w.position === o.payloadOffset) return; // Nothing written: the packet is dropped.
    // RFC 9001 §5.4.2: the sample needs pn + payload >= 4 bytes; pad with PADDING frames.
    const short = 4 - o.pnLength - (w.position - o.payloadOffset);
    if (short > 0) {
      w.zeros(short);
      o.built.inFlight = true;
    }
    const payloadLength = w.position - o.payloadOffset;
    if (o.long !== undefined) finishLongHeader(w, o.long, AEAD_TAG_LENGTH);
    // The protector works on one packet: a view from its first byte, offsets relative to it.
    const size = o.spec.protector.seal(
      this.#buf.subarray(o.start, this.#limit),
      o.pnOffset - o.start,
      o.pnLength,
      o.spec.pn,
      payloadLength,
    );
    o.built.size = size;
    this.#pos = o.start + size;
    this.#done.push(o.built);
  }
}

function pnLen(pn: number, largestAcked: number): PacketNumberLength {
  return packetNumberLength(pn, largestAcked < 0 ? undefined : largestAcked);
}

function varintSize(n: number): number {
  return n < 64 ? 1 : n < 16384 ? 2 : n < 1073741824 ? 4 : 8;
}
