/**
 * Connection IDs WE issue, which the peer puts in the Destination Connection ID of packets it
 * sends us (RFC 9000 §5.1.1, §19.15, §19.16).
 *
 * Each change is also queued as a {@link LocalCidEvent}: the endpoint drains them to keep its
 * CID → connection routing table current, and a MASQUE proxy layer uses the same feed to follow
 * a client connection's CIDs as they change. Active CIDs number at most the peer's
 * active_connection_id_limit (small), so plain arrays and linear scans fit.
 */
import type { Random } from '../../util/random.js';
import { bytesEqual } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';

const RETIRE_CONNECTION_ID = 0x19;

/** One connection ID we issued. */
export interface LocalCid {
  /** Sequence number (0 for the handshake CID; 1 if sent in preferred_address, §5.1.1). */
  readonly seq: number;
  /** The connection ID. */
  readonly cid: Uint8Array;
  /** Its stateless reset token (16 bytes), from the injected `resetTokenFor`. */
  readonly resetToken: Uint8Array;
}

/** A change in the set of CIDs the peer may address us with. */
export type LocalCidEvent =
  | { readonly kind: 'added'; readonly entry: LocalCid }
  | { readonly kind: 'removed'; readonly entry: LocalCid };

export interface LocalCidsOptions {
  /** Length of the CIDs we issue, 0..20; 0 means we never issue more (§5.1.1). */
  cidLength: number;
  /** Randomness for new CIDs. */
  random: Random;
  /** Stateless reset token of a CID (e.g. `StatelessResetKey.tokenFor`, §10.3.2). */
  resetTokenFor: (cid: Uint8Array) => Uint8Array;
  /** The handshake CID (our first Source Connection ID); generated when absent. */
  initialCid?: Uint8Array;
  /**
   * Makes a new CID (e.g. a QUIC-LB encoder); defaults to `cidLength` random bytes. Must return
   * `cidLength` bytes.
   */
  generateCid?: (random: Random) => Uint8Array;
  /** True when a candidate CID is already routed to some connection (endpoint-wide check). */
  isTaken?: (cid: Uint8Array) => boolean;
  /** Our own cap on CIDs active at once, applied below the peer's limit. Default 8. */
  maxActive?: number;
}

const MAX_GENERATE_ATTEMPTS = 16;

export class LocalCids {
  readonly #length: number;
  readonly #random: Random;
  readonly #resetTokenFor: (cid: Uint8Array) => Uint8Array;
  readonly #generate: ((random: Random) => Uint8Array) | undefined;
  readonly #isTaken: ((cid: Uint8Array) => boolean) | undefined;
  readonly #maxActive: number;
  /** CIDs issued and not retired by the peer, ascending sequence numbers. */
  readonly #active: LocalCid[] = [];
  readonly #initial: LocalCid;
  #nextSeq = 0;
  #retirePriorTo = 0;
  /** The peer's active_connection_id_limit (default 2 when absent, §18.2). */
  #peerLimit = 2;
  #events: LocalCidEvent[] = [];

  constructor(options: LocalCidsOptions) {
    if (!(options.cidLength >= 0 && options.cidLength <= 20)) {
      throw new RangeError(`connection ID length ${options.cidLength} outside 0..20`);
    }
    this.#length = options.cidLength;
    this.#random = options.random;
    this.#resetTokenFor = options.resetTokenFor;
    this.#generate = options.generateCid;
    this.#isTaken = options.isTaken;
    this.#maxActive = Math.max(2, options.maxActive ?? 8);
    const cid = options.initialCid ? options.initialCid.slice() : this.#newCid();
    this.#initial = this.#add(cid);
  }

  /** The handshake CID (sequence 0), even after it was retired. */
  get initial(): LocalCid {
    return this.#initial;
  }

  /** Retire Prior To value for NEW_CONNECTION_ID frames we send. */
  get retirePriorTo(): number {
    return this.#retirePriorTo;
  }

