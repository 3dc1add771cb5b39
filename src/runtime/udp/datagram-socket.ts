/**
 * The one socket the Node adapter drives, behind a small interface so a batched (sendmmsg/GSO) or
 * native path can replace `node:dgram` later. Socket errors (e.g. ECONNREFUSED after an ICMP port
 * unreachable) are logged, never thrown: a UDP endpoint must outlive its peers' mistakes.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { formatAddress, parseAddress } from './address.js';

/** What the adapter needs from a UDP socket. */
export interface DatagramSocket {
  /** Sends one datagram; failures are reported to the logger, not thrown. */
  send(data: Uint8Array, port: number, host: string): void;
  /** Sets the receiver of incoming datagrams (`remote` formatted by `formatAddress`). */
  onMessage(handler: (data: Uint8Array, remote: string) => void): void;
  /** The bound local address. */
  address(): { host: string; port: number; family: 4 | 6 };
  /** Closes once queued sends have left (bounded wait). */
  close(): Promise<void>;
  /** Datagrams the kernel refused to send (ENOBUFS, EMSGSIZE, unreachable...), when counted. */
  readonly sendErrors?: number;
}

/** Default SO_RCVBUF / SO_SNDBUF of the endpoint's socket (the kernel caps it at *mem_max). */
export const DEFAULT_ENDPOINT_BUFFER_BYTES = 4 * 1024 * 1024;

/** How long `close` waits for queued sends before closing anyway (ms). */
const CLOSE_DRAIN_LIMIT = 200;

/**
 * Binds a `node:dgram` socket to `listen` ("127.0.0.1:0", "[::]:4433"): udp6 for IPv6 literals
 * (dual-stack, `ipv6Only` false), udp4 otherwise.
 */
export async function bindUdpSocket(
  listen: string,
  logger: Logger,
  bufferBytes = DEFAULT_ENDPOINT_BUFFER_BYTES,
): Promise<DatagramSocket> {
  const { host, port, family } = parseAddress(listen);
  if (family === 0) throw new RangeError(`listen address "${listen}" must be an IP literal`);
  // Large buffers: a burst must not overflow the kernel's queue while the event loop is busy
  // (every datagram lost there is invisible to us; RcvbufErrors in /proc/net/snmp counts it).
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ipv6Only: false,
    recvBufferSize: bufferBytes,
    sendBufferSize: bufferBytes,
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return new DgramSocket(socket, family, logger);
}

class DgramSocket implements DatagramSocket {
  readonly #socket: Socket;
  readonly #v6: boolean;
  readonly #logger: Logger;
  #pending = 0;
  #closed = false;
  #sendErrors = 0;
  #drained: (() => void) | undefined;
  readonly #onSent = (err: Error | null): void => {
    this.#pending--;
    if (err) {
      this.#sendErrors++;
      this.#logger.debug({ err }, 'udp send failed');
    }
    if (this.#pending === 0) this.#drained?.();
  };

  constructor(socket: Socket, family: 4 | 6, logger: Logger) {
    this.#socket = socket;
    this.#v6 = family === 6;
    this.#logger = logger;
    socket.on('error', (err) => logger.warn({ err }, 'udp socket error'));
  }

  send(data: Uint8Array, port: number, host: string): void {
    if (this.#closed) return;
    // A dual-stack IPv6 socket reaches IPv4 peers through their IPv4-mapped address.
    const target = this.#v6 && !host.includes(':') ? `::ffff:${host}` : host;
    this.#pending++;
    try {
      this.#socket.send(data, port, target, this.#onSent);
    } catch (err) {
      this.#pending--;
      this.#sendErrors++;
      this.#logger.debug({ err, host, port }, 'udp send rejected');
    }
  }

  get sendErrors(): number {
    return this.#sendErrors;
  }

  onMessage(handler: (data: Uint8Array, remote: string) => void): void {
    this.#socket.removeAllListeners('message');
    this.#socket.on('message', (msg, rinfo) => {
      handler(
        new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength),
        formatAddress(rinfo.address, rinfo.port),
      );
    });
  }

  address(): { host: string; port: number; family: 4 | 6 } {
    const a = this.#socket.address();
    return { host: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_DRAIN_LIMIT);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
