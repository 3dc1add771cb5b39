/**
 * The client's Context ID table of one bound tunnel (connect-udp-listen §3, §4, §5, §8.1),
 * sans-IO: the mirror of the proxy's `contexts.ts` for the other role. The proxy's compression
 * capsules in, the capsules to answer with (or a malformed-capsule verdict, RFC 9297 §3.3) out;
 * the registrations we make (the uncompressed context, compressed ones for peers, explicitly or
 * after `compressAfter` datagrams); and the two lookups of the data path: which Context ID a
 * datagram to a peer travels on, and what a received datagram's Context ID means. Time comes in
 * as `now` (ms, any monotonic origin); it only dates refused registrations.
 *
 * Rules enforced (the section of connect-udp-listen in brackets):
 * - we allocate even Context IDs, the proxy odd ones (RFC 9298 §4); 0 is never assigned [§3.1];
 *   an odd ID from us or an even one from the proxy cannot happen / is malformed;
 * - an ID is assigned at most once, even after it closed [§3.1, §3.3]: a repeat is malformed;
 * - the proxy cannot register the uncompressed context (IP Version 0): malformed [§4];
 * - we never open a second uncompressed context while one is open (or awaiting its answer) [§4];
 * - one context per tuple [§3.1]: we register no tuple that already has a context; the proxy
 *   naming a tuple it already holds is malformed; a proxy registration crossing one of ours is
 *   closed ("MUST close the Context ID that was opened by the proxy"), ours is kept;
 * - our compressed contexts carry datagrams once acknowledged; until then the uncompressed one
 *   does (§3.1 lets us use them early: we do only when no acknowledged context can carry them);
 * - a COMPRESSION_ACK for an ID we never registered, or a CLOSE of ID 0, is malformed [§3.2,
 *   §3.3]; an ACK for one of ours that we closed meanwhile is not (the two crossed);
 * - registrations past `maxContexts` are refused with COMPRESSION_CLOSE [§9], and so are the
 *   proxy's while we have no uncompressed context (§3.1 forbids it those, §8.1: the firewall we
 *   asked for; it may have crossed our CLOSE, hence a refusal, not a malformed capsule);
 * - a refused (or closed by the proxy) registration of ours leaves that peer on the uncompressed
 *   context, and is not retried automatically for `retryAfterMs`;
 * - datagrams on a closed context are discarded silently [§3.3] (the caller counts them);
 *   Context ID 0 without a fallback target aborts the stream [§3].
 */
import { CapsuleError } from '../../capsule/errors.js';
import {
  type CompressedAssign,
  type CompressionAssign,
  type CompressionCapsule,
  CompressionCapsuleType,
} from '../capsules/compression.js';
import { bytesToIp, ipToBytes } from '../payload/ip.js';
import type { BindPeer } from './contexts.js';

export type { BindPeer } from './contexts.js';

type Owner = 'client' | 'proxy';

/** One context of the client's table. */
export interface ClientContext {
  readonly id: number;
  /** Who allocated it: we allocate even IDs, the proxy odd ones. */
  readonly owner: Owner;
  /** Undefined for the uncompressed context. */
  readonly peer: BindPeer | undefined;
  /** Ours wait for the proxy's COMPRESSION_ACK; the proxy's are acknowledged as we accept them. */
  readonly acked: boolean;
}

interface MutableContext extends ClientContext {
  acked: boolean;
}

/** How a datagram to a peer leaves. */
export type ClientOutboundRoute =
  /** Context ID 0: the peer is the request's target (bind with fallback, RFC 9298 §5). */
  | { readonly kind: 'fallback'; readonly contextId: 0 }
  /** A compressed context: the payload alone [§5]. */
  | { readonly kind: 'compressed'; readonly contextId: number }
  /** The uncompressed context: address and port in the payload [§4]. */
  | { readonly kind: 'uncompressed'; readonly contextId: number }
  /**
   * Nothing can carry it: no uncompressed context and none for this peer (`no_context`), or the
   * proxy offered no address of the peer's family (`family`, §7 "SHOULD NOT").
   */
  | { readonly kind: 'none'; readonly reason: 'no_context' | 'family' };

