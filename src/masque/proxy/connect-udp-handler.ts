/**
 * The connect-udp request handler (RFC 9298 §3): given an extended CONNECT session with
 * `:protocol connect-udp` (the HTTP/3 server routes other protocols to 501 itself, RFC 9220 §3),
 * it decides, in this order, and answers through the sans-IO core:
 *
 *   shutting down                        503  proxy_internal_response (RFC 9209 §2.3.29)
 *   credentials missing or wrong         407  + Proxy-Authenticate (RFC 9110 §15.5.8),
 *                                             http_request_denied (RFC 9209 §2.3.17)
 *   request malformed / wrong path       400 / 404 / 405 / 421 / 501 as `validateConnectUdpRequest`
 *                                             says (http_request_error on 4xx)
 *   DNS failure                          502 dns_error (rcode) / 504 dns_timeout (RFC 9298 §3.1
 *                                             "MUST perform DNS resolution before replying")
 *   target denied by policy              502 destination_ip_prohibited (core default)
 *   too many tunnels on this connection  429 http_request_denied: the client itself is over its
 *                                             share (RFC 6585 §4 "too many requests"); it may
 *                                             retry once one of its tunnels closed
 *   too many tunnels in total            503 connection_limit_reached (RFC 9209 §2.3.12: "limit
 *                                             the number of connections it has to the next hop",
 *                                             recommended 503): the proxy's capacity
 *   no socket could be opened            502 destination_ip_unroutable
 *
 * then opens one connected UDP socket (`UdpSocketFactory`) and accepts with
 * `capsule-protocol: ?1` and a Proxy-Status carrying `next-hop` (RFC 9298 §3.5). A rejected or
 * malformed request only touches its own stream.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ProxyMetrics } from '../../metrics/metrics.js';
import { nodeClock } from '../../runtime/clock.js';
import type { Clock } from '../../util/clock.js';
import { type AuthConfig, Authenticator } from '../connect-udp/auth.js';
import { TargetPolicy } from '../connect-udp/policy.js';
import { type Resolver, resolveTarget } from '../connect-udp/resolve.js';
import { createNodeResolver } from '../connect-udp/resolver-node.js';
import { rejectionResponseHeaders, successResponseHeaders } from '../connect-udp/response.js';
import { formatHostPort } from '../connect-udp/target.js';
import type { UriTemplate } from '../connect-udp/uri-template.js';
import { validateConnectUdpRequest } from '../connect-udp/validate-request.js';
import type { ProxyStatusEntry } from '../headers/index.js';
import { MetricsFlusher } from './metrics-flush.js';
import { type TunnelCloseReason, type TunnelSession, UdpTunnel } from './tunnel.js';
import {
  nodeUdpSocketFactory,
  type TunnelSocket,
  type UdpSocketFactory,
  type UdpTarget,
} from './udp-socket.js';

/** An extended CONNECT request as the handler needs it (`ServerConnectSession` fits). */
export interface ConnectUdpRequest extends TunnelSession {
  /** The request header section, as received. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The client's address: tunnels are counted per connection by it. */
  readonly remoteAddress: string;
  /** Answers 2xx (`capsule-protocol: ?1` is added when the Capsule Protocol is in use). */
  accept(headers?: Array<[string, string]>): void;
  /** Answers a final non-2xx status and ends the stream. */
  reject(status: number, headers?: Array<[string, string]>): void;
}

/** Tunnel limits. */
export interface TunnelLimits {
  /** Open tunnels per client connection (429 beyond). Default 64. */
  tunnelsPerConnection: number;
  /** Open tunnels in total (503 beyond). Default 10,000. */
  tunnelsTotal: number;
  /** Client → target datagrams waiting for the kernel, per tunnel. Default 1024. */
  datagramQueue: number;
  /** No datagram either way for this long closes the tunnel (ms). Default 120,000. */
  idleTimeoutMs: number;
  /** Stream backlog above which capsules to the client are dropped (bytes). Default 1 MiB. */
  capsuleBacklogBytes: number;
}

const DEFAULT_LIMITS: TunnelLimits = {
  tunnelsPerConnection: 64,
  tunnelsTotal: 10_000,
  datagramQueue: 1024,
  idleTimeoutMs: 120_000,
  capsuleBacklogBytes: 1024 * 1024,
};

