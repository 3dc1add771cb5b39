/**
 * A deterministic discrete-event network. Time is a number the simulator owns: a run that covers
 * minutes of virtual time takes milliseconds. Links are directional lists of elements keyed by
 * `"from->to"` address pairs (or a default list). Runs are bounded by virtual time and by event
 * count, so a stuck protocol ends the run instead of hanging the test.
 */
import type { LinkElement, SimDatagram, SimNode } from './types.js';

interface Pending {
  at: number;
  seq: number;
  stage: number;
  link: LinkElement[];
  d: SimDatagram;
}

export interface RunLimits {
  /** Stop when virtual time passes this (ms). */
  until?: number;
  /** Stop after this many events (deliveries + timeouts). Default 5,000,000. */
  maxEvents?: number;
  /** Stop as soon as this returns true (checked after every event). */
  done?: () => boolean;
}

export interface RunResult {
  /** Why the run stopped. */
  reason: 'done' | 'idle' | 'time' | 'events';
  now: number;
  events: number;
}

export class Network {
  now = 0;
  /** Datagrams delivered / addressed to nobody. */
  delivered = 0;
  undeliverable = 0;
  readonly #nodes: SimNode[] = [];
  readonly #byAddress = new Map<string, SimNode>();
  readonly #links = new Map<string, LinkElement[]>();
  #defaultLink: LinkElement[] = [];
  // A binary heap ordered by (at, seq) keeps delivery order deterministic.
  readonly #heap: Pending[] = [];
  #seq = 0;
  /** Optional observer of every datagram as it is sent (before the link). */
  onSend?: (d: SimDatagram, now: number) => void;

  add(node: SimNode): this {
    this.#nodes.push(node);
    for (const a of node.addresses) this.#byAddress.set(a, node);
    return this;
  }

  /** Also deliver datagrams addressed to `address` to `node` (e.g. after a NAT rebinding). */
  alias(address: string, node: SimNode): void {
    this.#byAddress.set(address, node);
  }

  /** Elements for datagrams from `from` to `to`; `'*'` matches any address. */
  link(from: string, to: string, elements: LinkElement[]): this {
    this.#links.set(`${from}->${to}`, elements);
    return this;
  }

  defaultLink(elements: LinkElement[]): this {
    this.#defaultLink = elements;
    return this;
  }

  #linkFor(d: SimDatagram): LinkElement[] {
    return (
      this.#links.get(`${d.from}->${d.to}`) ??
      this.#links.get(`${d.from}->*`) ??
      this.#links.get(`*->${d.to}`) ??
      this.#defaultLink
    );
  }

  /** Injects a datagram as if `d.from` had sent it now. */
  send(d: SimDatagram): void {
    this.onSend?.(d, this.now);
    this.#advance({ at: this.now, seq: 0, stage: 0, link: this.#linkFor(d), d });
  }

  #advance(p: Pending): void {
    if (p.stage >= p.link.length) {
      this.#push({ ...p, stage: p.link.length + 1 });
      return;
    }
    for (const [delay, d] of p.link[p.stage].process(p.d, p.at)) {
      const next: Pending = { at: p.at + delay, seq: 0, stage: p.stage + 1, link: p.link, d };
      if (delay === 0) this.#advance(next);
      else this.#push(next);
    }
  }

  #flush(): void {
    for (let round = 0; round < 1_000; round++) {
      let any = false;
      for (const node of this.#nodes) {
        for (const d of node.transmit(this.now)) {
          any = true;
          this.send(d);
        }
      }
      if (!any) return;
    }
    throw new Error('a node keeps transmitting without time passing');
  }

  run(limits: RunLimits = {}): RunResult {
    const until = limits.until ?? Number.POSITIVE_INFINITY;
    const maxEvents = limits.maxEvents ?? 5_000_000;
    let events = 0;
    this.#flush();
    for (;;) {
      if (limits.done?.()) return { reason: 'done', now: this.now, events };
      if (events >= maxEvents) return { reason: 'events', now: this.now, events };
      const nextPacket = this.#heap.length > 0 ? this.#heap[0].at : Number.POSITIVE_INFINITY;
      let nextTimer = Number.POSITIVE_INFINITY;
      let timerNode: SimNode | undefined;
      for (const node of this.#nodes) {
        const t = node.nextTimeout();
        if (t !== undefined && t < nextTimer) {
          nextTimer = t;
          timerNode = node;
        }
      }
      const at = Math.min(nextPacket, nextTimer);
      if (at === Number.POSITIVE_INFINITY) return { reason: 'idle', now: this.now, events };
      if (at > until) {
        this.now = until;
        return { reason: 'time', now: this.now, events };
      }
      this.now = Math.max(this.now, at);
      events++;
      if (nextPacket <= nextTimer) {
        const p = this.#pop()!;
        if (p.stage <= p.link.length) this.#advance(p);
        else this.#deliver(p.d);
      } else {
        timerNode!.timeout(this.now);
      }
      this.#flush();
    }
  }

  #deliver(d: SimDatagram): void {
    const node = this.#byAddress.get(d.to);
    if (!node) {
      this.undeliverable++;
      return;
    }
    this.delivered++;
    node.receive(d, this.now);
  }

  #push(p: Pending): void {
    p.seq = ++this.#seq;
    const h = this.#heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  #pop(): Pending | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
