/**
 * An HTTP/3 client over our QUIC stack on Node: one UDP socket and one connection per client,
 * one H3Session, pumped by the same `SessionDriver` as the server.
 *
 *   const client = await H3Client.connect('https://localhost:4433', { ca: [certPem] });
 *   const res = await client.request({ method: 'GET', path: '/' });
 *   console.log(res.status, await res.text());
 *   const tunnel = await client.connect('connect-udp', '/.well-known/masque/udp/192.0.2.1/53/');
 *   await client.close();
 *
 * `connect` resolves after the handshake and the server's SETTINGS (so extended CONNECT and
 * datagram support are known). Requests beyond the server's stream limit wait for credit.
 */
import { type Logger, pino } from 'pino';
import { H3ErrorCode } from '../../http3/errors.js';
import {
  type H3Headers,
  type H3SessionOptions,
  H3UsageError,
  type PeerSettings,
} from '../../http3/session/index.js';
import type { QuicCloseInfo } from '../../quic/api.js';
import type { TransportSettings } from '../../quic/connection/config.js';
import type { AckFrequencyPolicy, QuicConnection } from '../../quic/connection/index.js';
import { quicClientFactory } from '../../quic/endpoint/quic-factories.js';
import type { StoredTicket } from '../../tls/handshake/index.js';
import { type Random, systemRandom } from '../../util/random.js';
import type { ConnectSessionOptions } from '../h3/connect-session.js';
import { SessionDriver } from '../h3/driver.js';
import { H3HttpError } from '../h3/errors.js';
import { type HeadersInit, toFields } from '../h3/headers.js';
import { DEFAULT_HIGH_WATER_MARK } from '../h3/stream-writer.js';
import { DEFAULT_MAX_DATAGRAM_FRAME_SIZE } from '../server/server.js';
import type { DatagramSocket } from '../udp/datagram-socket.js';
import type { PacketSeam } from '../udp/packet-seam.js';
import { UdpEndpoint } from '../udp/udp-endpoint.js';
import { ClientConnectSession } from './connect.js';
import { ClientExchange, type ClientExchangeLimits, type ClientResponse } from './exchange.js';
import { type ClientTarget, type ResolvedTarget, resolveTarget } from './target.js';

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];

/** max_udp_payload_size and PMTU ceiling of a connection inside a tunnel (see `connect`). */
const TUNNELLED_UDP_PAYLOAD = 1200;

/** Options of {@link H3Client.connect}. */
export interface H3ClientOptions {
  /** Extra trust anchors (PEM), added to the system roots. */
  ca?: string[];
  /** Trust only `ca` (leave the system roots out). Default false. */
  noSystemRoots?: boolean;
  /** SHA-256 pins of the server's SPKI or certificate (base64 or hex). */
  pinnedSha256?: string[];
  /** Accept any certificate. Development only; must be passed explicitly as `true`. */
  insecure?: boolean;
  /** TLS server name (default: the target's host). */
  serverName?: string;
  /** ALPN protocols. Default ['h3']. */
  alpn?: string[];
  /** HTTP/3 session options (default: HTTP/3 datagrams on). */
  settings?: H3SessionOptions;
  /** QUIC transport parameters (over the QUIC defaults, with datagrams on). */
  transport?: Partial<TransportSettings>;
  /** Ceiling of path MTU discovery (1200-65527; default 1452), as for the server. */
  maxUdpPayload?: number;
  /** QUIC keep-alive interval in ms (default off): a quiet connection outlives its idle timeout. */
  keepAlive?: number;
  /** What we ask of a server supporting ACK frequency (as for the server); `false`: nothing. */
  ackFrequency?: AckFrequencyPolicy | false;
  /** A session ticket from an earlier connection (`client.sessionTicket`), to resume. */
  sessionTicket?: StoredTicket;
  /** Local address to bind (default the wildcard of the target's family, port 0). */
  bind?: string;
  /**
   * Send and receive through this socket instead of binding a UDP socket: for instance a
   * connect-udp tunnel (proxy chaining, QUIC inside a tunnel). Needs `remote`.
   */
  socket?: DatagramSocket;
  /** With `socket`: the server's address label ("ip:port"); the target is not resolved. */
  remote?: string;
  /**
   * The server's IP address, chosen by the caller (the target's host is then not resolved; TLS
   * and `:authority` still use it).
   */
  address?: string;
  /** Handshake + SETTINGS deadline in ms. Default 10 s. */
  connectTimeout?: number;
  logger?: Logger;
  keylogFile?: string;
  qlogDir?: string;
  /** Default cap of `res.bytes()` / `res.text()`. Default 64 MiB. */
  maxBodySize?: number;
  /** Unread response bytes held before the request is cancelled. Default 16 MiB. */
  maxBufferedBody?: number;
  /** Request-body backlog above which writes wait. Default 256 KiB. */
  highWaterMark?: number;
  random?: Random;
}

