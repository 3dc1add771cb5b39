/**
 * The response side of a server exchange: a header section, body chunks with backpressure
 * (`write` returns false above the high-water mark; await `drained()`), and an end with optional
 * trailers. Writing a body before `writeHead` sends status 200 first.
 */
import { H3UsageError } from '../../http3/session/index.js';
import type { SessionDriver } from '../h3/driver.js';
import { H3HttpError } from '../h3/errors.js';
import { type HeadersInit, toFields } from '../h3/headers.js';
import type { StreamWriter } from '../h3/stream-writer.js';

const encoder = new TextEncoder();

function toBytes(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
}

export class ServerResponse {
  readonly streamId: number;
  readonly #driver: SessionDriver;
  readonly #writer: StreamWriter;
  #status: number | undefined;
  readonly #onFinish: () => void;

  constructor(driver: SessionDriver, writer: StreamWriter, onFinish: () => void) {
    this.#driver = driver;
    this.#writer = writer;
    this.streamId = writer.streamId;
    this.#onFinish = onFinish;
  }

  /** The final status sent, once `writeHead` ran. */
  get statusCode(): number | undefined {
    return this.#status;
  }

  get headersSent(): boolean {
    return this.#status !== undefined;
  }

  /** True once `end` ran. */
  get finished(): boolean {
    return this.#writer.ended;
  }

  /** True when the client reset the stream or asked us to stop sending: writes are dropped. */
  get aborted(): boolean {
    return this.#writer.aborted;
  }

  /** Bytes written and not yet accepted by the transport. */
  get bufferedAmount(): number {
    return this.#writer.bufferedAmount;
  }

  /** Sends the final header section (1xx statuses are sent as interim responses). */
  writeHead(status: number, headers?: HeadersInit): this {
    if (this.#status !== undefined) {
      throw new H3UsageError('STREAM_CLOSED', 'the final response header section was sent');
    }
    this.#respond(status, headers, false);
    return this;
  }

  /** Writes body bytes (UTF-8 for strings). False: wait for `drained()` before writing more. */
  write(chunk: Uint8Array | string): boolean {
    if (this.#writer.ended) throw new H3HttpError('WRITE_AFTER_END', 'write after end');
    if (this.#status === undefined) this.writeHead(200);
    return this.#writer.data(toBytes(chunk));
  }

  /** Resolves once the backlog is at or below the high-water mark. */
  drained(): Promise<void> {
    return this.#writer.drained();
  }

  /** Ends the response, with a last chunk and trailers when given. Idempotent. */
  end(chunk?: Uint8Array | string, trailers?: HeadersInit): void {
    if (this.#writer.ended) return;
    const last = chunk === undefined ? undefined : toBytes(chunk);
    const tail = toFields(trailers);
    if (this.#status === undefined) {
      if ((last === undefined || last.length === 0) && tail.length === 0) {
        // A header section with the FIN: the whole response in one frame.
        this.#respond(200, undefined, true);
        return;
      }
      this.writeHead(200);
    }
    if (last !== undefined && last.length > 0) this.#writer.data(last, tail.length === 0);
    if (!this.#writer.ended) this.#writer.end(tail);
    this.#onFinish();
  }

  #respond(status: number, headers: HeadersInit | undefined, fin: boolean): void {
    const fields: Array<[string, string]> = [[':status', String(status)]];
    for (const f of toFields(headers)) fields.push(f);
    if (this.#writer.aborted) {
      if (status >= 200) this.#status = status;
      return;
    }
    try {
      this.#driver.session.respond(this.streamId, fields, { endStream: fin });
    } catch (err) {
      if (err instanceof H3UsageError && (err.code === 'UNKNOWN_STREAM' || err.code === 'CLOSED')) {
        this.#writer.abort();
      } else {
        throw err;
      }
    }
    this.#driver.kick();
    if (status >= 200) this.#status = status;
    if (fin) {
      // The session already sent the FIN with the header section.
      this.#writer.markEnded();
      this.#onFinish();
    }
  }
}