/** What a received datagram's Context ID means. */
export type ClientInboundRoute =
  /** Context ID 0 with a fallback target: from that target. */
  | { readonly kind: 'fallback' }
  /** The uncompressed context: the payload names the sender [§4]. */
  | { readonly kind: 'uncompressed' }
  | { readonly kind: 'compressed'; readonly peer: BindPeer }
  /** A closed context: discard silently [§3.3]. */
  | { readonly kind: 'closed' }
  /** Never assigned: drop (RFC 9298 §4). */
  | { readonly kind: 'unknown' }
  /** Context ID 0 on a bind request without a target: abort the stream [§3]. */
  | { readonly kind: 'abort' };

/** Options of {@link ClientBindContexts}. */
export interface ClientBindContextsOptions {
  /** Open contexts at most, both sides' and those awaiting an answer included [§9]. */
  readonly maxContexts: number;
  /** Register a compressed context for a peer after this many datagrams to or from it; 0: never. */
  readonly compressAfter: number;
  /** How long (ms) a peer whose registration was refused is not registered again automatically. */
  readonly retryAfterMs: number;
  /** The request's target when it named one (bind with fallback): Context ID 0's peer. */
  readonly fallback?: BindPeer;
  /** The families the proxy offered (Proxy-Public-Address, §7); undefined: both. */
  readonly families?: ReadonlyArray<4 | 6>;
  /** Peers whose datagrams are counted for `compressAfter`, at most (then counting restarts). */
  readonly maxCounted?: number;
}

const peerKey = (p: BindPeer): string => `${p.address}|${p.port}`;
const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

export class ClientBindContexts {
  readonly #opts: ClientBindContextsOptions;
  readonly #open = new Map<number, MutableContext>();
  readonly #byPeer = new Map<string, MutableContext>();
  /** Every ID ever assigned by either side (open or closed): none may be assigned again. */
  readonly #used = new Set<number>();
  /** IDs we registered (open or closed): an ACK for any other is malformed [§3.2]. */
  readonly #ours = new Set<number>();
  /** Peers the proxy refused (or closed), and when we may register them automatically again. */
  readonly #refused = new Map<string, number>();
  /** Datagrams to or from peers on the uncompressed context, for `compressAfter`. */
  readonly #counts = new Map<string, number>();
  #uncompressed: MutableContext | undefined;
  #nextId = 2;

  constructor(options: ClientBindContextsOptions) {
    this.#opts = options;
  }

  /** Contexts open now, or awaiting an answer. */
  get size(): number {
    return this.#open.size;
  }

  /** True while the uncompressed context is open (or awaiting its answer). */
  get uncompressedOpen(): boolean {
    return this.#uncompressed !== undefined;
  }

  /** The uncompressed context, if open or awaiting its answer. */
  get uncompressed(): ClientContext | undefined {
    return this.#uncompressed;
  }

  /** The context of a peer, if one is open or awaiting an answer. */
  contextOf(peer: BindPeer): ClientContext | undefined {
    return this.#byPeer.get(peerKey(peer));
  }

