import { describe, expect, it } from 'vitest';
import {
  CUBIC_ALPHA,
  CUBIC_BETA,
  Cubic,
  cubicK,
  cubicWindow,
  RttEstimator,
} from '../../../src/quic/recovery/index.js';
import { MDS } from './helpers.js';

/**
 * Drives a window-limited CUBIC sender in congestion avoidance: every round trip it sends a full
 * window and each datagram is acknowledged spread over the next round trip. Returns the window
 * (bytes) at the end of each round trip.
 */
function runRounds(cc: Cubic, rttMs: number, startAt: number, rounds: number): number[] {
  const rtt = new RttEstimator({ initialRtt: rttMs });
  rtt.update(rttMs, 0, false, 0);
  const windows: number[] = [];
  let t = startAt;
  for (let r = 0; r < rounds; r++) {
    const n = Math.max(1, Math.floor(cc.window() / MDS));
    const sentAt = t;
    for (let i = 0; i < n; i++) {
      const now = sentAt + rttMs + (i * rttMs) / n;
      cc.onPacketsAcked([{ size: MDS, timeSent: sentAt, inFlight: true }], now, rtt, cc.window());
    }
    t += rttMs;
    windows.push(cc.window());
  }
  return windows;
}

/** A CUBIC sender that grew to `segments` datagrams in slow start, then saw one loss at t=1000. */
function afterLoss(segments: number): Cubic {
  const cc = new Cubic();
  const rtt = new RttEstimator({ initialRtt: 100 });
  while (cc.window() < segments * MDS) {
    cc.onPacketsAcked([{ size: MDS, timeSent: 0, inFlight: true }], 10, rtt, cc.window());
  }
  cc.onCongestionEvent(999, 1000);
  return cc;
}

