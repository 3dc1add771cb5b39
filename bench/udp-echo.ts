/**
 * The floor QUIC is measured against: plain `node:dgram` echo over loopback, no QUIC at all.
 * A client keeps a window of 1200-byte datagrams in flight to an echo socket for a fixed time
 * and counts the echoes; lost datagrams are replaced so the window never stalls.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

/** Result of {@link udpEcho}. */
export interface UdpEchoResult {
  /** Echoes received per second (each one a request and its echo). */
  packetsPerSec: number;
  /** Echoed payload bytes per second, in MB/s (10^6), counted once (the return direction). */
  mbPerSec: number;
  /** Echoes received. */
  echoes: number;
  /** Measured duration, in ms. */
  elapsedMs: number;
}

/** Options of {@link udpEcho}. */
export interface UdpEchoOptions {
  /** Datagram payload size (default 1200, QUIC's minimum maximum). */
  size?: number;
  /** Datagrams kept in flight (default 32). */
  window?: number;
  /** How long to measure (default 2000 ms). */
  durationMs?: number;
  /** Address to bind both sockets to (default 127.0.0.1). */
  host?: string;
}

function bind(socket: Socket, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** Runs the echo for `durationMs` and reports the rates. */
export async function udpEcho(opts: UdpEchoOptions = {}): Promise<UdpEchoResult> {
  const size = opts.size ?? 1200;
  const window = opts.window ?? 32;
  const durationMs = opts.durationMs ?? 2000;
  const host = opts.host ?? '127.0.0.1';
  const server = createSocket('udp4');
  const client = createSocket('udp4');
  const serverPort = await bind(server, host);
  await bind(client, host);
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  const payload = Buffer.alloc(size, 0x5a);
  const send = (): void => client.send(payload, serverPort, host);

  let echoes = 0;
  let last = performance.now();
  const t0 = last;
  let refill: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    client.on('message', () => {
      echoes++;
      last = performance.now();
      if (last - t0 >= durationMs) resolve();
      else send();
    });
    // A lost datagram would shrink the window for good: top it up when echoes stall.
    refill = setInterval(() => {
      const now = performance.now();
      if (now - t0 >= durationMs) resolve();
      else if (now - last > 20) {
        for (let i = 0; i < window; i++) send();
      }
    }, 20);
    for (let i = 0; i < window; i++) send();
  });
  clearInterval(refill);
  const elapsedMs = performance.now() - t0;
  client.removeAllListeners('message');
  await Promise.all([closeSocket(client), closeSocket(server)]);
  return {
    packetsPerSec: (echoes * 1000) / elapsedMs,
    mbPerSec: (echoes * size) / 1e6 / (elapsedMs / 1000),
    echoes,
    elapsedMs,
  };
}
