/**
 * Connection IDs the PEER issued to us, which we put in the Destination Connection ID of the
 * packets we send (RFC 9000 §5.1.2, §19.15, §19.16), with their stateless reset tokens (§10.3).
 *
 * The connection feeds NEW_CONNECTION_ID frames to {@link PeerCids.onNewConnectionId}, sends the
 * RETIRE_CONNECTION_ID sequence numbers {@link PeerCids.pollRetire} yields, and reports their
 * fate with `onRetireAcked` / `onRetireLost`. Active CIDs number at most our
 * active_connection_id_limit (small), so plain arrays and linear scans are the right structure.
 */
import { RangeSet } from '../../util/range-set.js';
import { bytesEqual } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { STATELESS_RESET_TOKEN_LENGTH, tokensEqual } from '../path/stateless-reset.js';

const NEW_CONNECTION_ID = 0x18;
const MAX_RETIRED_RANGES = 64;

/** One connection ID issued by the peer. */
export interface PeerCid {
  /** Sequence number assigned by the peer (0 for the handshake CID, 1 for preferred_address). */
  readonly seq: number;
  /** The connection ID (a private copy). */
  readonly cid: Uint8Array;
  /** Its stateless reset token, when the peer provided one (16 bytes). */
  readonly resetToken: Uint8Array | undefined;
  /** True once we sent a packet with it (only then is its reset token checked, §10.3.1). */
  readonly used: boolean;
}

interface Entry {
  seq: number;
  cid: Uint8Array;
  resetToken: Uint8Array | undefined;
  used: boolean;
}

export interface PeerCidsOptions {
  /** The peer's handshake CID (its Source Connection ID), sequence number 0. */
  initialCid: Uint8Array;
  /** Stateless reset token of the handshake CID (a server's stateless_reset_token parameter). */
  initialResetToken?: Uint8Array;
  /** Our active_connection_id_limit transport parameter (at least 2). */
  activeLimit: number;
  /**
   * Most RETIRE_CONNECTION_ID frames queued or unacknowledged; more is treated as
   * CONNECTION_ID_LIMIT_ERROR. Default and minimum: twice `activeLimit` (§5.1.2 SHOULD).
   */
  maxPendingRetires?: number;
}

export class PeerCids {
  readonly #limit: number;
  readonly #maxPendingRetires: number;
  /** Active CIDs (issued, not retired by us). */
  readonly #active: Entry[] = [];
  #current: Entry | undefined;
  /** Largest Retire Prior To received. */
  #retirePriorTo = 0;
  /**
   * Sequence numbers we retired (RETIRE queued at least once). Mostly one contiguous range; if it
   * ever fragments past a bound the lowest ranges are forgotten, which can only cause a harmless
   * repeated RETIRE for a stale NEW_CONNECTION_ID.
   */
  readonly #retired = new RangeSet();
  /** RETIRE_CONNECTION_ID sequence numbers waiting to be sent. */
  readonly #retireQueue: number[] = [];
  /** RETIRE_CONNECTION_ID sequence numbers sent and not yet acknowledged. */
  readonly #retireInFlight: number[] = [];
  readonly #zeroLength: boolean;

  constructor(options: PeerCidsOptions) {
    this.#limit = Math.max(2, options.activeLimit);
    this.#maxPendingRetires = Math.max(2 * this.#limit, options.maxPendingRetires ?? 0);
    const first: Entry = {
      seq: 0,
      cid: options.initialCid.slice(),
      resetToken: options.initialResetToken?.slice(),
      used: true,
    };
    this.#active.push(first);
    this.#current = first;
    this.#zeroLength = options.initialCid.length === 0;
  }

  /** The CID in use as our Destination Connection ID; undefined when we have none left. */
  get current(): PeerCid | undefined {
    return this.#current;
  }

  /** Active CIDs (including the current one), in arrival order. */
  active(): readonly PeerCid[] {
    return this.#active;
  }

