/**
 * The endpoint's connection ID → connection table (RFC 9000 §5.2): exact byte match, one entry
 * per CID, and for each connection the set of CIDs routed to it so all can go when it closes.
 *
 * Keys are the CID bytes as a latin1 string (one char per byte), so a Map lookup costs one short
 * string build per packet; CIDs are at most 20 bytes in QUIC v1. Lookup, insert and delete are
 * O(1) average; removing a connection is O(its CIDs).
 */

/** The map key of a connection ID: one UTF-16 code unit per byte (O(length)). */
export function cidKey(cid: Uint8Array): string {
  return cidKeyAt(cid, 0, cid.length);
}

/** {@link cidKey} of `bytes[start, start + length)`, without a view (the short-header path). */
export function cidKeyAt(bytes: Uint8Array, start: number, length: number): string {
  // Our own CIDs are 8 bytes: one call makes a flat string, half the cost of the loop's concat
  // (one lookup per datagram received).
  if (length === 8) {
    const b = bytes;
    const i = start;
    return String.fromCharCode(
      b[i],
      b[i + 1],
      b[i + 2],
      b[i + 3],
      b[i + 4],
      b[i + 5],
      b[i + 6],
      b[i + 7],
    );
  }
  let s = '';
  for (let i = start; i < start + length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export class RoutingTable<C> {
  readonly #byCid = new Map<string, C>();
  readonly #cidsOf = new Map<C, Set<string>>();

  /** The connection `cid` routes to, if any. */
  get(cid: Uint8Array): C | undefined {
    return this.#byCid.get(cidKey(cid));
  }

  /** The connection a key from {@link cidKeyAt} routes to, if any. */
  getByKey(key: string): C | undefined {
    return this.#byCid.get(key);
  }

  /** True when `cid` routes somewhere. */
  has(cid: Uint8Array): boolean {
    return this.#byCid.has(cidKey(cid));
  }

  /**
   * Routes `cid` to `conn`. Returns false (and changes nothing) when the CID already routes to
   * another connection: a collision between random CIDs, which must not steal a live route.
   */
  add(cid: Uint8Array, conn: C): boolean {
    const key = cidKey(cid);
    const owner = this.#byCid.get(key);
    if (owner !== undefined && owner !== conn) return false;
    this.#byCid.set(key, conn);
    let set = this.#cidsOf.get(conn);
    if (set === undefined) {
      set = new Set();
      this.#cidsOf.set(conn, set);
    }
    set.add(key);
    return true;
  }

  /** Removes the route of `cid` if it belongs to `conn`. */
  remove(cid: Uint8Array, conn: C): void {
    const key = cidKey(cid);
    if (this.#byCid.get(key) !== conn) return;
    this.#byCid.delete(key);
    this.#cidsOf.get(conn)?.delete(key);
  }

  /** Removes every route of `conn`. */
  removeConnection(conn: C): void {
    const set = this.#cidsOf.get(conn);
    if (set === undefined) return;
    for (const key of set) if (this.#byCid.get(key) === conn) this.#byCid.delete(key);
    this.#cidsOf.delete(conn);
  }

  /** How many CIDs route to `conn`. */
  countFor(conn: C): number {
    return this.#cidsOf.get(conn)?.size ?? 0;
  }

  /** Number of routed CIDs. */
  get size(): number {
    return this.#byCid.size;
  }
}
