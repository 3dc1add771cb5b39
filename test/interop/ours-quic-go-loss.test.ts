/**
 * Loss recovery between two independent stacks: a seeded lossy relay (5% of datagrams dropped
 * each way, handshake included, 5% held back 5 ms to reorder) sits between quic-go 0.29 and
 * us, in both roles. Every stream byte must still arrive exactly (RFC 9000 §13.3, RFC 9002 §6).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCert, startClient, startServer, within } from '../quic/e2e/loopback.js';
import { startRelay } from '../quic/e2e/relay.js';
import {
  buildQuicGoPeer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

const MB = 1024 * 1024;
const LOSSY = { loss: 0.05, reorder: 0.05, delayMs: 5 };
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dir: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(() => {
  buildQuicGoPeer();
  dir = mkdtempSync(join(tmpdir(), 'ours-quic-go-loss-'));
}, 300_000);

afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

describe('5% loss and reordering between quic-go and us', () => {
  it('quic-go client → relay → our server: 4 × 1 MB echoed', async () => {
    const server = await startServer();
    cleanup.push(() => server.close());
    const relay = await startRelay({ target: server.address, seed: 11, ...LOSSY });
    cleanup.push(() => relay.close());
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, devCert().certPem);
    const res = await runQuicGoClient({
      mode: 'client',
      flags: {
        connect: relay.address,
        ca: caFile,
        sni: 'localhost',
        bytes: MB,
        streams: 4,
        datagrams: 20,
        timeout: '50s',
      },
      timeoutMs: 60_000,
    });
    expect(res, res.stderr).toMatchObject({ ok: true, streams_ok: 4, bytes: 4 * MB });
    // Datagrams are unreliable: some echoes are lost, not all.
    expect(res.datagrams_echoed).toBeGreaterThan(0);
    expect(relay.stats.dropped).toBeGreaterThan(50);
    expect(server.apps[0].conn.stats.lostPackets).toBeGreaterThan(0);
  }, 90_000);

  it('our client → relay → quic-go server: 4 × 1 MB echoed', async () => {
    const certFile = join(dir, 'quic-go-cert.pem');
    const peer = await startQuicGoServer({
      flags: { alpn: 'masque-interop', 'write-cert': certFile },
    });
    cleanup.push(() => peer.stop());
    const relay = await startRelay({ target: `${peer.host}:${peer.port}`, seed: 12, ...LOSSY });
    cleanup.push(() => relay.close());
    const client = await startClient({ ca: readFileSync(certFile, 'utf8') });
    cleanup.push(() => client.close());
    const app = client.connect(relay.address);
    await within(app.handshake.promise, 20_000, 'handshake through the relay');
    const results = await Promise.all(
      [1, 2, 3, 4].map(async (seed) => {
        const id = await app.openStream(true);
        const back = app.readAll(id);
        const data = quicGoPattern(seed, MB);
        await app.write(id, data, true, client.kick);
        const got = await within(back, 60_000, `echo of stream ${id}`);
        return sha256(got) === sha256(data);
      }),
    );
    expect(results).toEqual([true, true, true, true]);
    expect(relay.stats.dropped).toBeGreaterThan(50);
    expect(app.conn.stats.lostPackets).toBeGreaterThan(0);
    expect(app.conn.stats.undecryptable).toBe(0);
    app.conn.close(0);
    client.kick();
  }, 90_000);
});
