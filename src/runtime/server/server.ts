/**
 * An HTTP/3 server over our QUIC stack on Node: one UDP socket (`UdpEndpoint`), one H3Session
 * per connection (server role, extended CONNECT and HTTP/3 datagrams on), one `SessionDriver`
 * pumping each connection. Requests go to `onRequest`, extended CONNECT to the handler
 * registered for its `:protocol` (see `server-connection.ts` for the status codes).
 *
 *   const server = await H3Server.listen({ listen: '127.0.0.1:4433', certPem, keyPem });
 *   server.onRequest((req, res) => res.end('hello'));
 *   server.handleConnect('connect-udp', (s) => s.accept());
 *   await server.close();
 */
import { type Logger, pino } from 'pino';
import { H3ErrorCode } from '../../http3/errors.js';
import { type H3SessionOptions, H3UsageError, HeaderBudget } from '../../http3/session/index.js';
import type { CidSteering } from '../../quic/cid/steering.js';
import type { TransportSettings } from '../../quic/connection/config.js';
import type { AckFrequencyPolicy, QuicConnection } from '../../quic/connection/index.js';
import { quicServerFactory } from '../../quic/endpoint/quic-factories.js';
import type { ClaimHook, RetryPolicy } from '../../quic/endpoint/types.js';
import { loadServerCredential, type ServerCredential } from '../../tls/handshake/index.js';
import { type Random, randomBytes, systemRandom } from '../../util/random.js';
import { SessionDriver } from '../h3/driver.js';
import { DEFAULT_HIGH_WATER_MARK } from '../h3/stream-writer.js';
import type { PacketSeam } from '../udp/packet-seam.js';
import { UdpEndpoint } from '../udp/udp-endpoint.js';
import type { ExchangeLimits } from './exchange.js';
import type { ConnectHandlerOptions } from './server-connect.js';
import {
  type ConnectHandler,
  type RequestHandler,
  ServerConnection,
  type ServerContext,
} from './server-connection.js';
import { type H3ServerStats, statusDocument } from './status.js';

/** Default of `H3ServerOptions.maxIncompleteHeaderBytesTotal`. */
export const DEFAULT_MAX_INCOMPLETE_HEADER_BYTES_TOTAL = 32 * 1024 * 1024;

/** Default largest QUIC DATAGRAM frame we accept (RFC 9221 §3), enough for any UDP payload. */
export const DEFAULT_MAX_DATAGRAM_FRAME_SIZE = 65_535;