/** A request body: bytes, text, or a (possibly async) sequence of chunks. */
export type RequestBody = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** What `request` sends. */
export interface ClientRequestInit {
  /** Default 'GET'. */
  method?: string;
  /** Default '/'. Ignored for CONNECT, which is sent as a plain CONNECT (RFC 9114 §4.4). */
  path?: string;
  /** Default the target's authority. */
  authority?: string;
  /** Default 'https'. */
  scheme?: string;
  headers?: HeadersInit;
  body?: RequestBody;
  /** Trailers sent after the body. */
  trailers?: HeadersInit;
}

/** Options of {@link H3Client.connect}'s extended CONNECT. */
export interface ClientConnectOptions extends ConnectSessionOptions {
  /**
   * The Capsule Protocol (RFC 9297 §3.2): `true` (default) sends `capsule-protocol: ?1` and parses
   * capsules when the 2xx says `capsule-protocol: ?1` too; `'always'` sends it and parses capsules
   * after any 2xx (the upgrade token implies them); `false` neither.
   */
  capsuleProtocol?: boolean | 'always';
  /** Default the target's authority. */
  authority?: string;
  /**
   * Told when the request starts waiting for stream credit (the server's limit on concurrent
   * streams is reached, RFC 9000 §4.6) with `true`, and with `false` once its stream opened.
   */
  onStreamWait?: (waiting: boolean) => void;
}

const encoder = new TextEncoder();

