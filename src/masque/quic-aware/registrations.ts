/**
 * One QUIC-aware tunnel's connection ID registrations, proxy side (quic-proxy §5, §5.10),
 * sans-IO: the client's capsules in, the capsules to answer with out, and the mapping changes
 * told to a {@link RegistrationHooks} (the data path claims VCIDs on the endpoint, routes client
 * CIDs, keeps target Stateless Reset Tokens). A malformed capsule or a broken rule throws
 * CapsuleError: the stream is reset with H3_DATAGRAM_ERROR (RFC 9297 §3.3).
 *
 * Rules (quic-proxy-08 section, then the -09 notes where they differ):
 * - every REGISTER_* is answered with ACK_* or a rejection carrying its CID (§5.10); rejection is
 *   CLOSE_* in -07/-08 and REJECT_* in -09 (09-delta §1); reasons TOO_SHORT for CIDs below
 *   `minCidLength` (§5.8 MAY), CONFLICT for a prefix conflict on the target-facing socket (§5.8)
 *   or a CID we issued as a VCID (loop detection, §10.3);
 * - registrations have sequence numbers from 0; one at or beyond the advertised limit (initially
 *   2) is a violation (§5.9 "MUST NOT send a registration capsule with a sequence number greater
 *   than what the proxy advertises"); re-registering an active CID consumes a number unless
 *   `reregistrationIsFree` (the -09 reading, PR #170; 09-delta §2), and is never refused for the
 *   limit;
 * - MAX_CONNECTION_IDS only grows, and is sent so that `maxActive` registrations can be held;
 * - forwarding: ACK_CLIENT_CID carries a client VCID at least as long as the CID and never equal
 *   to it (§2.2), ACK_TARGET_CID a target VCID and our reset token for it; both unpredictable;
 *   toward the client we forward only after ACK_CLIENT_VCID for that exact VCID (§5.5); without
 *   forwarding VCIDs and tokens are empty (§5.3, §5.4);
 * - a re-registration (reason TOO_SHORT or CONFLICT: §5.9 "MUST either select a longer VCID or
 *   close"/"MUST select a different VCID") gets a new VCID; the old one stops being used;
 * - CLOSE_* from the client removes the mapping (§5.10.1); an unknown CID is ignored;
 * - `detachForwarding()` (client migration, 09-delta §2: "MUST remove forwarding rules") drops
 *   every VCID but keeps the registrations for tunnelled routing.
 */
import { CapsuleError } from '../../capsule/errors.js';
import {
  CidReason,
  INITIAL_CONNECTION_ID_LIMIT,
  type QuicProxyCapsule,
} from '../capsules/quic-proxy.js';
import { type CidMappingTable, cidKey } from './cid-table.js';
import type { VcidGenerator } from './vcid.js';

/** What the data path does when mappings change. */
export interface RegistrationHooks {
  /** Packets from the target carrying `cid` now belong to this tunnel (tunnelled, or forwarded once `clientVcidActive`). */
  clientCidAdded?(cid: Uint8Array): void;
  clientCidRemoved?(cid: Uint8Array): void;
  /** Forward packets for `cid` to the client with `vcid` (ACK_CLIENT_VCID received). */
  clientVcidActive?(cid: Uint8Array, vcid: Uint8Array): void;
  /** Stop forwarding with `vcid`. */
  clientVcidRetired?(cid: Uint8Array, vcid: Uint8Array): void;
  /** Client packets carrying `vcid` go to the target with `cid` (token: the target's, may be empty). */
  targetVcidAdded?(vcid: Uint8Array, cid: Uint8Array, token: Uint8Array): void;
  targetVcidRemoved?(vcid: Uint8Array, cid: Uint8Array): void;
  /** A target CID registered (its token recognises the target's stateless resets, §6.8.1). */
  targetCidAdded?(cid: Uint8Array, token: Uint8Array): void;
  targetCidRemoved?(cid: Uint8Array): void;
}

/** Options of {@link CidRegistrations}. */
export interface RegistrationOptions<T> {
  /** The proxy-wide table; `owner` identifies this tunnel in it. */
  readonly table: CidMappingTable<T>;
  readonly owner: T;
  /** The tunnel's target-facing socket (its key in the table). */
  readonly socket: string;
  /** Whether forwarded mode was negotiated for this tunnel. */
  readonly forwarding: boolean;
  readonly vcids: VcidGenerator;
  /**
   * Shortest client VCID: the length of the client's own CIDs on its connection to us, so its
   * endpoint can parse a forwarded short header (it reads the DCID with its CID length).
   */
  readonly clientVcidMinLength?: number;
  /** Length of target VCIDs: the proxy endpoint's CID length, so they can be claimed. */
  readonly targetVcidLength: number;
  /** Our Stateless Reset Token for a target VCID (the endpoint's key); undefined: none. */
  readonly resetTokenFor?: (vcid: Uint8Array) => Uint8Array | undefined;
  /** Whether `cid` is one of the proxy's own connection IDs (loop detection). */
  readonly ownCid?: (cid: Uint8Array) => boolean;
  /** CIDs shorter than this are refused with TOO_SHORT. Default 4. */
  readonly minCidLength?: number;
  /** Registrations held at once; MAX_CONNECTION_IDS follows it. Default 16. */
  readonly maxActive?: number;
  /** Re-registering an active CID does not consume a sequence number (-09 reading). */
  readonly reregistrationIsFree?: boolean;
  readonly hooks?: RegistrationHooks;
}

