/**
 * Prometheus metrics of the proxy, on a private prom-client `Registry` (never the global one, so
 * several proxies in one process, and tests, do not share counters). Label values are closed
 * sets chosen by the caller (stable reason codes, never request text), which keeps the series
 * count bounded.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { loopDelayGauge } from './event-loop-delay.js';

/** The endpoint counters {@link ProxyMetrics.observeEndpoint} exports (`QuicEndpoint.stats()`). */
export interface EndpointCounters {
  readonly received: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly claimed: number;
  readonly vnSent: number;
  readonly retrySent: number;
  readonly resetsSent: number;
  readonly refusalsSent: number;
  readonly resetsDetected: number;
  /** Connections the endpoint owns now, and of its server connections those still handshaking. */
  readonly connections: number;
  readonly halfOpen: number;
  /** The UDP socket's own counters (`UdpEndpoint.socketStats()`), when known. */
  readonly socket?: SocketCounters;
}

/** What the endpoint's UDP socket counts (src/runtime/udp/datagram-socket.ts). */
export interface SocketCounters {
  /** Datagrams the kernel refused to send (or to an unparsable address): dropped. */
  readonly sendErrors: number;
  /** Datagrams read but dropped (cut, or an unknown address family): dropped. */
  readonly receiveErrors: number;
  /** Datagrams sent through the native addon (sendto, sendmmsg, GSO). */
  readonly nativeSends: number;
  /** Datagrams read by the native drain (recvmmsg) rather than by node. */
  readonly drainedReceives: number;
}

/** The HTTP/3 server's counters of incomplete request header sections (`H3Server.stats()`). */
export interface HeaderCounters {
  readonly incompleteHeaderBytes: number;
  readonly headerRefusals: number;
  readonly headerTimeouts: number;
}

/** Direction of tunnel traffic. */
export type TrafficDirection = 'client_to_target' | 'target_to_client';

/** Options of {@link ProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Metric name prefix; default `masque_`. */
  prefix?: string;
  /**
   * Also export the process metrics of prom-client (CPU, heap, event loop, open handles and
   * file descriptors, all under the prefix) and the event-loop delay since the previous scrape
   * (`<prefix>event_loop_delay_seconds`). Default false; the proxy turns it on.
   */
  processMetrics?: boolean;
}

/** The proxy's counters and gauges. */
export class ProxyMetrics {
  /** The registry holding every series below. */
  readonly registry: Registry;
  readonly #connectionsActive: Gauge;
  readonly #connections: Counter;
  readonly #tunnelsOpened: Counter;
  readonly #tunnelsByTransport: Counter<'transport'>;
  readonly #tunnelsActive: Gauge;
  readonly #tunnelsRejected: Counter<'reason'>;
  readonly #bytes: Counter<'direction'>;
  readonly #datagrams: Counter<'direction'>;
  readonly #drops: Counter<'reason'>;
  readonly #forwarded: Counter<'direction'>;
  readonly #endpointReceived: Counter;
  readonly #endpointDrops: Counter<'reason'>;
  readonly #tcpConnections: Gauge;
  readonly #tcpRefused: Counter<'reason'>;
  readonly #endpointSent: Counter<'kind'>;
  readonly #endpointEvents: Counter<'event'>;
  readonly #endpointConnections: Gauge;
  readonly #endpointHalfOpen: Gauge;
  readonly #incompleteHeaderBytes: Gauge;
  readonly #headerRefusals: Counter<'reason'>;
  readonly #loopDelay: IntervalHistogram | undefined;
  /** The last endpoint snapshot, so counters advance by what changed since. */
  #endpointSeen = new Map<string, number>();

