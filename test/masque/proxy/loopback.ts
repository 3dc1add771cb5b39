/**
 * Loopback fixtures for end-to-end proxy tests: UDP echo targets, a socket factory that counts
 * what it opens and closes, and a proxy started on 127.0.0.1:0 with loopback targets allowed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { pino } from 'pino';
import { type RunningProxy, type StartProxyOptions, startProxy } from '../../../src/app/index.js';
import { parseConfig } from '../../../src/config/index.js';
import {
  nodeUdpSocketFactory,
  type TunnelSocket,
  type UdpSocketFactory,
} from '../../../src/masque/proxy/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';

/** A UDP echo server on 127.0.0.1 that counts what it received. */
export interface EchoServer {
  port: number;
  received: number;
  /** Stop echoing (received datagrams are still counted). */
  mute: boolean;
  socket: Socket;
  close(): Promise<void>;
}

export async function echoServer(host = '127.0.0.1'): Promise<EchoServer> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const server: EchoServer = {
    port: socket.address().port,
    received: 0,
    mute: false,
    socket,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    server.received++;
    if (!server.mute) socket.send(msg, rinfo.port, rinfo.address);
  });
  return server;
}

/** Wraps a factory and counts sockets opened and closed (give `asFactory()` to the proxy). */
export class CountingFactory {
  opened = 0;
  closed = 0;
  readonly #inner: UdpSocketFactory;

  constructor(inner: UdpSocketFactory = nodeUdpSocketFactory()) {
    this.#inner = inner;
  }

  /** Sockets open now. */
  get live(): number {
    return this.opened - this.closed;
  }

  asFactory(): UdpSocketFactory {
    return { open: (t) => this.openSocket(t) };
  }

  async openSocket(target: Parameters<UdpSocketFactory['open']>[0]): Promise<TunnelSocket> {
    const s = await this.#inner.open(target);
    this.opened++;
    let done = false;
    const close = s.close.bind(s);
    s.close = () => {
      if (!done) {
        done = true;
        this.closed++;
      }
      close();
    };
    return s;
  }
}

/** A dev certificate shared by the tests of one file. */
export const testCert = generateDevCert();

export interface TestProxy {
  proxy: RunningProxy;
  sockets: CountingFactory;
}

/** Starts a proxy on 127.0.0.1:0; `config` is merged into the JSON configuration. */
export async function startTestProxy(
  config: Record<string, unknown> = {},
  options: StartProxyOptions = {},
): Promise<TestProxy> {
  const sockets = new CountingFactory();
  const proxy = await startProxy(
    parseConfig({
      listen: '127.0.0.1:0',
      targets: { allow: ['127.0.0.0/8'] },
      logLevel: 'silent',
      ...config,
    }),
    {
      certPem: testCert.certPem,
      keyPem: testCert.keyPem,
      logger: pino({ level: 'silent' }),
      socketFactory: sockets.asFactory(),
      ...options,
    },
  );
  return { proxy, sockets };
}

/** Polls `cond` every 10 ms until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
