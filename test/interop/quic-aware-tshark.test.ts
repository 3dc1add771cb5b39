/**
 * Forwarded mode on the wire, as tshark captures it on loopback: our H3Client over
 * `connectQuic` through our proxy to quic-go's HTTP/3 server. Short-header packets travel
 * outside the tunnel on both legs (client↔proxy and proxy↔target); with `identity` the bytes
 * after the connection ID are the same on both legs (the control: the comparison can see a
 * match), with `scramble-dt` none is (quic-proxy §6.3.2: a passive observer "cannot simply
 * compare the packet contents on both sides of the proxy").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasqueClient } from '../../src/client/client.js';
import { H3Client } from '../../src/runtime/client/index.js';
import { type DevCert, generateDevCert } from '../../src/tls/certs/dev-cert.js';
import { startTestProxy, type TestProxy, testCert } from '../masque/proxy/loopback.js';
import { runToCompletion } from './peer-process.js';
import { buildQuicGoPeer, type QuicGoServer, startQuicGoServer } from './quic-go-peer.js';
import { captureLoopback, tsharkBinary } from './tshark.js';

let dir: string;
let cert: DevCert;
let goServer: QuicGoServer | undefined;
let proxy: TestProxy | undefined;

beforeAll(async () => {
  tsharkBinary(); // fails (never skips) without tshark
  buildQuicGoPeer();
  dir = mkdtempSync(join(tmpdir(), 'quic-aware-tshark-'));
  cert = generateDevCert({ keyType: 'ecdsa-p256' });
  writeFileSync(join(dir, 'cert.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem, { mode: 0o600 });
  goServer = await startQuicGoServer({
    mode: 'h3server',
    flags: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
  });
  proxy = await startTestProxy({ targets: { allow: ['127.0.0.0/8'] } });
}, 300_000);

afterAll(async () => {
  await Promise.all([goServer?.stop(), proxy?.proxy.close({ timeout: 500 })]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function fetchThrough(transform: string): Promise<void> {
  const p = (proxy as TestProxy).proxy;
  const port = (goServer as QuicGoServer).port;
  const masque = await MasqueClient.connect(
    `https://127.0.0.1:${p.port}/.well-known/masque/udp/{target_host}/{target_port}/`,
    { ca: [testCert.certPem], serverName: 'localhost' },
  );
  try {
    const sock = await masque.connectQuic('127.0.0.1', port, { transforms: [transform] });
    const h3 = await H3Client.connect(
      { host: '127.0.0.1', port },
      {
        socket: sock,
        remote: sock.remote,
        ca: [cert.certPem],
        noSystemRoots: true,
        serverName: 'localhost',
      },
    );
    try {
      await (await h3.request({ path: '/bytes/1000' })).bytes();
      await (await h3.request({ path: '/bytes/300000' })).bytes();
    } finally {
      await h3.close({ timeout: 200 });
    }
  } finally {
    await masque.close();
  }
}

/** Short-header UDP payloads of each leg, as hex of the bytes after a `cidLength`-byte DCID. */
async function legs(pcap: string, proxyPort: number, targetPort: number) {
  const out = await runToCompletion(
    tsharkBinary(),
    [
      '-r',
      pcap,
      '-Y',
      'udp',
      '-T',
      'fields',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
      '-e',
      'udp.payload',
    ],
    { timeoutMs: 30_000, name: 'tshark -r' },
  );
  const client = new Set<string>();
  const target = new Set<string>();
  let clientShort = 0;
  let targetShort = 0;
  for (const line of out.stdout.split('\n')) {
    const [src, dst, hex] = line.split('\t');
    if (hex === undefined || hex.length < 2) continue;
    const first = Number.parseInt(hex.slice(0, 2), 16);
    if ((first & 0x80) !== 0) continue; // long headers are tunnelled
    const rest = hex.slice(18, 18 + 64);
    const ports = [Number(src), Number(dst)];
    if (ports.includes(targetPort)) {
      targetShort++;
      target.add(rest);
    } else if (ports.includes(proxyPort)) {
      clientShort++;
      client.add(rest);
    }
  }
  // Compared from byte 9: the target-to-client direction has 8-byte CIDs on both legs (our
  // client's CID, the client VCID), so its bytes line up; the other direction (4-byte target
  // CIDs) never lines up and only adds to the sets.
  const shared = [...target].filter((t) => client.has(t)).length;
  return { clientShort, targetShort, shared };
}

describe('forwarded mode seen by tshark on loopback', () => {
  for (const [transform, expectShared] of [
    ['identity', true],
    ['scramble-dt', false],
  ] as const) {
    it(`${transform}: short headers on both legs; payload bytes shared across legs: ${expectShared}`, async () => {
      const p = (proxy as TestProxy).proxy;
      const targetPort = (goServer as QuicGoServer).port;
      const cap = await captureLoopback({ ports: [p.port, targetPort] }, () =>
        fetchThrough(transform),
      );
      try {
        const l = await legs(cap.pcapFile, p.port, targetPort);
        expect(l.clientShort).toBeGreaterThan(100);
        expect(l.targetShort).toBeGreaterThan(100);
        if (expectShared) expect(l.shared).toBeGreaterThan(50);
        else expect(l.shared).toBe(0);
      } finally {
        rmSync(join(cap.pcapFile, '..'), { recursive: true, force: true });
      }
    }, 120_000);
  }
});
