/**
 * The point of path MTU discovery for MASQUE, over real loopback sockets: with default settings
 * at both ends (proxy and SDK client), once PMTUD has grown the QUIC packets (loopback carries
 * far more than the 1452-byte default ceiling), 1200-byte UDP payloads ride QUIC DATAGRAM frames
 * both ways instead of DATAGRAM capsules. The proxy's qlog shows it frame by frame.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MasqueClient } from '../../../src/client/index.js';
import { UdpTunnel } from '../../../src/masque/proxy/index.js';
import { waitFor } from '../../support/wait.js';
import { echoServer, startTestProxy, testCert } from './loopback.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const ECHOES = 1000;
const PAYLOAD = 1200;
/** Echoes in flight at once: a bounded window, so a loaded machine's socket buffers keep up. */
const WINDOW = 16;
/** An echo not back after this long is counted lost (UDP datagrams may be dropped). */
const GIVE_UP_MS = 2_000;

interface QlogFrame {
  frame_type: string;
  length?: number;
  stream_id?: number;
}

/** Events of every qlog file in `dir` (JSON-SEQ: RS, JSON, LF). */
function readQlog(dir: string): Array<{ name: string; data: { frames?: QlogFrame[] } }> {
  const events = [];
  for (const f of readdirSync(dir)) {
    for (const rec of readFileSync(join(dir, f), 'utf8').split('\x1e')) {
      if (rec.trim() === '') continue;
      const v = JSON.parse(rec);
      if (typeof v.name === 'string') events.push(v);
    }
  }
  return events;
}

describe('path MTU discovery over loopback (RFC 9298 §5 MTU considerations)', () => {
  it('with default settings at both ends, 1,000 echoes of 1200-byte payloads ride QUIC DATAGRAM frames, not capsules', async () => {
    const qlogDir = mkdtempSync(join(tmpdir(), 'masque-pmtud-'));
    cleanup.push(async () => rmSync(qlogDir, { recursive: true, force: true }));
    const { proxy } = await startTestProxy({}, { qlogDir });
    let proxyClosed = false;
    cleanup.push(async () => {
      if (!proxyClosed) await proxy.close({ timeout: 500 });
    });
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const client = await MasqueClient.connect(proxy.template, { ca: [testCert.certPem] });
    let clientClosed = false;
    cleanup.push(async () => {
      if (!clientClosed) await client.close();
    });
    const sock = await client.connectUdp('127.0.0.1', echo.port);
    await waitFor(() => proxy.handler.tunnels.size === 1, { what: 'the tunnel at the proxy' });
    const tunnel = [...proxy.handler.tunnels][0];
    if (!(tunnel instanceof UdpTunnel)) throw new Error('not a plain connect-udp tunnel');

    // Both directions start at 1200-byte packets, too small for a 1200-byte payload plus the
    // DATAGRAM framing, and grow once PMTUD has confirmed larger packets: wait for the getters.
    await waitFor(
      () => sock.maxDatagramPayload >= PAYLOAD && tunnel.maxDatagramPayload >= PAYLOAD,
      {
        what: 'PMTU discovery to make room for 1200-byte payloads',
      },
    );
    // The default ceiling (1452) less the short header, AEAD tag and DATAGRAM framing.
    expect(sock.maxDatagramPayload).toBeGreaterThan(1400);
    expect(sock.maxDatagramPayload).toBeLessThan(1452);
    expect(tunnel.maxDatagramPayload).toBeGreaterThan(1400);

    const got = new Set<number>();
    const inFlight = new Map<number, number>();
    let next = 0;
    let lost = 0;
    const pump = (): void => {
      while (inFlight.size < WINDOW && next < ECHOES) {
        const payload = Buffer.alloc(PAYLOAD, next & 0xff);
        payload.writeUInt32BE(next, 0);
        inFlight.set(next, performance.now());
        sock.send(payload);
        next++;
      }
    };
    sock.on('message', (msg) => {
      const i = msg.readUInt32BE(0);
      if (msg.length !== PAYLOAD || !inFlight.delete(i)) return;
      got.add(i);
      pump();
    });
    const reaper = setInterval(() => {
      const now = performance.now();
      for (const [i, at] of inFlight) {
        if (now - at > GIVE_UP_MS) {
          inFlight.delete(i);
          lost++;
        }
      }
      pump();
    }, 100);
    cleanup.push(async () => clearInterval(reaper));
    pump();
    await waitFor(() => next === ECHOES && inFlight.size === 0, {
      timeoutMs: 120_000,
      what: `${ECHOES} echoes`,
    });
    clearInterval(reaper);
    process.stdout.write(`pmtud loopback: ${got.size}/${ECHOES} echoes back, ${lost} lost\n`);
    // Loopback may drop a datagram on a loaded machine; nearly all come back.
    expect(got.size).toBeGreaterThanOrEqual(ECHOES - 10);

    // No capsule fallback at the proxy; every echo went to the client as a datagram.
    expect(tunnel.counters.capsuleFallbacks).toBe(0);
    expect(tunnel.counters.drops.size).toBe(0);
    expect(tunnel.counters.datagramsToClient).toBeGreaterThanOrEqual(got.size);

    // The proxy's qlog, once its files are complete.
    sock.close();
    await sock.closed;
    await client.close();
    clientClosed = true;
    await proxy.close({ timeout: 500 });
    proxyClosed = true;
    const events = readQlog(qlogDir);
    const frames = (name: string): QlogFrame[] =>
      events.filter((e) => e.name === name).flatMap((e) => e.data.frames ?? []);
    const received = frames('transport:packet_received');
    const sent = frames('transport:packet_sent');
    // A DATAGRAM frame holds Quarter Stream ID + Context ID + the 1200-byte payload.
    const big = (list: QlogFrame[]) =>
      list.filter((f) => f.frame_type === 'datagram' && (f.length ?? 0) >= PAYLOAD).length;
    expect(big(received)).toBeGreaterThanOrEqual(got.size); // client → proxy
    expect(big(sent)).toBeGreaterThanOrEqual(got.size); // proxy → client
    // No DATAGRAM capsules either way: the request streams carried a few hundred bytes of
    // headers, not 1200-byte capsules.
    const streamBytes = (list: QlogFrame[]) =>
      list
        .filter((f) => f.frame_type === 'stream' && ((f.stream_id ?? 2) & 2) === 0)
        .reduce((n, f) => n + (f.length ?? 0), 0);
    expect(streamBytes(received)).toBeLessThan(PAYLOAD);
    expect(streamBytes(sent)).toBeLessThan(PAYLOAD);
    // PMTUD happened at the proxy and is in the qlog (qvis's MTU view).
    expect(events.some((e) => e.name === 'connectivity:mtu_updated')).toBe(true);
  }, 180_000);
});
