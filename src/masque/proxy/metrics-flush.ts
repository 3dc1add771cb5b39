/**
 * Per-tunnel counters are plain fields updated per datagram; this moves their growth into the
 * Prometheus metrics in batches (on a timer, on scrape, on close) and keeps the totals of closed
 * tunnels, so the hot path never touches prom-client's labelled counters.
 *
 * `ProxyMetrics` only offers one-datagram increments, so batches go to its counters through its
 * registry (found by name suffix, whatever the prefix).
 */
import type { Counter } from 'prom-client';
import type { ProxyMetrics, TrafficDirection } from '../../metrics/metrics.js';
import type { Relay } from './strategy.js';
import type { TunnelCounters } from './tunnel.js';

interface Mark {
  datagramsToTarget: number;
  bytesToTarget: number;
  datagramsToClient: number;
  bytesToClient: number;
  forwardedToTarget: number;
  forwardedToClient: number;
  drops: Map<string, number>;
}

/** Totals over open and closed tunnels. */
export interface TrafficTotals {
  datagramsToTarget: number;
  bytesToTarget: number;
  datagramsToClient: number;
  bytesToClient: number;
  drops: Record<string, number>;
}

function emptyMark(): Mark {
  return {
    datagramsToTarget: 0,
    bytesToTarget: 0,
    datagramsToClient: 0,
    bytesToClient: 0,
    forwardedToTarget: 0,
    forwardedToClient: 0,
    drops: new Map(),
  };
}

/** Batch increments on the counters of a {@link ProxyMetrics}. */
class BatchCounters {
  readonly #datagrams: Counter<'direction'> | undefined;
  readonly #bytes: Counter<'direction'> | undefined;
  readonly #drops: Counter<'reason'> | undefined;

  constructor(metrics: ProxyMetrics) {
    const find = <L extends string>(suffix: string): Counter<L> | undefined =>
      metrics.registry.getMetricsAsArray().find((m) => m.name.endsWith(suffix)) as
        | Counter<L>
        | undefined;
    this.#datagrams = find('_datagrams_total');
    this.#bytes = find('_bytes_total');
    this.#drops = find('_drops_total');
  }

  datagrams(direction: TrafficDirection, count: number, bytes: number): void {
    this.#datagrams?.inc({ direction }, count);
    this.#bytes?.inc({ direction }, bytes);
  }

  drops(reason: string, count: number): void {
    this.#drops?.inc({ reason }, count);
  }
}

export class MetricsFlusher {
  readonly #metrics: ProxyMetrics | undefined;
  readonly #batch: BatchCounters | undefined;
  readonly #marks = new Map<Relay, Mark>();
  /** Totals of closed tunnels. */
  readonly #done = emptyMark();

  constructor(metrics: ProxyMetrics | undefined) {
    this.#metrics = metrics;
    this.#batch = metrics === undefined ? undefined : new BatchCounters(metrics);
  }

  /** A tunnel opened. */
  opened(t: Relay): void {
    this.#marks.set(t, emptyMark());
    this.#metrics?.tunnelOpened();
  }

  /** A tunnel closed: flush it and fold it into the totals. */
  closed(t: Relay): void {
    this.#flush(t);
    this.#marks.delete(t);
    add(this.#done, t.counters);
    this.#metrics?.tunnelClosed();
  }

  /** Flushes every open tunnel. */
  flushAll(tunnels: Iterable<Relay>): void {
    for (const t of tunnels) this.#flush(t);
  }

  /** Totals over closed tunnels and `open` ones. */
  totals(open: Iterable<Relay>): TrafficTotals {
    const m = emptyMark();
    add(m, this.#done);
    for (const t of open) add(m, t.counters);
    return {
      datagramsToTarget: m.datagramsToTarget,
      bytesToTarget: m.bytesToTarget,
      datagramsToClient: m.datagramsToClient,
      bytesToClient: m.bytesToClient,
      drops: Object.fromEntries(m.drops),
    };
  }

  #flush(t: Relay): void {
    const metrics = this.#batch;
    const mark = this.#marks.get(t);
    if (metrics === undefined || mark === undefined) return;
    const c = t.counters;
    const dt = c.datagramsToTarget - mark.datagramsToTarget;
    const dc = c.datagramsToClient - mark.datagramsToClient;
    if (dt > 0) metrics.datagrams('client_to_target', dt, c.bytesToTarget - mark.bytesToTarget);
    if (dc > 0) metrics.datagrams('target_to_client', dc, c.bytesToClient - mark.bytesToClient);
    for (const [reason, n] of c.drops) {
      const before = mark.drops.get(reason) ?? 0;
      if (n > before) metrics.drops(reason, n - before);
    }
    const ft = c.forwardedToTarget - mark.forwardedToTarget;
    const fc = c.forwardedToClient - mark.forwardedToClient;
    if (ft > 0) this.#metrics?.forwarded('client_to_target', ft);
    if (fc > 0) this.#metrics?.forwarded('target_to_client', fc);
    mark.forwardedToTarget = c.forwardedToTarget;
    mark.forwardedToClient = c.forwardedToClient;
    mark.datagramsToTarget = c.datagramsToTarget;
    mark.bytesToTarget = c.bytesToTarget;
    mark.datagramsToClient = c.datagramsToClient;
    mark.bytesToClient = c.bytesToClient;
    mark.drops = new Map(c.drops);
  }
}

function add(into: Mark, from: Mark | TunnelCounters): void {
  into.datagramsToTarget += from.datagramsToTarget;
  into.bytesToTarget += from.bytesToTarget;
  into.datagramsToClient += from.datagramsToClient;
  into.bytesToClient += from.bytesToClient;
  into.forwardedToTarget += from.forwardedToTarget;
  into.forwardedToClient += from.forwardedToClient;
  for (const [reason, n] of from.drops) into.drops.set(reason, (into.drops.get(reason) ?? 0) + n);
}
