/**
 * The target policy, asked once per (address, port) and remembered: a bound tunnel checks the
 * destination of every datagram on its uncompressed context and the source of every datagram it
 * receives (connect-udp-listen §9: "the UDP proxy needs to perform checks
 * on the target of each uncompressed Context ID datagram"), so the rule walk must not run per
 * packet. The cache is bounded: when full it starts over (a policy is immutable, so an entry is
 * never stale, only evicted).
 */
import type { TargetPolicy } from '../connect-udp/policy.js';

export class PeerPolicyCache {
  readonly #policy: TargetPolicy;
  readonly #max: number;
  readonly #decisions = new Map<string, boolean>();

  constructor(policy: TargetPolicy, maxEntries = 4096) {
    this.#policy = policy;
    this.#max = maxEntries;
  }

  /** The policy behind the cache. */
  get policy(): TargetPolicy {
    return this.#policy;
  }

  /** Entries held now. */
  get size(): number {
    return this.#decisions.size;
  }

  /** Whether the proxy may exchange datagrams with `address`:`port` (an IP literal). */
  allowed(address: string, port: number): boolean {
    const key = `${address} ${port}`;
    const hit = this.#decisions.get(key);
    if (hit !== undefined) return hit;
    let ok: boolean;
    try {
      ok = this.#policy.check(address, port).allowed;
    } catch {
      ok = false; // not an address the policy can judge (e.g. a zone-scoped literal)
    }
    if (this.#decisions.size >= this.#max) this.#decisions.clear();
    this.#decisions.set(key, ok);
    return ok;
  }
}
