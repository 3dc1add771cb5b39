/**
 * A connect-udp request over HTTP/1.1 (RFC 9298 §3.3-3.4: `GET` with `Upgrade: connect-udp`), as
 * the connect-udp handler sees any request (`ConnectUdpRequest`): the same admission, strategies,
 * limits and metrics as over HTTP/3 and HTTP/2. node:http parsed the request and handed over the
 * socket; `CapsuleStreamSession` carries the Capsule Protocol on it (RFC 9297 §2: the data stream
 * is every byte after the header sections). This adapter writes the 101 (RFC 9298 §3.4) or the
 * refusal, and ends the connection: HTTP/1.1 has no stream to reset, so an abort closes the
 * connection (RFC 9297 §3.3 → RFC 9112 §8, an incomplete message).
 */
import type { Duplex } from 'node:stream';
import { CapsuleStreamSession } from '../tcp/capsule-stream-session.js';
import { responseHead } from './response-head.js';

/** RFC 9298 §3.4: 101, `Connection: Upgrade`, one `Upgrade: connect-udp`, `Capsule-Protocol`. */
const SWITCHING: ReadonlyArray<readonly [string, string]> = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'connect-udp'],
  ['Capsule-Protocol', '?1'],
];

/** Fields the handler may not set on our 101 or refusal: they belong to the framing. */
const FRAMING = new Set(['connection', 'upgrade', 'capsule-protocol', 'content-length']);

export class H1ConnectUdpSession extends CapsuleStreamSession {
  readonly transport = 'h1' as const;
  readonly #socket: Duplex;

  /**
   * `head`: bytes the client sent after its request head, already read by node:http (the start
   * of the data stream).
   */
  constructor(
    socket: Duplex,
    headers: Array<[string, string]>,
    head: Uint8Array,
    remoteAddress: string,
    knownCapsules: Iterable<readonly [number, number]>,
  ) {
    super(socket, headers, remoteAddress, knownCapsules);
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => this.receivedEnd());
    socket.on('error', () => {});
    // The connection is the tunnel: a clean close ends it, a broken one (RST) loses it.
    socket.on('close', (hadError: boolean) =>
      this.finish(hadError ? { kind: 'connection' } : { kind: 'end' }),
    );
    if (head.length > 0) this.received(head);
  }

  protected override sendAccept(headers: Array<[string, string]>): void {
    this.#write(101, [...SWITCHING, ...headers.filter(([n]) => !FRAMING.has(n))], false);
  }

  protected override sendReject(status: number, headers: Array<[string, string]>): void {
    // RFC 9297 §3.4: no Capsule-Protocol outside 2xx/101. The connection ends with the answer:
    // bytes the client sent after its request were meant for a tunnel that never started.
    const fields = headers.filter(([n]) => !FRAMING.has(n));
    this.#write(status, [...fields, ['Content-Length', '0'], ['Connection', 'close']], true);
  }

  protected override resetStream(_code: number): void {
    this.#socket.destroy();
  }

  #write(status: number, fields: ReadonlyArray<readonly [string, string]>, end: boolean): void {
    let bytes: Buffer;
    try {
      bytes = responseHead(status, fields);
    } catch {
      // A field our own code produced cannot be sent: a bug, but one tunnel's, not the proxy's.
      this.#socket.destroy();
      this.finish({ kind: 'connection' });
      return;
    }
    if (end) this.#socket.end(bytes);
    else this.#socket.write(bytes);
  }
}
