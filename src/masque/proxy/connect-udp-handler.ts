/**
 * The connect-udp session handler (RFC 9298 §3): one handler for every connect-udp request, a
 * relay strategy per mode (`strategy.ts`). For each request, in order:
 *
 *   shutting down                        503  proxy_internal_response (RFC 9209 §2.3.29)
 *   admission (`admission.ts`)           auth 407, malformed 4xx/501, mode 400/501, DNS 502/504,
 *                                             policy 502: decided from the request alone
 *   too many tunnels on this connection  429 http_request_denied: the client itself is over its
 *                                             share (RFC 6585 §4 "too many requests"); it may
 *                                             retry once one of its tunnels closed
 *   too many tunnels in total            503 connection_limit_reached (RFC 9209 §2.3.12: "limit
 *                                             the number of connections it has to the next hop",
 *                                             recommended 503): the proxy's capacity
 *   the mode's strategy refuses          its status (plain: 502 destination_ip_unroutable when no
 *                                             socket opens)
 *
 * then answers 2xx with `capsule-protocol: ?1` and the strategy's headers, and starts the relay.
 * A rejected or malformed request only touches its own stream.
 *
 * Logs (pino, structured): every refusal at info with its client, target, status, Proxy-Status
 * and reason; with the access log on (the default), one line per tunnel at info when it opens
 * (`event: "open"`) and one when it closes (`event: "close"`: its counters each way, drops,
 * duration and close reason), each with `log: "access"`.
 */

import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ProxyMetrics } from '../../metrics/metrics.js';
import type { CidSteering } from '../../quic/cid/steering.js';
import { nodeClock } from '../../runtime/clock.js';
import type { H3Server } from '../../runtime/server/server.js';
import type { Clock } from '../../util/clock.js';
import { type Random, systemRandom } from '../../util/random.js';
import type { BindWire } from '../bind/wire.js';
import { QUIC_PROXY_PROFILES, type QuicProxyProfile } from '../capsules/quic-proxy.js';
import { type AuthConfig, Authenticator, type AuthResult } from '../connect-udp/auth.js';
import { TargetPolicy } from '../connect-udp/policy.js';
import type { Resolver } from '../connect-udp/resolve.js';
import { createSystemResolver } from '../connect-udp/resolver-system.js';
import { rejectionResponseHeaders } from '../connect-udp/response.js';
import type { Target } from '../connect-udp/target.js';
import type { UriTemplate } from '../connect-udp/uri-template.js';
import { CONNECT_UDP_PROTOCOL } from '../connect-udp/validate-request.js';
import { type QuicLbConfig, VcidGenerator } from '../quic-aware/vcid.js';
import { type AdmissionContext, admit, type Refusal, refusal } from './admission.js';
import { BindStrategy } from './bind-strategy.js';
import { type BoundSocketFactory, nodeBoundSocketFactory } from './bound-socket.js';
import { MetricsFlusher } from './metrics-flush.js';
import type { RelayMode } from './mode.js';
import { PeerPolicyCache } from './peer-policy.js';
import { PlainStrategy } from './plain-strategy.js';
import { ownAddressCheck, QuicAwareStrategy } from './quic-aware-strategy.js';
import type { Relay, RelayContext, RelayStrategy } from './strategy.js';
import type { TunnelCloseReason, TunnelSession } from './tunnel.js';
import { nodeUdpSocketFactory, type UdpSocketFactory } from './udp-socket.js';

