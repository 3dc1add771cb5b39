/**
 * How many server connections each source address holds, and how many of them are still
 * half-open (handshaking), so the endpoint can refuse a new one cheaply before it costs a TLS
 * server flight (issue 10: one client answering every Retry built 1,574 half-open connections
 * in 20 s). A source is the client's IP address without the port, as `addressHost` gives it:
 * ports are free to a client, addresses are not.
 *
 * RFC 9000 §8: address validation protects against amplification, not against a validated
 * client that opens many connections; §21.1.1.1 leaves limits on connection state to the
 * server. Counting is O(1) per change: the endpoint reports when a connection leaves the
 * handshake (`settle`) and when it is removed (`remove`).
 */

/** Limits of {@link Admission}; each `Infinity` when unset. */
export interface AdmissionLimits {
  /** Server connections at once, over every source. */
  readonly maxConnections: number;
  /** Server connections at once from one source address. */
  readonly maxConnectionsPerSource: number;
  /** Half-open server connections at once, over every source. */
  readonly maxHalfOpen: number;
  /** Half-open server connections at once from one source address. */
  readonly maxHalfOpenPerSource: number;
}

/** Why a new connection may not be admitted now. */
export type AdmissionRefusal =
  | 'connection-limit'
  | 'source-connection-limit'
  | 'half-open-limit'
  | 'source-half-open-limit';

interface SourceCount {
  connections: number;
  halfOpen: number;
}

interface Admitted {
  readonly source: string;
  halfOpen: boolean;
}

export class Admission<C> {
  readonly limits: AdmissionLimits;
  readonly #bySource = new Map<string, SourceCount>();
  readonly #admitted = new Map<C, Admitted>();
  #halfOpen = 0;

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = {
      maxConnections: limits.maxConnections ?? Number.POSITIVE_INFINITY,
      maxConnectionsPerSource: limits.maxConnectionsPerSource ?? Number.POSITIVE_INFINITY,
      maxHalfOpen: limits.maxHalfOpen ?? Number.POSITIVE_INFINITY,
      maxHalfOpenPerSource: limits.maxHalfOpenPerSource ?? Number.POSITIVE_INFINITY,
    };
  }

  /** Server connections admitted and not removed. */
  get connections(): number {
    return this.#admitted.size;
  }

  /** Admitted server connections still handshaking. */
  get halfOpen(): number {
    return this.#halfOpen;
  }

  /** Half-open connections from `source`. */
  halfOpenFrom(source: string): number {
    return this.#bySource.get(source)?.halfOpen ?? 0;
  }

  /** Whether a connection-count limit refuses a new connection from `source` (`total`: all owned). */
  connectionRefusal(source: string, total: number): AdmissionRefusal | undefined {
    if (total >= this.limits.maxConnections) return 'connection-limit';
    const n = this.#bySource.get(source)?.connections ?? 0;
    if (n >= this.limits.maxConnectionsPerSource) return 'source-connection-limit';
    return undefined;
  }

  /** Whether a half-open limit refuses a new connection from `source`. */
  halfOpenRefusal(source: string): AdmissionRefusal | undefined {
    if (this.#halfOpen >= this.limits.maxHalfOpen) return 'half-open-limit';
    if (this.halfOpenFrom(source) >= this.limits.maxHalfOpenPerSource) {
      return 'source-half-open-limit';
    }
    return undefined;
  }

  /** A new server connection from `source`, half-open until {@link settle}. */
  admit(conn: C, source: string): void {
    if (this.#admitted.has(conn)) return;
    this.#admitted.set(conn, { source, halfOpen: true });
    const count = this.#bySource.get(source);
    if (count === undefined) this.#bySource.set(source, { connections: 1, halfOpen: 1 });
    else {
      count.connections++;
      count.halfOpen++;
    }
    this.#halfOpen++;
  }

  /** The connection left the handshake (established, closing or gone): no longer half-open. */
  settle(conn: C): void {
    const a = this.#admitted.get(conn);
    if (a === undefined || !a.halfOpen) return;
    a.halfOpen = false;
    this.#halfOpen--;
    const count = this.#bySource.get(a.source);
    if (count !== undefined) count.halfOpen--;
  }

  /** The connection is gone. */
  remove(conn: C): void {
    const a = this.#admitted.get(conn);
    if (a === undefined) return;
    this.settle(conn);
    this.#admitted.delete(conn);
    const count = this.#bySource.get(a.source);
    if (count === undefined) return;
    count.connections--;
    if (count.connections <= 0) this.#bySource.delete(a.source);
  }
}
