/**
 * Per-packet cost beside idle QUIC connections: does the work per datagram grow with the number of
 * connections a server holds (every connection polled or pumped after each datagram, timers found
 * by a scan)? Each part measures with 0, 1,000 and 5,000 idle connections; the target is flat
 * within 20 % of the first row.
 *
 * 1. In memory (bench/memory-crowd.ts): a server `QuicEndpoint` and real QUIC connections on a
 *    virtual clock, one busy connection's 1200-byte DATAGRAM echoed by the server. One server per
 *    crowd size, all in one process, timed in interleaved batches (median CPU time per echo over
 *    21 batches of 1,000): no sockets, no wall clock, and the same heap and machine drift for every
 *    row, so this is the stable figure on a shared machine.
 * 2. Over loopback: the running proxy (startProxy), one connect-udp tunnel echoing 1200-byte
 *    datagrams through a UDP echo target (window 32). ns/op is CPU per echo (this process's user +
 *    system time over a window divided by the echoes: the busy client, the proxy and the echo target
 *    share this Node thread), ops/s echoes per second, both from the median of five 1.5 s windows
 *    (the note gives the range); the note also has the loss. The idle connections come from a child
 *    process (bench/idle-crowd.ts): bare QUIC connections that send a keep-alive PING every 20 s
 *    (RFC 9000 §10.1.2), so at 5,000 the proxy also answers 250 PINGs/s, part of what is measured.
 *    A proxy that cannot keep up lets some of them time out; the row then says how many were still
 *    alive. Each row uses a fresh tunnel. A last row closes the crowd and measures the first row
 *    again, as a control for the drift of a shared machine.
 *
 * The baseline is the plain node:dgram relay (bench/udp-relay.ts), doing the proxy's socket work
 * without QUIC, measured in the same run.
 */
import { performance } from 'node:perf_hooks';
import { MasqueClient } from '../src/client/index.js';
import { startBenchProxy } from './bench-proxy.js';
import { type BenchRow, fullGc, waitUntil } from './harness.js';
import { IdleCrowd } from './idle-crowd.js';
import { MemoryCrowd } from './memory-crowd.js';
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
/**
 * Idle connections per row; ENDPOINT_SCALE_STEPS="0,200" overrides (quick runs), and
 * ENDPOINT_SCALE_PART=memory or =loopback runs one part only.
 */
const STEPS = (process.env.ENDPOINT_SCALE_STEPS ?? '0,1000,5000').split(',').map(Number);

/** Measurement windows per row (the median is reported: a shared machine has bursts). */
const WINDOWS = 5;
const WINDOW_MS = 1500;

/** The in-memory echo is timed in batches of 1,000, 21 per crowd, after 2,000 untimed. */
const BATCH = 1_000;
const ROUNDS = 21;
const WARMUP = 2_000;

/** Process CPU time (user + system) per call of `fn` over one batch, in ns. */
function batchCpu(fn: () => void): number {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < BATCH; i++) fn();
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / BATCH;
}

/**
 * Median CPU time per echo of each crowd, their batches interleaved (A, B, C, A, B, C...): CPU
 * time so that time descheduled on a busy machine is not counted, interleaved so that drift of the
 * machine and of the heap hits every crowd alike.
 */
function interleaved(crowds: MemoryCrowd[]): number[] {
  for (const c of crowds) for (let i = 0; i < WARMUP; i++) c.echo();
  const samples: number[][] = crowds.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < crowds.length; i++) samples[i].push(batchCpu(() => crowds[i].echo()));
  }
  return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)]);
}

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

/**
 * The server endpoint alone, in memory: CPU per echoed datagram (in and out of the server
 * endpoint, plus the busy client's own endpoint) with 0, 1,000 and 5,000 idle connections on the
 * server. One server per crowd size, all in one heap, timed in interleaved batches: the rows
 * differ only in what each endpoint does per packet. The first row times the 0-idle server before
 * any crowd exists: its difference from the interleaved 0-idle row is a process-wide cost of
 * holding thousands of connections (a larger heap for the garbage collector, colder caches),
 * paid by every endpoint alike, not work the endpoint does per packet.
 */
function inMemory(): BenchRow[] {
  // Warm the JIT on a throwaway pair first, so the first row is not also the compile time.
  const warm = new MemoryCrowd();
  for (let i = 0; i < 20_000; i++) warm.echo();
  const crowds = STEPS.map(() => new MemoryCrowd());
  const [alone] = interleaved([crowds[0]]);
  const notes: string[] = [];
  for (let i = 0; i < STEPS.length; i++) {
    const t0 = performance.now();
    crowds[i].grow(STEPS[i]);
    notes.push(STEPS[i] > 0 ? `, opened in ${((performance.now() - t0) / 1000).toFixed(0)} s` : '');
  }
  // Collect what opening the crowds left (their dropped client sides): otherwise the collector is
  // still marking the old generation while the rows are timed, and every row pays for it.
  fullGc();
  const heapMb = process.memoryUsage().heapUsed / 1e6;
  const medians = interleaved(crowds);
  const row0 = (name: string, ns: number, note: string): BenchRow => ({
    name,
    nsPerOp: ns,
    opsPerSec: 1e9 / ns,
    note: `${(ns / 1000).toFixed(1)} µs CPU/echo${note}`,
  });
  const rows = [row0('in memory: endpoint echo, 0 idle, before any crowd', alone, '')];
  for (let i = 0; i < STEPS.length; i++) {
    const name = `in memory: endpoint echo beside ${STEPS[i].toLocaleString('en-US')} idle`;
    const ratio = `; ×${(medians[i] / medians[0]).toFixed(2)} of 0 idle`;
    rows.push(
      row0(name, medians[i], `${notes[i]}${i > 0 ? ratio : ''}; heap ${heapMb.toFixed(0)} MB`),
    );
    process.stderr.write(`endpoint-scale: ${name}: ${rows[rows.length - 1].note}\n`);
  }
  return rows;
}

/** The running proxy over loopback UDP, beside a crowd of idle clients in a child process. */
async function overLoopback(): Promise<BenchRow[]> {
  const target = await echoTarget();
  const { proxy, cert } = await startBenchProxy(BIG_PACKETS);
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
    // Control: the crowd closed, the first row again. What differs from the first row is drift of
    // the machine, not the cost of idle connections.
    await crowd.close();
    await waitUntil(() => proxy.server.stats().connections === 0, 10_000);
    const again = await busyTunnel(proxy.template, cert.certPem, target.port);
    rows.push(row('connect-udp echo beside 0 idle, again (crowd closed)', again));
    const one = rows[1].nsPerOp;
    for (const r of rows.slice(2)) r.note += `; ×${(r.nsPerOp / one).toFixed(2)} of 0 idle`;
  } finally {
    await crowd.close();
    await proxy.close({ timeout: 500 });
    await closeAll([target.socket]);
  }
  return rows;
}

const bench: BenchModule = {
  title:
    'Per-packet cost beside idle QUIC connections (endpoint in memory; proxy over loopback, 1200 B echoes)',
  baseline: 'plain node:dgram relay',
  async run(): Promise<BenchRow[]> {
    const part = process.env.ENDPOINT_SCALE_PART;
    const rows = part === 'loopback' ? [] : inMemory();
    if (part !== 'memory') rows.push(...(await overLoopback()));
    return rows;
  },
};

export default bench;
