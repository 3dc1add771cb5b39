/**
 * Path validation (RFC 9000 §8.2): the challenger side ({@link PathValidator}) and the responder
 * side ({@link PathResponder}). The connection decides which path each belongs to and builds the
 * PATH_CHALLENGE / PATH_RESPONSE frames from the 8-byte data these return.
 */
import type { Random } from '../../util/random.js';
import { bytesEqual } from '../../wire/index.js';

/** Length of PATH_CHALLENGE / PATH_RESPONSE data (RFC 9000 §19.17). */
export const PATH_CHALLENGE_LENGTH = 8;

export type PathValidationState = 'idle' | 'validating' | 'validated' | 'failed';

/** Outcome of {@link PathValidator.onResponse}. */
export type PathResponseResult =
  /** The path is validated, and a challenge in a datagram of 1200+ bytes proved its MTU. */
  | 'validated'
  /**
   * The path is validated but only small datagrams carried the matching challenge: §8.2.1 says
   * the endpoint "MUST initiate another path validation with an expanded datagram".
   */
  | 'validated-mtu-unverified'
  /** No outstanding challenge had this data (late, duplicate, or forged; §19.18 MAY close). */
  | 'no-match';

export interface PathValidatorOptions {
  /** Most challenges sent per validation (the first plus retries). Default 3. */
  maxChallenges?: number;
}

interface Challenge {
  data: Uint8Array;
  expanded: boolean;
}

/**
 * One path validation attempt at a time. Call `start`, then `pollChallenge(now, expanded)`
 * whenever sending on the path (it yields new data at most once per PTO), `onResponse` for each
 * PATH_RESPONSE (received on any path, §8.2.3), and `onTimeout(now)` when `deadline()` passes.
 */
export class PathValidator {
  readonly #random: Random;
  readonly #maxChallenges: number;
  #state: PathValidationState = 'idle';
  #challenges: Challenge[] = [];
  #pto = 0;
  /** When to send the next challenge (+Infinity when none is due or retries ran out). */
  #nextChallengeAt = Number.POSITIVE_INFINITY;
  /** When the attempt is abandoned. */
  #failAt = Number.POSITIVE_INFINITY;

  constructor(random: Random, options: PathValidatorOptions = {}) {
    this.#random = random;
    this.#maxChallenges = Math.max(1, options.maxChallenges ?? 3);
  }

  get state(): PathValidationState {
    return this.#state;
  }

  /** Challenges sent in the current attempt. */
  get challengesSent(): number {
    return this.#challenges.length;
  }

  /**
   * Starts (or restarts) validation. `pto` is the larger of the current PTO and the new path's
   * PTO from kInitialRtt; the attempt fails after 3 * pto (§8.2.4 RECOMMENDED), and challenges
   * are repeated at most once per `pto` (§8.2.1: no more often than Initial packets).
   */
  start(now: number, pto: number): void {
    this.#state = 'validating';
    this.#challenges = [];
    this.#pto = pto;
    this.#nextChallengeAt = now;
    this.#failAt = now + 3 * pto;
  }

  /** Gives up without failing the path (e.g. a migration superseded it, §8.2.4). */
  abandon(): void {
    if (this.#state === 'validating') this.#state = 'idle';
    this.#clearTimers();
  }

  /**
   * Data for a PATH_CHALLENGE to send now, or undefined when none is due. Every challenge gets
   * fresh data (§8.2.1: "MUST use unpredictable data in every PATH_CHALLENGE frame").
   * `expanded` says whether the datagram that will carry it is padded to 1200 bytes (§8.2.1).
   */
  pollChallenge(now: number, expanded: boolean): Uint8Array | undefined {
    if (this.#state !== 'validating' || now < this.#nextChallengeAt) return undefined;
    const data = new Uint8Array(PATH_CHALLENGE_LENGTH);
    this.#random.fill(data);
    this.#challenges.push({ data, expanded });
    this.#nextChallengeAt =
      this.#challenges.length >= this.#maxChallenges ? Number.POSITIVE_INFINITY : now + this.#pto;
    return data;
  }

  /** A PATH_RESPONSE arrived with `data`. */
  onResponse(data: Uint8Array): PathResponseResult {
    if (this.#state !== 'validating') return 'no-match';
    for (const c of this.#challenges) {
      if (!bytesEqual(c.data, data)) continue;
      // §8.2.3: "Path validation succeeds when a PATH_RESPONSE frame is received that contains
      // the data that was sent in a previous PATH_CHALLENGE frame."
      this.#state = 'validated';
      this.#clearTimers();
      this.#challenges = [];
      return c.expanded ? 'validated' : 'validated-mtu-unverified';
    }
    return 'no-match';
  }

  /** The next time `pollChallenge` or `onTimeout` has work, or undefined. */
  deadline(): number | undefined {
    if (this.#state !== 'validating') return undefined;
    return Math.min(this.#nextChallengeAt, this.#failAt);
  }

  /** Fails the attempt once 3 * PTO has passed (§8.2.4). Returns true when it just failed. */
  onTimeout(now: number): boolean {
    if (this.#state !== 'validating' || now < this.#failAt) return false;
    this.#state = 'failed';
    this.#clearTimers();
    this.#challenges = [];
    return true;
  }

  #clearTimers(): void {
    this.#nextChallengeAt = Number.POSITIVE_INFINITY;
    this.#failAt = Number.POSITIVE_INFINITY;
  }
}

/**
 * PATH_RESPONSEs owed to the peer. §8.2.2: "MUST respond by echoing the data" and "MUST NOT send
 * more than one PATH_RESPONSE frame in response to one PATH_CHALLENGE frame", so a response is
 * handed out once and never retransmitted; and "A PATH_RESPONSE frame MUST be sent on the network
 * path where the PATH_CHALLENGE frame was received", so each remembers the address it came from
 * (a probing packet from a new address does not move the connection, §9.3). Only the most recent
 * `capacity` are kept, so a challenge flood costs bounded memory.
 */
export class PathResponder {
  readonly #capacity: number;
  readonly #pending: OwedResponse[] = [];

  constructor(capacity = 4) {
    this.#capacity = Math.max(1, capacity);
  }

  get pending(): number {
    return this.#pending.length;
  }

  /**
   * A PATH_CHALLENGE arrived from `remote` in a datagram of `datagramSize` bytes (data may be a
   * view into the packet: it is copied).
   */
  onChallenge(data: Uint8Array, remote = '', datagramSize = 0): void {
    if (this.#pending.length >= this.#capacity) this.#pending.shift();
    this.#pending.push({ data: data.slice(), remote, datagramSize });
  }

  /** Data for the next PATH_RESPONSE owed on the path to `remote`, oldest first. */
  pollResponse(remote = ''): Uint8Array | undefined {
    const i = this.#pending.findIndex((r) => r.remote === remote || r.remote === '');
    if (i < 0) return undefined;
    return this.#pending.splice(i, 1)[0].data;
  }

  /** The oldest response owed on a path other than `current`, taken out. */
  takeOffPath(current: string): OwedResponse | undefined {
    const i = this.#pending.findIndex((r) => r.remote !== '' && r.remote !== current);
    if (i < 0) return undefined;
    return this.#pending.splice(i, 1)[0];
  }
}

/** A PATH_RESPONSE owed: the challenge's data, where it came from, and that datagram's size. */
export interface OwedResponse {
  readonly data: Uint8Array;
  readonly remote: string;
  readonly datagramSize: number;
}
