/**
 * DPLPMTUD for one path (RFC 8899, RFC 9000 §14.3) as a pure state machine: the tests play the
 * network by answering each probe according to a link MTU.
 */
import { describe, expect, it } from 'vitest';
import {
  BASE_PLPMTU,
  BLACK_HOLE_THRESHOLD,
  MAX_PROBES,
  PmtuDiscovery,
  SEARCH_GRANULARITY,
} from '../../../src/quic/path/index.js';

/** Runs the search against a link that drops datagrams above `mtu`; returns the probes sent. */
function converge(d: PmtuDiscovery, mtu: number, now = 0): number[] {
  const sent: number[] = [];
  for (let i = 0; i < 200; i++) {
    const size = d.nextProbe();
    if (size === undefined) return sent;
    sent.push(size);
    const id = d.onProbeSent(size);
    if (size <= mtu) d.onProbeAcked(id, size, now, now);
    else d.onProbeLost(id, now);
  }
  throw new Error('the search does not end');
}

describe('PmtuDiscovery (RFC 8899)', () => {
  it('starts at BASE_PLPMTU and probes nothing before start()', () => {
    const d = new PmtuDiscovery({ ceiling: 1452 });
    expect(d.current).toBe(BASE_PLPMTU);
    expect(d.state).toBe('base');
    expect(d.nextProbe()).toBeUndefined();
  });

  it('on a 1500-byte path, one probe of the ceiling completes the search', () => {
    const d = new PmtuDiscovery({ ceiling: 1452 });
    d.start(0);
    expect(converge(d, 1500)).toEqual([1452]);
    expect(d.current).toBe(1452);
    expect(d.state).toBe('search-complete');
    // Nothing above the ceiling: no raise timer.
    expect(d.deadline()).toBeUndefined();
  });

  it('each size gets MAX_PROBES probes before it is deemed too large, then bisection', () => {
    const d = new PmtuDiscovery({ ceiling: 1452 });
    d.start(0);
    const probes = converge(d, 1350);
    expect(probes.slice(0, MAX_PROBES)).toEqual([1452, 1452, 1452]);
    expect(d.current).toBeLessThanOrEqual(1350);
    expect(1350 - d.current).toBeLessThan(SEARCH_GRANULARITY);
    expect(d.counters.probesLost % MAX_PROBES).toBe(0);
    expect(d.counters.probesSent).toBe(probes.length);
  });

  it('never settles above the link MTU and always within one step of it', () => {
    for (let mtu = 1200; mtu <= 1460; mtu += 7) {
      const d = new PmtuDiscovery({ ceiling: 1452 });
      d.start(0);
      converge(d, mtu);
      expect(d.current).toBeLessThanOrEqual(Math.min(mtu, 1452));
      expect(Math.min(mtu, 1452) - d.current).toBeLessThanOrEqual(SEARCH_GRANULARITY);
    }
  });

  it('a ceiling of 1200 disables probing', () => {
    const d = new PmtuDiscovery({ ceiling: 1200 });
    d.start(0);
    expect(d.state).toBe('disabled');
    expect(d.nextProbe()).toBeUndefined();
  });

  it('ceilings are clamped to 1200..65527, and the peer limit lowers them', () => {
    expect(new PmtuDiscovery({ ceiling: 100_000 }).ceiling).toBe(65_527);
    expect(new PmtuDiscovery({ ceiling: 900 }).ceiling).toBe(1200);
    const d = new PmtuDiscovery({ ceiling: 1452 });
    d.limitCeiling(1300, 0);
    d.start(0);
    converge(d, 9000);
    expect(d.current).toBe(1300);
  });

  it('a large ceiling climbs plateaus first (1452, 8952), then bisects', () => {
    const d = new PmtuDiscovery({ ceiling: 65_527 });
    d.start(0);
    const probes = converge(d, 9000);
    expect(probes.slice(0, 2)).toEqual([1452, 8952]);
    expect(probes[2]).toBe(65_527);
    expect(d.current).toBeLessThanOrEqual(9000);
    expect(9000 - d.current).toBeLessThanOrEqual(SEARCH_GRANULARITY);
  });

  it('PMTU_RAISE_TIMER searches again above a PLPMTU below the ceiling', () => {
    const d = new PmtuDiscovery({ ceiling: 1452, raiseInterval: 1_000 });
    d.start(0);
    converge(d, 1300, 0);
    expect(d.deadline()).toBe(1_000);
    d.onTimeout(999);
    expect(d.nextProbe()).toBeUndefined();
    d.onTimeout(1_000);
    expect(d.state).toBe('searching');
    // The path grew meanwhile: the new search finds it.
    converge(d, 1500, 1_000);
    expect(d.current).toBe(1452);
  });

  it('stale probe reports are ignored', () => {
    const d = new PmtuDiscovery({ ceiling: 1452 });
    d.start(0);
    const id = d.onProbeSent(1452);
    d.onProbeLost(id, 1);
    d.onProbeAcked(id, 1452, 0, 2); // A late ACK after the loss was declared.
    expect(d.current).toBe(BASE_PLPMTU);
    expect(d.counters.probesAcked).toBe(0);
  });

  describe('black hole detection', () => {
    function atCeiling(): PmtuDiscovery {
      const d = new PmtuDiscovery({ ceiling: 1452 });
      d.start(0);
      converge(d, 1500, 0);
      return d;
    }

    it('BLACK_HOLE_THRESHOLD loss events of full-size packets, nothing large arriving: BASE', () => {
      const d = atCeiling();
      for (let i = 1; i < BLACK_HOLE_THRESHOLD; i++) {
        expect(d.onPacketsLost([{ size: 1452, timeSent: 10 * i }], 100 * i)).toBe(false);
        d.onPacketAcked(80, 10 * i + 5, 100 * i); // Small packets still get through.
      }
      expect(d.onPacketsLost([{ size: 1452, timeSent: 50 }], 500)).toBe(true);
      expect(d.current).toBe(BASE_PLPMTU);
      expect(d.state).toBe('base');
      expect(d.counters.blackHoles).toBe(1);
      // BASE is confirmed by an acknowledgment of a packet sent since, then the search resumes
      // below the size that failed.
      d.onPacketAcked(1200, 400, 600);
      expect(d.state).toBe('base');
      d.onPacketAcked(1200, 510, 600);
      expect(d.state).toBe('searching');
      const next = d.nextProbe() as number;
      expect(next).toBeGreaterThan(BASE_PLPMTU);
      expect(next).toBeLessThan(1452);
    });

    it('congestion is not a black hole: a later full-size packet arrived', () => {
      const d = atCeiling();
      for (let i = 1; i <= 10; i++) {
        // The ACK that declares a loss also acknowledges later full-size packets.
        d.onPacketAcked(1452, 10 * i + 3, 100 * i);
        expect(d.onPacketsLost([{ size: 1452, timeSent: 10 * i }], 100 * i)).toBe(false);
      }
      expect(d.current).toBe(1452);
    });

    it('a full-size packet acknowledged between suspect losses restarts the count', () => {
      const d = atCeiling();
      for (let round = 0; round < 5; round++) {
        const t = 100 * round;
        for (let i = 1; i < BLACK_HOLE_THRESHOLD; i++) {
          expect(d.onPacketsLost([{ size: 1452, timeSent: t + i }], t + 50)).toBe(false);
        }
        d.onPacketAcked(1452, t + 60, t + 90);
      }
      expect(d.current).toBe(1452);
    });

    it('losses of packets at or below BASE_PLPMTU are never suspect', () => {
      const d = atCeiling();
      for (let i = 1; i <= 10; i++) {
        expect(d.onPacketsLost([{ size: 1200, timeSent: i }], 100 * i)).toBe(false);
      }
      expect(d.current).toBe(1452);
    });
  });
});
