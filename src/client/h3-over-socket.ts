/**
 * An HTTP/3 client connection over any {@link DatagramSocket}, in particular over a connect-udp
 * tunnel: our QUIC connection is sans-IO, so the UDP adapter (`UdpEndpoint`) is simply given a
 * socket whose datagrams travel as HTTP datagrams through another proxy. This is what proxy
 * chaining (client → proxy A → proxy B → target) and QUIC-in-a-tunnel use.
 *
 * `H3Client` binds its own `node:dgram` socket and takes no socket, so this file repeats its
 * connection setup (about forty lines) with a `socket` option; it offers the two calls the SDK
 * needs: extended CONNECT and plain requests.
 */
import { type Logger, pino } from 'pino';
import type { ClientConnectOptions } from '../http3/client/client.js';
import { ClientConnectSession } from '../http3/client/connect.js';
import { ClientExchange, type ClientResponse } from '../http3/client/exchange.js';
import { H3ErrorCode } from '../http3/errors.js';
import { SessionDriver } from '../http3/server/driver.js';
import { H3HttpError } from '../http3/server/errors.js';
import { type HeadersInit, toFields } from '../http3/server/headers.js';
import { DEFAULT_MAX_DATAGRAM_FRAME_SIZE } from '../http3/server/server.js';
import { DEFAULT_HIGH_WATER_MARK } from '../http3/server/stream-writer.js';
import {
  type H3Headers,
  H3Session,
  H3UsageError,
  type PeerSettings,
} from '../http3/session/index.js';
import type { DatagramSocket } from '../node/datagram-socket.js';
import { UdpEndpoint } from '../node/udp-endpoint.js';
import type { QuicCloseInfo } from '../quic/api.js';
import type { QuicConnection } from '../quic/connection/index.js';
import { quicClientFactory } from '../quic/endpoint/quic-factories.js';
import { type Random, systemRandom } from '../util/random.js';

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];

/** Options of {@link H3OverSocket.connect}. */
export interface H3OverSocketOptions {
  /** The socket every QUIC datagram goes through. */
  socket: DatagramSocket;
  /** The peer's address as the socket reports it ("ip:port"; a label inside a tunnel). */
  remote: string;
  /** TLS server name and default `:authority`. */
  serverName: string;
  authority: string;
  ca?: string[];
  insecure?: boolean;
  pinnedSha256?: string[];
  alpn?: string[];
  connectTimeout?: number;
  logger?: Logger;
  keylogFile?: string;
  random?: Random;
}

export class H3OverSocket {
  readonly #udp: UdpEndpoint<QuicConnection, ClientCfg>;
  readonly #driver: SessionDriver;
  readonly #authority: string;
  readonly #closed: Promise<QuicCloseInfo>;
  #closing: Promise<void> | undefined;

  private constructor(
    udp: UdpEndpoint<QuicConnection, ClientCfg>,
    driver: SessionDriver,
    authority: string,
    closed: Promise<QuicCloseInfo>,
  ) {
    this.#udp = udp;
    this.#driver = driver;
    this.#authority = authority;
    this.#closed = closed;
  }