  /** Active CIDs we have not used yet (available for migration and probing, §9.5). */
  get unusedCount(): number {
    let n = 0;
    for (const e of this.#active) if (!e.used) n++;
    return n;
  }

  /** Largest Retire Prior To received from the peer. */
  get retirePriorTo(): number {
    return this.#retirePriorTo;
  }

  /** RETIRE_CONNECTION_ID frames queued or in flight. */
  get pendingRetires(): number {
    return this.#retireQueue.length + this.#retireInFlight.length;
  }

  /**
   * During the handshake the CID of sequence 0 changes (the client learns the server's SCID, or a
   * Retry's); replaces it. Only valid while no other CID was received.
   */
  replaceInitial(cid: Uint8Array): void {
    const first = this.#active[0];
    if (this.#active.length !== 1 || first.seq !== 0) {
      throw new Error('initial CID can only be replaced during the handshake');
    }
    first.cid = cid.slice();
  }

  /** The server's stateless_reset_token transport parameter, for sequence number 0 (§10.3). */
  setInitialResetToken(token: Uint8Array): void {
    const first = this.#active.find((e) => e.seq === 0);
    if (first) first.resetToken = token.slice();
  }

  /**
   * A NEW_CONNECTION_ID frame (RFC 9000 §19.15); also the server's preferred_address CID (sequence
   * 1, Retire Prior To 0). `cid` and `resetToken` may be views into a packet: they are copied.
   */
  onNewConnectionId(
    seq: number,
    retirePriorTo: number,
    cid: Uint8Array,
    resetToken: Uint8Array,
  ): void {
    // §19.15: "An endpoint that is sending packets with a zero-length Destination Connection ID
    // MUST treat receipt of a NEW_CONNECTION_ID frame as a connection error of type
    // PROTOCOL_VIOLATION."
    if (this.#zeroLength) {
      throw violation('NEW_CONNECTION_ID received while using a zero-length connection ID');
    }
    // §19.15: Retire Prior To greater than Sequence Number "MUST be treated as a connection error
    // of type FRAME_ENCODING_ERROR"; so must a length outside 1..20.
    if (retirePriorTo > seq) {
      throw new TransportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        `Retire Prior To ${retirePriorTo} exceeds Sequence Number ${seq}`,
        NEW_CONNECTION_ID,
      );
    }
    if (cid.length < 1 || cid.length > 20 || resetToken.length !== STATELESS_RESET_TOKEN_LENGTH) {
      throw new TransportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        'bad connection ID or reset token length',
        NEW_CONNECTION_ID,
      );
    }

    let isNew = false;
    const known = this.#find(seq);
    if (known) {
      // §19.15: a sequence number reused for a different CID (or token) MAY be PROTOCOL_VIOLATION.
      if (!bytesEqual(known.cid, cid) || !tokensEqual(known.resetToken ?? EMPTY, resetToken)) {
        throw violation(`sequence number ${seq} reused for a different connection ID`);
      }
    } else if (!this.#retired.has(seq)) {
      for (const e of this.#active) {
        // §19.15: a CID repeated with a different sequence number MAY be PROTOCOL_VIOLATION;
        // §10.3.2: so MAY one reset token used for two CIDs.
        if (bytesEqual(e.cid, cid)) throw violation('connection ID repeated with a new sequence');
        if (e.resetToken && tokensEqual(e.resetToken, resetToken)) {
          throw violation('stateless reset token repeated for a different connection ID');
        }
      }
      isNew = true;
    }

