/**
 * A minimal HTTP listener for Prometheus scrapes: `GET /metrics` answers the text exposition,
 * anything else 404 (or 405 for other methods on /metrics). Meant for a local or internal
 * address; it has no authentication.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProxyMetrics } from './metrics.js';

/** A running metrics listener. */
export interface MetricsServer {
  /** The bound address (useful with port 0). */
  address: AddressInfo;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** Starts the listener on `host:port`. */
export function startMetricsServer(
  metrics: ProxyMetrics,
  listen: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
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
