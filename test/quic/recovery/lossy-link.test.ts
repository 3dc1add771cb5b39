import { describe, expect, it } from 'vitest';
import {
  type CongestionController,
  Cubic,
  LossDetection,
  NewReno,
  Pacer,
  PacketSpace,
} from '../../../src/quic/recovery/index.js';
import { randomFloat, SeededRandom } from '../../../src/util/random.js';
import { RangeSet } from '../../../src/util/range-set.js';
import { MDS } from './helpers.js';

const App = PacketSpace.ApplicationData;

interface Stats {
  sent: number;
  acked: number;
  lost: number;
  outstanding: number;
  ptos: number;
  /** Bytes acknowledged per ms of the run, relative to the bottleneck rate. */
  utilization: number;
}

/** Bottleneck: one full datagram per ms (9.6 Mbit/s), a drop-tail queue of 30 ms. */
const LINK_MS_PER_PACKET = 1;
const QUEUE_MS = 30;

/**
 * A bulk sender (always has data) over a bottleneck link with a 25 ms one-way delay and random loss
 * in both directions; the receiver acknowledges every packet at once. Virtual time, seeded
 * randomness.
 */
function run(cc: CongestionController, lossRate: number, seed: number, durationMs: number): Stats {
  const rng = new SeededRandom(seed);
  const ld = new LossDetection<null>({ isServer: true, congestion: cc });
  ld.setHandshakeConfirmed(0);
  const pacer = new Pacer(cc, ld.rtt);
  const received = new RangeSet();
  /** ACKs in flight towards the sender: arrival time and the ranges they carry. */
  const acks: { at: number; ranges: [number, number][] }[] = [];
  const stats: Stats = { sent: 0, acked: 0, lost: 0, outstanding: 0, ptos: 0, utilization: 0 };
  let linkFree = 0;
  let pn = 0;
  let now = 0;
  let probes = 0;

  const send = () => {
    const p = {
      pn: pn++,
      timeSent: now,
      size: MDS,
      ackEliciting: true,
      inFlight: true,
      info: null,
    };
    ld.onPacketSent(App, p);
    pacer.onSend(now, MDS);
    stats.sent++;
    const queued = Math.max(linkFree - now, 0);
    if (queued > QUEUE_MS) return; // drop-tail
    linkFree = now + queued + LINK_MS_PER_PACKET;
    if (randomFloat(rng) >= lossRate) {
      const arrival = linkFree + 25;
      received.add(p.pn);
      received.keepHighest(32);
      if (randomFloat(rng) >= lossRate) {
        acks.push({ at: arrival + 25, ranges: [...received.descending()] });
        acks.sort((a, b) => a.at - b.at);
      }
    }
  };

  for (let steps = 0; now < durationMs; steps++) {
    expect(steps).toBeLessThan(1_000_000);
    while (acks.length > 0 && acks[0].at <= now) {
      const out = ld.onAckReceived(App, acks.shift()!.ranges, 0, now);
      stats.acked += out.acked.length;
      stats.lost += out.lost.length;
    }
    const fired = ld.onLossDetectionTimeout(now);
    if (fired?.kind === 'loss') stats.lost += fired.lost.length;
    if (fired?.kind === 'pto') {
      stats.ptos++;
      probes += fired.probeCount;
    }
    // RFC 9002 §7.5: probes are not blocked by the window; other packets are, and are paced.
    while (probes > 0) {
      send();
      probes--;
    }
    while (ld.canSend(MDS) && pacer.timeUntilSend(now, MDS) === 0) send();
    // Next event: an ACK arrival, the loss detection timer, or the pacer.
    let next = acks.length > 0 ? acks[0].at : Number.POSITIVE_INFINITY;
    const deadline = ld.lossDetectionDeadline();
    if (deadline !== undefined) next = Math.min(next, deadline);
    if (ld.canSend(MDS)) next = Math.min(next, now + pacer.timeUntilSend(now, MDS));
    expect(next).toBeLessThan(Number.POSITIVE_INFINITY);
    now = Math.max(next, now);
  }
  stats.outstanding = ld.outstanding(App).length;
  stats.utilization = (stats.acked * LINK_MS_PER_PACKET) / durationMs;
  return stats;
}

describe('Loss detection, congestion control and pacing together over a lossy link', () => {
  for (const [name, make] of [
    ['NewReno', () => new NewReno()],
    ['CUBIC', () => new Cubic()],
  ] as const) {
    it(`${name}: fills a clean bottleneck, loses to queue overflow, recovers`, () => {
      const s = run(make(), 0, 1, 5000);
      // Every packet is acknowledged, declared lost, or still outstanding; none twice.
      expect(s.acked + s.lost + s.outstanding).toBe(s.sent);
      expect(s.lost).toBeGreaterThan(0);
      expect(s.utilization).toBeGreaterThan(0.8);
      expect(s.utilization).toBeLessThanOrEqual(1);
    });

    it(`${name}: 2% random loss each way keeps the books balanced and keeps sending`, () => {
      for (const seed of [1, 2, 3]) {
        const s = run(make(), 0.02, seed, 5000);
        expect(s.acked + s.lost + s.outstanding).toBe(s.sent);
        expect(s.utilization).toBeGreaterThan(0.1);
      }
    });
  }

  it('a link that goes silent ends in PTOs with exponential backoff, never a busy loop', () => {
    const s = run(new NewReno(), 1, 7, 60_000);
    expect(s.acked).toBe(0);
    // 10 packets, then probes at 1, 3, 7, 15, 31 s (backoff doubling from a 1 s PTO) ...
    expect(s.ptos).toBeGreaterThanOrEqual(5);
    expect(s.ptos).toBeLessThanOrEqual(6);
    expect(s.sent).toBe(10 + 2 * s.ptos);
  });
});
