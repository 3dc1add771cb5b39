/**
 * A connect-udp request over HTTP/2 (RFC 8441 extended CONNECT; RFC 9298 §3.3-3.4), as the
 * connect-udp handler sees any request (`ConnectUdpRequest`): the same admission, strategies,
 * limits and metrics as over HTTP/3. node:http2 does the HTTP/2; `CapsuleStreamSession` carries
 * the Capsule Protocol on the stream (RFC 9297 §3.2); this adapter answers with HEADERS and maps
 * HTTP/3 error codes to HTTP/2 ones for resets.
 */
import type { ServerHttp2Stream } from 'node:http2';
import { CapsuleStreamSession } from '../tcp/capsule-stream-session.js';
import { H2ErrorCode, h2CodeOf } from './error-codes.js';

export class H2ConnectUdpSession extends CapsuleStreamSession {
  readonly transport = 'h2' as const;
  readonly #stream: ServerHttp2Stream;

  constructor(
    stream: ServerHttp2Stream,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string,
    knownCapsules: Iterable<readonly [number, number]>,
  ) {
    const list: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) list.push([name, v]);
    }
    super(stream, list, remoteAddress, knownCapsules);
    this.#stream = stream;
    stream.on('data', (chunk: Buffer) => this.received(chunk));
    stream.on('end', () => this.receivedEnd());
    stream.on('error', () => {});
    stream.on('close', () => {
      const code = stream.rstCode;
      this.finish(
        code === undefined || code === H2ErrorCode.NO_ERROR
          ? { kind: 'end' }
          : { kind: 'reset', code },
      );
    });
  }

  protected override sendAccept(headers: Array<[string, string]>): void {
    const out: Record<string, string | string[]> = { ':status': '200', 'capsule-protocol': '?1' };
    for (const [n, v] of headers) add(out, n, v);
    this.#stream.respond(out);
  }

  protected override sendReject(status: number, headers: Array<[string, string]>): void {
    const out: Record<string, string | string[]> = { ':status': String(status) };
    for (const [n, v] of headers) add(out, n, v);
    this.#stream.respond(out, { endStream: true });
  }

  protected override resetStream(code: number): void {
    this.#stream.close(h2CodeOf(code));
  }
}

function add(out: Record<string, string | string[]>, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) out[name] = value;
  else out[name] = Array.isArray(prev) ? [...prev, value] : [prev, value];
}
