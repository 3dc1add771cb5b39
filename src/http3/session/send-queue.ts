/**
 * Per-stream write queues over a {@link QuicTransport}: bytes the transport refuses for lack of
 * buffer or credit are kept (copied once, only then) and handed over again on `stream-writable`,
 * in order, with the FIN after the last byte.
 *
 * Memory is not capped here: callers watch {@link SendQueue.buffered} and stop producing (the
 * session reports `writable` when a backlog drains).
 */
import type { QuicTransport } from '../../quic/api.js';

interface Backlog {
  /** Chunks not yet accepted; `chunks[head]` may be partly written already (then trimmed). */
  chunks: Uint8Array[];
  head: number;
  bytes: number;
  fin: boolean;
}

export class SendQueue {
  readonly #transport: QuicTransport;
  readonly #backlogs = new Map<number, Backlog>();

  constructor(transport: QuicTransport) {
    this.#transport = transport;
  }

  /** Bytes queued on `streamId` and not yet accepted by the transport. */
  buffered(streamId: number): number {
    return this.#backlogs.get(streamId)?.bytes ?? 0;
  }

  /** True while `streamId` has a backlog (bytes or a FIN). */
  has(streamId: number): boolean {
    return this.#backlogs.has(streamId);
  }

  /**
   * Writes `data` (and `fin` after it) or queues what the transport does not take. `data` is not
   * kept: a refused remainder is copied. Transport exceptions (stream not writable) propagate.
   */
  write(streamId: number, data: Uint8Array, fin = false): void {
    const backlog = this.#backlogs.get(streamId);
    if (backlog !== undefined) {
      if (data.length > 0) {
        backlog.chunks.push(data.slice());
        backlog.bytes += data.length;
      }
      if (fin) backlog.fin = true;
      return;
    }
    const n = this.#transport.writeStream(streamId, data, fin);
    if (n >= data.length) return;
    this.#backlogs.set(streamId, {
      chunks: [data.slice(n)],
      head: 0,
      bytes: data.length - n,
      fin,
    });
  }

  /**
   * Hands the backlog of `streamId` to the transport again. Returns true when a backlog existed
   * and is now fully accepted (the caller may report the stream writable).
   */
  flush(streamId: number): boolean {
    const backlog = this.#backlogs.get(streamId);
    if (backlog === undefined) return false;
    const { chunks } = backlog;
    while (backlog.head < chunks.length) {
      const chunk = chunks[backlog.head];
      const last = backlog.head === chunks.length - 1;
      const n = this.#transport.writeStream(streamId, chunk, last && backlog.fin);
      backlog.bytes -= n;
      if (n < chunk.length) {
        chunks[backlog.head] = chunk.subarray(n);
        // Compact now and then so a long-lived backlog does not keep written chunks alive.
        if (backlog.head > 32 && backlog.head * 2 > chunks.length) {
          chunks.splice(0, backlog.head);
          backlog.head = 0;
        }
        return false;
      }
      backlog.head++;
    }
    this.#backlogs.delete(streamId);
    return true;
  }

  /** Forgets the backlog of a stream that was reset or closed. */
  drop(streamId: number): void {
    this.#backlogs.delete(streamId);
  }
}