  /** Every context open or awaiting an answer. */
  contexts(): ClientContext[] {
    return [...this.#open.values()];
  }

  /**
   * Registers the uncompressed context [§4]: the COMPRESSION_ASSIGN with IP Version 0 to send,
   * or undefined when one is open already ("A client MUST NOT open an uncompressed Context ID if
   * one is already open") or the table is full.
   */
  openUncompressed(): CompressionAssign | undefined {
    if (this.#uncompressed !== undefined || this.#open.size >= this.#opts.maxContexts) {
      return undefined;
    }
    const id = this.#allocate();
    this.#add({ id, owner: 'client', peer: undefined, acked: false });
    return { type: CompressionCapsuleType.COMPRESSION_ASSIGN, contextId: id, ipVersion: 0 };
  }

  /**
   * Closes the uncompressed context (§8.1: from then on only peers with a compressed context get
   * through). Returns the COMPRESSION_CLOSE to send, if one was open.
   */
  closeUncompressed(): CompressionCapsule[] {
    const u = this.#uncompressed;
    return u === undefined ? [] : this.close(u.id);
  }

  /**
   * Registers a compressed context for `peer` (explicitly: an earlier refusal is forgotten).
   * Returns the COMPRESSION_ASSIGN to send, or undefined when the tuple has a context already
   * (ours or the proxy's, §3.1), is the fallback target (Context ID 0), belongs to a family the
   * proxy did not offer (§7), or the table is full.
   */
  register(peer: BindPeer): CompressedAssign | undefined {
    const key = peerKey(peer);
    this.#refused.delete(key);
    return this.#register(peer, key);
  }

  /**
   * Counts a datagram to or from `peer` (call it for datagrams that travel uncompressed) and,
   * once `compressAfter` is reached, registers a compressed context for it: returns the
   * COMPRESSION_ASSIGN to send, if any.
   */
  noteTraffic(peer: BindPeer, now: number): CompressedAssign | undefined {
    const after = this.#opts.compressAfter;
    if (after <= 0) return undefined;
    const key = peerKey(peer);
    if (this.#byPeer.has(key)) return undefined;
    const until = this.#refused.get(key);
    if (until !== undefined) {
      if (now < until) return undefined;
      this.#refused.delete(key);
    }
    const n = (this.#counts.get(key) ?? 0) + 1;
    if (n < after) {
      if (!this.#counts.has(key) && this.#counts.size >= (this.#opts.maxCounted ?? 4096)) {
        this.#counts.clear();
      }
      this.#counts.set(key, n);
      return undefined;
    }
    this.#counts.delete(key);
    return this.#register(peer, key);
  }

  /** Closes a context (ours or the proxy's); returns the COMPRESSION_CLOSE to send [§3.3]. */
  close(contextId: number): CompressionCapsule[] {
    if (!this.#open.has(contextId)) return [];
    this.#remove(contextId);
    return [{ type: CompressionCapsuleType.COMPRESSION_CLOSE, contextId }];
  }

  /**
   * A capsule from the proxy at time `now`. Returns the capsules to send back; throws
   * CapsuleError (H3_DATAGRAM_ERROR) for a malformed one, which aborts the stream [§3.1,
   * RFC 9297 §3.3].
   */
  receive(c: CompressionCapsule, now: number): CompressionCapsule[] {
    switch (c.type) {
      case CompressionCapsuleType.COMPRESSION_ASSIGN:
        return this.#onAssign(c);
      case CompressionCapsuleType.COMPRESSION_ACK: {
        // §3.2: "If an endpoint receives a COMPRESSION_ACK capsule for a Context ID it did not
        // attempt to register via COMPRESSION_ASSIGN, that capsule is considered malformed."
        if (!this.#ours.has(c.contextId)) {
          throw malformed(`COMPRESSION_ACK for Context ID ${c.contextId}, which we did not assign`);
        }
        const ctx = this.#open.get(c.contextId);
        // Closed meanwhile (our CLOSE crossed the ACK), or a repeat: nothing to do.
        if (ctx !== undefined) ctx.acked = true;
        return [];
      }
      case CompressionCapsuleType.COMPRESSION_CLOSE: {
        if (c.contextId === 0) throw malformed('COMPRESSION_CLOSE for Context ID 0');
        const ctx = this.#open.get(c.contextId);
        if (ctx === undefined) return []; // closed already, or never assigned: nothing changes
        if (ctx.owner === 'client' && ctx.peer !== undefined) {
          // Refused or closed by the proxy: that peer stays uncompressed for a while.
          this.#refused.set(peerKey(ctx.peer), now + this.#opts.retryAfterMs);
        }
        this.#remove(c.contextId);
        return [];
      }
    }
  }

  /** Which context carries a datagram to `peer`. */
  outbound(peer: BindPeer): ClientOutboundRoute {
    const fb = this.#opts.fallback;
    if (fb !== undefined && fb.port === peer.port && fb.address === peer.address) {
      return { kind: 'fallback', contextId: 0 };
    }
    const fams = this.#opts.families;
    if (fams !== undefined && !fams.includes(familyOf(peer.address))) {
      return { kind: 'none', reason: 'family' };
    }
    const ctx = this.#byPeer.get(peerKey(peer));
    if (ctx?.acked) return { kind: 'compressed', contextId: ctx.id };
    const u = this.#uncompressed;
    if (u?.acked) return { kind: 'uncompressed', contextId: u.id };
    // Nothing acknowledged: use what awaits its answer (§3.1 "MAY pre-emptively use"), since
    // dropping here would be certain and the proxy may well have it by the time it arrives.
    if (u !== undefined) return { kind: 'uncompressed', contextId: u.id };
    if (ctx !== undefined) return { kind: 'compressed', contextId: ctx.id };
    return { kind: 'none', reason: 'no_context' };
  }

  /** What a received datagram's Context ID means. */
  inbound(contextId: number): ClientInboundRoute {
    if (contextId === 0) {
      // §3: with `*`/`*`, "Context ID 0 MUST NOT be used ... the recipient MUST abort the request
      // stream"; with a target, RFC 9298's meaning.
      return this.#opts.fallback === undefined ? { kind: 'abort' } : { kind: 'fallback' };
    }
    // Ours count before their ACK: the proxy uses them once it accepted, and its datagram may
    // overtake the ACK on the stream.
    const ctx = this.#open.get(contextId);
    if (ctx !== undefined) {
      return ctx.peer === undefined
        ? { kind: 'uncompressed' }
        : { kind: 'compressed', peer: ctx.peer };
    }
    return this.#used.has(contextId) ? { kind: 'closed' } : { kind: 'unknown' };
  }

  #register(peer: BindPeer, key: string): CompressedAssign | undefined {
    const fb = this.#opts.fallback;
    if (fb !== undefined && fb.address === peer.address && fb.port === peer.port) return undefined;
    const fams = this.#opts.families;
    if (fams !== undefined && !fams.includes(familyOf(peer.address))) return undefined;
    if (this.#byPeer.has(key) || this.#open.size >= this.#opts.maxContexts) return undefined;
    const address = ipToBytes(peer.address);
    const id = this.#allocate();
    this.#add({ id, owner: 'client', peer, acked: false });
    this.#counts.delete(key);
    return {
      type: CompressionCapsuleType.COMPRESSION_ASSIGN,
      contextId: id,
      ipVersion: address.length === 4 ? 4 : 6,
      address,
      port: peer.port,
    };
  }

  #onAssign(c: CompressionAssign): CompressionCapsule[] {
    const id = c.contextId;
    if (id === 0 || id % 2 === 0) {
      throw malformed(`COMPRESSION_ASSIGN from the proxy with Context ID ${id} (not odd)`);
    }
    if (this.#used.has(id)) throw malformed(`Context ID ${id} assigned twice`);
    if (c.ipVersion === 0) {
      // §4: "If a client receives a COMPRESSION_ASSIGN capsule with the IP Version set to 0, it
      // MUST treat it as malformed."
      throw malformed('the proxy registered an uncompressed context');
    }
    const peer: BindPeer = { address: bytesToIp(c.address), port: c.port };
    const key = peerKey(peer);
    const existing = this.#byPeer.get(key);
    if (existing?.owner === 'proxy') {
      // §3.1: "If an endpoint receives a COMPRESSION_ASSIGN capsule whose tuple matches another
      // open Context ID that was opened by its peer, it MUST treat the capsule as malformed."
      throw malformed(`${peer.address}:${peer.port} already has Context ID ${existing.id}`);
    }
    const reject = (): CompressionCapsule[] => {
      this.#used.add(id);
      return [{ type: CompressionCapsuleType.COMPRESSION_CLOSE, contextId: id }];
    };
    // §3.1: a crossing with one of ours: "the endpoint MUST close the Context ID that was opened
    // by the proxy", i.e. this one; ours stands (the proxy closes its own on seeing ours).
    if (existing !== undefined) return reject();
    const fb = this.#opts.fallback;
    if (fb !== undefined && fb.address === peer.address && fb.port === peer.port) return reject();
    // §3.1: no new compressed context from the proxy while the uncompressed one is closed; it
    // may have crossed our CLOSE, so refuse rather than abort.
    if (this.#uncompressed === undefined) return reject();
    if (this.#open.size >= this.#opts.maxContexts) return reject(); // §9
    this.#add({ id, owner: 'proxy', peer, acked: true });
    this.#counts.delete(key);
    return [{ type: CompressionCapsuleType.COMPRESSION_ACK, contextId: id }];
  }

  #allocate(): number {
    while (this.#used.has(this.#nextId)) this.#nextId += 2;
    const id = this.#nextId;
    this.#nextId += 2;
    return id;
  }

  #add(ctx: MutableContext): void {
    this.#used.add(ctx.id);
    if (ctx.owner === 'client') this.#ours.add(ctx.id);
    this.#open.set(ctx.id, ctx);
    if (ctx.peer === undefined) this.#uncompressed = ctx;
    else this.#byPeer.set(peerKey(ctx.peer), ctx);
  }

  #remove(id: number): void {
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
