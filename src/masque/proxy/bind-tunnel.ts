/**
 * One bound UDP tunnel (connect-udp-listen): an accepted connect-udp session with
 * `Connect-UDP-Bind: ?1`, relaying between the client and any number of peers through unbound
 * ("unconnected") sockets, one per address family, on ephemeral ports.
 *
 *   client → peer: the Context ID says where a datagram goes (the table in `../bind/contexts.ts`):
 *     - the uncompressed context: IP Version, IP Address, UDP Port, then the payload (§4); the
 *       destination is checked against the target policy (cached, `peer-policy.ts`);
 *     - a compressed context: the payload, to the peer registered with COMPRESSION_ASSIGN (§5),
 *       checked once at registration;
 *     - Context ID 0: with a real target in the request (bind with fallback), RFC 9298's meaning,
 *       to that target; with `*`/`*`, "the recipient MUST abort the request stream" (§3);
 *     - a closed context: discarded silently (§3.3), counted; an unknown one: dropped (RFC 9298 §4).
 *   peer → client: from the fallback target on Context ID 0; otherwise on the peer's compressed
 *     context if one is open (ours once acknowledged), else on the uncompressed context with the
 *     peer's address, else dropped and counted (`no_context`: the firewall property, §8.1).
 *     Senders the policy denies are dropped (`source_denied`).
 *
 * Capsules: COMPRESSION_ASSIGN / ACK / CLOSE go to the context table, which answers; a malformed
 * one ends the tunnel with H3_DATAGRAM_ERROR (RFC 9297 §3.3). Both wire forms are understood
 * (`../bind/wire.ts`); answers use the form of the capsule answered. When answers cannot leave
 * (the stream's backlog is above `responseBacklogBytes`), the tunnel is aborted (§9: "The proxy
 * MUST abort the request stream if this limit is reached").
 *
 * Proxy-side compression: a peer heard `compressAfter` times on the uncompressed context gets a
 * compressed context of ours (odd ID), used once the client acknowledges it; at most
 * `maxUnackedAssigns` wait for an answer. 0 turns it off.
 */
import { CapsuleError } from '../../capsule/errors.js';
import type { Capsule } from '../../capsule/types.js';
import { decodeVarint, encodeVarint, type VarintResult } from '../../wire/varint.js';
import { BindContexts, type BindPeer } from '../bind/contexts.js';
import { type BindWire, bindWireOf, decodeBindCapsule, encodeBindCapsule } from '../bind/wire.js';
import { type CompressionCapsule, CompressionCapsuleType } from '../capsules/compression.js';
import { type BindHeader, readUncompressedBindHeader } from '../payload/bind.js';
import { bytesToIp, ipToBytes } from '../payload/ip.js';
import type { BoundPeerInfo, BoundSocket } from './bound-socket.js';
import type { PeerPolicyCache } from './peer-policy.js';
import {
  MAX_UDP_PAYLOAD,
  type RelayOptions,
  SessionRelay,
  type TunnelSession,
} from './relay-base.js';
import type { UdpTarget } from './udp-socket.js';

/** Options of {@link BindTunnel}. */
export interface BindTunnelOptions extends RelayOptions {
  /** Open contexts at most, uncompressed included (§9 "MUST place a limit"). */
  readonly maxContexts: number;
  /** Assign a compressed context to a peer after this many datagrams from it; 0: never. */
  readonly compressAfter: number;
  /** Our assignments waiting for the client's answer, at most. */
  readonly maxUnackedAssigns: number;
  /** Which wire form(s) of the compression capsules to understand. */
  readonly wire: BindWire | 'auto';
  /** Stream send backlog (bytes) beyond which answers cannot be queued: abort (§9). */
  readonly responseBacklogBytes: number;
  /** The request's target, for Context ID 0 (bind with fallback); undefined for `*`/`*`. */
  readonly fallback?: UdpTarget;
  /** The target policy, cached; applies to destinations and sources. */
  readonly policy: PeerPolicyCache;
}

/** The tunnel's sockets: one per family the egress configuration allows. */
export interface BindSockets {
  readonly v4?: BoundSocket;
  readonly v6?: BoundSocket;
}

interface PeerState {
  readonly peer: BindPeer;
  /** IP Version, IP Address and UDP Port as the uncompressed payload carries them. */
  readonly header: Uint8Array;
  heard: number;
}

