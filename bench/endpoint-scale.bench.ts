/**
 * Per-packet cost of the proxy beside idle QUIC connections: one connect-udp tunnel echoes
 * 1200-byte datagrams through a UDP echo target (window 32) while 0, 1,000 and
 * 5,000 other QUIC connections sit idle on the same proxy. If the proxy's work per packet grows
 * with the number of connections (every connection polled or pumped after each datagram, timers
 * found by a scan), the cost per echo grows with them; the target is flat within 20 %.
 *
 * Rows: CPU per echo as ns/op (this process's user + system time over a window divided by the
 * echoes: the busy client, the proxy and the echo target share this Node thread), echoes per
 * second as ops/s, both from the median of five 1.5 s windows (the note gives the range: a shared
 * machine has bursts); the note has the loss and the ratio to the row with no idle connections. The
 * baseline is the plain node:dgram relay (bench/udp-relay.ts) doing the same socket work without
 * QUIC, measured in the same run. Each row uses a fresh tunnel.
 *
 * The idle connections come from a child process (bench/idle-crowd.ts): bare QUIC connections
 * that send a keep-alive PING every 20 s (RFC 9000 §10.1.2), so at 5,000 the proxy also answers
 * 250 PINGs/s, part of what is measured. A proxy that cannot keep up lets some of them time out;
 * the row then says how many were still alive.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { startProxy } from '../src/app/index.js';
import { MasqueClient } from '../src/client/index.js';
import { parseConfig } from '../src/config/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import type { BenchRow } from './harness.js';
import { IdleCrowd } from './idle-crowd.js';
import type { BenchModule } from './types.js';
import {
  closeAll,
  echoTarget,
  plainRelay,
  SIZE,
  type WindowResult,
  windowed,
} from './udp-relay.js';

const BIG_PACKETS = 1452;
/** Idle connections per row; ENDPOINT_SCALE_STEPS="0,200" overrides (quick runs). */
const STEPS = (process.env.ENDPOINT_SCALE_STEPS ?? '0,1000,5000').split(',').map(Number);

/** Measurement windows per row (the median is reported: a shared machine has bursts). */
const WINDOWS = 5;
const WINDOW_MS = 1500;

const cpuPerEcho = (r: WindowResult): number => (r.cpuMs * 1e6) / Math.max(1, r.echoes);

/** The window with the median CPU per echo, and the spread of all windows (µs). */
function median(rs: WindowResult[]): { r: WindowResult; spread: string } {
  const sorted = [...rs].sort((a, b) => cpuPerEcho(a) - cpuPerEcho(b));
  const us = (r: WindowResult): string => (cpuPerEcho(r) / 1000).toFixed(0);
  return {
    r: sorted[Math.floor(sorted.length / 2)],
    spread: `${us(sorted[0])}-${us(sorted[sorted.length - 1])}`,
  };
}

/** One connect-udp tunnel echoing through the proxy for `WINDOWS` measurement windows. */
async function busyTunnel(template: string, ca: string, echoPort: number): Promise<WindowResult[]> {
  const client = await MasqueClient.connect(template, { ca: [ca], maxUdpPayload: BIG_PACKETS });
  try {
    const sock = await client.connectUdp('127.0.0.1', echoPort);
    const payload = new Uint8Array(SIZE).fill(0x5a);
    let onEcho: () => void = () => undefined;
    sock.on('message', () => onEcho());
    const out: WindowResult[] = [];
    for (let i = 0; i < WINDOWS; i++) {
      out.push(
        await windowed(
          () => sock.send(payload),
          1,
          (f) => {
            onEcho = f;
          },
          { durationMs: WINDOW_MS },
        ),
      );
      onEcho = () => undefined;
    }
    return out;
  } finally {
    await client.close();
  }
}

function row(name: string, rs: WindowResult[], note = ''): BenchRow {
  const { r, spread } = median(rs);
  const nsPerOp = cpuPerEcho(r);
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const sent = rs.reduce((n, w) => n + w.sent, 0);
  const lost = rs.reduce((n, w) => n + w.lost, 0);
  return {
    name,
    nsPerOp,
    opsPerSec: perSec,
    note:
      `${(nsPerOp / 1000).toFixed(1)} µs CPU/echo (windows ${spread}), ` +
      `${Math.round(perSec).toLocaleString('en-US')} echoes/s, ` +
      `${((lost / Math.max(1, sent)) * 100).toFixed(1)} % lost${note}`,
  };
}

const bench: BenchModule = {
  title: 'Per-packet cost beside idle QUIC connections (connect-udp echo, 1200 B, window 32)',
  baseline: 'plain node:dgram relay',
  async run(): Promise<BenchRow[]> {
    const cert = generateDevCert();
    const target = await echoTarget();
    const proxy = await startProxy(
      parseConfig({ listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8'] } }),
      {
        certPem: cert.certPem,
        keyPem: cert.keyPem,
        logger: pino({ level: 'silent' }),
        maxUdpPayload: BIG_PACKETS,
      },
    );
    const rows: BenchRow[] = [];
    const crowd = await IdleCrowd.spawn(proxy.address, cert.certPem);
    try {
      const relay: WindowResult[] = [];
      for (let i = 0; i < WINDOWS; i++) {
        relay.push(await plainRelay(1, target.port, { durationMs: WINDOW_MS }));
      }
      rows.push(row('plain node:dgram relay', relay));
      for (const idle of STEPS) {
        const t0 = performance.now();
        const live = await crowd.grow(idle);
        const openMs = performance.now() - t0;
        const held = proxy.server.stats().connections;
        const alive = live < idle ? ` (only ${live} alive)` : '';
        // A fresh tunnel per row: opening thousands of connections can outlast a quiet one.
        const r = await busyTunnel(proxy.template, cert.certPem, target.port);
        const name = `connect-udp echo beside ${idle.toLocaleString('en-US')} idle${alive}`;
        const opened = idle > 0 ? `, opened in ${(openMs / 1000).toFixed(0)} s` : '';
        rows.push(row(name, r, `; ${held} idle held by the proxy${opened}`));
        process.stderr.write(`endpoint-scale: ${name}: ${rows[rows.length - 1].note}\n`);
      }
      const one = rows[1].nsPerOp;
      for (const r of rows.slice(2)) r.note += `; ×${(r.nsPerOp / one).toFixed(2)} of 0 idle`;
    } finally {
      await crowd.close();
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    return rows;
  },
};

export default bench;
