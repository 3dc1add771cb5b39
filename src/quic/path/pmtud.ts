/**
 * Datagram Packetization Layer PMTU Discovery (DPLPMTUD, RFC 8899) for one network path, as QUIC
 * uses it (RFC 9000 §14.3): sans-IO, sizes are UDP payload bytes, times ms. The connection owns
 * one per path, asks it what to probe, sends the probe (an ack-eliciting PING + PADDING packet of
 * exactly that size, RFC 9000 §14.4) and reports what became of it and of the other packets.
 *
 * States (RFC 8899 §5.2): `disabled` (the ceiling leaves nothing to search), `base` (BASE_PLPMTU
 * in use, waiting for an acknowledgment to confirm it), `searching`, `search-complete`. QUIC
 * enters BASE when the handshake completes (RFC 9000 §14.3.1); the handshake's 1200-byte Initial
 * datagrams already proved BASE_PLPMTU, so the search starts at once. There is no ERROR state: a
 * path that cannot carry 1200 bytes is left to QUIC's loss detection and idle timeout.
 *
 * Search (RFC 8899 §5.3): one probe at a time, at most MAX_PROBES per size (§5.1.2). While no
 * size failed, it climbs a short table of likely plateaus ending with the ceiling (§5.3.2: the
 * common Ethernet size first, so a 1500-byte path costs one probe); once a size failed it bisects
 * between the largest acknowledged size and the smallest failed one until they are
 * SEARCH_GRANULARITY bytes apart. An acknowledged probe raises the PLPMTU at once (§5.3.1).
 * From SEARCH_COMPLETE below the ceiling, PMTU_RAISE_TIMER starts a new search (§5.1.1); QUIC
 * needs no CONFIRMATION_TIMER (RFC 9000 §14.3.2).
 *
 * Black holes (RFC 8899 §4.3): a loss event (one ACK's or one timer's losses) is suspect when it
 * lost a packet larger than BASE_PLPMTU, sent at the current PLPMTU, after which no packet at
 * least as large is known to have arrived. BLACK_HOLE_THRESHOLD suspect events without such an
 * acknowledgment in between mean the path no longer carries the PLPMTU: fall back to BASE_PLPMTU
 * and, once BASE is confirmed, search again below the size that failed. Congestion losses do not
 * qualify as long as later full-size packets get through.
 */

/** BASE_PLPMTU = MIN_PLPMTU: QUIC's smallest maximum datagram size (RFC 9000 §14.3, §14). */
export const BASE_PLPMTU = 1200;
/** The largest UDP payload (RFC 9000 §18.2: max_udp_payload_size at most 65527). */
export const MAX_PLPMTU = 65_527;
/** Default search ceiling: 1500-byte Ethernet less IPv6 (40) and UDP (8) headers. */
export const DEFAULT_PLPMTU_CEILING = 1452;
/** MAX_PROBES (RFC 8899 §5.1.2: default 3): probes of one size before it is deemed too large. */
export const MAX_PROBES = 3;
/** PMTU_RAISE_TIMER (RFC 8899 §5.1.1: default 600 s), ms. */
export const PMTU_RAISE_INTERVAL = 600_000;
/** The search stops once the largest good and the smallest failed size are this close. */
export const SEARCH_GRANULARITY = 8;
/** Suspect loss events that declare a black hole. */
export const BLACK_HOLE_THRESHOLD = 3;
/** Sizes tried in order before any failure (RFC 8899 §5.3.2), then the ceiling. */
const PLATEAUS = [1452, 8952] as const;

export type PmtudState = 'disabled' | 'base' | 'searching' | 'search-complete';

/** Options of {@link PmtuDiscovery}. */
export interface PmtudOptions {
  /** MAX_PLPMTU of the search (clamped into 1200..65527); at or below 1200 nothing is probed. */
  ceiling: number;
  /** PMTU_RAISE_TIMER in ms (default 600,000; 0 or Infinity: never search again). */
  raiseInterval?: number;
}

/** What PMTU discovery counted on this path. */
export interface PmtudCounters {
  probesSent: number;
  probesAcked: number;
  probesLost: number;
  blackHoles: number;
}

/** A probe on its way: the connection keeps its id with the packet. */
interface Probe {
  readonly id: number;
  readonly size: number;
}

