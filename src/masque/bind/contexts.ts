/**
 * The proxy's Context ID table of one bound tunnel (connect-udp-listen §3, §4, §8.1), sans-IO: the
 * client's compression capsules in, the capsules to answer with (or a malformed-capsule verdict,
 * RFC 9297 §3.3) out; and the two lookups of the data path: what a client datagram's Context ID
 * means, and which Context ID an inbound datagram from a peer travels on, if any.
 *
 * Rules enforced (the section of connect-udp-listen in brackets):
 * - clients allocate even Context IDs, we odd ones (RFC 9298 §4); 0 is never assigned [§3.1];
 * - an ID is assigned at most once, even after it closed [§3.1, §3.3]: a repeat is malformed;
 * - one uncompressed context at a time [§4]: a second is malformed; it may be reopened with a
 *   new ID once closed;
 * - one context per (address, port) [§3.1]: the client assigning a tuple it already holds is
 *   malformed; a tuple we assigned too (a crossing) closes ours;
 * - registrations past `maxContexts`, or to targets the policy refuses, are answered with
 *   COMPRESSION_CLOSE [§9];
 * - we open no compressed context while the uncompressed one is closed [§3.1] (the firewall
 *   property: without it, only peers the client named get through);
 * - a COMPRESSION_ACK for an ID we did not assign, or a CLOSE of ID 0, is malformed [§3.2, §3.3];
 * - datagrams on a closed context are discarded silently [§3.3] (the caller counts them).
 */
import { CapsuleError } from '../../capsule/errors.js';
import {
  type CompressionAssign,
  type CompressionCapsule,
  CompressionCapsuleType,
} from '../capsules/compression.js';
import { bytesToIp, ipToBytes } from '../payload/ip.js';

/** A peer of the bound socket. */
export interface BindPeer {
  /** IP literal (canonical text: IPv4 dotted, IPv6 compressed lowercase). */
  readonly address: string;
  readonly port: number;
}

type Owner = 'client' | 'proxy';

interface Context {
  readonly id: number;
  readonly owner: Owner;
  /** Undefined for the uncompressed context. */
  readonly peer: BindPeer | undefined;
  /** A context we assigned waits for the client's ACK; the client's are open at once. */
  acked: boolean;
}

/** What a client datagram's Context ID means. */
export type DatagramRoute =
  /** The uncompressed context: the payload names its peer. */
  | { readonly kind: 'uncompressed' }
  /** A compressed context for `peer`. */
  | { readonly kind: 'compressed'; readonly peer: BindPeer }
  /** A context that was closed: discard silently [§3.3]. */
  | { readonly kind: 'closed' }
  /** Never assigned: drop (RFC 9298 §4 "MUST drop" unknown Context IDs). */
  | { readonly kind: 'unknown' };

/** How a datagram from a peer reaches the client. */
export type InboundRoute =
  | { readonly kind: 'compressed'; readonly contextId: number }
  | { readonly kind: 'uncompressed'; readonly contextId: number }
  /** No context can carry it (the firewall property): drop and count. */
  | { readonly kind: 'none' };

export interface BindContextsOptions {
  /** Open contexts at most (uncompressed included) [§9]. */
  readonly maxContexts: number;
  /** Whether the policy lets the client name this peer (targets of compressed contexts). */
  readonly allowPeer?: (peer: BindPeer) => boolean;
}

const peerKey = (p: BindPeer): string => `${p.address}|${p.port}`;

export class BindContexts {
  readonly #opts: BindContextsOptions;
  readonly #open = new Map<number, Context>();
  readonly #byPeer = new Map<string, Context>();
  /** Every ID ever assigned by either side (open or closed): none may be assigned again. */
  readonly #used = new Set<number>();
  #uncompressed: Context | undefined;
  #nextProxyId = 1;

  constructor(options: BindContextsOptions) {
    this.#opts = options;
  }

