/**
 * What the proxy's `node:dgram` sockets share, connected (plain connect-udp, QUIC-aware) or not
 * (bind): opening one with large buffers (failing cleanly), errors reported only while open, a
 * send that reports a closed socket or a throwing send through its callback, and a close that runs
 * once.
 */
import { createSocket, type Socket } from 'node:dgram';

/** Buffer sizes of the sockets the proxy opens toward targets and peers. */
export interface NodeUdpSocketOptions {
  /**
   * SO_RCVBUF in bytes. Default 4 MiB: a burst from the target must not overflow the kernel's
   * queue while the event loop is busy (the kernel caps it at net.core.rmem_max).
   */
  recvBufferSize?: number;
  /** SO_SNDBUF in bytes. Default 4 MiB (capped at net.core.wmem_max). */
  sendBufferSize?: number;
}

/** Default SO_RCVBUF / SO_SNDBUF of the UDP sockets we open. */
export const DEFAULT_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Opens a `node:dgram` socket of `family` with the buffer sizes of `options`, then `ready` it
 * (bind or connect, calling back once done); rejects, with the socket closed, if that fails.
 */
export function openNodeSocket(
  family: 4 | 6,
  options: NodeUdpSocketOptions,
  ready: (socket: Socket, done: () => void) => void,
): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = createSocket({
      type: family === 6 ? 'udp6' : 'udp4',
      ipv6Only: family === 6,
      recvBufferSize: options.recvBufferSize ?? DEFAULT_SOCKET_BUFFER_BYTES,
      sendBufferSize: options.sendBufferSize ?? DEFAULT_SOCKET_BUFFER_BYTES,
    });
    const fail = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // the socket never opened
      }
      reject(err);
    };
    socket.once('error', fail);
    ready(socket, () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** The lifecycle part of a proxy socket (see module header). */
export class NodeSocketBase {
  protected readonly socket: Socket;
  #closed = false;
  #onError: (err: Error) => void = () => {};

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', (err) => {
      if (!this.#closed) this.#onError(err);
    });
  }

  /** Runs `send` unless closed; a closed socket or a throw reaches `done` as an error. */
  protected guardedSend(send: () => void, done: (err: Error | null) => void): void {
    if (this.#closed) {
      done(new Error('socket closed'));
      return;
    }
    try {
      send();
    } catch (err) {
      done(err as Error);
    }
  }

  /** Replaces the receiver of datagrams. */
  protected setMessageHandler(handler: (...args: never[]) => void): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', handler as (...args: unknown[]) => void);
  }

  /** Reports `err` as the socket's error event would (only while open). */
  protected reportError(err: Error): void {
    if (!this.#closed) this.#onError(err);
  }

  /** Whether `close` ran. */
  protected get closed(): boolean {
    return this.#closed;
  }

  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.removeAllListeners('message');
    try {
      this.socket.close();
    } catch {
      // already closed by Node after an error: nothing to release
    }
  }
}