describe('CUBIC (RFC 9438)', () => {
  it('computes W_cubic and K as in RFC 9438 §4.2', () => {
    expect(cubicK(100, 70)).toBeCloseTo(Math.cbrt(75), 12);
    expect(cubicK(50, 60)).toBe(0);
    expect(cubicWindow(cubicK(100, 70), cubicK(100, 70), 100)).toBe(100);
    expect(cubicWindow(0, cubicK(100, 70), 100)).toBeCloseTo(70, 9);
    expect(CUBIC_ALPHA).toBeCloseTo(0.5294117647, 9);
  });

  it('reduces the window to beta_cubic = 0.7 on loss, remembering W_max (§4.6)', () => {
    const cc = afterLoss(100);
    const before = 100 * MDS;
    expect(cc.wMax).toBe(before);
    expect(cc.window()).toBe(Math.floor(before * CUBIC_BETA));
    expect(cc.slowStartThreshold()).toBe(Math.floor(before * CUBIC_BETA));
    expect(cc.inSlowStart()).toBe(false);
    // One reduction per recovery period.
    cc.onCongestionEvent(500, 1001);
    expect(cc.window()).toBe(Math.floor(before * CUBIC_BETA));
  });

  it('applies fast convergence when a loss comes below the previous W_max (§4.7)', () => {
    const cc = afterLoss(100); // W_max 120000, cwnd 84000
    cc.onCongestionEvent(1500, 2000);
    expect(cc.wMax).toBeCloseTo((84000 * (1 + CUBIC_BETA)) / 2, 6);
    expect(cc.window()).toBe(Math.floor(84000 * CUBIC_BETA));
    const slow = new Cubic({ fastConvergence: false });
    slow.onCongestionEvent(0, 1);
    slow.onCongestionEvent(5, 10);
    expect(slow.wMax).toBe(Math.floor(12000 * CUBIC_BETA));
  });

  it('grows concave up to W_max, plateaus near t = K, then convex beyond (§4.4, §4.5)', () => {
    const cc = afterLoss(200); // W_max 200 datagrams, K = cbrt(60 / 0.4) ~ 5.3 s
    const k = Math.cbrt((200 - 140) / 0.4);
    const rounds = runRounds(cc, 100, 1000, 90);
    expect(cc.k).toBeCloseTo(k, 2);
    const wMax = 200 * MDS;
    const inc = rounds.map((w, i) => w - (i === 0 ? 140 * MDS : rounds[i - 1]));
    expect(Math.min(...inc)).toBeGreaterThanOrEqual(0);
    // Concave: increments of the first 40 rounds shrink (compare 10-round averages).
    const avg = (from: number) => inc.slice(from, from + 10).reduce((a, b) => a + b, 0) / 10;
    expect(avg(0)).toBeGreaterThan(avg(10));
    expect(avg(10)).toBeGreaterThan(avg(20));
    expect(avg(20)).toBeGreaterThan(avg(30));
    // Plateau: around t = K (~53 rounds) the window stays within 2% of W_max.
    const plateau = rounds.slice(48, 58);
    for (const w of plateau) expect(Math.abs(w - wMax) / wMax).toBeLessThan(0.02);
    // Convex: past W_max the increments grow.
    expect(avg(60)).toBeGreaterThan(avg(50));
    expect(avg(70)).toBeGreaterThan(avg(60));
    expect(avg(80)).toBeGreaterThan(avg(70));
    expect(rounds[89]).toBeGreaterThan(wMax * 1.05);
  });

  it('never grows more than 50% of the window per round trip (§4.2 target clamp)', () => {
    const cc = afterLoss(100);
    const rounds = runRounds(cc, 100, 1000, 200);
    for (let i = 1; i < rounds.length; i++)
      expect(rounds[i]).toBeLessThanOrEqual(rounds[i - 1] * 1.5 + MDS);
  });

  it('follows the Reno-friendly estimate on short round trips (§4.3)', () => {
    // W_max 20 datagrams, RTT 1 ms: W_cubic barely moves in 100 round trips (0.1 s), while Reno
    // gains alpha_cubic datagrams per round trip until it reaches cwnd_prior, then one.
    const cc = afterLoss(20);
    const rounds = runRounds(cc, 1, 1000, 100);
    const start = Math.floor(20 * MDS * CUBIC_BETA);
    const after10 = (rounds[9] - start) / MDS;
    expect(after10).toBeGreaterThan(10 * CUBIC_ALPHA * 0.8);
    expect(after10).toBeLessThan(10 * CUBIC_ALPHA * 1.3);
    const wCubic = cubicWindow(0.1, Math.cbrt((20 - 14) / 0.4), 20);
    expect(rounds[99] / MDS).toBeGreaterThan(wCubic);
  });

  it('grows like Reno in slow start and does not grow when application limited (§5.8)', () => {
    const cc = new Cubic();
    const rtt = new RttEstimator();
    cc.onPacketsAcked([{ size: MDS, timeSent: 0, inFlight: true }], 10, rtt, 12000);
    expect(cc.window()).toBe(13200);
    cc.onPacketsAcked([{ size: MDS, timeSent: 0, inFlight: true }], 10, rtt, 1200);
    expect(cc.window()).toBe(13200);

    // An application-limited pause does not count in t: the curve resumes about where it stopped
    // (a: no pause; b: 10 s application limited; c: 10 s without any ACK, counted in t).
    const [a, b, c] = [afterLoss(100), afterLoss(100), afterLoss(100)];
    for (const cc of [a, b, c]) runRounds(cc, 100, 1000, 10);
    const small = new RttEstimator({ initialRtt: 100 });
    for (let t = 2000; t < 12000; t += 100) {
      b.onPacketsAcked([{ size: MDS, timeSent: t - 100, inFlight: true }], t, small, MDS);
    }
    expect(b.window()).toBe(a.window());
    const ra = runRounds(a, 100, 2000, 5);
    const rb = runRounds(b, 100, 12000, 5);
    const rc = runRounds(c, 100, 12000, 5);
    expect(Math.abs(rb[4] - ra[4]) / ra[4]).toBeLessThan(0.02);
    expect(rc[4]).toBeGreaterThan(ra[4] * 1.3);
  });

  it('persistent congestion collapses to 2*mds; slow start then leads into a new epoch', () => {
    const cc = afterLoss(100);
    cc.onPersistentCongestion(1100);
    expect(cc.window()).toBe(2 * MDS);
    expect(cc.inSlowStart()).toBe(true);
    const rounds = runRounds(cc, 100, 1200, 12);
    expect(rounds[rounds.length - 1]).toBeGreaterThan(70 * MDS);
  });

  it('does not grow for packets sent before the recovery period', () => {
    const cc = afterLoss(100);
    const rtt = new RttEstimator();
    cc.onPacketsAcked([{ size: MDS, timeSent: 999, inFlight: true }], 1100, rtt, cc.window());
    expect(cc.window()).toBe(Math.floor(100 * MDS * CUBIC_BETA));
  });

  it('checks the window against bytes in flight', () => {
    const cc = new Cubic();
    expect(cc.canSend(10800, MDS)).toBe(true);
    expect(cc.canSend(10801, MDS)).toBe(false);
    expect(cc.available(20000)).toBe(0);
    cc.setMaxDatagramSize(1500);
    expect(cc.window()).toBe(14720);
  });
});
