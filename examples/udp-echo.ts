/**
 * UDP echo through one MASQUE proxy, then through two chained proxies (the QUIC connection to the
 * second proxy runs inside a connect-udp tunnel through the first). Self-contained: it starts an
 * echo server and two proxies on 127.0.0.1 that allow loopback targets.
 *
 *   npx tsx examples/udp-echo.ts
 */
import { createSocket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import {
  generateDevCert,
  MasqueClient,
  type MasqueUdpSocket,
  parseConfig,
  startProxy,
} from 'masque';
import { pino } from 'pino';

function echo(sock: MasqueUdpSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo')), 5000);
    sock.once('message', (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
    sock.send(text);
  });
}

/** One round trip through one proxy. */
export async function echoThroughProxy(template: string, ca: string, port: number) {
  const client = await MasqueClient.connect(template, { ca: [ca] });
  try {
    const sock = await client.connectUdp('127.0.0.1', port);
    return { reply: await echo(sock, 'hello through one proxy'), nextHop: sock.nextHop };
  } finally {
    await client.close();
  }
}

/** One round trip through proxy A, then proxy B (reached through A). */
export async function echoThroughTwoProxies(
  templateA: string,
  templateB: string,
  portB: number,
  ca: string,
  port: number,
) {
  const a = await MasqueClient.connect(templateA, { ca: [ca] });
  try {
    const toB = await a.connectUdp('127.0.0.1', portB);
    const b = await MasqueClient.connect(templateB, { ca: [ca], via: toB });
    try {
      const sock = await b.connectUdp('127.0.0.1', port);
      return { reply: await echo(sock, 'hello through two proxies') };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}

/** Runs both with servers of its own; returns the lines it prints. */
export async function main(): Promise<string[]> {
  const cert = generateDevCert();
  const server = createSocket('udp4');
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  server.on('message', (m, rinfo) => server.send(m, rinfo.port, rinfo.address));
  const port = server.address().port;
  const config = parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] } });
  const options = { certPem: cert.certPem, keyPem: cert.keyPem, logger: pino({ level: 'silent' }) };
  const proxyA = await startProxy(config, options);
  const proxyB = await startProxy(config, options);
  try {
    const one = await echoThroughProxy(proxyA.template, cert.certPem, port);
    const two = await echoThroughTwoProxies(
      proxyA.template,
      proxyB.template,
      proxyB.port,
      cert.certPem,
      port,
    );
    return [`one proxy: ${one.reply} (next hop ${one.nextHop})`, `two proxies: ${two.reply}`];
  } finally {
    await proxyB.close({ timeout: 500 });
    await proxyA.close({ timeout: 500 });
    await new Promise<void>((r) => server.close(() => r()));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await main()) process.stdout.write(`${line}\n`);
}
