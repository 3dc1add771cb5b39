/**
 * Which of an endpoint's connections have work, so that the endpoint's cost per datagram and per
 * timer does not grow with the number of connections it holds:
 *
 * - The active ring: connections that received a datagram, had a timer fire, were created, or
 *   were marked by the application (`QuicEndpoint.markActive`) since they last reported nothing
 *   to send. `pollTransmit` serves only these, round-robin: one datagram per turn, then the
 *   connection goes to the back. The endpoint's own queue (Retry, Version Negotiation, resets,
 *   raw sends) takes a turn in the same ring. A connection leaves the ring when it has nothing to
 *   send; its deadline is then read and filed.
 * - The deadline heap: each connection's `nextTimeout()`, filed when it leaves the ring (and, for
 *   connections still in the ring, whenever the endpoint's own `nextTimeout` or `handleTimeout` is
 *   asked). A connection's deadline changes only when it receives, runs timers, is polled or is
 *   called by the application, so it is re-read exactly then. `handleTimeout` pops the due
 *   connections instead of scanning them all.
 *
 * Removed connections are marked and skipped when their turn comes (lazy deletion), so no removal
 * searches the ring.
 */
import { DeadlineHeap } from '../../util/deadline-heap.js';
import { RingQueue } from '../../util/ring-queue.js';
import type { EndpointConnection } from './types.js';

/** What the endpoint keeps per connection. */
export class ConnectionSlot<C> {
  /** Last address the connection sent to (stateless reset matching, RFC 9000 §10.3.1). */
  remote: string | undefined;
  /** Queued in the active ring. */
  active = false;
  /** Removed from the endpoint; a ring entry left behind is skipped. */
  removed = false;
  /** A server connection counted as half-open by the endpoint's admission (still handshaking). */
  halfOpen = false;

  constructor(readonly conn: C) {}
}

/** The endpoint's own queue's turn in the ring. */
const OWN = null;

export class ActivitySchedule<C extends EndpointConnection> {
  readonly #ring = new RingQueue<ConnectionSlot<C> | typeof OWN>(64);
  readonly #deadlines = new DeadlineHeap<ConnectionSlot<C>>();
  #ownQueued = false;

  /** Queues `slot` for polling (no-op when already queued or removed). */
  touch(slot: ConnectionSlot<C>): void {
    if (slot.active || slot.removed) return;
    slot.active = true;
    this.#ring.push(slot);
  }

  /** Gives the endpoint's own queue a turn (no-op when it has one). */
  touchOwn(): void {
    if (this.#ownQueued) return;
    this.#ownQueued = true;
    this.#ring.push(OWN);
  }

  /**
   * The next turn: a connection slot, `null` for the endpoint's own queue, or undefined when
   * nothing is active. The caller hands the turn back with {@link requeue} / {@link requeueOwn}
   * when it produced a datagram, or {@link settle} when the connection had nothing.
   */
  next(): ConnectionSlot<C> | null | undefined {
    for (;;) {
      const turn = this.#ring.shift();
      if (turn === undefined) return undefined;
      if (turn === OWN) {
        this.#ownQueued = false;
        return OWN;
      }
      if (!turn.removed) return turn;
    }
  }

  /** Back of the ring: the connection may have more to send. */
  requeue(slot: ConnectionSlot<C>): void {
    this.#ring.push(slot);
  }

  requeueOwn(): void {
    this.touchOwn();
  }

  /** The connection has nothing to send: it leaves the ring and its deadline is filed. */
  settle(slot: ConnectionSlot<C>): void {
    slot.active = false;
    this.#deadlines.set(slot, slot.conn.nextTimeout());
  }

  /** Forgets a removed connection. */
  forget(slot: ConnectionSlot<C>): void {
    slot.removed = true;
    this.#deadlines.delete(slot);
  }

  /** Earliest deadline over every connection (O(active) + O(1)). */
  nextTimeout(): number | undefined {
    this.refreshActive();
    return this.#deadlines.peek();
  }

  /** Removes and returns a connection due at `now` (call {@link refreshActive} first). */
  popDue(now: number): ConnectionSlot<C> | undefined {
    return this.#deadlines.popDue(now);
  }

  /** Appends the active connections to `out` (cleared first) and returns it. */
  activeConnections(out: C[]): C[] {
    out.length = 0;
    for (let i = 0; i < this.#ring.size; i++) {
      const turn = this.#ring.at(i);
      if (turn !== OWN && turn !== undefined && !turn.removed) out.push(turn.conn);
    }
    return out;
  }

  /** Connections in the ring can have changed deadlines: read them again (O(active)). */
  refreshActive(): void {
    for (let i = 0; i < this.#ring.size; i++) {
      const turn = this.#ring.at(i);
      if (turn !== OWN && turn !== undefined && !turn.removed) {
        this.#deadlines.set(turn, turn.conn.nextTimeout());
      }
    }
  }
}
