/**
 * QUIC inside a connect-udp tunnel: our HTTP/3 client reaches an HTTP/3 server through the MASQUE
 * proxy. The tunnel is a UDP socket to the server; our QUIC stack is sans-IO, so its UDP adapter
 * is simply handed a socket whose datagrams travel through the tunnel (`TunnelDatagramSocket`).
 * Self-contained: it starts the HTTP/3 server and the proxy on 127.0.0.1.
 *
 *   npx tsx examples/quic-in-tunnel.ts
 */
import { pathToFileURL } from 'node:url';
import {
  generateDevCert,
  MasqueClient,
  parseConfig,
  startProxy,
  TunnelDatagramSocket,
} from 'masque';
import { H3Client, H3Server } from 'masque/http3';
import { pino } from 'pino';

/** GETs `path` from the HTTP/3 server at 127.0.0.1:`port` through the proxy. */
export async function getThroughTunnel(
  proxyTemplate: string,
  ca: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const client = await MasqueClient.connect(proxyTemplate, { ca: [ca] });
  try {
    const tunnel = await client.connectUdp('127.0.0.1', port);
    const remote = `127.0.0.1:${port}`;
    const h3 = await H3Client.connect(
      { host: 'localhost', port },
      { socket: new TunnelDatagramSocket(tunnel, remote), remote, ca: [ca] },
    );
    try {
      const res = await h3.request({ path });
      return { status: res.status, body: await res.text() };
    } finally {
      await h3.close();
    }
  } finally {
    await client.close();
  }
}

/** Starts an HTTP/3 server and a proxy, fetches a page through the tunnel; returns the lines. */
export async function main(): Promise<string[]> {
  const cert = generateDevCert();
  const origin = await H3Server.listen({
    listen: '127.0.0.1:0',
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  });
  origin.onRequest((req, res) => {
    res.writeHead(200, [['content-type', 'text/plain']]);
    res.end(`hello from HTTP/3 at ${req.path}, seen from ${req.remoteAddress}\n`);
  });
  const proxy = await startProxy(
    parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] } }),
    { certPem: cert.certPem, keyPem: cert.keyPem, logger: pino({ level: 'silent' }) },
  );
  try {
    const r = await getThroughTunnel(proxy.template, cert.certPem, origin.port, '/inside');
    return [`status ${r.status}`, r.body.trimEnd()];
  } finally {
    await proxy.close({ timeout: 500 });
    await origin.close({ timeout: 500 });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await main()) process.stdout.write(`${line}\n`);
}