  /** Contexts open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Contexts we assigned that the client has not acknowledged yet. */
  get unacknowledged(): number {
    let n = 0;
    for (const c of this.#open.values()) if (!c.acked) n++;
    return n;
  }

  /** True while the client has an uncompressed context open. */
  get uncompressedOpen(): boolean {
    return this.#uncompressed !== undefined;
  }

  /**
   * A capsule from the client. Returns the capsules to send back; throws CapsuleError
   * (H3_DATAGRAM_ERROR) for a malformed one, which aborts the stream [§3.1, RFC 9297 §3.3].
   */
  receive(c: CompressionCapsule): CompressionCapsule[] {
    switch (c.type) {
      case CompressionCapsuleType.COMPRESSION_ASSIGN:
        return this.#onAssign(c);
      case CompressionCapsuleType.COMPRESSION_ACK: {
        const ctx = this.#open.get(c.contextId);
        if (ctx === undefined || ctx.owner !== 'proxy' || ctx.acked) {
          throw malformed(`COMPRESSION_ACK for Context ID ${c.contextId}, which we did not assign`);
        }
        ctx.acked = true;
        return [];
      }
      case CompressionCapsuleType.COMPRESSION_CLOSE:
        if (c.contextId === 0) throw malformed('COMPRESSION_CLOSE for Context ID 0');
        // Closing an ID that is not open (already closed, or never assigned) changes nothing.
        this.#close(c.contextId);
        return [];
    }
  }

  /**
   * Assigns a compressed context of ours for `peer` (e.g. a peer heard from often). Returns the
   * COMPRESSION_ASSIGN to send, or undefined when we may not: no uncompressed context [§3.1],
   * the tuple already has one, or the table is full.
   */
  assign(peer: BindPeer): CompressionAssign | undefined {
    if (this.#uncompressed === undefined) return undefined;
    if (this.#byPeer.has(peerKey(peer)) || this.#open.size >= this.#opts.maxContexts) {
      return undefined;
    }
    while (this.#used.has(this.#nextProxyId)) this.#nextProxyId += 2;
    const id = this.#nextProxyId;
    this.#nextProxyId += 2;
    this.#add({ id, owner: 'proxy', peer, acked: false });
    const address = ipToBytes(peer.address);
    return {
      type: CompressionCapsuleType.COMPRESSION_ASSIGN,
      contextId: id,
      ipVersion: address.length === 4 ? 4 : 6,
      address,
      port: peer.port,
    };
  }

  /** Closes a context (ours or the client's), returning the COMPRESSION_CLOSE to send. */
  close(contextId: number): CompressionCapsule[] {
    if (!this.#open.has(contextId)) return [];
    this.#close(contextId);
    return [{ type: CompressionCapsuleType.COMPRESSION_CLOSE, contextId }];
  }

  /** What a client datagram's Context ID (not 0) means. */
  route(contextId: number): DatagramRoute {
    const ctx = this.#open.get(contextId);
    if (ctx !== undefined) {
      return ctx.peer === undefined
        ? { kind: 'uncompressed' }
        : { kind: 'compressed', peer: ctx.peer };
    }
    return this.#used.has(contextId) ? { kind: 'closed' } : { kind: 'unknown' };
  }

  /**
   * Which context carries a datagram from `peer` to the client: its compressed context when one
   * is open (ours only once acknowledged: the client may not know it yet), else the uncompressed
   * one, else none.
   */
  inbound(peer: BindPeer): InboundRoute {
    const ctx = this.#byPeer.get(peerKey(peer));
    if (ctx?.acked) return { kind: 'compressed', contextId: ctx.id };
    const u = this.#uncompressed;
    if (u !== undefined) return { kind: 'uncompressed', contextId: u.id };
    return { kind: 'none' };
  }

  #onAssign(c: CompressionAssign): CompressionCapsule[] {
    const id = c.contextId;
    if (id === 0 || id % 2 !== 0) {
      throw malformed(`COMPRESSION_ASSIGN from the client with Context ID ${id} (not even)`);
    }
    if (this.#used.has(id)) throw malformed(`Context ID ${id} assigned twice`);
    const reject = (): CompressionCapsule[] => {
      this.#used.add(id);
      return [{ type: CompressionCapsuleType.COMPRESSION_CLOSE, contextId: id }];
    };
    if (c.ipVersion === 0) {
      if (this.#uncompressed !== undefined) {
        throw malformed('a second uncompressed Context ID while one is open');
      }
      if (this.#open.size >= this.#opts.maxContexts) return reject();
      this.#add({ id, owner: 'client', peer: undefined, acked: true });
      return [{ type: CompressionCapsuleType.COMPRESSION_ACK, contextId: id }];
    }
    const peer: BindPeer = { address: bytesToIp(c.address), port: c.port };
    const out: CompressionCapsule[] = [];
    const existing = this.#byPeer.get(peerKey(peer));
    if (existing !== undefined) {
      if (existing.owner === 'client') {
        throw malformed(`${peer.address}:${peer.port} already has Context ID ${existing.id}`);
      }
      // Both sides registered the tuple at once: ours gives way [§3.1].
      out.push(...this.close(existing.id));
    }
    if (this.#opts.allowPeer?.(peer) === false || this.#open.size >= this.#opts.maxContexts) {
      return [...out, ...reject()];
    }
    this.#add({ id, owner: 'client', peer, acked: true });
    out.push({ type: CompressionCapsuleType.COMPRESSION_ACK, contextId: id });
    return out;
  }

  #add(ctx: Context): void {
    this.#used.add(ctx.id);
    this.#open.set(ctx.id, ctx);
    if (ctx.peer === undefined) this.#uncompressed = ctx;
    else this.#byPeer.set(peerKey(ctx.peer), ctx);
  }

  #close(id: number): void {
    const ctx = this.#open.get(id);
    if (ctx === undefined) return;
    this.#open.delete(id);
    if (ctx.peer === undefined) this.#uncompressed = undefined;
    else this.#byPeer.delete(peerKey(ctx.peer));
  }
}

function malformed(message: string): CapsuleError {
  // RFC 9297 §3.3: a malformed capsule is a stream error, H3_DATAGRAM_ERROR.
  return new CapsuleError(message);
}
