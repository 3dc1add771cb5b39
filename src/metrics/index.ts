/** Prometheus metrics of the proxy and their HTTP listener. */
export { ProxyMetrics, type ProxyMetricsOptions, type TrafficDirection } from './metrics.js';
export { type MetricsServer, startMetricsServer } from './server.js';
