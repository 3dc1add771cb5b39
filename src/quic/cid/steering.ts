/**
 * Connection IDs that name the worker process holding their connection, so that the kernel can
 * hand a packet to that worker whatever address it comes from (issue 13, "every core"; nginx's
 * quic_bpf does the same with eBPF). N workers share one UDP port with SO_REUSEPORT; a classic
 * BPF program on the port (src/runtime/udp/reuseport-steering.ts) reads the last byte of a
 * packet's Destination Connection ID and picks worker `lastByte mod N`.
 *
 * Every CID a worker gives out ends in a byte congruent to its number: the CIDs of its connections
 * (RFC 9000 §5.1.1), the SCID of its Retry packets (the client's next Initial carries it as DCID,
 * §17.2.5.3) and the virtual target CIDs of QUIC-aware forwarding (quic-proxy §2.2, which arrive
 * on the same port). A client's very first Initial carries a DCID the client chose at random
 * (§7.2); its last byte picks some worker, the same for every Initial of that attempt, and that
 * worker's CIDs then steer the rest of the connection to it.
 *
 * Linkability (RFC 9000 §9.5): the byte is drawn at random among the values congruent to the
 * worker, so an observer learns log2(N) bits that every connection of that worker shares, never
 * one connection's identity; the other bytes stay random. QUIC-LB's plaintext algorithm reveals a
 * whole server ID the same way (draft-ietf-quic-load-balancers §5.2).
 */
import { type Random, randomBytes } from '../../util/random.js';

/** The most worker processes a one-byte mark can tell apart. */
export const MAX_STEERED_WORKERS = 256;

export class CidSteering {
  /** How many byte values steer to this worker. */
  readonly #choices: number;
  /**
   * True once the kernel steers the port's datagrams by these marks (the runtime sets it after
   * attaching the program): a datagram for another worker's CID is then no one's here.
   */
  enforced = false;

  /**
   * @param worker this process's worker number, 0-based (below `workers`)
   * @param workers how many workers share the port (1..256)
   */
  constructor(
    readonly worker: number,
    readonly workers: number,
  ) {
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_STEERED_WORKERS) {
      throw new RangeError(`CID steering: ${workers} workers is not 1..${MAX_STEERED_WORKERS}`);
    }
    if (!Number.isInteger(worker) || worker < 0 || worker >= workers) {
      throw new RangeError(`CID steering: worker ${worker} is not 0..${workers - 1}`);
    }
    this.#choices = Math.floor((255 - worker) / workers) + 1;
  }

  /**
   * Rewrites the last byte of `cid` (already random) to a value congruent to this worker, chosen
   * by the byte's old value; returns `cid`. An empty CID stays empty (it cannot steer).
   */
  mark(cid: Uint8Array): Uint8Array {
    const last = cid.length - 1;
    if (last >= 0) cid[last] = this.worker + (cid[last] % this.#choices) * this.workers;
    return cid;
  }

  /** A new CID of `length` random bytes, marked. */
  next(random: Random, length: number): Uint8Array {
    return this.mark(randomBytes(random, length));
  }

  /** The worker (0-based) a packet with Destination Connection ID `cid` reaches. */
  static workerOf(cid: Uint8Array, workers: number): number | undefined {
    return cid.length === 0 ? undefined : cid[cid.length - 1] % workers;
  }
}