    // §5.1.2: the peer "MUST stop using the corresponding connection IDs and retire them with
    // RETIRE_CONNECTION_ID frames before adding the newly provided connection ID". Smaller
    // values than the largest seen are ignored (§19.15).
    if (retirePriorTo > this.#retirePriorTo) {
      this.#retirePriorTo = retirePriorTo;
      for (let i = this.#active.length - 1; i >= 0; i--) {
        if (this.#active[i].seq < retirePriorTo) this.#retireAt(i);
      }
    }
    if (isNew) {
      if (seq < this.#retirePriorTo) {
        // §19.15: a CID below a previous Retire Prior To "MUST [get] a corresponding
        // RETIRE_CONNECTION_ID frame".
        this.#markRetired(seq);
      } else {
        this.#active.push({ seq, cid: cid.slice(), resetToken: resetToken.slice(), used: false });
      }
    }
    if (this.#current === undefined) this.#switchToUnused();

    // §5.1.1: "if the number of active connection IDs exceeds the value advertised in its
    // active_connection_id_limit transport parameter, an endpoint MUST close the connection with
    // an error of type CONNECTION_ID_LIMIT_ERROR."
    if (this.#active.length > this.#limit) {
      throw new TransportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${this.#active.length} active connection IDs exceed our limit of ${this.#limit}`,
        NEW_CONNECTION_ID,
      );
    }
    // §5.1.2: having too many CIDs in need of retirement MAY be CONNECTION_ID_LIMIT_ERROR.
    if (this.pendingRetires > this.#maxPendingRetires) {
      throw new TransportError(
        TransportErrorCode.CONNECTION_ID_LIMIT_ERROR,
        `${this.pendingRetires} connection IDs awaiting retirement`,
        NEW_CONNECTION_ID,
      );
    }
  }

  /**
   * Switches to an unused CID (migration, or linkability after idle, §9.5) and retires the one in
   * use. Returns the new current CID, or undefined (nothing changes) when none is unused.
   */
  rotate(): PeerCid | undefined {
    const next = this.#lowestUnused();
    if (next === undefined) return undefined;
    const old = this.#current;
    next.used = true;
    this.#current = next;
    if (old) this.retire(old.seq);
    return next;
  }

  /**
   * Takes an unused CID for a probe on a new path (§9.1) without changing the current one.
   * Returns undefined when none is available.
   */
  takeUnused(): PeerCid | undefined {
    const next = this.#lowestUnused();
    if (next) next.used = true;
    return next;
  }

  /** Makes the active CID `seq` the current one (after a migration succeeded). */
  setCurrent(seq: number): boolean {
    const e = this.#find(seq);
    if (!e) return false;
    e.used = true;
    this.#current = e;
    return true;
  }

  /**
   * Retires the active CID `seq` (queues RETIRE_CONNECTION_ID). If it was current, the lowest
   * unused CID becomes current (or none). Returns false when `seq` is not active.
   */
  retire(seq: number): boolean {
    const i = this.#active.findIndex((e) => e.seq === seq);
    if (i < 0) return false;
    this.#retireAt(i);
    if (this.#current === undefined) this.#switchToUnused();
    return true;
  }

  /** Next RETIRE_CONNECTION_ID sequence number to send (it moves to "in flight"), if any. */
  pollRetire(): number | undefined {
    const seq = this.#retireQueue.shift();
    if (seq !== undefined) this.#retireInFlight.push(seq);
    return seq;
  }

  /** A RETIRE_CONNECTION_ID frame for `seq` was acknowledged. */
  onRetireAcked(seq: number): void {
    const i = this.#retireInFlight.indexOf(seq);
    if (i >= 0) this.#retireInFlight.splice(i, 1);
  }

  /** A RETIRE_CONNECTION_ID frame for `seq` was lost: it is queued again. */
  onRetireLost(seq: number): void {
    const i = this.#retireInFlight.indexOf(seq);
    if (i < 0) return;
    this.#retireInFlight.splice(i, 1);
    this.#retireQueue.push(seq);
  }

  /**
   * True when `tail` (the last 16 bytes of a datagram, see `statelessResetTail`) equals the
   * reset token of an active CID we have used (§10.3.1: tokens of unused or retired CIDs "MUST
   * NOT" be checked). Every candidate is compared in full, without an early exit.
   */
  isStatelessReset(tail: Uint8Array): boolean {
    if (tail.length !== STATELESS_RESET_TOKEN_LENGTH) return false;
    let hit = false;
    for (const e of this.#active) {
      if (e.used && e.resetToken !== undefined) hit = tokensEqual(e.resetToken, tail) || hit;
    }
    return hit;
  }

  #find(seq: number): Entry | undefined {
    for (const e of this.#active) if (e.seq === seq) return e;
    return undefined;
  }

  #lowestUnused(): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#active) if (!e.used && (!best || e.seq < best.seq)) best = e;
    return best;
  }

  #switchToUnused(): void {
    const next = this.#lowestUnused();
    if (next) next.used = true;
    this.#current = next;
  }

  #retireAt(i: number): void {
    const [e] = this.#active.splice(i, 1);
    if (e === this.#current) this.#current = undefined;
    this.#markRetired(e.seq);
  }

  /**
   * Queues a RETIRE for `seq` unless one was queued before (§19.15: "unless it has already done
   * so for that sequence number").
   */
  #markRetired(seq: number): void {
    if (this.#retired.has(seq)) return;
    this.#retired.add(seq);
    if (this.#retired.size > MAX_RETIRED_RANGES) this.#retired.keepHighest(MAX_RETIRED_RANGES);
    this.#retireQueue.push(seq);
  }
}

const EMPTY = new Uint8Array(0);

function violation(reason: string): TransportError {
  return new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, reason, NEW_CONNECTION_ID);
}