/** Peers remembered for headers and compression counts, at most (then it starts over). */
const MAX_PEER_STATE = 1024;
/** Scratch: Context ID (up to 8), IPv6 header (19), payload. The session copies it. */
const SCRATCH = new Uint8Array(8 + 19 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };
const HEADER: BindHeader = { ipVersion: 4, addressOffset: 0, port: 0, payloadOffset: 0 };

export class BindTunnel extends SessionRelay {
  readonly #sockets: BindSockets;
  readonly #opts: BindTunnelOptions;
  readonly #contexts: BindContexts;
  readonly #peers = new Map<string, PeerState>();
  /** The form answers and our assignments use: the configured one, or the client's latest. */
  #wire: BindWire;
  readonly #onSent = (err: Error | null): void => {
    this.sending--;
    if (err !== null) this.counters.drop('send_error');
  };

  constructor(session: TunnelSession, sockets: BindSockets, options: BindTunnelOptions) {
    super(session, options);
    this.#sockets = sockets;
    this.#opts = options;
    this.#wire = options.wire === 'legacy' ? 'legacy' : 'final';
    const fb = options.fallback;
    this.#contexts = new BindContexts({
      maxContexts: options.maxContexts,
      allowPeer: (p) =>
        // The request's target is Context ID 0's tuple: a second context for it is refused.
        !(fb !== undefined && fb.address === p.address && fb.port === p.port) &&
        this.#socketFor(p.address) !== undefined &&
        p.port !== 0 &&
        options.policy.allowed(p.address, p.port),
    });
    for (const s of [sockets.v4, sockets.v6]) {
      if (s === undefined) continue;
      s.onMessage((msg, from) => this.#fromPeer(msg, from));
      s.onError((err) => this.close('socket_error', err));
    }
    this.attach();
  }

  /** Contexts open now (uncompressed included). */
  get contexts(): number {
    return this.#contexts.size;
  }

  /** The wire form in use. */
  get wire(): BindWire {
    return this.#wire;
  }

  protected closeSockets(): void {
    this.#sockets.v4?.close();
    this.#sockets.v6?.close();
  }

  protected override onCapsule(c: Capsule): void {
    if (this.isClosed) return;
    const wire = bindWireOf(c.type);
    if (wire === undefined || (this.#opts.wire !== 'auto' && wire !== this.#opts.wire)) return;
    this.#wire = wire;
    let decoded: CompressionCapsule;
    let replies: CompressionCapsule[];
    try {
      decoded = decodeBindCapsule(c.type, c.value, 'proxy');
      replies = this.#contexts.receive(decoded);
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      this.close('protocol_error', err);
      return;
    }
    for (const r of replies) {
      const assigned =
        decoded.type === CompressionCapsuleType.COMPRESSION_ASSIGN ? decoded : undefined;
      if (!this.#sendCapsule(r, assigned)) return;
    }
  }

  protected fromClient(payload: Uint8Array): void {
    if (this.isClosed) return;
    const c = this.counters;
    let id: number;
    let offset: number;
    if (payload.length > 0 && payload[0] < 0x40) {
      id = payload[0];
      offset = 1;
    } else {
      try {
        decodeVarint(payload, 0, payload.length, VARINT);
      } catch {
        c.drop('malformed');
        return;
      }
      id = VARINT.value;
      offset = VARINT.next;
    }
    if (id === 0) {
      this.#toFallback(payload, offset);
      return;
    }
    const route = this.#contexts.route(id);
    switch (route.kind) {
      case 'unknown':
        c.drop('unknown_context');
        return;
      case 'closed':
        c.drop('closed_context');
        return;
      case 'compressed':
        this.#sendTo(route.peer.address, route.peer.port, payload, offset);
        return;
      case 'uncompressed': {
        try {
          readUncompressedBindHeader(payload, offset, payload.length, HEADER);
        } catch {
          c.drop('malformed');
          return;
        }
        const len = HEADER.ipVersion === 4 ? 4 : 16;
        const address = bytesToIp(
          payload.subarray(HEADER.addressOffset, HEADER.addressOffset + len),
        );
        const port = HEADER.port;
        if (port === 0 || !this.#opts.policy.allowed(address, port)) {
          c.drop('destination_denied');
          return;
        }
        this.#sendTo(address, port, payload, HEADER.payloadOffset);
      }
    }
  }

  #toFallback(payload: Uint8Array, offset: number): void {
    const fb = this.#opts.fallback;
    if (fb === undefined) {
      // §3: with `*`/`*`, "Context ID 0 MUST NOT be used in HTTP Datagrams. If one is received,
      // the recipient MUST abort the request stream."
      this.close('protocol_error', new CapsuleError('Context ID 0 on a bind request to */*'));
      return;
    }
    if (payload.length - offset > MAX_UDP_PAYLOAD) {
      // RFC 9298 §5: a longer Context ID 0 payload "MUST abort the corresponding stream".
      this.counters.drop('too_large');
      this.close('protocol_error');
      return;
    }
    this.#sendTo(fb.address, fb.port, payload, offset);
  }

  #sendTo(address: string, port: number, payload: Uint8Array, offset: number): void {
    const c = this.counters;
    const socket = this.#socketFor(address);
    if (socket === undefined) {
      c.drop('family_unavailable');
      return;
    }
    const length = payload.length - offset;
    if (length > MAX_UDP_PAYLOAD) {
      c.drop('too_large');
      return;
    }
    if (!this.admitToTarget(length)) return;
    // The view dies with the callback; the kernel reads the bytes later.
    socket.send(payload.slice(offset), port, address, this.#onSent);
  }

  #fromPeer(msg: Buffer, from: BoundPeerInfo): void {
    if (this.isClosed) return;
    const c = this.counters;
    const zone = from.address.indexOf('%');
    const address = zone < 0 ? from.address : from.address.slice(0, zone);
    const port = from.port;
    const fb = this.#opts.fallback;
    if (fb !== undefined && fb.port === port && fb.address === address) {
      this.touch();
      SCRATCH[0] = 0; // Context ID 0: RFC 9298's meaning for the request's target
      SCRATCH.set(msg, 1);
      this.toClient(SCRATCH.subarray(0, msg.length + 1), msg.length);
      return;
    }
    if (!this.#opts.policy.allowed(address, port)) {
      c.drop('source_denied');
      return;
    }
    const peer = this.#peer(address, port);
    const route = this.#contexts.inbound(peer.peer);
    if (route.kind === 'none') {
      c.drop('no_context');
      return;
    }
    this.touch();
    let n = encodeVarint(SCRATCH, 0, route.contextId);
    if (route.kind === 'uncompressed') {
      SCRATCH.set(peer.header, n);
      n += peer.header.length;
      this.#maybeCompress(peer);
    }
    SCRATCH.set(msg, n);
    this.toClient(SCRATCH.subarray(0, n + msg.length), msg.length);
  }

  #maybeCompress(p: PeerState): void {
    const after = this.#opts.compressAfter;
    if (after <= 0 || ++p.heard !== after) return;
    if (this.#contexts.unacknowledged >= this.#opts.maxUnackedAssigns) {
      p.heard = 0; // try again later
      return;
    }
    const assign = this.#contexts.assign(p.peer);
    if (assign !== undefined) this.#sendCapsule(assign, undefined);
  }

  #peer(address: string, port: number): PeerState {
    const key = `${address} ${port}`;
    let p = this.#peers.get(key);
    if (p === undefined) {
      if (this.#peers.size >= MAX_PEER_STATE) this.#peers.clear();
      const bytes = ipToBytes(address);
      const header = new Uint8Array(1 + bytes.length + 2);
      header[0] = bytes.length === 4 ? 4 : 6;
      header.set(bytes, 1);
      header[header.length - 2] = port >>> 8;
      header[header.length - 1] = port & 0xff;
      p = { peer: { address, port }, header, heard: 0 };
      this.#peers.set(key, p);
    }
    return p;
  }

  #socketFor(address: string): BoundSocket | undefined {
    return address.includes(':') ? this.#sockets.v6 : this.#sockets.v4;
  }

  /** Sends a compression capsule; false (and the tunnel aborted) when answers back up (§9). */
  #sendCapsule(c: CompressionCapsule, assigned: CompressionCapsule | undefined): boolean {
    if (this.session.bufferedAmount > this.#opts.responseBacklogBytes) {
      this.close('overload');
      return false;
    }
    const echo =
      assigned?.type === CompressionCapsuleType.COMPRESSION_ASSIGN ? assigned : undefined;
    const [type, value] = encodeBindCapsule(c, this.#wire, echo);
    this.session.sendCapsule(type, value);
    return true;
  }
}
