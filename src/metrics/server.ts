/**
 * A minimal HTTP listener for Prometheus scrapes and health checks: `GET /metrics` answers the
 * text exposition; `GET /healthz` 200 while the process serves (liveness); `GET /readyz` 200
 * while it takes new tunnels and 503 once it drains or stops (readiness, for a load balancer);
 * anything else 404 (405 for other methods). Meant for a local or internal address; it has no
 * authentication.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyMetrics } from './metrics.js';

/** What the listener serves at /metrics: one proxy's metrics, or every worker's (workers.ts). */
export type MetricsSource = Pick<ProxyMetrics, 'metricsText' | 'contentType'>;

/** A running metrics listener. */
export interface MetricsServer {
  /** The bound address (useful with port 0). */
  address: AddressInfo;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Readiness for `/readyz`. Default: always ready. */
  ready?: () => boolean;
}

const PATHS = new Set(['/metrics', '/healthz', '/readyz']);

/** Starts the listener on `host:port`. */
export function startMetricsServer(
  metrics: MetricsSource,
  listen: { host: string; port: number },
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!PATHS.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    if (path !== '/metrics') {
      const ok = path === '/healthz' || (options.ready?.() ?? true);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : ok ? 'ok\n' : 'draining\n');
      return;
    }
    metrics.metricsText().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
