/**
 * What the ACK frequency extension (draft-ietf-quic-ack-frequency-14) pays where datagrams arrive
 * one at a time: a one-way flow of 20,000 datagrams between two sans-IO QUIC connections over a
 * simulated paced path (bench/paced-one-way.ts), the data sender asking for fewer ACKs or not.
 * CPU per datagram is the whole simulation's (both ends and the simulator), median of 3 runs each,
 * interleaved; the receiver's packets per datagram are its ACKs.
 */
import type { BenchRow } from './harness.js';
import { type PacedResult, pacedOneWay } from './paced-one-way.js';
import type { BenchModule } from './types.js';

const N = Number(process.env.ONE_WAY_PACED_N ?? 20_000);
const ROUNDS = 3;

function median(rs: PacedResult[]): PacedResult {
  return [...rs].sort((a, b) => a.cpuMs - b.cpuMs)[rs.length >> 1];
}

function row(name: string, r: PacedResult): BenchRow {
  const nsPerOp = (r.cpuMs * 1e6) / r.received;
  return {
    name,
    nsPerOp,
    opsPerSec: 1e9 / nsPerOp,
    note: `${(nsPerOp / 1000).toFixed(1)} us CPU/datagram (both ends + simulator); receiver packets per datagram ${r.receiverPackets.toFixed(3)}; ${r.received.toLocaleString('en-US')} datagrams (${r.dropped} packets dropped at the bottleneck) in ${r.virtualMs.toFixed(0)} ms of virtual time`,
  };
}

const bench: BenchModule = {
  title: `one-way flow over a paced path, in memory (${N.toLocaleString('en-US')} datagrams of 1000 bytes, 100 Mbit/s, 10 ms RTT)`,
  baseline: 'in memory, paced one-way, without ACK frequency',
  run() {
    pacedOneWay(2000, {}); // warm-up
    const off: PacedResult[] = [];
    const on: PacedResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      off.push(pacedOneWay(N, false));
      on.push(pacedOneWay(N, {}));
    }
    return [
      row('in memory, paced one-way, without ACK frequency', median(off)),
      row('in memory, paced one-way, ACK frequency', median(on)),
    ];
  },
};

export default bench;
