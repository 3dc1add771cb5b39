/**
 * The proxy's CID-mapping table (quic-proxy §2.1, §2.2, §5.8), shared by every QUIC-aware tunnel
 * of a proxy, sans-IO.
 *
 * Client CIDs, per target-facing socket: packets from a target are routed to a tunnel by their
 * Destination Connection ID. Short headers do not carry its length, so two client CIDs on one
 * socket conflict when one "is equal to or a prefix of another" (§5.8; a zero-length CID
 * conflicts with every CID). A socket is shared only by tunnels that allowed port sharing (§4),
 * and never with non-QUIC flows (§5.10): the caller picks the socket, the table only keys by it.
 *
 * VCIDs: every VCID the proxy issued (client VCIDs toward clients, target VCIDs that clients
 * forward with) is remembered while in use. That is what loop detection rests on (the IETF 119
 * discussion that made VCIDs proxy-chosen): a client that registers, as a target CID, a CID we
 * issued would have us forward packets to ourselves; `issued()` lets the registration logic
 * refuse it, and the data path drops (and counts) packets that arrive carrying one where they
 * should not.
 */

/** Hex key of CID bytes (registrations and lookups, not per-packet paths). */
export function cidKey(cid: Uint8Array): string {
  let s = '';
  for (let i = 0; i < cid.length; i++) s += (cid[i] < 16 ? '0' : '') + cid[i].toString(16);
  return s;
}

interface SocketCids<T> {
  /** Registered client CIDs by key. */
  readonly byKey: Map<string, { readonly cid: Uint8Array; readonly owner: T }>;
  /** How many registered CIDs have each length (lookup tries each length). */
  readonly lengths: Map<number, number>;
}

export class CidMappingTable<T> {
  readonly #sockets = new Map<string, SocketCids<T>>();
  readonly #issued = new Map<string, T>();

  /** Client CIDs registered on target-facing socket `socket`. */
  clientCidCount(socket: string): number {
    return this.#sockets.get(socket)?.byKey.size ?? 0;
  }

  /**
   * Whether `cid` conflicts (§5.8: equal, or one a prefix of the other) with a client CID that
   * another owner registered on `socket`. The same owner re-registering the same CID is no
   * conflict.
   */
  conflicts(socket: string, cid: Uint8Array, owner: T): boolean {
    const s = this.#sockets.get(socket);
    if (s === undefined) return false;
    for (const e of s.byKey.values()) {
      if (isPrefix(e.cid, cid) || isPrefix(cid, e.cid)) {
        if (!(e.owner === owner && e.cid.length === cid.length)) return true;
      }
    }
    return false;
  }

  /** Maps `cid` on `socket` to `owner`; the caller checked {@link conflicts}. */
  addClientCid(socket: string, cid: Uint8Array, owner: T): void {
    let s = this.#sockets.get(socket);
    if (s === undefined) {
      s = { byKey: new Map(), lengths: new Map() };
      this.#sockets.set(socket, s);
    }
    const key = cidKey(cid);
    if (!s.byKey.has(key)) s.lengths.set(cid.length, (s.lengths.get(cid.length) ?? 0) + 1);
    s.byKey.set(key, { cid: cid.slice(), owner });
  }

  /** Unmaps `cid` on `socket` if `owner` holds it. */
  removeClientCid(socket: string, cid: Uint8Array, owner: T): void {
    const s = this.#sockets.get(socket);
    const key = cidKey(cid);
    const e = s?.byKey.get(key);
    if (s === undefined || e === undefined || e.owner !== owner) return;
    s.byKey.delete(key);
    const n = (s.lengths.get(cid.length) ?? 1) - 1;
    if (n === 0) s.lengths.delete(cid.length);
    else s.lengths.set(cid.length, n);
    if (s.byKey.size === 0) this.#sockets.delete(socket);
  }

  /**
   * The owner of the client CID that a short-header packet from a target carries (`packet[1..]`
   * begins with it), on `socket`. At most one registered CID can match (no two conflict).
   */
  routeFromTarget(socket: string, packet: Uint8Array): { owner: T; cidLength: number } | undefined {
    const s = this.#sockets.get(socket);
    if (s === undefined) return undefined;
    for (const len of s.lengths.keys()) {
      if (1 + len > packet.length) continue;
      const e = s.byKey.get(cidKey(packet.subarray(1, 1 + len)));
      if (e !== undefined) return { owner: e.owner, cidLength: len };
    }
    return undefined;
  }

  /** Remembers a VCID we issued, until {@link withdraw}. */
  issue(vcid: Uint8Array, owner: T): void {
    this.#issued.set(cidKey(vcid), owner);
  }

  /** Forgets a VCID we issued. */
  withdraw(vcid: Uint8Array): void {
    this.#issued.delete(cidKey(vcid));
  }

  /**
   * Whether `cid` equals, or is a prefix of / has as prefix, a VCID we issued and still use. A
   * zero-length CID is no VCID of ours (it would otherwise be a prefix of all of them): the
   * socket-level rules (sharing, our own address) are what guard it.
   */
  issued(cid: Uint8Array): boolean {
    if (cid.length === 0) return false;
    if (this.#issued.has(cidKey(cid))) return true;
    for (const key of this.#issued.keys()) {
      const k = key.length / 2;
      if (k < cid.length ? cidKey(cid.subarray(0, k)) === key : key.startsWith(cidKey(cid))) {
        return true;
      }
    }
    return false;
  }

  /** VCIDs issued and in use. */
  get issuedCount(): number {
    return this.#issued.size;
  }
}

function isPrefix(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