/** Options of {@link ConnectUdpHandler}. */
export interface ConnectUdpHandlerOptions {
  /** The proxy's URI template (RFC 9298 §2). */
  template: UriTemplate | string;
  /** Our Proxy-Status member name. Default 'masque'. */
  proxyName?: string;
  /** Client authentication. Default none. */
  auth?: AuthConfig | Authenticator;
  /** Target access control. Default: special-purpose ranges denied. */
  policy?: TargetPolicy;
  /** DNS. Default: Node's c-ares resolver with a 5 s timeout. */
  resolver?: Resolver;
  /** Family tried first. Default 'ipv6'. */
  prefer?: 'ipv4' | 'ipv6';
  /** Families the proxy may send on. Default both. */
  families?: { ipv4?: boolean; ipv6?: boolean };
  /** `:authority` must equal the template's (421 otherwise). */
  strictAuthority?: boolean;
  /** `capsule-protocol: ?1` required (400 otherwise). */
  requireCapsuleProtocol?: boolean;
  /** Limits, over the defaults. */
  limits?: Partial<TunnelLimits>;
  /** What to do with target datagrams too large for a QUIC DATAGRAM frame (see tunnel.ts). */
  largeDatagrams?: 'capsule' | 'drop';
  /** Opens tunnel sockets. Default: connected `node:dgram` sockets. */
  socketFactory?: UdpSocketFactory;
  /** Prometheus metrics to update. */
  metrics?: ProxyMetrics;
  logger?: Logger;
  /** Time and timers of tunnel idle timeouts. Default the Node runtime's clock. */
  clock?: Clock;
}

/** Totals of a handler, including closed tunnels. */
export interface ConnectUdpStats {
  tunnelsActive: number;
  tunnelsOpened: number;
  /** Requests rejected, by reason code. */
  rejected: Record<string, number>;
  /** Tunnel sockets currently open. */
  socketsOpen: number;
  datagramsToTarget: number;
  bytesToTarget: number;
  datagramsToClient: number;
  bytesToClient: number;
  /** Datagrams dropped, by reason. */
  drops: Record<string, number>;
  /** Tunnels closed, by reason. */
  closed: Record<string, number>;
}

export class ConnectUdpHandler {
  readonly #template: UriTemplate | string;
  readonly #proxyName: string;
  readonly #auth: Authenticator;
  readonly #policy: TargetPolicy;
  readonly #resolver: Resolver;
  readonly #opts: ConnectUdpHandlerOptions;
  readonly #limits: TunnelLimits;
  readonly #factory: UdpSocketFactory;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #tunnels = new Set<UdpTunnel>();
  readonly #perConnection = new Map<string, number>();
  readonly #flusher: MetricsFlusher;
  #reserved = 0;
  #socketsOpen = 0;
  #opened = 0;
  #closing = false;
  readonly #rejected = new Map<string, number>();
  readonly #closedBy = new Map<string, number>();

  /** The function to register: `server.handleConnect('connect-udp', handler.handle)`. */
  readonly handle = (session: ConnectUdpRequest): Promise<void> => this.#handle(session);

  constructor(options: ConnectUdpHandlerOptions) {
    this.#opts = options;
    this.#template = options.template;
    this.#proxyName = options.proxyName ?? 'masque';
    this.#auth =
      options.auth instanceof Authenticator
        ? options.auth
        : new Authenticator(options.auth ?? { mode: 'none' });
    this.#policy = options.policy ?? new TargetPolicy();
    this.#resolver = options.resolver ?? createNodeResolver();
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#factory = options.socketFactory ?? nodeUdpSocketFactory();
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#clock = options.clock ?? nodeClock;
    this.#flusher = new MetricsFlusher(options.metrics);
  }

  /** The limits in force. */
  get limits(): Readonly<TunnelLimits> {
    return this.#limits;
  }

  /** Open tunnels. */
  get tunnels(): ReadonlySet<UdpTunnel> {
    return this.#tunnels;
  }