export class H3Client {
  readonly #udp: UdpEndpoint<QuicConnection, ClientCfg>;
  readonly #driver: SessionDriver;
  readonly #target: ResolvedTarget;
  readonly #limits: ClientExchangeLimits;
  readonly #closed: Promise<QuicCloseInfo>;
  #goaway: number | undefined;
  /** Requests waiting for stream credit (`streams-available`). */
  #waiting: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  private constructor(
    udp: UdpEndpoint<QuicConnection, ClientCfg>,
    driver: SessionDriver,
    target: ResolvedTarget,
    limits: ClientExchangeLimits,
    closed: Promise<QuicCloseInfo>,
  ) {
    this.#udp = udp;
    this.#driver = driver;
    this.#target = target;
    this.#limits = limits;
    this.#closed = closed;
  }

  /** Connects, completes the handshake and waits for the server's SETTINGS. */
  static async connect(target: ClientTarget, options: H3ClientOptions = {}): Promise<H3Client> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const random = options.random ?? systemRandom;
    if ((options.socket === undefined) !== (options.remote === undefined)) {
      throw new RangeError('socket and remote go together');
    }
    const t = await resolveTarget(target, options.remote, options.address);
    let driver: SessionDriver | undefined;
    const udp = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
      ...(options.socket !== undefined
        ? { socket: options.socket }
        : { listen: options.bind ?? (t.family === 6 ? '[::]:0' : '0.0.0.0:0') }),
      logger,
      keylogFile: options.keylogFile,
      qlogDir: options.qlogDir,
      createClientConnection: quicClientFactory(),
      // One connection: whatever woke the endpoint concerns it.
      onWake: () => driver?.pump(),
    });
    // QUIC inside a tunnel (RFC 9298 §"MTU Considerations"): a UDP payload the proxy cannot fit
    // in a QUIC DATAGRAM frame is dropped by the proxy (SHOULD), and a proxy may do worse (quic-go
    // 0.29 closes its connection on one). How much the proxy can send us is not knowable here,
    // so the connection asks for no more than 1200 bytes (max_udp_payload_size, RFC 9000 §18.2)
    // and probes no higher: every packet, the peer's PMTU probes included, then fits a DATAGRAM
    // frame on any outer path that carries QUIC at all. `transport` and `maxUdpPayload` override.
    const tunnelled = options.socket !== undefined;
    const config: ClientCfg = {
      random,
      alpn: options.alpn ?? ['h3'],
      transport: {
        maxDatagramFrameSize: DEFAULT_MAX_DATAGRAM_FRAME_SIZE,
        ...(tunnelled ? { maxUdpPayloadSize: TUNNELLED_UDP_PAYLOAD } : {}),
        ...options.transport,
      },
      maxUdpPayload: options.maxUdpPayload ?? (tunnelled ? TUNNELLED_UDP_PAYLOAD : undefined),
      keepAlive: options.keepAlive,
      ackFrequency: options.ackFrequency,
      tls: {
        serverName: options.serverName ?? t.host,
        verify: {
          ca: options.ca,
          noSystemRoots: options.noSystemRoots,
          pinnedSha256: options.pinnedSha256,
          insecureSkipVerify: options.insecure === true,
        },
        resumption: options.sessionTicket,
      },
    };
    let conn: QuicConnection;
    try {
      conn = udp.connect(config, t.remote);
    } catch (err) {
      await udp.close();
      throw err;
    }
    // The endpoint polls only connections with pending work: name this one.
    const c = conn;
    driver = new SessionDriver(
      conn,
      { role: 'client', random, options: { h3Datagram: true, ...options.settings } },
      { flush: () => udp.flush(c), flushNow: () => udp.flushNow(c), logger },
    );
    const d = driver;
    let ready!: (s: PeerSettings) => void;
    let fail!: (err: Error) => void;
    const settings = new Promise<PeerSettings>((resolve, reject) => {
      ready = resolve;
      fail = reject;
    });
    let closedResolve!: (info: QuicCloseInfo) => void;
    const closed = new Promise<QuicCloseInfo>((resolve) => {
      closedResolve = resolve;
    });
    const limits: ClientExchangeLimits = {
      maxBodySize: options.maxBodySize ?? 64 * 1024 * 1024,
      maxBuffered: options.maxBufferedBody ?? 16 * 1024 * 1024,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    };
    const client = new H3Client(udp, d, t, limits, closed);
    d.listen({
      onSettings: (s) => ready(s),
      onGoaway: (id) => client.#onGoaway(id),
      onStreamsAvailable: () => client.#wakeWaiting(),
      onClosed: (info) => {
        fail(
          new H3HttpError('CONNECTION_CLOSED', `connection closed: ${info.reason || info.cause}`, {
            h3Code: info.errorCode,
          }),
        );
        client.#wakeWaiting();
        closedResolve(info);
      },
    });
    const timeout = options.connectTimeout ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new H3HttpError(
              'TIMEOUT',
              `no HTTP/3 session with ${t.authority}${t.remote === t.authority ? '' : ` (${t.remote})`} within ${timeout} ms: nothing answered, or the handshake did not complete`,
            ),
          ),
        timeout,
      );
    });
    try {
      await Promise.race([settings, expired]);
    } catch (err) {
      await udp.close(H3ErrorCode.H3_NO_ERROR, 'connect failed');
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  /** The `:authority` requests carry by default. */
  get authority(): string {
    return this.#target.authority;
  }

  /** The server's SETTINGS. */
  get peerSettings(): PeerSettings | undefined {
    return this.#driver.session.peerSettings;
  }

  /** True when HTTP/3 datagrams are negotiated (RFC 9297 §2.1.1). */
  get datagramsEnabled(): boolean {
    return this.#driver.session.datagramsEnabled;
  }

  /** The identifier of the server's GOAWAY, once received. */
  get goaway(): number | undefined {
    return this.#goaway;
  }

  /** Settles when the connection is closed (by either side, or idle). */
  /** True when this connection resumed an earlier session. */
  get resumed(): boolean {
    return this.connection.resumed;
  }

  /** The latest session ticket the server issued (pass it as `sessionTicket` to resume). */
  get sessionTicket(): StoredTicket | undefined {
    return this.connection.sessionTicket as StoredTicket | undefined;
  }

  get closed(): Promise<QuicCloseInfo> {
    return this.#closed;
  }

  /** The underlying QUIC connection (stats, diagnostics). */
  get connection(): QuicConnection {
    return this.#driver.connection as QuicConnection;
  }

  /** Sends a request; resolves with the response head (the body streams). */
  async request(init: ClientRequestInit = {}): Promise<ClientResponse> {
    const method = init.method ?? 'GET';
    const authority = init.authority ?? this.#target.authority;
    // RFC 9114 §4.4: a plain CONNECT carries only :method and :authority (host:port).
    const headers: H3Headers =
      method === 'CONNECT'
        ? [
            [':method', method],
            [':authority', authority],
          ]
        : [
            [':method', method],
            [':scheme', init.scheme ?? 'https'],
            [':authority', authority],
            [':path', init.path ?? '/'],
          ];
    for (const f of toFields(init.headers)) headers.push(f);
    const body = init.body;
    const trailers = toFields(init.trailers);
    const fixed = typeof body === 'string' ? encoder.encode(body) : body;
    const empty =
      fixed === undefined ||
      (fixed instanceof Uint8Array && fixed.length === 0 && trailers.length === 0);
    const ex = await this.#open(headers, empty);
    if (!empty) void this.#sendBody(ex, fixed as RequestBody, trailers);
    return ex.response;
  }

  /**
   * The packet seam of the client's socket (claims, raw sends): what forwarded-mode QUIC-aware
   * proxying needs beside the connection. See {@link PacketSeam}.
   */
  get packets(): PacketSeam {
    return this.#udp;
  }

  /** The server's address as the connection uses it ("host:port" / "[v6]:port"). */
  get remoteAddress(): string {
    return this.#target.remote;
  }

  /** Opens an extended CONNECT session (RFC 9220); rejects with CONNECT_REFUSED on non-2xx. */
  async connect(
    protocol: string,
    path: string,
    headers?: HeadersInit,
    options: ClientConnectOptions = {},
  ): Promise<ClientConnectSession> {
    const capsules = options.capsuleProtocol ?? true;
    const fields: H3Headers = [
      [':method', 'CONNECT'],
      [':protocol', protocol],
      [':scheme', 'https'],
      [':authority', options.authority ?? this.#target.authority],
      [':path', path],
    ];
    if (capsules !== false) fields.push(['capsule-protocol', '?1']);
    for (const f of toFields(headers)) fields.push(f);
    const id = await this.#openStream(fields, false, options.onStreamWait);
    const s = new ClientConnectSession(this.#driver, id, fields, capsules, options);
    this.#driver.attach(id, s);
    this.#driver.kick();
    return s.opened;
  }

  /**
   * Graceful close: GOAWAY (RFC 9114 §5.2), then the session closes with H3_NO_ERROR once the
   * requests in flight have finished, or after `timeout` ms; then the socket.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? 2000);
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    const d = this.#driver;
    if (!d.isClosed) {
      try {
        if (d.attached === 0) d.session.close(H3ErrorCode.H3_NO_ERROR, 'client closing');
        else d.session.shutdown();
      } catch (err) {
        if (!(err instanceof H3UsageError)) throw err;
      }
      d.pump();
      this.#udp.flush(this.connection);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#closed,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeout);
        }),
      ]);
      clearTimeout(timer);
    }
    await this.#udp.close(H3ErrorCode.H3_NO_ERROR, 'client closing');
    d.pump();
  }

  async #open(headers: H3Headers, endStream: boolean): Promise<ClientExchange> {
    const id = await this.#openStream(headers, endStream);
    const ex = new ClientExchange(this.#driver, id, this.#limits);
    if (endStream) ex.writer.markEnded();
    this.#driver.attach(id, ex);
    this.#driver.kick();
    return ex;
  }

  /** The server's initial limit on our concurrent request streams (RFC 9000 §18.2). */
  get peerMaxStreamsBidi(): number | undefined {
    return this.connection.peerTransportParameters?.initialMaxStreamsBidi;
  }

  /** Opens a request stream, waiting for stream credit when the server's limit is reached. */
  async #openStream(
    headers: H3Headers,
    endStream: boolean,
    onWait?: (waiting: boolean) => void,
  ): Promise<number> {
    let waited = false;
    try {
      return await this.#openStreamLoop(headers, endStream, () => {
        if (!waited) onWait?.(true);
        waited = true;
      });
    } finally {
      if (waited) onWait?.(false);
    }
  }

  async #openStreamLoop(
    headers: H3Headers,
    endStream: boolean,
    onWait: () => void,
  ): Promise<number> {
    for (;;) {
      if (this.#closing !== undefined || this.#driver.isClosed) {
        throw new H3HttpError('CLIENT_CLOSED', 'the client is closed');
      }
      try {
        return this.#driver.session.request(headers, { endStream });
      } catch (err) {
        if (err instanceof H3UsageError && err.code === 'STREAM_LIMIT') {
          onWait();
          await new Promise<void>((resolve) => this.#waiting.push(resolve));
          continue;
        }
        if (err instanceof H3UsageError && (err.code === 'GOAWAY' || err.code === 'CLOSED')) {
          throw new H3HttpError('CLIENT_CLOSED', err.message, { cause: err });
        }
        throw err;
      }
    }
  }

  async #sendBody(ex: ClientExchange, body: RequestBody, trailers: H3Headers): Promise<void> {
    const w = ex.writer;
    try {
      if (body instanceof Uint8Array) {
        if (trailers.length === 0) w.data(body, true);
        else {
          w.data(body);
          w.end(trailers);
        }
        return;
      }
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        if (w.aborted) return;
        if (!w.data(chunk)) await w.drained();
      }
      w.end(trailers);
    } catch (err) {
      ex.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #onGoaway(id: number): void {
    this.#goaway = id;
    this.#wakeWaiting();
  }

  #wakeWaiting(): void {
    const w = this.#waiting;
    if (w.length === 0) return;
    this.#waiting = [];
    for (const resolve of w) resolve();
  }
}