interface ClientEntry {
  readonly cid: Uint8Array;
  /** The VCID sent in ACK_CLIENT_CID, waiting for ACK_CLIENT_VCID, or active. */
  vcid: Uint8Array | undefined;
  active: boolean;
}

interface TargetEntry {
  readonly cid: Uint8Array;
  vcid: Uint8Array | undefined;
  readonly token: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export class CidRegistrations<T> {
  readonly #o: RegistrationOptions<T>;
  readonly #clients = new Map<string, ClientEntry>();
  readonly #targets = new Map<string, TargetEntry>();
  readonly #hooks: RegistrationHooks;
  /** Sequence numbers consumed. */
  #seq = 0;
  /** Registrations allowed in total (cumulative), as advertised. */
  #limit = INITIAL_CONNECTION_ID_LIMIT;
  /** Rejections sent, by reason (for counters). */
  readonly rejected = { tooShort: 0, conflict: 0, loop: 0 };

  constructor(options: RegistrationOptions<T>) {
    this.#o = options;
    this.#hooks = options.hooks ?? {};
  }

  /** Registrations active now (client and target CIDs). */
  get active(): number {
    return this.#clients.size + this.#targets.size;
  }

  /** The cumulative limit advertised so far. */
  get limit(): number {
    return this.#limit;
  }

  /** The capsules to send when the tunnel opens: the first MAX_CONNECTION_IDS, if any. */
  start(): QuicProxyCapsule[] {
    return this.#credit();
  }

  /** A capsule from the client. Returns the answers; throws CapsuleError on a violation. */
  receive(c: QuicProxyCapsule): QuicProxyCapsule[] {
    switch (c.kind) {
      case 'register_client_cid':
        return [...this.#registerClient(c.cid, c.reason), ...this.#credit()];
      case 'register_target_cid':
        return [...this.#registerTarget(c.cid, c.token), ...this.#credit()];
      case 'ack_client_vcid':
        this.#ackClientVcid(c.cid, c.vcid);
        return [];
      case 'close_client_cid':
        this.#removeClient(cidKey(c.cid));
        return this.#credit();
      case 'close_target_cid':
        this.#removeTarget(cidKey(c.cid));
        return this.#credit();
      default:
        // The codec already refused proxy-only kinds from the client.
        throw new CapsuleError(`${c.kind} from the client`);
    }
  }

  /** Client migration: every forwarding rule goes (09-delta §2), registrations stay. */
  detachForwarding(): void {
    for (const e of this.#clients.values()) this.#retireClientVcid(e);
    for (const e of this.#targets.values()) this.#retireTargetVcid(e);
  }

  /** The tunnel ended: everything goes (§5.10.1). */
  close(): void {
    for (const key of [...this.#clients.keys()]) this.#removeClient(key);
    for (const key of [...this.#targets.keys()]) this.#removeTarget(key);
  }

  #consume(existing: boolean): void {
    if (existing && this.#o.reregistrationIsFree === true) return;
    if (this.#seq >= this.#limit && !existing) {
      throw new CapsuleError(
        `registration with sequence number ${this.#seq} beyond the limit of ${this.#limit}`,
      );
    }
    // A re-registration beyond the limit is tolerated (09-delta §2: safe whichever reading).
    this.#seq++;
  }

  #reject(
    kind: 'reject_client_cid' | 'reject_target_cid',
    cid: Uint8Array,
    reason: number,
  ): QuicProxyCapsule[] {
    if (reason === CidReason.TOO_SHORT) this.rejected.tooShort++;
    else this.rejected.conflict++;
    return [{ kind, reason, cid: cid.slice() }];
  }

  #loop(cid: Uint8Array): boolean {
    const o = this.#o;
    const loop = o.table.issued(cid) || o.ownCid?.(cid) === true;
    if (loop) this.rejected.loop++;
    return loop;
  }

  #registerClient(cid: Uint8Array, reason: number): QuicProxyCapsule[] {
    const o = this.#o;
    const key = cidKey(cid);
    const existing = this.#clients.get(key);
    this.#consume(existing !== undefined);
    if (existing === undefined) {
      if (cid.length < (o.minCidLength ?? 4)) {
        return this.#reject('reject_client_cid', cid, CidReason.TOO_SHORT);
      }
      if (this.#loop(cid) || o.table.conflicts(o.socket, cid, o.owner)) {
        return this.#reject('reject_client_cid', cid, CidReason.CONFLICT);
      }
      o.table.addClientCid(o.socket, cid, o.owner);
      const e: ClientEntry = { cid: cid.slice(), vcid: undefined, active: false };
      this.#clients.set(key, e);
      this.#hooks.clientCidAdded?.(e.cid);
      return [this.#ackClient(e, cid.length)];
    }
    // A re-registration: a new client VCID (§5.9), longer when the last was TOO_SHORT.
    const prev = existing.vcid?.length ?? cid.length;
    this.#retireClientVcid(existing);
    const length = reason === CidReason.TOO_SHORT ? Math.min(20, prev + 4) : prev;
    return [this.#ackClient(existing, Math.max(length, cid.length))];
  }

  #ackClient(e: ClientEntry, length: number): QuicProxyCapsule {
    if (!this.#o.forwarding) return { kind: 'ack_client_cid', cid: e.cid, vcid: EMPTY };
    const min = Math.max(this.#o.vcids.minLength, this.#o.clientVcidMinLength ?? 0);
    const vcid = this.#freshVcid(Math.min(20, Math.max(length, min)), e.cid);
    e.vcid = vcid;
    e.active = false;
    this.#o.table.issue(vcid, this.#o.owner);
    return { kind: 'ack_client_cid', cid: e.cid, vcid };
  }

  #ackClientVcid(cid: Uint8Array, vcid: Uint8Array): void {
    if (!this.#o.forwarding) throw new CapsuleError('ACK_CLIENT_VCID without forwarded mode');
    const e = this.#clients.get(cidKey(cid));
    if (e?.vcid === undefined || cidKey(e.vcid) !== cidKey(vcid)) {
      // Not a VCID we gave for this CID (perhaps one we replaced since): the client is out of
      // step; ignoring it keeps forwarding off for that VCID, which is always safe.
      return;
    }
    if (e.active) return;
    e.active = true;
    this.#hooks.clientVcidActive?.(e.cid, e.vcid);
  }

  #registerTarget(cid: Uint8Array, token: Uint8Array): QuicProxyCapsule[] {
    const o = this.#o;
    const key = cidKey(cid);
    const existing = this.#targets.get(key);
    this.#consume(existing !== undefined);
    if (existing === undefined) {
      if (cid.length < (o.minCidLength ?? 4)) {
        return this.#reject('reject_target_cid', cid, CidReason.TOO_SHORT);
      }
      if (this.#loop(cid)) return this.#reject('reject_target_cid', cid, CidReason.CONFLICT);
    } else {
      this.#retireTargetVcid(existing);
    }
    const e: TargetEntry = existing ?? { cid: cid.slice(), vcid: undefined, token: token.slice() };
    this.#targets.set(key, e);
    if (existing === undefined) this.#hooks.targetCidAdded?.(e.cid, e.token);
    if (!o.forwarding) return [{ kind: 'ack_target_cid', cid: e.cid, vcid: EMPTY, token: EMPTY }];
    const vcid = this.#freshVcid(o.targetVcidLength, e.cid);
    e.vcid = vcid;
    o.table.issue(vcid, o.owner);
    this.#hooks.targetVcidAdded?.(vcid, e.cid, e.token);
    return [{ kind: 'ack_target_cid', cid: e.cid, vcid, token: o.resetTokenFor?.(vcid) ?? EMPTY }];
  }

  #freshVcid(length: number, cid: Uint8Array): Uint8Array {
    const o = this.#o;
    for (;;) {
      const v = o.vcids.next(length);
      // Never equal to the CID it stands for (§2.2), never clashing with one in use.
      if (cidKey(v) !== cidKey(cid) && !o.table.issued(v) && o.ownCid?.(v) !== true) return v;
    }
  }

  #retireClientVcid(e: ClientEntry): void {
    if (e.vcid === undefined) return;
    if (e.active) this.#hooks.clientVcidRetired?.(e.cid, e.vcid);
    this.#o.table.withdraw(e.vcid);
    e.vcid = undefined;
    e.active = false;
  }

  #retireTargetVcid(e: TargetEntry): void {
    if (e.vcid === undefined) return;
    this.#hooks.targetVcidRemoved?.(e.vcid, e.cid);
    this.#o.table.withdraw(e.vcid);
    e.vcid = undefined;
  }

  #removeClient(key: string): void {
    const e = this.#clients.get(key);
    if (e === undefined) return;
    this.#retireClientVcid(e);
    this.#clients.delete(key);
    this.#o.table.removeClientCid(this.#o.socket, e.cid, this.#o.owner);
    this.#hooks.clientCidRemoved?.(e.cid);
  }

  #removeTarget(key: string): void {
    const e = this.#targets.get(key);
    if (e === undefined) return;
    this.#retireTargetVcid(e);
    this.#targets.delete(key);
    this.#hooks.targetCidRemoved?.(e.cid);
  }

  /** MAX_CONNECTION_IDS so that `maxActive` registrations can be held; only ever grows. */
  #credit(): QuicProxyCapsule[] {
    const want = this.#seq + Math.max(0, (this.#o.maxActive ?? 16) - this.active);
    // Send when at least half the window is used up, to keep capsules few (and >= 3, §5.7).
    if (
      want <= this.#limit ||
      want < 3 ||
      want - this.#limit < Math.ceil((this.#o.maxActive ?? 16) / 2)
    ) {
      return [];
    }
    this.#limit = want;
    return [{ kind: 'max_connection_ids', limit: want }];
  }
}