export class PmtuDiscovery {
  #state: PmtudState = 'base';
  #ceiling: number;
  readonly #raiseInterval: number;
  /** PLPMTU: the largest datagram the path is known to carry (the maximum datagram size). */
  #current = BASE_PLPMTU;
  /** When `#current` last changed: only packets sent since then say anything about it. */
  #currentSince = Number.NEGATIVE_INFINITY;
  #started = false;
  /** Search bounds: the largest acknowledged size, the smallest size that failed (0: none). */
  #lo = BASE_PLPMTU;
  #hi = 0;
  /** PROBED_SIZE and PROBE_COUNT (RFC 8899 §5.1.3), the outstanding probe. */
  #probedSize = 0;
  #probeCount = 0;
  #probe: Probe | undefined;
  #nextId = 1;
  #raiseAt: number | undefined;
  /** The latest-sent acknowledged packet above BASE: when it was sent, and its size. */
  #bigAckSentAt = Number.NEGATIVE_INFINITY;
  #bigAckSize = 0;
  /** The current run of suspect loss events: count, smallest suspect size, first send time. */
  #suspects = 0;
  #suspectSize = Number.POSITIVE_INFINITY;
  #suspectSince = Number.POSITIVE_INFINITY;
  readonly counters: PmtudCounters = {
    probesSent: 0,
    probesAcked: 0,
    probesLost: 0,
    blackHoles: 0,
  };