  constructor(options: ProxyMetricsOptions = {}) {
    const p = options.prefix ?? 'masque_';
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    this.#connectionsActive = new Gauge({
      name: `${p}connections_active`,
      help: 'HTTP/3 connections currently open',
      registers,
    });
    this.#connections = new Counter({
      name: `${p}connections_total`,
      help: 'HTTP/3 connections accepted',
      registers,
    });
    this.#tunnelsOpened = new Counter({
      name: `${p}tunnels_opened_total`,
      help: 'UDP tunnels opened (2xx sent)',
      registers,
    });
    this.#tcpConnections = new Gauge({
      name: `${p}tcp_connections`,
      help: 'TCP connections open on the HTTP/2 and HTTP/1.1 listener',
      registers,
    });
    this.#tcpRefused = new Counter({
      name: `${p}tcp_connections_refused_total`,
      help: 'TCP connections closed at once (connection_limit, source_limit) or whose TLS handshake failed or timed out (tls_handshake)',
      labelNames: ['reason'],
      registers,
    });
    this.#tunnelsByTransport = new Counter({
      name: `${p}tunnels_by_transport_total`,
      help: 'UDP tunnels opened, by the HTTP version carrying them (h3, h2, h1)',
      labelNames: ['transport'],
      registers,
    });
    this.#tunnelsActive = new Gauge({
      name: `${p}tunnels_active`,
      help: 'UDP tunnels currently open',
      registers,
    });
    this.#tunnelsRejected = new Counter({
      name: `${p}tunnels_rejected_total`,
      help: 'UDP proxying requests rejected, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#bytes = new Counter({
      name: `${p}bytes_total`,
      help: 'UDP payload bytes proxied, by direction',
      labelNames: ['direction'],
      registers,
    });
    this.#datagrams = new Counter({
      name: `${p}datagrams_total`,
      help: 'UDP datagrams proxied, by direction',
      labelNames: ['direction'],
      registers,
    });
    this.#forwarded = new Counter({
      name: `${p}forwarded_packets_total`,
      help: 'QUIC packets relayed in forwarded mode (draft-ietf-masque-quic-proxy), by direction',
      labelNames: ['direction'],
      registers,
    });
    this.#drops = new Counter({
      name: `${p}drops_total`,
      help: 'Datagrams dropped, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#endpointReceived = new Counter({
      name: `${p}endpoint_datagrams_received_total`,
      help: 'UDP datagrams the QUIC endpoint received',
      registers,
    });
    this.#endpointDrops = new Counter({
      name: `${p}endpoint_drops_total`,
      help: 'Datagrams the QUIC endpoint dropped before any connection, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#endpointSent = new Counter({
      name: `${p}endpoint_stateless_packets_total`,
      help: 'Packets the endpoint sent without a connection: version negotiation, retry, reset, refusal',
      labelNames: ['kind'],
      registers,
    });
    this.#endpointEvents = new Counter({
      name: `${p}endpoint_events_total`,
      help: 'Datagrams claimed for forwarding, stateless resets recognised, and datagrams the socket sent or read through the native addon',
      labelNames: ['event'],
      registers,
    });
    this.#endpointConnections = new Gauge({
      name: `${p}endpoint_connections`,
      help: 'QUIC connections the endpoint holds now (handshaking or not)',
      registers,
    });
    this.#endpointHalfOpen = new Gauge({
      name: `${p}endpoint_half_open_connections`,
      help: 'QUIC server connections still handshaking now',
      registers,
    });
    this.#incompleteHeaderBytes = new Gauge({
      name: `${p}incomplete_header_bytes`,
      help: 'Bytes of HTTP/3 request header sections received but not complete, all connections',
      registers,
    });
    this.#headerRefusals = new Counter({
      name: `${p}request_header_refusals_total`,
      help: 'Request streams reset for their header section: too many incomplete bytes (excessive_load) or too slow (timeout)',
      labelNames: ['reason'],
      registers,
    });
    if (options.processMetrics === true) {
      collectDefaultMetrics({ register: registry, prefix: p });
      this.#loopDelay = loopDelayGauge(p, registers);
    }
  }

  /** Stops the event-loop delay sampling (process metrics). */
  close(): void {
    this.#loopDelay?.disable();
  }

  /** A connection was accepted. */
  connectionOpened(): void {
    this.#connections.inc();
    this.#connectionsActive.inc();
  }

  /** A connection ended. */
  connectionClosed(): void {
    this.#connectionsActive.dec();
  }

  /** A tunnel was opened. */
  tunnelOpened(): void {
    this.#tunnelsOpened.inc();
    this.#tunnelsActive.inc();
  }

  /** A tunnel opened over `transport` (besides {@link tunnelOpened}'s totals). */
  tunnelOpenedOver(transport: 'h3' | 'h2' | 'h1'): void {
    this.#tunnelsByTransport.inc({ transport });
  }

  /** A tunnel ended. */
  tunnelClosed(): void {
    this.#tunnelsActive.dec();
  }

  /** A request was rejected; `reason` is a stable code (e.g. a RequestRejectReason). */
  tunnelRejected(reason: string): void {
    this.#tunnelsRejected.inc({ reason });
  }

  /** One datagram of `bytes` payload bytes went through in `direction`. */
  datagram(direction: TrafficDirection, bytes: number): void {
    this.#datagrams.inc({ direction });
    this.#bytes.inc({ direction }, bytes);
  }

  /** QUIC packets relayed in forwarded mode (batched by the tunnel flusher). */
  forwarded(direction: TrafficDirection, count: number): void {
    this.#forwarded.inc({ direction }, count);
  }

  /** A datagram was dropped; `reason` is a stable code (e.g. `queue_full`, `too_large`). */
  drop(reason: string): void {
    this.#drops.inc({ reason });
  }

  /**
   * Brings the endpoint's counters (`QuicEndpoint.stats()`) into the metrics: every drop reason,
   * the stateless packets sent, claims and recognised resets. Call it on a timer and before a
   * scrape; counters advance by what changed since the last call.
   */
  observeEndpoint(stats: EndpointCounters): void {
    const advance = (key: string, value: number, inc: (n: number) => void): void => {
      const delta = value - (this.#endpointSeen.get(key) ?? 0);
      if (delta > 0) inc(delta);
      this.#endpointSeen.set(key, value);
    };
    advance('received', stats.received, (n) => this.#endpointReceived.inc(n));
    for (const [reason, value] of Object.entries(stats.dropped)) {
      advance(`drop:${reason}`, value, (n) => this.#endpointDrops.inc({ reason }, n));
    }
    for (const [kind, value] of [
      ['version_negotiation', stats.vnSent],
      ['retry', stats.retrySent],
      ['stateless_reset', stats.resetsSent],
      ['refusal', stats.refusalsSent],
    ] as const) {
      advance(`sent:${kind}`, value, (n) => this.#endpointSent.inc({ kind }, n));
    }
    advance('claimed', stats.claimed, (n) => this.#endpointEvents.inc({ event: 'claimed' }, n));
    const sock = stats.socket;
    if (sock !== undefined) {
      advance('drop:socket_send_error', sock.sendErrors, (n) =>
        this.#endpointDrops.inc({ reason: 'socket_send_error' }, n),
      );
      advance('drop:socket_receive_error', sock.receiveErrors, (n) =>
        this.#endpointDrops.inc({ reason: 'socket_receive_error' }, n),
      );
      advance('native_send', sock.nativeSends, (n) =>
        this.#endpointEvents.inc({ event: 'native_send' }, n),
      );
      advance('drained_receive', sock.drainedReceives, (n) =>
        this.#endpointEvents.inc({ event: 'drained_receive' }, n),
      );
    }
    advance('resets_detected', stats.resetsDetected, (n) =>
      this.#endpointEvents.inc({ event: 'reset_detected' }, n),
    );
    this.#endpointConnections.set(stats.connections);
    this.#endpointHalfOpen.set(stats.halfOpen);
  }

  /** Brings the HTTP/3 server's header-section counters into the metrics (as `observeEndpoint`). */
  observeHeaders(stats: HeaderCounters): void {
    this.#incompleteHeaderBytes.set(stats.incompleteHeaderBytes);
    for (const [reason, value] of [
      ['excessive_load', stats.headerRefusals],
      ['timeout', stats.headerTimeouts],
    ] as const) {
      const key = `header:${reason}`;
      const delta = value - (this.#endpointSeen.get(key) ?? 0);
      if (delta > 0) this.#headerRefusals.inc({ reason }, delta);
      this.#endpointSeen.set(key, value);
    }
  }

  /** Brings the TCP listener's figures (HTTP/2 and HTTP/1.1) into the metrics. */
  observeTcp(
    connections: number,
    refusals: { total: number; perSource: number; handshake: number },
  ): void {
    this.#tcpConnections.set(connections);
    for (const [reason, value] of [
      ['connection_limit', refusals.total],
      ['source_limit', refusals.perSource],
      ['tls_handshake', refusals.handshake],
    ] as const) {
      const key = `tcp:${reason}`;
      const delta = value - (this.#endpointSeen.get(key) ?? 0);
      if (delta > 0) this.#tcpRefused.inc({ reason }, delta);
      this.#endpointSeen.set(key, value);
    }
  }

  /** The Content-Type of {@link metricsText}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every series in the Prometheus text exposition format. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