/** An extended CONNECT request as the handler needs it (`ServerConnectSession` fits). */
export interface ConnectUdpRequest extends TunnelSession {
  /** The request header section, as received. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The client's address: tunnels are counted per connection by it. */
  readonly remoteAddress: string;
  /**
   * The HTTP version carrying it (default HTTP/3). QUIC-aware proxying is defined for HTTP/3
   * only (quic-proxy §6: forwarded packets share the QUIC 4-tuple); over HTTP/2 and HTTP/1.1 its
   * header is ignored and the request is served as plain connect-udp.
   */
  readonly transport?: 'h3' | 'h2' | 'h1';
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

/** Bound tunnels (connect-udp-listen); see `bind-strategy.ts`. */
export interface BindOptions {
  /** Local address of each family's sockets (default the wildcard); false: family not offered. */
  egress?: { ipv4?: string | false; ipv6?: string | false };
  /** Public addresses peers must use (NAT, load balancer); default the bound or host address. */
  publicAddresses?: readonly string[];
  /** Bound tunnels at once. Default 1000. */
  maxTunnels?: number;
  /** Contexts per tunnel. Default 64. */
  maxContexts?: number;
  /** Proxy-side compression after this many datagrams from one peer; 0 off. Default 16. */
  compressAfter?: number;
  /** Our compression assignments awaiting the client's answer. Default 8. */
  maxUnackedAssigns?: number;
  /** Compression capsule codepoints: 'final' (0x11-0x13), 'legacy' (pre -10), 'auto' both. */
  wire?: BindWire | 'auto';
  /** Opens the bound sockets. Default unconnected `node:dgram` sockets. */
  socketFactory?: BoundSocketFactory;
  /** Public address of a family when the socket is bound to a wildcard. */
  defaultPublicAddress?: (family: 4 | 6) => string | undefined;
}

/** QUIC-aware proxying (quic-proxy); see `quic-aware-strategy.ts`. */
export interface QuicAwareOptions {
  /** Wire profiles accepted. Default all: draft-09, draft-08, draft-07. */
  profiles?: readonly QuicProxyProfile[];
  /** Forwarded mode on offer. Default true. */
  forwarding?: boolean;
  /** Transforms accepted, in our preference. Default scramble-dt, identity. */
  transforms?: readonly string[];
  /** Share target-facing sockets when clients permit it. Default true. */
  portSharing?: boolean;
  /** CIDs shorter than this are refused (TOO_SHORT). Default 4. */
  minCidLength?: number;
  /** Registrations a tunnel may hold. Default 16. */
  maxConnectionIds?: number;
  /** Re-registering a CID does not consume a sequence number (-09 reading). Default true. */
  reregistrationIsFree?: boolean;
  /** QUIC-LB routable VCIDs for a fleet behind a CID-aware balancer. */
  quicLb?: QuicLbConfig;
  /** The worker mark of target VCIDs, when workers share the port (src/quic/cid/steering.ts). */
  steering?: CidSteering;
  /** Randomness (VCIDs, scramble keys). Default the OS CSPRNG. */
  random?: Random;
}

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
  /** DNS. Default: the system's resolver (getaddrinfo) with a 5 s timeout. */
  resolver?: Resolver;
  /** Family tried first. Default 'ipv6'. */
  prefer?: 'ipv4' | 'ipv6';
  /** When a target socket cannot be opened, try the target's next address. Default true. */
  fallback?: boolean;
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
  /**
   * connect-udp-bind (connect-udp-listen): served when given (an empty object takes every
   * default), answered 501 for `*`/`*` and served as plain for a real target when not.
   */
  bind?: BindOptions;
  /** QUIC-aware proxying: served when given (an empty object takes every default). */
  quicAware?: QuicAwareOptions;
  /**
   * Relay strategies of the other modes (bind, QUIC-aware). Plain connect-udp is built in; a mode
   * without a strategy is served as the drafts say for a proxy without it (see `mode.ts`).
   */
  strategies?: readonly RelayStrategy[];
  /** Prometheus metrics to update. */
  metrics?: ProxyMetrics;
  logger?: Logger;
  /** One info line per tunnel at open and at close (see the module header). Default true. */
  accessLog?: boolean;
  /** Time and timers of tunnel idle timeouts. Default the Node runtime's clock. */
  clock?: Clock;
}

