/**
 * A tiny application layer over one {@link QuicConnection} driven by a {@link UdpEndpoint}:
 * it drains the connection's events (call {@link ConnApp.drain} from the endpoint's `onWake`),
 * turns them into promises and callbacks, and writes with backpressure (`writeStream` accepts
 * part of a chunk, the rest waits for `stream-writable`).
 *
 * Event byte views are valid only until the next call into the connection (quic/api.ts), so
 * everything kept is copied.
 */
import type { QuicAppEvent, QuicCloseInfo } from '../../../src/quic/api.js';
import type { QuicConnection } from '../../../src/quic/connection/index.js';

/** Receiver of one stream's data; `fin` marks the last call. */
export type StreamSink = (data: Uint8Array, fin: boolean) => void;

interface PendingWrite {
  chunks: Uint8Array[];
  fin: boolean;
  finSent: boolean;
  done: Array<() => void>;
}

/** A deferred value. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Event-driven helper around one connection. */
export class ConnApp {
  readonly conn: QuicConnection;
  /** Resolves with the ALPN once the handshake completed. */
  readonly handshake = deferred<string>();
  /** Whether the handshake resumed a session (set with `handshake`). */
  resumed: boolean | undefined;
  /** Resolves when the connection is closed (or draining). */
  readonly closed = deferred<QuicCloseInfo>();
  /** Stream data for streams without a sink goes here (streamId, data, fin). */
  onStreamData: ((streamId: number, data: Uint8Array, fin: boolean) => void) | undefined;
  /** Datagram payloads (copies). */
  onDatagram: ((data: Uint8Array) => void) | undefined;
  /** Every event, before it is handled (diagnostics). */
  onEvent: ((ev: QuicAppEvent) => void) | undefined;
  /** Reset / stop-sending events seen, for assertions. */
  readonly resets: Array<{ streamId: number; errorCode: number; kind: 'reset' | 'stop' }> = [];
  readonly #sinks = new Map<number, StreamSink>();
  readonly #writes = new Map<number, PendingWrite>();
  #streamsAvailable: Array<() => void> = [];

  constructor(conn: QuicConnection) {
    this.conn = conn;
    // An unobserved rejection must not crash the run; tests await these explicitly.
    this.handshake.promise.catch(() => undefined);
  }

  /** Handles every queued event of the connection. */
  drain(): void {
    for (let ev = this.conn.pollEvent(); ev !== undefined; ev = this.conn.pollEvent()) {
      this.onEvent?.(ev);
      this.#handle(ev);
    }
  }

  #handle(ev: QuicAppEvent): void {
    switch (ev.type) {
      case 'handshake-complete':
        this.resumed = ev.resumed;
        this.handshake.resolve(ev.alpn);
        return;
      case 'stream-data': {
        const sink = this.#sinks.get(ev.streamId);
        const copy = ev.data.slice();
        if (sink) sink(copy, ev.fin);
        else this.onStreamData?.(ev.streamId, copy, ev.fin);
        if (ev.fin) this.#sinks.delete(ev.streamId);
        return;
      }
      case 'stream-writable':
        this.#pump(ev.streamId);
        return;
      case 'streams-available': {
        const waiters = this.#streamsAvailable;
        this.#streamsAvailable = [];
        for (const w of waiters) w();
        return;
      }
      case 'datagram':
        this.onDatagram?.(ev.data.slice());
        return;
      case 'stream-reset':
        this.resets.push({ streamId: ev.streamId, errorCode: ev.errorCode, kind: 'reset' });
        return;
      case 'stop-sending':
        this.resets.push({ streamId: ev.streamId, errorCode: ev.errorCode, kind: 'stop' });
        return;
      case 'connection-closed':
        this.handshake.reject(new Error(`closed before the handshake: ${JSON.stringify(ev.info)}`));
        this.closed.resolve(ev.info);
        return;
    }
  }

  /** Sets the receiver of `streamId`'s data (before any arrives). */
  sink(streamId: number, sink: StreamSink): void {
    this.#sinks.set(streamId, sink);
  }

  /** Collects a stream's data until FIN. */
  readAll(streamId: number): Promise<Uint8Array> {
    const d = deferred<Uint8Array>();
    const parts: Uint8Array[] = [];
    this.sink(streamId, (data, fin) => {
      if (data.length > 0) parts.push(data);
      if (fin) d.resolve(Buffer.concat(parts));
    });
    return d.promise;
  }

  /** Opens a stream, waiting for stream credit if needed. The caller flushes. */
  async openStream(bidirectional: boolean): Promise<number> {
    for (;;) {
      const id = this.conn.openStream(bidirectional);
      if (id !== undefined) return id;
      await new Promise<void>((resolve) => this.#streamsAvailable.push(resolve));
    }
  }

  /**
   * Queues `data` on `streamId` (and FIN when `fin`); resolves when every byte was accepted by
   * the connection. `kick` (the endpoint's flush) is called after queuing.
   */
  write(streamId: number, data: Uint8Array, fin: boolean, kick: () => void): Promise<void> {
    let w = this.#writes.get(streamId);
    if (w === undefined) {
      w = { chunks: [], fin: false, finSent: false, done: [] };
      this.#writes.set(streamId, w);
    }
    if (data.length > 0) w.chunks.push(data);
    if (fin) w.fin = true;
    const d = deferred<void>();
    w.done.push(() => d.resolve());
    this.#pump(streamId);
    kick();
    return d.promise;
  }

  #pump(streamId: number): void {
    const w = this.#writes.get(streamId);
    if (w === undefined) return;
    while (w.chunks.length > 0) {
      const chunk = w.chunks[0];
      const last = w.chunks.length === 1;
      const n = this.conn.writeStream(streamId, chunk, last && w.fin);
      if (n < chunk.length) {
        w.chunks[0] = chunk.subarray(n);
        return;
      }
      w.chunks.shift();
      if (last && w.fin) w.finSent = true;
    }
    if (w.fin && !w.finSent) {
      this.conn.writeStream(streamId, new Uint8Array(0), true);
      w.finSent = true;
    }
    const done = w.done;
    w.done = [];
    if (w.finSent) this.#writes.delete(streamId);
    for (const f of done) f();
  }
}
