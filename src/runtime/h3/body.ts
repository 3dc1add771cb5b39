/**
 * An incoming message body (a request body at the server, a response body at the client): an
 * async iterable of chunks, with `bytes()` / `text()` helpers that enforce a size cap, and the
 * trailer section once the body has ended.
 *
 * Memory: the QUIC transport returns receive credit as data is delivered (see src/quic/api.ts),
 * so the peer is not slowed by a slow reader; unread bytes are therefore capped here
 * (`maxBuffered`). Going over the cap makes `push` return false and the owner aborts the stream
 * (H3_EXCESSIVE_LOAD). A reader that iterates as data arrives never comes near it.
 */
import type { H3Headers } from '../../http3/session/index.js';
import { AsyncQueue } from './async-queue.js';
import { H3HttpError } from './errors.js';

/** Options of an {@link IncomingBody}. */
export interface IncomingBodyOptions {
  /** Unread bytes held at most before the stream is aborted. */
  maxBuffered: number;
  /** Default cap of `bytes()` / `text()`. */
  maxBodySize: number;
}

const decoder = new TextDecoder();

export class IncomingBody implements AsyncIterable<Uint8Array> {
  readonly #queue = new AsyncQueue<Uint8Array>(byteLength);
  readonly #opts: IncomingBodyOptions;
  #received = 0;
  #trailers: H3Headers | undefined;
  #complete = false;

  constructor(options: IncomingBodyOptions) {
    this.#opts = options;
  }

  /** Called when the reader stops early: the owner may ask the peer to stop sending. */
  set onAbandon(fn: (() => void) | undefined) {
    this.#queue.onAbandon = fn;
  }

  /** Content bytes received so far. */
  get receivedBytes(): number {
    return this.#received;
  }

  /** Unread bytes held. */
  get bufferedBytes(): number {
    return this.#queue.units;
  }

  /** The trailer section, once the body has ended with one. */
  get trailers(): H3Headers | undefined {
    return this.#trailers;
  }

  /** True once the body ended cleanly (FIN received). */
  get complete(): boolean {
    return this.#complete;
  }

  /** True once the body ended, cleanly or not, or the reader went away. */
  get ended(): boolean {
    return this.#queue.ended;
  }

  /**
   * Adds a chunk (copied: event views do not outlive the event). Returns false when the unread
   * bytes exceed the cap; the chunk is then dropped and the owner should abort the stream.
   */
  push(chunk: Uint8Array): boolean {
    if (this.#queue.ended || chunk.length === 0) return true;
    this.#received += chunk.length;
    if (this.#queue.units + chunk.length > this.#opts.maxBuffered) return false;
    this.#queue.push(chunk.slice());
    return true;
  }

  /** The body ended cleanly (with optional trailers). */
  end(trailers?: H3Headers): void {
    if (this.#queue.ended) return;
    this.#trailers = trailers;
    this.#complete = true;
    this.#queue.end();
  }

  /** The body ended abruptly; readers see `err`. */
  fail(err: Error): void {
    this.#queue.fail(err);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** The whole body, refusing more than `limit` bytes (H3HttpError BODY_TOO_LARGE). */
  async bytes(limit = this.#opts.maxBodySize): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this) {
      total += chunk.length;
      if (total > limit) {
        throw new H3HttpError('BODY_TOO_LARGE', `body above the ${limit}-byte limit`);
      }
      chunks.push(chunk);
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** The whole body as UTF-8 text, with the same cap as {@link IncomingBody.bytes}. */
  async text(limit = this.#opts.maxBodySize): Promise<string> {
    return decoder.decode(await this.bytes(limit));
  }
}

function byteLength(b: Uint8Array): number {
  return b.length;
}