/** What {@link ConnectUdpHandler.reconfigure} may change; what is left out stays. */
export interface HandlerReconfiguration {
  auth?: AuthConfig | Authenticator;
  policy?: TargetPolicy;
  resolver?: Resolver;
  prefer?: 'ipv4' | 'ipv6';
  fallback?: boolean;
  strictAuthority?: boolean;
  requireCapsuleProtocol?: boolean;
  tunnelsPerConnection?: number;
  tunnelsTotal?: number;
  accessLog?: boolean;
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

/** What the access log says of a running tunnel. */
interface TunnelRecord {
  readonly client: string;
  /** The HTTP version carrying the tunnel. */
  readonly transport: 'h3' | 'h2' | 'h1';
  readonly target: string;
  readonly nextHop: string;
  readonly mode: RelayMode;
  readonly user: string | undefined;
  readonly status: number;
  readonly proxyStatus: string | undefined;
  readonly openedAt: number;
}

/** "host:port" of a requested target ("*:*" for bind to any). */
function targetText(t: Target | undefined): string {
  if (t === undefined) return '*:*';
  if (t.host.kind === 'dns') return `${t.host.name}:${t.port}`;
  return t.host.family === 6 ? `[${t.host.address}]:${t.port}` : `${t.host.address}:${t.port}`;
}

function header(
  headers: ReadonlyArray<readonly [string, string]>,
  name: string,
): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

export class ConnectUdpHandler {
  readonly #proxyName: string;
  #admission: AdmissionContext;
  readonly #strategies = new Map<RelayMode, RelayStrategy>();
  #quicAware: QuicAwareStrategy | undefined;
  #limits: TunnelLimits;
  readonly #logger: Logger;
  readonly #metrics: ProxyMetrics | undefined;
  readonly #relays = new Set<Relay>();
  readonly #perConnection = new Map<string, number>();
  readonly #flusher: MetricsFlusher;
  readonly #relayContext: RelayContext;
  readonly #records = new Map<Relay, TunnelRecord>();
  #accessLog: boolean;
  readonly #drained: Array<() => void> = [];
  #reserved = 0;
  #opened = 0;
  #closing = false;
  readonly #rejected = new Map<string, number>();
  readonly #closedBy = new Map<string, number>();

  /** The request handler; {@link ConnectUdpHandler.register} installs it with its options. */
  readonly handle = (session: ConnectUdpRequest): Promise<void> => this.#handle(session);

  /**
   * Serves connect-udp on `server`. The stream always carries capsules, whatever the request's
   * `capsule-protocol` says: the upgrade token implies the Capsule Protocol (RFC 9298 §3 "The
   * resulting UDP tunnels use the Capsule Protocol"; RFC 9297 §3.4 makes the header a hint), so a
   * client that omits the header still has its DATAGRAM capsules relayed, and our 2xx always
   * says `capsule-protocol: ?1`.
   */
  /** Capsule types the strategies need delivered (for other transports' capsule parsers). */
  get knownCapsules(): Array<readonly [number, number]> {
    const out: Array<readonly [number, number]> = [];
    for (const st of this.#strategies.values()) out.push(...(st.capsules ?? []));
    return out;
  }

  register(server: H3Server): void {
    this.#quicAware?.attach({
      packets: server.packets,
      resetTokenFor: (cid) => server.endpoint.endpoint.resetTokenFor(cid),
      isOwnAddress: ownAddressCheck(server.address, localAddresses()),
    });
    const knownCapsules = this.knownCapsules;
    server.handleConnect(CONNECT_UDP_PROTOCOL, this.handle, {
      capsuleProtocol: 'always',
      knownCapsules,
    });
  }

