/**
 * What junk costs the proxy: packets a flood sends at its UDP port, refused by the QUIC endpoint
 * before any connection exists. Each row sends a burst of one kind of packet from a local socket to
 * the running proxy and measures this process's CPU time (user + system) until the endpoint has
 * counted all of them, per packet. The baseline is the same burst to a bare node:dgram socket that
 * drops what it receives (the cost of the sockets alone), measured in the same run.
 *
 * Kinds: random bytes (no QUIC invariant), a short header for no connection (answered with a
 * stateless reset, rate-limited), a long header of an unknown version (Version Negotiation, RFC
 * 9000 §6), an Initial too small to be a client's first (RFC 9000 §14.1: dropped), and a
 * well-formed 1200-byte Initial that does not decrypt: once with the per-source Initial rate lifted
 * (every one costs an Initial-key derivation and a failed decryption), once under the default
 * rate (`limits.initialsPerSecondPerSource`, 100/s, burst 200: past the burst, one source's
 * Initials are dropped before any crypto).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { bind, closeAll } from './udp-relay.js';

const BURST = Number(process.env.MASQUE_BENCH_PACKETS ?? 20_000);

function kinds(): Array<[string, () => Uint8Array]> {
  let n = 0;
  const random = (len: number): Uint8Array => {
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = (n * 131 + i * 17) & 0xff;
    n++;
    return b;
  };
  return [
    ['random bytes, 100 B', () => random(100)],
    [
      'short header for no connection, 1200 B (stateless reset, rate-limited)',
      () => {
        const b = random(1200);
        b[0] = 0x41;
        return b;
      },
    ],
    [
      'long header of an unknown version, 1200 B (Version Negotiation)',
      () => {
        const b = random(1200);
        b.set([0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8], 0);
        return b;
      },
    ],
    [
      "Initial of 300 B (too small for a client's first: dropped)",
      () => {
        const b = random(300);
        b.set([0xc0, 0, 0, 0, 1, 8], 0);
        return b;
      },
    ],
  ];
}

/** A well-formed Initial of 1200 B for no connection that does not decrypt (forged). */
function forgedInitial(): () => Uint8Array {
  let n = 0;
  return () => {
    const b = new Uint8Array(1200).fill(0x5a);
    // Long header, version 1, an 8-byte DCID of its own, no SCID, no token, Length 1182 (§17.2.2).
    b.set([0xc0, 0, 0, 0, 1, 8], 0);
    new DataView(b.buffer).setUint32(6, n++);
    b.set([0, 0, 0x44, 0x9e], 14);
    return b;
  };
}

/**
 * Sends BURST packets made by `make`, paced so the receiver keeps up, and waits until `count()`
 * stops growing; the CPU is measured up to the last arrival (not the quiet wait after it).
 */
async function burst(
  sender: Socket,
  port: number,
  make: () => Uint8Array,
  count: () => number,
): Promise<{ cpuUs: number; ms: number; received: number }> {
  const packets = Array.from({ length: 256 }, make);
  const start = count();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < BURST; i++) {
    sender.send(packets[i % packets.length], port, '127.0.0.1');
    // Let the receive side run now and then (the kernel queue is finite).
    if (i % 32 === 31) await new Promise((r) => setImmediate(r));
  }
  let last = count();
  let cpu = process.cpuUsage(cpu0);
  let ms = performance.now() - t0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = count();
    if (now === last) break;
    last = now;
    cpu = process.cpuUsage(cpu0);
    ms = performance.now() - t0;
  }
  return { cpuUs: cpu.user + cpu.system, ms, received: last - start };
}

const bench: BenchModule = {
  title: `refused packets: CPU per packet of a burst of ${BURST.toLocaleString('en-US')} at the proxy's port`,
  baseline: 'bare node:dgram socket (receive and drop)',
  async run() {
    const sender = createSocket('udp4');
    await bind(sender);
    const rows: BenchRow[] = [];
    // Baseline: a socket that only receives.
    const sink = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    const sinkPort = await bind(sink);
    let got = 0;
    sink.on('message', () => {
      got++;
    });
    const base = await burst(sender, sinkPort, kinds()[0][1], () => got);
    rows.push(row('bare node:dgram socket (receive and drop)', base));
    await closeAll([sink]);
    const { proxy } = await startBenchProxy();
    try {
      const ep = proxy.server.endpoint.endpoint;
      for (const [name, make] of kinds()) {
        const r = await burst(sender, proxy.port, make, () => ep.stats().received);
        rows.push(row(name, r));
      }
      const r = await burst(sender, proxy.port, forgedInitial(), () => ep.stats().received);
      rows.push(row('forged Initial, 1200 B, rate lifted (key derivation, failed decryption)', r));
    } finally {
      await proxy.close({ timeout: 500 });
    }
    const limited = await startBenchProxy(undefined, {
      limits: { initialsPerSecondPerSource: 100 },
    });
    try {
      const ep = limited.proxy.server.endpoint.endpoint;
      const r = await burst(sender, limited.proxy.port, forgedInitial(), () => ep.stats().received);
      const dropped = ep.stats().dropped['initial-rate-limited'] ?? 0;
      const name = 'forged Initial, 1200 B, one source over 100/s (dropped before any crypto)';
      rows.push(row(name, r));
      rows[rows.length - 1].note += `; ${dropped} rate-limited`;
    } finally {
      await limited.proxy.close({ timeout: 500 });
      await closeAll([sender]);
    }
    const b = rows[0].nsPerOp;
    for (const r of rows.slice(1)) r.note += `; ${(r.nsPerOp / b).toFixed(2)}x the bare socket`;
    return rows;
  },
};

function row(name: string, r: { cpuUs: number; ms: number; received: number }): BenchRow {
  const received = r.received;
  const perPacketNs = (r.cpuUs * 1000) / Math.max(1, received);
  return {
    name,
    nsPerOp: perPacketNs,
    opsPerSec: 1e9 / perPacketNs,
    note: `${(perPacketNs / 1000).toFixed(1)} µs CPU per packet (sender included), ${received.toLocaleString('en-US')} of ${BURST.toLocaleString('en-US')} received`,
  };
}

export default bench;
