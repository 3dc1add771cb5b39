import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProxyMetrics, startMetricsServer } from '../../src/metrics/index.js';

describe('ProxyMetrics', () => {
  it('exposes every series with the recorded values', async () => {
    const m = new ProxyMetrics();
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    m.tunnelOpened();
    m.tunnelOpened();
    m.tunnelClosed();
    m.tunnelRejected('PATH_NO_MATCH');
    m.tunnelRejected('destination_ip_prohibited');
    m.tunnelRejected('destination_ip_prohibited');
    m.datagram('client_to_target', 100);
    m.datagram('client_to_target', 50);
    m.datagram('target_to_client', 1200);
    m.drop('queue_full');
    const text = await m.metricsText();
    for (const line of [
      'masque_connections_active 1',
      'masque_connections_total 2',
      'masque_tunnels_opened_total 2',
      'masque_tunnels_active 1',
      'masque_tunnels_rejected_total{reason="PATH_NO_MATCH"} 1',
      'masque_tunnels_rejected_total{reason="destination_ip_prohibited"} 2',
      'masque_bytes_total{direction="client_to_target"} 150',
      'masque_bytes_total{direction="target_to_client"} 1200',
      'masque_datagrams_total{direction="client_to_target"} 2',
      'masque_datagrams_total{direction="target_to_client"} 1',
      'masque_drops_total{reason="queue_full"} 1',
      '# TYPE masque_connections_active gauge',
      '# TYPE masque_bytes_total counter',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(m.contentType).toMatch(/^text\/plain/);
  });

  it('uses a private registry: two instances do not share counters', async () => {
    const a = new ProxyMetrics();
    const b = new ProxyMetrics({ prefix: 'other_' });
    a.tunnelOpened();
    expect(await b.metricsText()).toContain('other_tunnels_opened_total 0');
    expect(await a.metricsText()).toContain('masque_tunnels_opened_total 1');
    expect(await globalRegistry.metrics()).not.toContain('masque_tunnels_opened_total');
  });

  it('optionally adds process metrics', async () => {
    const m = new ProxyMetrics({ processMetrics: true });
    expect(await m.metricsText()).toContain('masque_process_cpu_user_seconds_total');
    m.close();
  });

  it('process metrics name the heap, the event-loop delay and the open handles', async () => {
    const m = new ProxyMetrics({ processMetrics: true });
    const text = await m.metricsText();
    m.close();
    for (const name of [
      'masque_nodejs_heap_size_used_bytes',
      'masque_process_resident_memory_bytes',
      'masque_nodejs_eventloop_lag_seconds',
      'masque_nodejs_active_handles_total',
      'masque_process_open_fds',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    }
    for (const stat of ['max', 'p99', 'mean']) {
      expect(text).toMatch(
        new RegExp(`^masque_event_loop_delay_seconds\\{stat="${stat}"\\} `, 'm'),
      );
    }
  });

  it('sets the endpoint connection and half-open gauges from QuicEndpoint.stats()', async () => {
    const m = new ProxyMetrics();
    const stats = {
      received: 0,
      sent: 0,
      dropped: { 'source-half-open-limit': 7 },
      claimed: 0,
      vnSent: 0,
      retrySent: 3,
      resetsSent: 0,
      refusalsSent: 0,
      resetsDetected: 0,
      connections: 12,
      halfOpen: 5,
    };
    m.observeEndpoint(stats);
    m.observeEndpoint({ ...stats, connections: 10, halfOpen: 2 });
    const text = (await m.metricsText()).split('\n');
    expect(text).toContain('masque_endpoint_connections 10');
    expect(text).toContain('masque_endpoint_half_open_connections 2');
    expect(text).toContain('masque_endpoint_drops_total{reason="source-half-open-limit"} 7');
  });

  it('exports the UDP socket counters: its drops, native sends and drained reads', async () => {
    const m = new ProxyMetrics();
    const base = {
      received: 0,
      dropped: {},
      claimed: 0,
      vnSent: 0,
      retrySent: 0,
      resetsSent: 0,
      refusalsSent: 0,
      resetsDetected: 0,
      connections: 0,
      halfOpen: 0,
    };
    const socket = { sendErrors: 1, receiveErrors: 0, nativeSends: 40, drainedReceives: 9 };
    m.observeEndpoint({ ...base, socket });
    m.observeEndpoint({ ...base, socket: { ...socket, sendErrors: 3, nativeSends: 50 } });
    const text = (await m.metricsText()).split('\n');
    expect(text).toContain('masque_endpoint_drops_total{reason="socket_send_error"} 3');
    expect(text).toContain('masque_endpoint_events_total{event="native_send"} 50');
    expect(text).toContain('masque_endpoint_events_total{event="drained_receive"} 9');
  });

  it('counts request header refusals and timeouts, and the incomplete header bytes', async () => {
    const m = new ProxyMetrics();
    m.observeHeaders({ incompleteHeaderBytes: 900, headerRefusals: 2, headerTimeouts: 1 });
    m.observeHeaders({ incompleteHeaderBytes: 100, headerRefusals: 5, headerTimeouts: 1 });
    const text = (await m.metricsText()).split('\n');
    expect(text).toContain('masque_incomplete_header_bytes 100');
    expect(text).toContain('masque_request_header_refusals_total{reason="excessive_load"} 5');
    expect(text).toContain('masque_request_header_refusals_total{reason="timeout"} 1');
  });
});

describe('startMetricsServer', () => {
  it('serves GET /metrics on 127.0.0.1 and 404/405 elsewhere', async () => {
    const m = new ProxyMetrics();
    m.drop('too_large');
    const server = await startMetricsServer(m, { host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${server.address.port}`;
      const signal = AbortSignal.timeout(5000);
      const ok = await fetch(`${base}/metrics`, { signal });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await ok.text()).toContain('masque_drops_total{reason="too_large"} 1');
      const missing = await fetch(`${base}/`, { signal });
      expect(missing.status).toBe(404);
      await missing.text();
      const post = await fetch(`${base}/metrics`, { method: 'POST', signal });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      await post.text();
    } finally {
      await server.close();
    }
  });

  it('rejects when the port is taken', async () => {
    const m = new ProxyMetrics();
    const first = await startMetricsServer(m, { host: '127.0.0.1', port: 0 });
    try {
      await expect(
        startMetricsServer(m, { host: '127.0.0.1', port: first.address.port }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});
