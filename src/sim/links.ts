/**
 * Link elements for the simulator, each one small and seeded: loss, delay with jitter,
 * reordering, duplication, an MTU, a bandwidth bottleneck with a bounded queue, and address
 * rewriting (a NAT that rebinds). Compose them in a list; a datagram passes through in order.
 */
import { type Random, randomFloat } from '../util/random.js';
import type { LinkElement, SimDatagram } from './types.js';

/** Drops each datagram with probability `rate`. */
export class Drop implements LinkElement {
  dropped = 0;
  constructor(
    readonly rng: Random,
    readonly rate: number,
  ) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (randomFloat(this.rng) < this.rate) {
      this.dropped++;
      return [];
    }
    return [[0, d]];
  }
}

/** Fixed delay plus uniform jitter in `[0, jitter)`; jitter reorders datagrams naturally. */
export class Delay implements LinkElement {
  constructor(
    readonly ms: number,
    readonly jitter = 0,
    readonly rng?: Random,
  ) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    const extra = this.jitter > 0 && this.rng ? randomFloat(this.rng) * this.jitter : 0;
    return [[this.ms + extra, d]];
  }
}

/** Holds back a datagram by `extraMs` with probability `rate`, letting later ones overtake it. */
export class Reorder implements LinkElement {
  constructor(
    readonly rng: Random,
    readonly rate: number,
    readonly extraMs: number,
  ) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    return [[randomFloat(this.rng) < this.rate ? this.extraMs : 0, d]];
  }
}

/** Delivers a second copy with probability `rate`. */
export class Duplicate implements LinkElement {
  constructor(
    readonly rng: Random,
    readonly rate: number,
  ) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (randomFloat(this.rng) < this.rate)
      return [
        [0, d],
        [0.1, { ...d, data: d.data.slice() }],
      ];
    return [[0, d]];
  }
}

/** Drops datagrams larger than `mtu` bytes (UDP payload size). */
export class Mtu implements LinkElement {
  dropped = 0;
  constructor(readonly mtu: number) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (d.data.length > this.mtu) {
      this.dropped++;
      return [];
    }
    return [[0, d]];
  }
}

/**
 * A bottleneck of `bytesPerMs` with a drop-tail queue of `queueBytes`: datagrams are serialised
 * one after another, and those that find the queue full are dropped.
 */
export class Bandwidth implements LinkElement {
  #busyUntil = 0;
  dropped = 0;
  constructor(
    readonly bytesPerMs: number,
    readonly queueBytes: number,
  ) {}

  process(d: SimDatagram, now: number): Array<[number, SimDatagram]> {
    const start = Math.max(now, this.#busyUntil);
    const queued = (start - now) * this.bytesPerMs;
    if (queued + d.data.length > this.queueBytes) {
      this.dropped++;
      return [];
    }
    this.#busyUntil = start + d.data.length / this.bytesPerMs;
    return [[this.#busyUntil - now, d]];
  }
}

/** Rewrites source addresses through a mapping that tests can change (NAT rebinding). */
export class Nat implements LinkElement {
  readonly map = new Map<string, string>();

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    const mapped = this.map.get(d.from);
    return [[0, mapped ? { ...d, from: mapped } : d]];
  }
}
