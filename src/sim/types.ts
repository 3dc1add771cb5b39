/**
 * The in-memory network simulator's vocabulary. A node is anything sans-IO that takes datagrams
 * and time and produces datagrams and a next deadline: a QUIC endpoint, an HTTP/3 client, a
 * proxy. Addresses are opaque strings ("client:1", "10.0.0.1:443").
 */

/** A datagram in flight. */
export interface SimDatagram {
  from: string;
  to: string;
  data: Uint8Array;
}

export interface SimNode {
  /** Addresses this node receives on. */
  readonly addresses: readonly string[];
  /** A datagram arrived. */
  receive(d: SimDatagram, now: number): void;
  /** Datagrams the node wants to send now (called after every event until it returns none). */
  transmit(now: number): SimDatagram[];
  /** Earliest time the node wants `timeout` called, or undefined. */
  nextTimeout(): number | undefined;
  /** The deadline returned by `nextTimeout` has passed. */
  timeout(now: number): void;
}

/** One element of a link: it sees each datagram and schedules zero or more deliveries. */
export interface LinkElement {
  /**
   * Handles a datagram entering this element at `now`; returns deliveries as `[delayMs, datagram]`
   * pairs for the next element (an empty array drops it).
   */
  process(d: SimDatagram, now: number): Array<[number, SimDatagram]>;
}
