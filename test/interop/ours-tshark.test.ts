/**
 * Wireshark as an independent judge of our packets: our client and our server exchange a
 * handshake, stream data, datagrams and a key update in each direction over loopback while
 * tshark captures; the connections write an NSS key log; tshark then has to decrypt every QUIC
 * packet, find nothing malformed and raise no expert error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnApp } from '../quic/e2e/app.js';
import { startClient, startServer, within } from '../quic/e2e/loopback.js';
import { quicFields } from '../quic/e2e/tshark-fields.js';
import { waitFor } from '../support/wait.js';
import {
  analyseQuicCapture,
  type Capture,
  captureLoopback,
  type QuicCaptureAnalysis,
  tsharkBinary,
} from './tshark.js';

let dir: string;
let capture: Capture<{ clientGen: number; serverGen: number; datagrams: number }>;
let analysis: QuicCaptureAnalysis;
let keylog: string;
let serverPort: number;

/** Sends `n` bytes on a new stream and waits for the echo. */
async function echoStream(app: ConnApp, kick: () => void, n: number, seed: number) {
  const id = await app.openStream(true);
  const back = app.readAll(id);
  const data = new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
  await app.write(id, data, true, kick);
  const got = await within(back, 20_000, `echo of stream ${id}`);
  expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
}

beforeAll(async () => {
  tsharkBinary(); // fails (never skips) when tshark is missing
  dir = mkdtempSync(join(tmpdir(), 'ours-tshark-'));
  keylog = join(dir, 'keys.log');
  const server = await startServer({ app: 'echo', keylogFile: keylog });
  const client = await startClient({ keylogFile: keylog });
  serverPort = server.port;
  try {
    capture = await captureLoopback(
      { ports: [server.port], pcapFile: join(dir, 'ours.pcapng'), settleMs: 300 },
      async () => {
        const app = client.connect(server.address);
        await within(app.handshake.promise, 10_000, 'handshake');
        await echoStream(app, client.kick, 200_000, 1);
        // Datagrams both ways (the server echoes them).
        let echoed = 0;
        app.onDatagram = () => {
          echoed++;
        };
        for (let i = 0; i < 20; i++) app.conn.sendDatagram(new Uint8Array(50 + i * 40).fill(i));
        client.kick();
        // Key update initiated by the client (RFC 9001 §6), then traffic under the new keys.
        app.conn.keyUpdate();
        await echoStream(app, client.kick, 50_000, 2);
        const sApp = server.apps[0];
        await waitFor(
          () => app.conn.stats.keyGeneration === 1 && sApp.conn.stats.keyGeneration === 1,
          { what: 'the first key update on both ends' },
        );
        // ...and by the server.
        sApp.conn.keyUpdate();
        server.ep.flush(sApp.conn);
        await echoStream(app, client.kick, 50_000, 3);
        await waitFor(
          () => app.conn.stats.keyGeneration === 2 && sApp.conn.stats.keyGeneration === 2,
          { what: 'the second key update on both ends' },
        );
        const clientGen = app.conn.stats.keyGeneration;
        const serverGen = sApp.conn.stats.keyGeneration;
        const closed = sApp.closed.promise;
        app.conn.close(0, 'done');
        client.kick();
        await within(closed, 5_000, 'server sees the close');
        return { clientGen, serverGen, datagrams: echoed };
      },
    );
  } finally {
    await client.close();
    await server.close();
  }
  analysis = await analyseQuicCapture(capture.pcapFile, keylog, { quicPorts: [server.port] });
}, 90_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tshark dissects our traffic', () => {
  it('the scenario ran: datagrams echoed, both sides updated keys twice (one update each)', () => {
    expect(capture.value.datagrams).toBeGreaterThan(0);
    // One update from each side: generation 2 on both ends.
    expect(capture.value.clientGen).toBe(2);
    expect(capture.value.serverGen).toBe(2);
  });

  it('captured Initial, Handshake and 1-RTT packets', () => {
    expect(analysis.byKind.initial.packets).toBeGreaterThanOrEqual(2);
    expect(analysis.byKind.handshake.packets).toBeGreaterThanOrEqual(2);
    expect(analysis.byKind['1rtt'].packets).toBeGreaterThan(100);
    expect(analysis.nonQuicFrames).toBe(0);
  });

  it('every QUIC packet decrypts with our key log', () => {
    expect(analysis.undecryptablePackets).toEqual([]);
    expect(analysis.undecryptable).toBe(0);
    expect(analysis.decrypted).toBe(analysis.packets);
  });

  it('no packet is malformed and tshark raises no expert error or warning', () => {
    expect(analysis.malformedFrames).toEqual([]);
    expect(analysis.expert.filter((e) => e.severity === 'error')).toEqual([]);
    expect(analysis.expert).toEqual([]);
  });

  it('decrypted 1-RTT packets carry both key phases and the frames we sent', async () => {
    const { keyPhases, frameTypes: frames } = await quicFields(capture.pcapFile, keylog, [
      serverPort,
    ]);
    expect([...keyPhases].sort()).toEqual(['0', '1']);
    // RFC 9000 §19 / RFC 9221 §4: CRYPTO 0x06, ACK 0x02, STREAM 0x08-0x0f, DATAGRAM 0x30/0x31,
    // HANDSHAKE_DONE 0x1e, CONNECTION_CLOSE (application) 0x1d.
    expect(frames.has(0x06)).toBe(true);
    expect(frames.has(0x02)).toBe(true);
    expect([...frames].some((f) => f >= 0x08 && f <= 0x0f)).toBe(true);
    expect(frames.has(0x30) || frames.has(0x31)).toBe(true);
    expect(frames.has(0x1e)).toBe(true);
    expect(frames.has(0x1d)).toBe(true);
    expect(readFileSync(keylog, 'utf8')).toMatch(/CLIENT_TRAFFIC_SECRET_0 /);
  });
});