  /** Handshake + the server's SETTINGS over `options.socket`. */
  static async connect(options: H3OverSocketOptions): Promise<H3OverSocket> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const random = options.random ?? systemRandom;
    let driver: SessionDriver | undefined;
    const udp = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
      socket: options.socket,
      logger,
      keylogFile: options.keylogFile,
      createClientConnection: quicClientFactory(),
      onWake: () => driver?.pump(),
    });
    const conn = udp.connect(
      {
        random,
        alpn: options.alpn ?? ['h3'],
        transport: { maxDatagramFrameSize: DEFAULT_MAX_DATAGRAM_FRAME_SIZE },
        tls: {
          serverName: options.serverName,
          verify: {
            ca: options.ca,
            pinnedSha256: options.pinnedSha256,
            insecureSkipVerify: options.insecure === true,
          },
        },
      },
      options.remote,
    );
    const session = new H3Session(conn, 'client', random, { h3Datagram: true });
    driver = new SessionDriver(conn, session, { flush: () => udp.flush(), logger });
    let ready!: () => void;
    let fail!: (err: Error) => void;
    const settings = new Promise<void>((resolve, reject) => {
      ready = resolve;
      fail = reject;
    });
    let closedResolve!: (info: QuicCloseInfo) => void;
    const closed = new Promise<QuicCloseInfo>((resolve) => {
      closedResolve = resolve;
    });
    driver.listen({
      onSettings: () => ready(),
      onClosed: (info) => {
        fail(
          new H3HttpError('CONNECTION_CLOSED', `connection closed: ${info.reason || info.cause}`),
        );
        closedResolve(info);
      },
    });
    const timeout = options.connectTimeout ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        settings,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new H3HttpError('TIMEOUT', `no HTTP/3 session within ${timeout} ms`)),
            timeout,
          );
        }),
      ]);
    } catch (err) {
      await udp.close(H3ErrorCode.H3_NO_ERROR, 'connect failed');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return new H3OverSocket(udp, driver, options.authority, closed);
  }

  get peerSettings(): PeerSettings | undefined {
    return this.#driver.session.peerSettings;
  }

  get datagramsEnabled(): boolean {
    return this.#driver.session.datagramsEnabled;
  }

  get closed(): Promise<QuicCloseInfo> {
    return this.#closed;
  }

  /** Extended CONNECT (RFC 9220), as `H3Client.connect`. */
  async connect(
    protocol: string,
    path: string,
    headers?: HeadersInit,
    options: ClientConnectOptions = {},
  ): Promise<ClientConnectSession> {
    const capsules = options.capsuleProtocol !== false;
    const fields: H3Headers = [
      [':method', 'CONNECT'],
      [':protocol', protocol],
      [':scheme', 'https'],
      [':authority', options.authority ?? this.#authority],
      [':path', path],
    ];
    if (capsules) fields.push(['capsule-protocol', '?1']);
    for (const f of toFields(headers)) fields.push(f);
    const id = this.#open(fields, false);
    const s = new ClientConnectSession(this.#driver, id, fields, capsules, options);
    this.#driver.attach(id, s);
    this.#driver.kick();
    return s.opened;
  }

  /** A request without a body (GET, HEAD, DELETE...). */
  request(
    init: { method?: string; path?: string; headers?: HeadersInit } = {},
  ): Promise<ClientResponse> {
    const fields: H3Headers = [
      [':method', init.method ?? 'GET'],
      [':scheme', 'https'],
      [':authority', this.#authority],
      [':path', init.path ?? '/'],
    ];
    for (const f of toFields(init.headers)) fields.push(f);
    const id = this.#open(fields, true);
    const ex = new ClientExchange(this.#driver, id, {
      maxBodySize: 64 * 1024 * 1024,
      maxBuffered: 16 * 1024 * 1024,
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
    });
    ex.writer.markEnded();
    this.#driver.attach(id, ex);
    this.#driver.kick();
    return ex.response;
  }

  /** Closes the connection (H3_NO_ERROR) and detaches from the socket. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const d = this.#driver;
      if (!d.closed) {
        try {
          d.session.close(H3ErrorCode.H3_NO_ERROR, 'client closing');
        } catch (err) {
          if (!(err instanceof H3UsageError)) throw err;
        }
        d.pump();
      }
      await this.#udp.close(H3ErrorCode.H3_NO_ERROR, 'client closing');
      d.pump();
    })();
    return this.#closing;
  }

  #open(headers: H3Headers, endStream: boolean): number {
    if (this.#closing !== undefined || this.#driver.closed) {
      throw new H3HttpError('CLIENT_CLOSED', 'the client is closed');
    }
    try {
      return this.#driver.session.request(headers, { endStream });
    } catch (err) {
      if (err instanceof H3UsageError) {
        throw new H3HttpError('CLIENT_CLOSED', err.message, { cause: err });
      }
      throw err;
    }
  }
}