/** Options of {@link H3Server.listen}. */
export interface H3ServerOptions {
  /** Address to bind, "127.0.0.1:4433" or "[::1]:0". Default "[::]:443". */
  listen?: string;
  /** Bind the UDP socket with SO_REUSEPORT (one of several worker processes; Node >= 22.12). */
  reusePort?: boolean;
  /** This worker's mark in the CIDs it issues (src/quic/cid/steering.ts). */
  cidSteering?: CidSteering;
  /** Certificate chain and private key (PEM). */
  certPem: string;
  keyPem: string;
  /** ALPN protocols. Default ['h3']. */
  alpn?: string[];
  /**
   * HTTP/3 session options (our SETTINGS and QPACK, and per connection the cap on incomplete
   * request header bytes and the header timeout), over the defaults below.
   */
  settings?: H3SessionOptions;
  /**
   * Limits on QUIC connections (see `QuicEndpointOptions`): in total and per client IP address,
   * and half-open (handshaking) ones, also for clients that answered a Retry. Beyond the
   * connection limits an Initial is refused with CONNECTION_REFUSED, beyond the half-open ones
   * dropped; each is counted in `endpoint.endpoint.stats().dropped`. Default: unlimited (the
   * proxy's configuration sets them).
   */
  connectionLimits?: ConnectionLimits;
  /**
   * Bytes of incomplete request header sections all connections together may hold; a stream
   * that would go over is reset with H3_EXCESSIVE_LOAD. Default 32 MiB (128 connections at the
   * per-connection default of 256 KiB; legitimate header sections are a few KiB and complete
   * within a round trip, so the budget is empty when no one is attacking).
   */
  maxIncompleteHeaderBytesTotal?: number;
  /** Accept the draft H3_DATAGRAM setting 0xffd277 of older peers. Default false. */
  acceptLegacyH3Datagram?: boolean;
  /** QUIC transport parameters to advertise (over the QUIC defaults, with datagrams on). */
  transport?: Partial<TransportSettings>;
  /**
   * Ceiling of path MTU discovery: the largest UDP payload our QUIC packets may grow to
   * (1200-65527; default 1452). Packets start at 1200 bytes and grow as probes confirm larger
   * ones, per connection (RFC 9000 §14.3); above about 1240 a 1200-byte tunnelled UDP payload
   * rides one QUIC DATAGRAM frame. 1200 turns discovery off. The client need not agree.
   */
  maxUdpPayload?: number;
  /**
   * What the server's connections ask of clients that support the ACK frequency extension
   * (draft-ietf-quic-ack-frequency-14): default `{}` (fewer ACKs as the congestion window grows);
   * `false` asks nothing. Clients' requests are honoured as long as `transport.minAckDelay` > 0.
   */
  ackFrequency?: AckFrequencyPolicy | false;
  /**
   * Session tickets for resumption (RFC 9846 §4.6.1): a 32-byte key shared by the servers that
   * should accept each other's tickets, or `false` to issue none. Default: a random key per
   * server, so clients can resume for as long as this server runs.
   */
  ticketKey?: Uint8Array | false;
  /**
   * Retry policy of the endpoint (RFC 9000 §8.1.2). Default 'under-load': clients prove their
   * address with a Retry round trip only while many handshakes are half-open, which bounds the
   * state spoofed Initials can claim.
   */
  retry?: RetryPolicy;
  /**
   * Static key of our stateless reset tokens (RFC 9000 §10.3.2, at least 16 bytes): give the same
   * key after a restart (or to every server behind one address) so that clients recognise our
   * resets for connections we lost. Default: a random key per server; `false` sends no resets.
   */
  statelessResetKey?: Uint8Array | false;
  /**
   * Packet seam: sees every datagram before connection lookup; returning true takes it over (MASQUE
   * forwarded mode). See {@link PacketSeam} and `server.packets` for CID claims and raw sends.
   */
  claimDatagram?: ClaimHook;
  /** Length of the CIDs our connections issue, 0..20 (default 8); see `server.packets`. */
  localCidLength?: number;
  logger?: Logger;
  /** Append NSS key log lines (SSLKEYLOGFILE) to this file. */
  keylogFile?: string;
  /** Write one qlog file per connection into this directory. */
  qlogDir?: string;
  /** Path of the status endpoint, or false to disable it. Default '/.well-known/masque/status'. */
  statusPath?: string | false;
  /**
   * Who may read the status endpoint (e.g. the proxy's authentication): returns the refusal to
   * answer (status and header fields) or undefined to serve it. Default: everyone.
   */
  statusAccess?: (
    headers: ReadonlyArray<readonly [string, string]>,
  ) => { status: number; headers: Array<[string, string]> } | undefined;
  /** Default cap of `req.bytes()` / `req.text()`. Default 16 MiB. */
  maxBodySize?: number;
  /** Unread request-body bytes held before the request is aborted. Default 4 MiB. */
  maxBufferedBody?: number;
  /** Response backlog above which `res.write` returns false. Default 256 KiB. */
  highWaterMark?: number;
  /** Randomness (default: the OS CSPRNG). */
  random?: Random;
}

/** Connection limits of {@link H3ServerOptions.connectionLimits}. */
export interface ConnectionLimits {
  maxConnections?: number;
  maxConnectionsPerSource?: number;
  maxHalfOpen?: number;
  maxHalfOpenPerSource?: number;
  /** New-connection Initials per source address (see QuicEndpointOptions.initialRatePerSource). */
  initialRatePerSource?: { perSecond: number; burst: number };
}

/** Options of {@link H3Server.close}. */
export interface H3ServerCloseOptions {
  /** How long to let requests finish after GOAWAY before closing connections. Default 5 s. */
  timeout?: number;
}

export const DEFAULT_STATUS_PATH = '/.well-known/masque/status';

