/**
 * The proxy every loopback bench starts: 127.0.0.1, loopback targets allowed, silent, and
 * connection limits lifted (every bench client, and the idle crowd's thousands of connections,
 * come from 127.0.0.1).
 */
import { pino } from 'pino';
import { type RunningProxy, type StartProxyOptions, startProxy } from '../src/app/index.js';
import { parseConfig } from '../src/config/index.js';
import { type DevCert, generateDevCert } from '../src/tls/certs/index.js';

/** Connection limits lifted: every bench client comes from 127.0.0.1. */
export const LIFTED_LIMITS = {
  connections: 1_000_000,
  connectionsPerSource: 1_000_000,
  halfOpenConnections: 1_000_000,
  halfOpenPerSource: 1_000_000,
  initialsPerSecondPerSource: 1_000_000,
};

export async function startBenchProxy(
  maxUdpPayload?: number,
  config: Record<string, unknown> = {},
  options: StartProxyOptions = {},
): Promise<{ proxy: RunningProxy; cert: DevCert }> {
  const cert = generateDevCert();
  const proxy = await startProxy(
    parseConfig({
      listen: '127.0.0.1:0',
      targets: { allow: ['127.0.0.0/8'] },
      limits: LIFTED_LIMITS,
      ...config,
    }),
    {
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      logger: pino({ level: 'silent' }),
      maxUdpPayload,
      ...options,
    },
  );
  return { proxy, cert };
}
