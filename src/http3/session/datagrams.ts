/**
 * HTTP/3 datagrams on the receive side (RFC 9297 §2.1): the Quarter Stream ID routes each one to
 * its request stream; datagrams for a stream whose header section has not been delivered yet are
 * held (bounded, {@link DatagramBuffer}); those for streams whose receive side is closed are
 * dropped. A malformed Quarter Stream ID throws a connection-scoped `CapsuleError`
 * (H3_DATAGRAM_ERROR).
 */
import { encodeH3Datagram, readQuarterStreamId, SATURATED_ID } from '../../capsule/datagram.js';
import type { VarintResult } from '../../wire/varint.js';
import { DatagramBuffer } from './datagram-buffer.js';
import type { RequestStream } from './request-stream.js';
import type { H3Event } from './types.js';

export class DatagramRouter {
  readonly #buffer = new DatagramBuffer();
  readonly #qsid: VarintResult = { value: 0, next: 0 };

  /** Datagrams held, and evicted so far. */
  get buffered(): number {
    return this.#buffer.size;
  }

  get dropped(): number {
    return this.#buffer.dropped;
  }

  /**
   * Routes one DATAGRAM frame's data. `stream` finds a live request stream; `mayArrive` says
   * whether a stream not (yet) known may still be created (server: not seen yet).
   */
  receive(
    data: Uint8Array,
    stream: (id: number) => RequestStream | undefined,
    mayArrive: (quarterStreamId: number) => boolean,
    out: H3Event[],
  ): void {
    const next = readQuarterStreamId(data, 0, data.length, this.#qsid);
    const q = this.#qsid.value;
    if (q === SATURATED_ID) return; // beyond any stream either side can open
    const id = q * 4;
    const payload = data.subarray(next);
    const s = stream(id);
    if (s !== undefined) {
      // "If a datagram is received after the corresponding stream's receive side is closed, the
      // received datagrams MUST be silently dropped."
      if (s.recvDone) return;
      if (s.headersDelivered) out.push({ type: 'datagram', streamId: id, payload });
      else this.#buffer.add(id, payload);
      return;
    }
    // "SHALL either drop that datagram silently or buffer it temporarily ... while awaiting the
    // creation of the corresponding stream"; a finished stream's datagrams are dropped.
    if (mayArrive(q)) this.#buffer.add(id, payload);
  }

  /** The stream's header section was delivered: hand over what was held for it. */
  flush(s: RequestStream, out: H3Event[]): void {
    const held = this.#buffer.take(s.id);
    if (held === undefined) return;
    for (const payload of held) out.push({ type: 'datagram', streamId: s.id, payload });
  }

  /** Forgets what is held for a stream that ended. */
  drop(streamId: number): void {
    this.#buffer.drop(streamId);
  }

  /** The DATAGRAM frame data for `payload` on request stream `streamId`. */
  static encode(streamId: number, payload: Uint8Array): Uint8Array {
    return encodeH3Datagram(streamId / 4, payload);
  }
}
