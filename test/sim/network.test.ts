import { describe, expect, it } from 'vitest';
import {
  Bandwidth,
  Delay,
  Drop,
  Duplicate,
  Mtu,
  Nat,
  Network,
  Reorder,
  type SimDatagram,
  type SimNode,
} from '../../src/sim/index.js';
import { SeededRandom } from '../../src/util/random.js';

/** Sends `count` numbered datagrams, one every `intervalMs`, and records what it receives. */
class Sender implements SimNode {
  readonly addresses: string[];
  sent = 0;
  #next = 0;
  #out: SimDatagram[] = [];
  constructor(
    addr: string,
    readonly peer: string,
    readonly count: number,
    readonly intervalMs: number,
    readonly size = 100,
  ) {
    this.addresses = [addr];
  }
  receive(): void {}
  transmit(): SimDatagram[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
  nextTimeout(): number | undefined {
    return this.sent < this.count ? this.#next : undefined;
  }
  timeout(now: number): void {
    const data = new Uint8Array(this.size);
    new DataView(data.buffer).setUint32(0, this.sent);
    this.#out.push({ from: this.addresses[0], to: this.peer, data });
    this.sent++;
    this.#next = now + this.intervalMs;
  }
}

class Sink implements SimNode {
  readonly addresses: string[];
  readonly got: Array<{ n: number; at: number; from: string }> = [];
  constructor(addr: string) {
    this.addresses = [addr];
  }
  receive(d: SimDatagram, now: number): void {
    this.got.push({
      n: new DataView(d.data.buffer, d.data.byteOffset).getUint32(0),
      at: now,
      from: d.from,
    });
  }
  transmit(): SimDatagram[] {
    return [];
  }
  nextTimeout(): undefined {
    return undefined;
  }
  timeout(): void {}
}

describe('network simulator', () => {
  it('delivers in order after a fixed delay and stops when idle', () => {
    const net = new Network();
    const a = new Sender('a', 'b', 10, 1);
    const b = new Sink('b');
    net
      .add(a)
      .add(b)
      .defaultLink([new Delay(20)]);
    const r = net.run({ until: 10_000 });
    expect(r.reason).toBe('idle');
    expect(b.got.map((g) => g.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(b.got[0].at).toBe(20);
    expect(b.got[9].at).toBe(29);
  });

  it('is reproducible for a seed: loss, reordering and duplication', () => {
    const once = (seed: number) => {
      const rng = new SeededRandom(seed);
      const net = new Network();
      const b = new Sink('b');
      net
        .add(new Sender('a', 'b', 1_000, 0.5))
        .add(b)
        .defaultLink([
          new Drop(rng, 0.05),
          new Reorder(rng, 0.1, 5),
          new Duplicate(rng, 0.02),
          new Delay(10, 2, rng),
        ]);
      net.run({ until: 60_000 });
      return b.got.map((g) => g.n);
    };
    const first = once(1);
    expect(once(1)).toEqual(first);
    expect(once(2)).not.toEqual(first);
    const unique = new Set(first);
    // ~5 % loss, some duplicates, some out of order.
    expect(unique.size).toBeGreaterThan(900);
    expect(unique.size).toBeLessThan(990);
    expect(first.length).toBeGreaterThan(unique.size);
    const inversions = first.filter((n, i) => i > 0 && n < first[i - 1]).length;
    expect(inversions).toBeGreaterThan(10);
  });

  it('enforces an MTU and a bandwidth bottleneck with a bounded queue', () => {
    const net = new Network();
    const mtu = new Mtu(1200);
    const bw = new Bandwidth(100, 5_000); // 100 bytes/ms = 800 kbit/s
    const b = new Sink('b');
    net
      .add(new Sender('big', 'b', 5, 1, 1300))
      .add(new Sender('a', 'b', 200, 0.1, 1000))
      .add(b);
    net.link('big', 'b', [mtu]).link('a', 'b', [bw]);
    net.run({ until: 10_000 });
    expect(mtu.dropped).toBe(5);
    expect(bw.dropped).toBeGreaterThan(100);
    const times = b.got.map((g) => g.at);
    for (let i = 1; i < times.length; i++)
      expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(9.99);
  });

  it('rewrites source addresses through a NAT that can rebind', () => {
    const net = new Network();
    const nat = new Nat();
    const b = new Sink('b');
    const a = new Sender('a', 'b', 4, 10);
    net.add(a).add(b).link('a', 'b', [nat]);
    nat.map.set('a', 'nat:1');
    net.run({ until: 15 });
    nat.map.set('a', 'nat:2');
    net.run({ until: 1_000 });
    expect(b.got.map((g) => g.from)).toEqual(['nat:1', 'nat:1', 'nat:2', 'nat:2']);
  });

  it('bounds runs by events so a chatty node cannot hang a test', () => {
    const net = new Network();
    net.add(new Sender('a', 'b', Number.POSITIVE_INFINITY, 0.001)).add(new Sink('b'));
    const r = net.run({ maxEvents: 10_000 });
    expect(r.reason).toBe('events');
  });
});
