/** The proxy every loopback bench starts: 127.0.0.1, loopback targets allowed, silent. */
import { pino } from 'pino';
import { type RunningProxy, startProxy } from '../src/app/index.js';
import { parseConfig } from '../src/config/index.js';
import { type DevCert, generateDevCert } from '../src/tls/certs/index.js';

export async function startBenchProxy(
  maxUdpPayload?: number,
  config: Record<string, unknown> = {},
): Promise<{ proxy: RunningProxy; cert: DevCert }> {
  const cert = generateDevCert();
  const proxy = await startProxy(
    parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] }, ...config }),
    {
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      logger: pino({ level: 'silent' }),
      maxUdpPayload,
    },
  );
  return { proxy, cert };
}