export class H3Server {
  readonly #udp: UdpEndpoint<QuicConnection>;
  readonly #logger: Logger;
  readonly #conns: Map<QuicConnection, ServerConnection>;
  readonly #ctx: ServerContext;
  readonly #handlers = new Map<string, [ConnectHandler, ConnectHandlerOptions]>();
  readonly #headerBudget: HeaderBudget;
  #handler: RequestHandler | undefined;
  readonly #counters = {
    startedAt: 0,
    connectionsTotal: 0,
    requestsActive: 0,
    requestsTotal: 0,
    connectSessions: 0,
  };
  #closing: Promise<void> | undefined;
  #emptied: (() => void) | undefined;
  readonly #credentials: ServerCredential[];

  private constructor(
    credentials: ServerCredential[],
    udp: UdpEndpoint<QuicConnection>,
    conns: Map<QuicConnection, ServerConnection>,
    ctx: (server: H3Server) => ServerContext,
    logger: Logger,
    headerBudget: HeaderBudget,
  ) {
    this.#headerBudget = headerBudget;
    this.#credentials = credentials;
    this.#udp = udp;
    this.#conns = conns;
    this.#logger = logger;
    this.#ctx = ctx(this);
    this.#counters.startedAt = udp.now();
  }

  /** Binds the socket and starts serving. */
  static async listen(options: H3ServerOptions): Promise<H3Server> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const random = options.random ?? systemRandom;
    // One array shared with every connection's TLS configuration: `setCertificate` replaces its
    // element, and handshakes from then on present the new certificate.
    const credentials = [loadServerCredential(options.certPem, options.keyPem)];
    const headerBudget =
      options.settings?.headerBudget ??
      new HeaderBudget(
        options.maxIncompleteHeaderBytesTotal ?? DEFAULT_MAX_INCOMPLETE_HEADER_BYTES_TOTAL,
      );
    const sessionOptions: H3SessionOptions = {
      enableConnectProtocol: true,
      h3Datagram: true,
      acceptLegacyH3Datagram: options.acceptLegacyH3Datagram ?? false,
      ...options.settings,
      headerBudget,
    };
    const limits: ExchangeLimits = {
      maxBodySize: options.maxBodySize ?? 16 * 1024 * 1024,
      maxBuffered: options.maxBufferedBody ?? 4 * 1024 * 1024,
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    };
    const statusPath =
      options.statusPath === false ? undefined : (options.statusPath ?? DEFAULT_STATUS_PATH);
    const conns = new Map<QuicConnection, ServerConnection>();
    // The endpoint's hooks need the server, which needs the bound endpoint: a late binding.
    let server: H3Server | undefined;
    const udp: UdpEndpoint<QuicConnection> = await UdpEndpoint.bind<QuicConnection>({
      listen: options.listen ?? '[::]:443',
      reusePort: options.reusePort,
      cidSteering: options.cidSteering,
      logger,
      keylogFile: options.keylogFile,
      qlogDir: options.qlogDir,
      retry: options.retry ?? 'under-load',
      ...options.connectionLimits,
      statelessResetKey:
        options.statelessResetKey === false
          ? undefined
          : (options.statelessResetKey ?? randomBytes(random, 32)),
      claimDatagram: options.claimDatagram,
      localCidLength: options.localCidLength,
      createServerConnection: quicServerFactory({
        random,
        alpn: options.alpn ?? ['h3'],
        tls: {
          credentials,
          ...(options.ticketKey === false
            ? {}
            : { tickets: { key: options.ticketKey ?? randomBytes(random, 32) } }),
        },
        transport: { maxDatagramFrameSize: DEFAULT_MAX_DATAGRAM_FRAME_SIZE, ...options.transport },
        maxUdpPayload: options.maxUdpPayload,
        ackFrequency: options.ackFrequency,
      }),
      onConnection: (conn) => {
        if (server !== undefined) server.#accept(conn, random, sessionOptions);
      },
      onClosed: (conn) => {
        if (server !== undefined) server.#forget(conn);
      },
      onWake: (active) => {
        // Only the connections the input reached have new events (RFC 9000 §5.2 routing put the
        // datagram on one). `active` is a snapshot: handlers may add or remove connections.
        for (let i = 0; i < active.length; i++) conns.get(active[i])?.driver.pump();
      },
    });
    server = new H3Server(
      credentials,
      udp,
      conns,
      (s) => ({
        logger,
        limits,
        statusPath,
        get handler() {
          return s.#handler;
        },
        connectHandler: (protocol) => s.#handlers.get(protocol),
        statusBody: () => statusDocument(s.stats(), udp.now()),
        statusAccess: (headers) => options.statusAccess?.(headers),
        requestStarted: (connect) => s.#requestStarted(connect),
        requestFinished: (connect) => s.#requestFinished(connect),
        connectionClosed: (conn) => s.#forget(conn.driver.connection as QuicConnection),
      }),
      logger,
      headerBudget,
    );
    return server;
  }

  /**
   * Presents this certificate chain (PEM, end-entity first) and key from the next handshake on;
   * established connections keep theirs. Throws RangeError (nothing changes) for a chain and key
   * that cannot work together.
   */
  setCertificate(certPem: string, keyPem: string): void {
    this.#credentials[0] = loadServerCredential(certPem, keyPem);
  }

  /** The bound address, "host:port" or "[v6]:port". */
  get address(): string {
    return this.#udp.address;
  }

  /** The bound port. */
  get port(): number {
    const a = this.#udp.address;
    return Number(a.slice(a.lastIndexOf(':') + 1));
  }

  /** The UDP driver (stats, key log...), for diagnostics. */
  get endpoint(): UdpEndpoint<QuicConnection> {
    return this.#udp;
  }

  /**
   * The packet seam of the server's socket: claim CIDs, ask whether a CID is routed here, send raw
   * datagrams (MASQUE forwarded mode, loop detection). See {@link PacketSeam}.
   */
  get packets(): PacketSeam {
    return this.#udp;
  }

  /** Sets the request handler (one per server; unset means 404 for every request). */
  onRequest(handler: RequestHandler): this {
    this.#handler = handler;
    return this;
  }

  /** Registers the handler of an extended CONNECT `:protocol` (e.g. 'connect-udp'). */
  handleConnect(
    protocol: string,
    handler: ConnectHandler,
    options: ConnectHandlerOptions = {},
  ): this {
    this.#handlers.set(protocol, [handler, options]);
    return this;
  }

  /** Current counters. */
  stats(): H3ServerStats {
    const c = this.#counters;
    return {
      startedAt: c.startedAt,
      connections: this.#conns.size,
      connectionsTotal: c.connectionsTotal,
      requestsActive: c.requestsActive,
      requestsTotal: c.requestsTotal,
      connectSessions: c.connectSessions,
      incompleteHeaderBytes: this.#headerBudget.used,
      headerRefusals: this.#headerBudget.refused,
      headerTimeouts: this.#headerBudget.timedOut,
    };
  }

  /**
   * Graceful close (RFC 9114 §5.2): GOAWAY on every connection, then wait (up to `timeout`) for
   * the clients to finish and close; whatever remains is closed with H3_NO_ERROR, then the socket.
   */
  close(options: H3ServerCloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? 5000);
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    const emptied = new Promise<void>((resolve) => {
      this.#emptied = resolve;
    });
    for (const c of this.#conns.values()) this.#goaway(c);
    this.#udp.flush();
    if (this.#conns.size === 0) this.#emptied?.();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    await Promise.race([emptied, expired]);
    clearTimeout(timer);
    await this.#udp.close(H3ErrorCode.H3_NO_ERROR, 'server shutting down');
    // Anything still attached hears the end now.
    for (const c of [...this.#conns.values()]) c.driver.pump();
    this.#conns.clear();
  }

  #goaway(c: ServerConnection): void {
    try {
      c.driver.session.shutdown();
    } catch (err) {
      // A session not started yet (handshake in progress) or already closing: close it.
      if (!(err instanceof H3UsageError)) throw err;
      c.driver.session.close(H3ErrorCode.H3_NO_ERROR, 'server shutting down');
    }
    c.driver.kick();
  }

  #accept(conn: QuicConnection, random: Random, options: H3SessionOptions): void {
    const driver = new SessionDriver(
      conn,
      { role: 'server', random, options },
      {
        // The endpoint polls only connections with pending work: name this one.
        flush: () => this.#udp.flush(conn),
        flushNow: () => this.#udp.flushNow(conn),
        logger: this.#logger,
      },
    );
    const sc = new ServerConnection(driver, conn.remote, this.#ctx);
    this.#conns.set(conn, sc);
    this.#counters.connectionsTotal++;
    if (this.#closing !== undefined) {
      // Shutting down: no new connections (RFC 9114 §5.2 lets us close at once).
      conn.close(H3ErrorCode.H3_NO_ERROR, 'server shutting down');
    }
  }

  #forget(conn: QuicConnection): void {
    const c = this.#conns.get(conn);
    if (c === undefined) return;
    this.#conns.delete(conn);
    c.driver.pump();
    if (this.#conns.size === 0) this.#emptied?.();
  }

  #requestStarted(connect: boolean): void {
    this.#counters.requestsTotal++;
    this.#counters.requestsActive++;
    if (connect) this.#counters.connectSessions++;
  }

  #requestFinished(connect: boolean): void {
    this.#counters.requestsActive--;
    if (connect) this.#counters.connectSessions--;
  }
}