  constructor(options: ConnectUdpHandlerOptions) {
    this.#proxyName = options.proxyName ?? 'masque';
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#accessLog = options.accessLog ?? true;
    this.#metrics = options.metrics;
    this.#flusher = new MetricsFlusher(options.metrics);
    const plain = new PlainStrategy({
      proxyName: this.#proxyName,
      socketFactory: options.socketFactory ?? nodeUdpSocketFactory(),
      logger: this.#logger,
      idleTimeoutMs: this.#limits.idleTimeoutMs,
      queueLimit: this.#limits.datagramQueue,
      capsuleBacklogBytes: this.#limits.capsuleBacklogBytes,
      largeDatagrams: options.largeDatagrams ?? 'capsule',
    });
    this.#strategies.set('plain', plain);
    const policy = options.policy ?? new TargetPolicy();
    if (options.bind !== undefined) {
      const b = options.bind;
      const fam = options.families ?? {};
      this.#strategies.set(
        'bind',
        new BindStrategy({
          proxyName: this.#proxyName,
          socketFactory: b.socketFactory ?? nodeBoundSocketFactory(),
          policy: new PeerPolicyCache(policy),
          logger: this.#logger,
          idleTimeoutMs: this.#limits.idleTimeoutMs,
          queueLimit: this.#limits.datagramQueue,
          capsuleBacklogBytes: this.#limits.capsuleBacklogBytes,
          largeDatagrams: options.largeDatagrams ?? 'capsule',
          egress: {
            ipv4: fam.ipv4 === false ? false : (b.egress?.ipv4 ?? '0.0.0.0'),
            ipv6: fam.ipv6 === false ? false : (b.egress?.ipv6 ?? '::'),
          },
          publicAddresses: b.publicAddresses ?? [],
          maxTunnels: b.maxTunnels ?? 1000,
          maxContexts: b.maxContexts ?? 64,
          compressAfter: b.compressAfter ?? 16,
          maxUnackedAssigns: b.maxUnackedAssigns ?? 8,
          wire: b.wire ?? 'auto',
          defaultPublicAddress: b.defaultPublicAddress,
        }),
      );
    }
    if (options.quicAware !== undefined) {
      const q = options.quicAware;
      const random = q.random ?? systemRandom;
      this.#quicAware = new QuicAwareStrategy({
        proxyName: this.#proxyName,
        socketFactory: options.socketFactory ?? nodeUdpSocketFactory(),
        logger: this.#logger,
        random,
        vcids: new VcidGenerator({ random, quicLb: q.quicLb, steering: q.steering }),
        idleTimeoutMs: this.#limits.idleTimeoutMs,
        queueLimit: this.#limits.datagramQueue,
        capsuleBacklogBytes: this.#limits.capsuleBacklogBytes,
        largeDatagrams: options.largeDatagrams ?? 'capsule',
        profiles: q.profiles ?? QUIC_PROXY_PROFILES,
        forwarding: q.forwarding ?? true,
        transforms: q.transforms,
        portSharing: q.portSharing ?? true,
        minCidLength: q.minCidLength,
        maxActive: q.maxConnectionIds,
        reregistrationIsFree: q.reregistrationIsFree ?? true,
      });
      this.#strategies.set('quic-aware', this.#quicAware);
    }
    for (const s of options.strategies ?? []) this.#strategies.set(s.mode, s);
    this.#admission = {
      template: options.template,
      proxyName: this.#proxyName,
      auth:
        options.auth instanceof Authenticator
          ? options.auth
          : new Authenticator(options.auth ?? { mode: 'none' }),
      policy,
      resolver: options.resolver ?? createSystemResolver(),
      prefer: options.prefer,
      fallback: options.fallback,
      families: options.families,
      strictAuthority: options.strictAuthority,
      requireCapsuleProtocol: options.requireCapsuleProtocol,
      offered: new Set(this.#strategies.keys()),
    };
    this.#relayContext = {
      clock: options.clock ?? nodeClock,
      onClose: (relay, reason, err) => this.#onRelayClosed(relay, reason, err),
    };
  }

  /**
   * New settings for requests from now on; running tunnels keep theirs (their relay was built
   * with them). Of the limits, the tunnel counts apply here; the per-tunnel ones (idle timeout,
   * queue) are baked into the relay strategies and take a new handler.
   */
  reconfigure(o: HandlerReconfiguration): void {
    const a = this.#admission;
    this.#admission = {
      ...a,
      auth:
        o.auth === undefined
          ? a.auth
          : o.auth instanceof Authenticator
            ? o.auth
            : new Authenticator(o.auth),
      policy: o.policy ?? a.policy,
      resolver: o.resolver ?? a.resolver,
      prefer: o.prefer ?? a.prefer,
      fallback: o.fallback ?? a.fallback,
      strictAuthority: o.strictAuthority ?? a.strictAuthority,
      requireCapsuleProtocol: o.requireCapsuleProtocol ?? a.requireCapsuleProtocol,
    };
    this.#limits = {
      ...this.#limits,
      tunnelsPerConnection: o.tunnelsPerConnection ?? this.#limits.tunnelsPerConnection,
      tunnelsTotal: o.tunnelsTotal ?? this.#limits.tunnelsTotal,
    };
    this.#accessLog = o.accessLog ?? this.#accessLog;
  }

  /**
   * Checks a request's credentials against the authentication in force (the one connect-udp
   * requests get), for other resources of the proxy such as its status endpoint.
   */
  authenticate(headers: ReadonlyArray<readonly [string, string]>): AuthResult {
    return this.#admission.auth.check(headers);
  }

  /** The limits in force. */
  get limits(): Readonly<TunnelLimits> {
    return this.#limits;
  }

  /** The modes served: plain, and those whose strategy was given. */
  get modes(): ReadonlySet<RelayMode> {
    return this.#admission.offered;
  }

  /** Running relays. */
  get tunnels(): ReadonlySet<Relay> {
    return this.#relays;
  }

  /** Totals, including closed tunnels. */
  stats(): ConnectUdpStats {
    const t = this.#flusher.totals(this.#relays);
    let socketsOpen = 0;
    for (const s of this.#strategies.values()) socketsOpen += s.socketsOpen;
    return {
      tunnelsActive: this.#relays.size,
      tunnelsOpened: this.#opened,
      rejected: Object.fromEntries(this.#rejected),
      socketsOpen,
      ...t,
      closed: Object.fromEntries(this.#closedBy),
    };
  }

  /** Pushes pending counts to the metrics (the proxy calls this on a timer and on scrape). */
  flushMetrics(): void {
    this.#flusher.flushAll(this.#relays);
  }

  /** True once {@link drain} or {@link closeAll} was called: new requests get 503. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Stops accepting (503) and resolves once every running tunnel has ended on its own (the client
   * closed it, it idled out...); {@link closeAll} ends the rest.
   */
  drain(): Promise<void> {
    this.#closing = true;
    if (this.#relays.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  /**
   * Stops accepting (503) and closes every tunnel with a FIN and its socket. Requests still
   * resolving are refused when they complete.
   */
  closeAll(): void {
    this.#closing = true;
    for (const t of [...this.#relays]) t.close('shutdown');
  }

  #shuttingDown(): Refusal {
    return refusal(503, 'SHUTTING_DOWN', {
      proxy: this.#proxyName,
      error: 'proxy_internal_response',
      details: 'shutting down',
    });
  }

  async #handle(s: ConnectUdpRequest): Promise<void> {
    if (this.#closing) {
      this.#reject(s, this.#shuttingDown());
      return;
    }
    let admitted = await admit(s.headers, this.#admission);
    if (s.closeInfo !== undefined) return; // the client gave up while we resolved
    if (!admitted.ok) {
      this.#reject(s, admitted);
      return;
    }
    const transport = s.transport ?? 'h3';
    if (admitted.mode === 'quic-aware' && transport !== 'h3') {
      admitted = { ...admitted, mode: 'plain', fellBack: true };
    }
    const target = targetText(admitted.target);
    const key = s.remoteAddress;
    const mine = this.#perConnection.get(key) ?? 0;
    if (mine >= this.#limits.tunnelsPerConnection) {
      this.#reject(
        s,
        refusal(429, 'TUNNELS_PER_CONNECTION', {
          proxy: this.#proxyName,
          error: 'http_request_denied',
          details: `at most ${this.#limits.tunnelsPerConnection} tunnels per connection`,
        }),
        target,
      );
      return;
    }
    if (this.#relays.size + this.#reserved >= this.#limits.tunnelsTotal) {
      this.#reject(
        s,
        refusal(503, 'TUNNELS_TOTAL', {
          proxy: this.#proxyName,
          error: 'connection_limit_reached',
        }),
        target,
      );
      return;
    }
    // Reserve the slot across the await below, so concurrent requests see it.
    this.#reserved++;
    this.#perConnection.set(key, mine + 1);
    const strategy = this.#strategies.get(admitted.mode) as RelayStrategy;
    let prepared: Awaited<ReturnType<RelayStrategy['prepare']>>;
    try {
      prepared = await strategy.prepare(admitted);
    } finally {
      this.#reserved--;
    }
    if (!prepared.ok) {
      this.#release(key);
      this.#reject(s, prepared, target);
      return;
    }
    if (s.closeInfo !== undefined || this.#closing) {
      prepared.abandon();
      this.#release(key);
      if (s.closeInfo === undefined) this.#reject(s, this.#shuttingDown(), target);
      return;
    }
    s.accept(prepared.headers.map(([n, v]) => [n, v]));
    this.#opened++;
    const relay = prepared.start(s, this.#relayContext);
    this.#relays.add(relay);
    const record: TunnelRecord = {
      client: key,
      transport,
      target,
      nextHop: prepared.describe,
      mode: admitted.mode,
      user: admitted.user,
      status: 200,
      proxyStatus: header(prepared.headers, 'proxy-status'),
      openedAt: this.#relayContext.clock.now(),
    };
    this.#records.set(relay, record);
    this.#flusher.opened(relay);
    this.#metrics?.tunnelOpenedOver(transport);
    if (this.#accessLog) {
      this.#logger.info(
        {
          log: 'access',
          event: 'open',
          ...record,
          openedAt: undefined,
          fellBack: admitted.fellBack,
        },
        'tunnel open',
      );
    }
  }

  #onRelayClosed(relay: Relay, reason: TunnelCloseReason, err: Error | undefined): void {
    if (!this.#relays.delete(relay)) return;
    const record = this.#records.get(relay);
    this.#records.delete(relay);
    const key = record?.client ?? '';
    this.#release(key);
    this.#closedBy.set(reason, (this.#closedBy.get(reason) ?? 0) + 1);
    this.#flusher.closed(relay);
    if (this.#relays.size === 0) for (const done of this.#drained.splice(0)) done();
    if (reason === 'internal_error') this.#logger.error({ client: key, err }, 'tunnel failed');
    if (!this.#accessLog || record === undefined) return;
    const c = relay.counters;
    let dropped = 0;
    for (const n of c.drops.values()) dropped += n;
    this.#logger.info(
      {
        log: 'access',
        event: 'close',
        ...record,
        openedAt: undefined,
        reason,
        error: err?.message,
        durationMs: Math.max(0, Math.round(this.#relayContext.clock.now() - record.openedAt)),
        bytesToTarget: c.bytesToTarget,
        bytesToClient: c.bytesToClient,
        datagramsToTarget: c.datagramsToTarget,
        datagramsToClient: c.datagramsToClient,
        dropped,
        drops: Object.fromEntries(c.drops),
      },
      'tunnel closed',
    );
  }

  #release(key: string): void {
    const n = (this.#perConnection.get(key) ?? 1) - 1;
    if (n <= 0) this.#perConnection.delete(key);
    else this.#perConnection.set(key, n);
  }

  /** `target`: the admitted target; before admission the request's `:path` is logged instead. */
  #reject(s: ConnectUdpRequest, r: Refusal, target?: string): void {
    const headers = rejectionResponseHeaders(r.status, {
      headers: r.headers,
      proxyStatus: r.proxyStatus,
    }).filter(([name]) => name !== ':status');
    this.#refused(
      {
        client: s.remoteAddress,
        transport: s.transport ?? 'h3',
        ...(target === undefined ? { path: header(s.headers, ':path') } : { target }),
      },
      r.status,
      r.reason,
      header(headers, 'proxy-status'),
    );
    if (s.closeInfo !== undefined) return;
    s.reject(r.status, headers);
  }

  /**
   * Counts and logs a request its transport refused before the handler saw it (an HTTP/1.1
   * request malformed by RFC 9298 §3.3), as the handler's own refusals are, and returns the
   * fields to answer with (our Proxy-Status, http_request_error).
   */
  recordRefusal(r: {
    client: string;
    transport: 'h3' | 'h2' | 'h1';
    path: string | undefined;
    status: number;
    reason: string;
  }): Array<[string, string]> {
    const headers = rejectionResponseHeaders(r.status, {
      proxyStatus: {
        proxy: this.#proxyName,
        error: 'http_request_error',
        statusCode: r.status,
        details: r.reason,
      },
    }).filter(([name]) => name !== ':status');
    this.#refused(
      { client: r.client, transport: r.transport, path: r.path },
      r.status,
      r.reason,
      header(headers, 'proxy-status'),
    );
    return headers;
  }

  #refused(
    who: { client: string; transport: string; path?: string; target?: string },
    status: number,
    reason: string,
    proxyStatus: string | undefined,
  ): void {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
    this.#metrics?.tunnelRejected(reason);
    this.#logger.info(
      { log: 'access', event: 'refused', ...who, status, proxyStatus, reason },
      'request refused',
    );
  }
}

/** Every address of this host's interfaces (for loop detection on wildcard listeners). */
function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) out.add(i.address);
  }
  return out;
}