  /** Totals, including closed tunnels. */
  stats(): ConnectUdpStats {
    const t = this.#flusher.totals(this.#tunnels);
    return {
      tunnelsActive: this.#tunnels.size,
      tunnelsOpened: this.#opened,
      rejected: Object.fromEntries(this.#rejected),
      socketsOpen: this.#socketsOpen,
      ...t,
      closed: Object.fromEntries(this.#closedBy),
    };
  }

  /** Pushes pending counts to the metrics (the proxy calls this on a timer and on scrape). */
  flushMetrics(): void {
    this.#flusher.flushAll(this.#tunnels);
  }

  /**
   * Stops accepting (503) and closes every tunnel with a FIN and its socket. Requests still
   * resolving are refused when they complete.
   */
  closeAll(): void {
    this.#closing = true;
    for (const t of [...this.#tunnels]) t.close('shutdown');
  }

  async #handle(s: ConnectUdpRequest): Promise<void> {
    const proxy = this.#proxyName;
    if (this.#closing) {
      this.#reject(s, 503, 'SHUTTING_DOWN', [], {
        proxy,
        error: 'proxy_internal_response',
        details: 'shutting down',
      });
      return;
    }
    const auth = this.#auth.check(s.headers);
    if (!auth.ok) {
      this.#reject(s, auth.status, `AUTH_${auth.reason}`, auth.headers, {
        proxy,
        error: 'http_request_denied',
        details: 'proxy authentication required',
      });
      return;
    }
    const v = validateConnectUdpRequest(s.headers, {
      template: this.#template,
      proxyName: proxy,
      strictAuthority: this.#opts.strictAuthority,
      requireCapsuleProtocol: this.#opts.requireCapsuleProtocol,
    });
    if (!v.ok) {
      this.#reject(s, v.status, v.reason, v.headers, v.proxyStatus);
      return;
    }
    const r = await resolveTarget(v.target, {
      resolver: this.#resolver,
      policy: this.#policy,
      proxyName: proxy,
      prefer: this.#opts.prefer,
      families: this.#opts.families,
    });
    if (s.closeInfo !== undefined) return; // the client gave up while we resolved
    if (!r.ok) {
      this.#reject(s, r.status, r.error, [], r.proxyStatus);
      return;
    }
    const key = s.remoteAddress;
    const mine = this.#perConnection.get(key) ?? 0;
    if (mine >= this.#limits.tunnelsPerConnection) {
      this.#reject(s, 429, 'TUNNELS_PER_CONNECTION', [], {
        proxy,
        error: 'http_request_denied',
        details: `at most ${this.#limits.tunnelsPerConnection} tunnels per connection`,
      });
      return;
    }
    if (this.#tunnels.size + this.#reserved >= this.#limits.tunnelsTotal) {
      this.#reject(s, 503, 'TUNNELS_TOTAL', [], { proxy, error: 'connection_limit_reached' });
      return;
    }
    // Reserve the slot across the await below, so concurrent requests see it.
    this.#reserved++;
    this.#perConnection.set(key, mine + 1);
    let opened: { socket: TunnelSocket; target: UdpTarget } | undefined;
    try {
      opened = await this.#open(r.addresses, v.target.port);
    } finally {
      this.#reserved--;
    }
    if (opened === undefined) {
      this.#release(key);
      this.#reject(s, 502, 'SOCKET_FAILED', [], {
        proxy,
        error: 'destination_ip_unroutable',
        details: 'no socket could be opened to the target',
      });
      return;
    }
    const { socket, target } = opened;
    if (s.closeInfo !== undefined || this.#closing) {
      socket.close();
      this.#socketsOpen--;
      this.#release(key);
      if (s.closeInfo === undefined) {
        this.#reject(s, 503, 'SHUTTING_DOWN', [], {
          proxy,
          error: 'proxy_internal_response',
          details: 'shutting down',
        });
      }
      return;
    }
    const nextHop = formatHostPort(
      { kind: 'ip', family: target.family, address: target.address },
      target.port,
    );
    const headers = successResponseHeaders({ proxyName: proxy, nextHop }).filter(
      ([name]) => !name.startsWith(':') && name !== 'capsule-protocol',
    );
    s.accept(headers);
    this.#opened++;
    const tunnel = new UdpTunnel(s, socket, target, {
      idleTimeoutMs: this.#limits.idleTimeoutMs,
      queueLimit: this.#limits.datagramQueue,
      capsuleBacklogBytes: this.#limits.capsuleBacklogBytes,
      largeDatagrams: this.#opts.largeDatagrams ?? 'capsule',
      clock: this.#clock,
      onClose: (t, reason, err) => this.#onTunnelClosed(t, key, reason, err),
    });
    this.#tunnels.add(tunnel);
    this.#flusher.opened(tunnel);
    this.#logger.debug({ client: key, target: nextHop }, 'tunnel opened');
  }

  async #open(
    addresses: ReadonlyArray<{ address: string; family: 4 | 6 }>,
    port: number,
  ): Promise<{ socket: TunnelSocket; target: UdpTarget } | undefined> {
    for (const a of addresses) {
      const target: UdpTarget = { address: a.address, family: a.family, port };
      try {
        const socket = await this.#factory.open(target);
        this.#socketsOpen++;
        return { socket, target };
      } catch (err) {
        this.#logger.debug({ err, target: a.address }, 'tunnel socket failed');
      }
    }
    return undefined;
  }

  #onTunnelClosed(
    t: UdpTunnel,
    key: string,
    reason: TunnelCloseReason,
    err: Error | undefined,
  ): void {
    if (!this.#tunnels.delete(t)) return;
    this.#socketsOpen--;
    this.#release(key);
    this.#closedBy.set(reason, (this.#closedBy.get(reason) ?? 0) + 1);
    this.#flusher.closed(t);
    this.#logger.debug({ client: key, reason, err }, 'tunnel closed');
  }

  #release(key: string): void {
    const n = (this.#perConnection.get(key) ?? 1) - 1;
    if (n <= 0) this.#perConnection.delete(key);
    else this.#perConnection.set(key, n);
  }

  #reject(
    s: ConnectUdpRequest,
    status: number,
    reason: string,
    extra: ReadonlyArray<readonly [string, string]>,
    proxyStatus: ProxyStatusEntry | undefined,
  ): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
    this.#opts.metrics?.tunnelRejected(reason);
    this.#logger.debug({ client: s.remoteAddress, status, reason }, 'request rejected');
    if (s.closeInfo !== undefined) return;
    const headers = rejectionResponseHeaders(status, { headers: extra, proxyStatus }).filter(
      ([name]) => name !== ':status',
    );
    s.reject(status, headers);
  }
}
