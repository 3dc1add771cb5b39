/**
 * Our own unidirectional streams (RFC 9114 §6.2): the control stream, opened first with SETTINGS
 * as its first frame (§6.2.1), the QPACK encoder and decoder streams (RFC 9204 §4.2), and one
 * reserved "grease" stream (§6.2.3). A stream the peer's limit does not let us open yet is opened
 * on the next `streams-available`; bytes written before then are held and sent in order.
 */

import type { QuicTransport } from '../../quic/api.js';
import { type Random, randomInt } from '../../util/random.js';
import { encodeFrame } from '../frames.js';
import { randomReservedCodePoint } from '../grease.js';
import type { H3Settings } from '../settings.js';
import { encodeUniStreamHeader, H3StreamType } from '../stream-types.js';
import type { SendQueue } from './send-queue.js';

/** One of our critical streams: its ID once opened, and what waits for it. */
interface Slot {
  id: number | undefined;
  readonly type: number;
  pending: Uint8Array[];
}

function slot(type: number): Slot {
  return { id: undefined, type, pending: [] };
}

export class LocalStreams {
  readonly #transport: QuicTransport;
  readonly #send: SendQueue;
  readonly #random: Random;
  readonly #grease: boolean;
  readonly #control = slot(H3StreamType.CONTROL);
  readonly #encoder = slot(H3StreamType.QPACK_ENCODER);
  readonly #decoder = slot(H3StreamType.QPACK_DECODER);
  #greaseDone = false;

  constructor(
    transport: QuicTransport,
    send: SendQueue,
    random: Random,
    settings: H3Settings,
    grease: boolean,
  ) {
    this.#transport = transport;
    this.#send = send;
    this.#random = random;
    this.#grease = grease;
    // §6.2.1: "send its SETTINGS frame as the first frame on this stream"; with one reserved
    // setting (§7.2.4.1 "SHOULD include at least one") and then one reserved frame (§7.2.8).
    const rng = grease ? random : undefined;
    this.#control.pending.push(encodeFrame({ kind: 'SETTINGS', settings }, { grease: rng }));
    if (grease) {
      const payload = new Uint8Array(randomInt(random, 8));
      random.fill(payload);
      const type = randomReservedCodePoint(random);
      this.#control.pending.push(encodeFrame({ kind: 'UNKNOWN', type, payload }));
    }
  }

  get controlStreamId(): number | undefined {
    return this.#control.id;
  }

  get encoderStreamId(): number | undefined {
    return this.#encoder.id;
  }

  get decoderStreamId(): number | undefined {
    return this.#decoder.id;
  }

  /** True for our control, encoder and decoder streams. */
  isCritical(streamId: number): boolean {
    return (
      streamId === this.#control.id ||
      streamId === this.#encoder.id ||
      streamId === this.#decoder.id
    );
  }

  /**
   * Opens whatever is not open yet, critical streams first (§6.2: "Endpoints SHOULD create the
   * HTTP control stream as well as the unidirectional streams required by mandatory extensions
   * (such as the QPACK encoder and decoder streams) first").
   */
  open(): void {
    if (!this.#openSlot(this.#control)) return;
    if (!this.#openSlot(this.#encoder)) return;
    if (!this.#openSlot(this.#decoder)) return;
    if (this.#grease && !this.#greaseDone) {
      const id = this.#transport.openStream(false);
      if (id === undefined) return;
      this.#greaseDone = true;
      // §6.2.3: a reserved type with any payload; "MAY either terminate the stream cleanly or
      // reset it".
      const payload = new Uint8Array(1 + randomInt(this.#random, 16));
      this.#random.fill(payload);
      const head = encodeUniStreamHeader(randomReservedCodePoint(this.#random));
      this.#send.write(id, head);
      this.#send.write(id, payload, true);
    }
  }

  writeControl(bytes: Uint8Array): void {
    this.#write(this.#control, bytes);
  }

  writeEncoder(bytes: Uint8Array): void {
    this.#write(this.#encoder, bytes);
  }

  writeDecoder(bytes: Uint8Array): void {
    this.#write(this.#decoder, bytes);
  }

  #write(s: Slot, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (s.id === undefined) s.pending.push(bytes);
    else this.#send.write(s.id, bytes);
  }

  /** Opens `s` if needed; false when the peer's limit stops us. */
  #openSlot(s: Slot): boolean {
    if (s.id !== undefined) return true;
    const id = this.#transport.openStream(false);
    if (id === undefined) return false;
    s.id = id;
    this.#send.write(id, encodeUniStreamHeader(s.type));
    for (const bytes of s.pending) this.#send.write(id, bytes);
    s.pending = [];
    return true;
  }
}