  /** Sequence number the next issued CID gets. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** How many CIDs the peer may hold at once: min(its limit, our cap). */
  get limit(): number {
    return Math.min(this.#peerLimit, this.#maxActive);
  }

  /** CIDs counted against the peer's limit: not retired, and not below Retire Prior To. */
  get activeCount(): number {
    let n = 0;
    for (const e of this.#active) if (e.seq >= this.#retirePriorTo) n++;
    return n;
  }

  /** Every CID we still accept packets on (including ones awaiting retirement), ascending. */
  active(): readonly LocalCid[] {
    return this.#active;
  }

  /** The active CID with sequence number `seq` (to resend a lost NEW_CONNECTION_ID), if any. */
  get(seq: number): LocalCid | undefined {
    for (const e of this.#active) if (e.seq === seq) return e;
    return undefined;
  }

  /** Sequence number of the active CID equal to `cid`, if any. */
  seqOf(cid: Uint8Array): number | undefined {
    for (const e of this.#active) if (bytesEqual(e.cid, cid)) return e.seq;
    return undefined;
  }

  /**
   * The peer's active_connection_id_limit transport parameter. §18.2: a value below 2 "MUST
   * [be met with] an error of type TRANSPORT_PARAMETER_ERROR".
   */
  setPeerLimit(limit: number): void {
    if (!(limit >= 2)) {
      throw new TransportError(
        TransportErrorCode.TRANSPORT_PARAMETER_ERROR,
        `active_connection_id_limit ${limit} is below 2`,
      );
    }
    this.#peerLimit = limit;
  }

  /**
   * Issues up to `count` new CIDs (default: as many as the limit allows) and returns them; each
   * becomes a NEW_CONNECTION_ID frame carrying {@link retirePriorTo}. §5.1.1: "An endpoint MUST
   * NOT provide more connection IDs than the peer's limit." With zero-length CIDs nothing is
   * issued (§5.1.1).
   */
  issue(count = Number.POSITIVE_INFINITY): LocalCid[] {
    const out: LocalCid[] = [];
    if (this.#length === 0) return out;
    const n = Math.min(count, this.limit - this.activeCount);
    for (let i = 0; i < n; i++) out.push(this.#add(this.#newCid()));
    return out;
  }

  /**
   * A RETIRE_CONNECTION_ID frame for `seq`, found in a packet whose Destination Connection ID was
   * `packetDcid`. Returns the retired CID, or undefined when it was already retired. The
   * endpoint SHOULD then `issue()` a replacement (§5.1.1).
   */
  onRetire(seq: number, packetDcid: Uint8Array): LocalCid | undefined {
    // §19.16: "An endpoint that provides a zero-length connection ID MUST treat receipt of a
    // RETIRE_CONNECTION_ID frame as a connection error of type PROTOCOL_VIOLATION."
    if (this.#length === 0) throw violation('RETIRE_CONNECTION_ID for a zero-length CID');
    // §19.16: "Receipt of a RETIRE_CONNECTION_ID frame containing a sequence number greater than
    // any previously sent to the peer MUST be treated as a connection error of type
    // PROTOCOL_VIOLATION."
    if (seq >= this.#nextSeq) throw violation(`retired sequence ${seq} was never issued`);
    const i = this.#active.findIndex((e) => e.seq === seq);
    if (i < 0) return undefined;
    const entry = this.#active[i];
    // §19.16: the frame "MUST NOT refer to the Destination Connection ID field of the packet in
    // which the frame is contained. The peer MAY treat this as ... PROTOCOL_VIOLATION."
    if (bytesEqual(entry.cid, packetDcid)) {
      throw violation(`sequence ${seq} is the Destination Connection ID of its own packet`);
    }
    this.#active.splice(i, 1);
    this.#events.push({ kind: 'removed', entry });
    return entry;
  }

  /**
   * Asks the peer to retire every CID issued so far and issues replacements carrying the new
   * Retire Prior To (the peer may then briefly hold more than its limit, §5.1.1). Returns
   * undefined when a previous rotation is still being retired (§5.1.2: "SHOULD NOT issue updates
   * of the Retire Prior To field before receiving RETIRE_CONNECTION_ID frames that retire all
   * connection IDs indicated by the previous Retire Prior To value"), or with zero-length CIDs.
   */
  rotate(): LocalCid[] | undefined {
    if (this.#length === 0) return undefined;
    for (const e of this.#active) if (e.seq < this.#retirePriorTo) return undefined;
    this.#retirePriorTo = this.#nextSeq;
    return this.issue();
  }

  /** Returns and clears the queued routing events, oldest first. */
  drainEvents(): LocalCidEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }

  #add(cid: Uint8Array): LocalCid {
    const resetToken = this.#resetTokenFor(cid);
    if (resetToken.length !== 16) throw new RangeError('reset token must be 16 bytes');
    const entry: LocalCid = { seq: this.#nextSeq++, cid, resetToken };
    this.#active.push(entry);
    this.#events.push({ kind: 'added', entry });
    return entry;
  }

  /** A fresh CID: "the same connection ID MUST NOT be issued more than once" (§5.1). */
  #newCid(): Uint8Array {
    if (this.#length === 0) return new Uint8Array(0);
    for (let attempt = 0; attempt < MAX_GENERATE_ATTEMPTS; attempt++) {
      const cid = this.#generate ? this.#generate(this.#random) : new Uint8Array(this.#length);
      if (!this.#generate) this.#random.fill(cid);
      if (cid.length !== this.#length) throw new RangeError('generated CID has the wrong length');
      // Only active CIDs are compared: with 8+ random bytes a repeat of a retired one is
      // negligible (2^-64 per pair).
      if (this.seqOf(cid) !== undefined || this.#isTaken?.(cid)) continue;
      return cid;
    }
    throw new Error('could not generate an unused connection ID');
  }
}

function violation(reason: string): TransportError {
  return new TransportError(TransportErrorCode.PROTOCOL_VIOLATION, reason, RETIRE_CONNECTION_ID);
}
