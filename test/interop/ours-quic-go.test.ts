/**
 * Our QUIC stack against Debian's quic-go 0.29 (`test/interop/quic-go/`), both roles, over
 * loopback UDP, ALPN "masque-interop":
 * (a) quic-go's `client` → our server running the same echo as the peer's `server`
 *     (bidirectional streams echoed to FIN, datagrams echoed);
 * (b) our client → quic-go's `server`: 4 × 1 MB streams and 50 datagrams echoed and verified.
 * quic-go's client uses zero-length source CIDs, its server 4-byte CIDs; its DATAGRAM frames
 * are capped at 1220 bytes. Both sides write NSS key logs (kept on failure for tshark).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devCert, startClient, startServer, within } from '../quic/e2e/loopback.js';
import {
  buildQuicGoPeer,
  type QuicGoServer,
  quicGoPattern,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';

const MB = 1024 * 1024;
const STREAMS = 4;
const DATAGRAMS = 50;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let failed = false;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(() => {
  buildQuicGoPeer(); // fails (never skips) without Go or the quic-go sources
  dir = mkdtempSync(join(tmpdir(), 'ours-quic-go-'));
}, 300_000);

afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
  if (failed) process.stderr.write(`ours-quic-go: key logs kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
});

describe('quic-go client → our server', () => {
  it(`echoes ${STREAMS} × 1 MB streams and ${DATAGRAMS} datagrams`, async () => {
    const keylog = join(dir, 'a-keys.log');
    const server = await startServer({ app: 'echo', keylogFile: keylog });
    cleanup.push(() => server.close());
    const caFile = join(dir, 'our-cert.pem');
    writeFileSync(caFile, devCert().certPem);
    const res = await runQuicGoClient({
      mode: 'client',
      flags: {
        connect: server.address,
        ca: caFile,
        sni: 'localhost',
        alpn: 'masque-interop',
        bytes: MB,
        streams: STREAMS,
        datagrams: DATAGRAMS,
        // Datagrams are unreliable (RFC 9221 §5), even over loopback: most must come back.
        'min-datagrams': DATAGRAMS / 2 + 1,
        keylog,
      },
      timeoutMs: 60_000,
    });
    failed = !res.ok;
    expect(res, res.stderr).toMatchObject({
      ok: true,
      alpn: 'masque-interop',
      version: 'v1',
      streams_ok: STREAMS,
      bytes: STREAMS * MB,
      datagrams_supported: true,
      datagrams_sent: DATAGRAMS,
      peer_max_datagram_frame_size: 65_535,
    });
    expect(res.datagrams_echoed).toBeGreaterThan(DATAGRAMS / 2);
    expect(res.datagrams_echoed).toBeLessThanOrEqual(DATAGRAMS);
    expect(res.exitCode).toBe(0);
    // quic-go closes with application code 0 ("done"); our server saw one connection.
    expect(server.apps).toHaveLength(1);
    const info = await within(server.apps[0].closed.promise, 10_000, 'close from quic-go');
    expect(info).toMatchObject({ errorCode: 0, app: true, byPeer: true, cause: 'close' });
    expect(server.apps[0].conn.stats.undecryptable).toBe(0);
    // quic-go's client chose a zero-length source CID: our server addresses it with none.
    expect(server.apps[0].conn.peerCid?.length).toBe(0);
    expect(readFileSync(keylog, 'utf8')).toMatch(/CLIENT_TRAFFIC_SECRET_0 /);
  }, 90_000);
});

describe('our client → quic-go server', () => {
  let peer: QuicGoServer;
  const certFile = (): string => join(dir, 'quic-go-cert.pem');

  beforeAll(async () => {
    peer = await startQuicGoServer({
      mode: 'server',
      flags: {
        alpn: 'masque-interop',
        'write-cert': certFile(),
        keylog: join(dir, 'b-quic-go-keys.log'),
      },
    });
    cleanup.push(() => peer.stop());
  });

  it(`handshakes, echoes ${STREAMS} × 1 MB streams and ${DATAGRAMS} datagrams`, async () => {
    const client = await startClient({
      ca: readFileSync(certFile(), 'utf8'),
      keylogFile: join(dir, 'b-our-keys.log'),
    });
    cleanup.push(() => client.close());
    const app = client.connect(`${peer.host}:${peer.port}`);
    try {
      expect(await within(app.handshake.promise, 10_000, 'handshake')).toBe('masque-interop');
      // quic-go's server issues 4-byte connection IDs.
      expect(app.conn.peerCid?.length).toBe(4);
      // quic-go 0.29 advertises max_datagram_frame_size 1220 (protocol.MaxDatagramFrameSize).
      expect(app.conn.peerTransportParameters?.maxDatagramFrameSize).toBe(1220);

      const streams = await Promise.all(
        Array.from({ length: STREAMS }, async (_, i) => {
          const id = await app.openStream(true);
          const back = app.readAll(id);
          const data = quicGoPattern(i + 1, MB);
          await app.write(id, data, true, client.kick);
          const got = await within(back, 60_000, `echo of stream ${id}`);
          return { sent: sha256(data), got: sha256(got), length: got.length };
        }),
      );
      for (const s of streams) expect(s).toEqual({ sent: s.sent, got: s.sent, length: MB });

      const sent = new Map<string, number>();
      const echoed = new Set<string>();
      let unexpected = 0;
      let duplicates = 0;
      const allBack = new Promise<void>((resolve) => {
        app.onDatagram = (d) => {
          const h = sha256(d);
          if (!sent.has(h)) unexpected++;
          else if (echoed.has(h)) duplicates++;
          else echoed.add(h);
          if (echoed.size === DATAGRAMS) resolve();
        };
      });
      for (let i = 0; i < DATAGRAMS; i++) {
        const d = quicGoPattern(0x10000 + i, 1 + ((i * 211) % 1000));
        sent.set(sha256(d), i);
        // The datagram queue holds 64: 50 fit without waiting.
        expect(app.conn.sendDatagram(d)).toBe(true);
      }
      client.kick();
      // Datagrams are unreliable (RFC 9221 §5), even over loopback: wait for all, accept a loss
      // (a loaded machine's socket buffers), never a corrupted, invented or doubled echo.
      await within(allBack, 10_000, `${DATAGRAMS} datagram echoes`).catch(() => undefined);
      expect(unexpected).toBe(0);
      expect(duplicates).toBe(0);
      expect(echoed.size).toBeGreaterThan(DATAGRAMS / 2);
      expect(app.conn.stats.undecryptable).toBe(0);

      const closed = app.closed.promise;
      app.conn.close(0, 'done');
      client.kick();
      expect(await within(closed, 5_000, 'close')).toMatchObject({ byPeer: false, app: true });
    } catch (err) {
      failed = true;
      throw new Error(`${(err as Error).message}\nquic-go stderr:\n${peer.stderr()}`);
    }
  }, 90_000);
});
