/**
 * The request streams of one connection whose header section has not completed: how many bytes
 * of incomplete HEADERS frames they hold (capped per connection, and against a shared
 * {@link HeaderBudget}), and by when the section must be complete.
 *
 * RFC 9114 §10.5: "An endpoint MAY ... limit ... the amount of state that it commits" to
 * incomplete messages; §8.1 names H3_REQUEST_INCOMPLETE for a stream that "terminated without
 * containing a fully formed request", which a request that never completes its header section
 * is, and H3_EXCESSIVE_LOAD for a peer "exhibiting a behavior that might be generating excessive
 * load". Both are stream errors here: the offending stream is reset, the connection lives on.
 */
import type { HeaderBudget } from './header-budget.js';

/** A stream as the watch sees it. */
export interface WatchedStream {
  /** Bytes of an incomplete HEADERS frame held by the stream's frame parser. */
  readonly incompleteHeaderBytes: number;
}

/** Why a stream must be refused now. */
export type HeaderRefusal = 'connection-cap' | 'shared-budget';

export class HeaderWatch<S extends WatchedStream> {
  readonly #limit: number;
  readonly #timeout: number;
  readonly #budget: HeaderBudget | undefined;
  /** Bytes counted per stream, for streams holding any. */
  readonly #held = new Map<S, number>();
  /** Deadline per stream still waiting for its header section. */
  readonly #deadlines = new Map<S, number>();
  #bytes = 0;
  /** Refusals and timeouts on this connection. */
  refused = 0;
  timedOut = 0;

  constructor(limit: number, timeout: number, budget: HeaderBudget | undefined) {
    this.#limit = limit;
    this.#timeout = timeout;
    this.#budget = budget;
  }

  /** Incomplete header bytes held on this connection. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A new request stream: its header section is due `timeout` ms after `now` (if known). */
  arm(s: S, now: number | undefined): void {
    if (now !== undefined && this.#timeout > 0) this.#deadlines.set(s, now + this.#timeout);
  }

  /**
   * Recounts the stream's held bytes after it received data; returns why it must be refused when
   * a cap would be exceeded (the stream's bytes are then not counted).
   */
  update(s: S): HeaderRefusal | undefined {
    const before = this.#held.get(s) ?? 0;
    const now = s.incompleteHeaderBytes;
    const delta = now - before;
    if (delta <= 0) {
      this.#set(s, before, now);
      return undefined;
    }
    if (this.#bytes + delta > this.#limit) return this.#refuse(s, 'connection-cap');
    if (this.#budget !== undefined && !this.#budget.take(delta)) {
      return this.#refuse(s, 'shared-budget');
    }
    this.#bytes += delta;
    this.#held.set(s, now);
    return undefined;
  }

  /** The stream's header section completed, or the stream is gone: forget it. */
  settle(s: S): void {
    this.#set(s, this.#held.get(s) ?? 0, 0);
    this.#deadlines.delete(s);
  }

  /** The earliest header deadline, if any stream is waiting. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const at of this.#deadlines.values()) if (next === undefined || at < next) next = at;
    return next;
  }

  /** Streams whose header section is overdue at `now` (forgotten here; counted as timed out). */
  expired(now: number): S[] {
    const out: S[] = [];
    for (const [s, at] of this.#deadlines) if (at <= now) out.push(s);
    for (const s of out) {
      this.settle(s);
      this.timedOut++;
      if (this.#budget !== undefined) this.#budget.timedOut++;
    }
    return out;
  }

  /** The connection is gone: give every byte back. */
  clear(): void {
    this.#budget?.release(this.#bytes);
    this.#bytes = 0;
    this.#held.clear();
    this.#deadlines.clear();
  }

  #refuse(s: S, why: HeaderRefusal): HeaderRefusal {
    this.settle(s);
    this.refused++;
    if (this.#budget !== undefined) this.#budget.refused++;
    return why;
  }

  /** Moves the stream's count from `before` to `after` bytes (after <= before). */
  #set(s: S, before: number, after: number): void {
    if (after === before) return;
    this.#bytes -= before - after;
    this.#budget?.release(before - after);
    if (after === 0) this.#held.delete(s);
    else this.#held.set(s, after);
  }
}