  constructor(options: PmtudOptions) {
    this.#ceiling = clampCeiling(options.ceiling);
    const every = options.raiseInterval ?? PMTU_RAISE_INTERVAL;
    this.#raiseInterval = every > 0 ? every : Number.POSITIVE_INFINITY;
    if (this.#ceiling <= BASE_PLPMTU) this.#state = 'disabled';
  }

  get state(): PmtudState {
    return this.#state;
  }

  /** The PLPMTU: the largest UDP payload to send outside probes. */
  get current(): number {
    return this.#current;
  }

  /** MAX_PLPMTU: the search never goes above it. */
  get ceiling(): number {
    return this.#ceiling;
  }

  /** True once a search ended (until a raise timer or a black hole starts another). */
  get searchComplete(): boolean {
    return this.#state === 'search-complete';
  }

  /**
   * Lowers the ceiling (the peer's max_udp_payload_size, RFC 9000 §18.2). A PLPMTU above it
   * comes down to it at once.
   */
  limitCeiling(max: number, now: number): void {
    const c = clampCeiling(max);
    if (c >= this.#ceiling) return;
    this.#ceiling = c;
    if (this.#current > c) this.#setCurrent(c, now);
    if (c <= BASE_PLPMTU) {
      this.#state = 'disabled';
      this.#raiseAt = undefined;
      this.#probe = undefined;
    } else if (this.#state === 'searching' || this.#state === 'search-complete') {
      this.#search(now, 0);
    }
  }

  /**
   * The path may be probed: the handshake is confirmed (RFC 9000 §14.3.1), or a new path was
   * validated. Idempotent.
   */
  start(now: number): void {
    if (this.#started || this.#state === 'disabled') return;
    this.#started = true;
    this.#search(now, 0);
  }

  /** Size of the probe to send now, or undefined (none due, or one is outstanding). */
  nextProbe(): number | undefined {
    if (this.#state !== 'searching' || this.#probe !== undefined) return undefined;
    return this.#probedSize > 0 ? this.#probedSize : undefined;
  }

  /** A probe of `size` left: returns the id to report its fate with. */
  onProbeSent(size: number): number {
    const id = this.#nextId++;
    this.#probe = { id, size };
    this.counters.probesSent++;
    return id;
  }

  /** The probe `id` was acknowledged: its size becomes the PLPMTU (RFC 8899 §5.3.1). */
  onProbeAcked(id: number, size: number, timeSent: number, now: number): void {
    this.#evidence(size, timeSent);
    const p = this.#probe;
    if (p === undefined || p.id !== id) return; // Stale: a reset or a late ACK after its loss.
    this.#probe = undefined;
    this.counters.probesAcked++;
    this.#lo = p.size;
    if (p.size > this.#current) this.#setCurrent(p.size, now);
    this.#pickNext(now);
  }

  /** The probe `id` was declared lost (no congestion signal, RFC 9000 §14.4). */
  onProbeLost(id: number, now: number): void {
    const p = this.#probe;
    if (p === undefined || p.id !== id) return;
    this.#probe = undefined;
    this.counters.probesLost++;
    this.#probeCount++;
    if (this.#probeCount < MAX_PROBES) return; // Sent again at the same size.
    // RFC 8899 §5.1.2: MAX_PROBES lost probes of a size: it does not fit.
    this.#hi = p.size;
    this.#pickNext(now);
  }

  /** An in-flight packet other than a probe was acknowledged. */
  onPacketAcked(size: number, timeSent: number, now: number): void {
    this.#evidence(size, timeSent);
    // RFC 8899 §5.2: BASE is confirmed by an acknowledgment of a packet sent since the fallback.
    if (this.#state === 'base' && this.#started && timeSent >= this.#currentSince) {
      this.#search(now, this.#hi);
    }
  }

  /**
   * In-flight packets other than probes that one ACK or one loss timer declared lost (one loss
   * event). Returns true when they revealed a black hole, and the PLPMTU fell back to BASE.
   */
  onPacketsLost(
    lost: ReadonlyArray<{ readonly size: number; readonly timeSent: number }>,
    now: number,
  ): boolean {
    const cur = this.#current;
    if (cur <= BASE_PLPMTU || this.#state === 'base' || this.#state === 'disabled') return false;
    let suspect = false;
    for (const p of lost) {
      if (p.size <= BASE_PLPMTU || p.size > cur || p.timeSent < this.#currentSince) continue;
      // A packet at least as large, sent later, arrived: this loss is not the path's MTU.
      if (this.#bigAckSentAt > p.timeSent && this.#bigAckSize >= p.size) continue;
      suspect = true;
      if (p.size < this.#suspectSize) this.#suspectSize = p.size;
      if (p.timeSent < this.#suspectSince) this.#suspectSince = p.timeSent;
    }
    if (!suspect) return false;
    if (++this.#suspects < BLACK_HOLE_THRESHOLD) return false;
    // RFC 8899 §4.3, §5.2: a black hole: back to BASE_PLPMTU, then search below what failed.
    this.counters.blackHoles++;
    this.#hi = cur;
    this.#lo = BASE_PLPMTU;
    this.#probe = undefined;
    this.#raiseAt = undefined;
    this.#state = 'base';
    this.#setCurrent(BASE_PLPMTU, now);
    return true;
  }

  /** PMTU_RAISE_TIMER, when armed. */
  deadline(): number | undefined {
    return this.#raiseAt;
  }

  /** Time passed: a due PMTU_RAISE_TIMER starts a new search above the PLPMTU (§5.1.1). */
  onTimeout(now: number): void {
    if (this.#raiseAt === undefined || now < this.#raiseAt) return;
    this.#raiseAt = undefined;
    if (this.#state === 'search-complete') this.#search(now, 0);
  }

  /** Starts searching from the PLPMTU; `hi` is a size known to fail (0: none). */
  #search(now: number, hi: number): void {
    this.#state = 'searching';
    this.#lo = this.#current;
    this.#hi = hi;
    this.#probe = undefined;
    this.#pickNext(now);
  }

  /** Chooses PROBED_SIZE, or ends the search. */
  #pickNext(now: number): void {
    const lo = this.#lo;
    let next = 0;
    if (this.#hi === 0) {
      // No failure yet: the next plateau above what works, the ceiling last.
      for (const p of PLATEAUS) {
        if (p > lo && p < this.#ceiling) {
          next = p;
          break;
        }
      }
      if (next === 0 && lo < this.#ceiling) next = this.#ceiling;
    } else if (this.#hi - lo > SEARCH_GRANULARITY) {
      next = Math.floor((lo + this.#hi) / 2);
    }
    this.#probeCount = 0;
    if (next === 0) {
      this.#probedSize = 0;
      this.#state = 'search-complete';
      this.#raiseAt = this.#current < this.#ceiling ? now + this.#raiseInterval : undefined;
      if (this.#raiseAt === Number.POSITIVE_INFINITY) this.#raiseAt = undefined;
      return;
    }
    this.#probedSize = next;
  }

  /** A packet of `size` sent at `timeSent` arrived: what black hole detection weighs. */
  #evidence(size: number, timeSent: number): void {
    if (size <= BASE_PLPMTU) return;
    if (timeSent > this.#bigAckSentAt) {
      this.#bigAckSentAt = timeSent;
      this.#bigAckSize = size;
    }
    if (this.#suspects > 0 && size >= this.#suspectSize && timeSent > this.#suspectSince) {
      this.#clearSuspects();
    }
  }

  #clearSuspects(): void {
    this.#suspects = 0;
    this.#suspectSize = Number.POSITIVE_INFINITY;
    this.#suspectSince = Number.POSITIVE_INFINITY;
  }

  #setCurrent(size: number, now: number): void {
    this.#current = size;
    this.#currentSince = now;
    this.#clearSuspects();
  }
}

/** The ceiling within what QUIC allows (RFC 9000 §14: 1200; §18.2: 65527). */
function clampCeiling(n: number): number {
  if (!Number.isFinite(n)) return MAX_PLPMTU;
  return Math.max(BASE_PLPMTU, Math.min(MAX_PLPMTU, Math.floor(n)));
}
