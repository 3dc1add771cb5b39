/**
 * One QUIC-aware tunnel (quic-proxy): connect-udp to a QUIC target whose connection IDs the
 * client registers with capsules, so that the proxy can share the target-facing socket (§2.1)
 * and, in forwarded mode, relay short-header packets outside the tunnel (§6).
 *
 *   client → target, tunnelled: Context ID 0 datagrams, as plain connect-udp (RFC 9298 §5).
 *   client → target, forwarded: a short-header packet on the proxy's own UDP socket whose DCID
 *     is a target VCID we issued (claimed on the endpoint before connection lookup); only from
 *     the client's 4-tuple (§2.2); decoded with the client's transform key, the VCID replaced by
 *     the target CID (§6.1), sent to the target. Long headers are never forwarded (§6.1).
 *   target → client: a short-header packet for a registered client CID whose client VCID the
 *     client acknowledged is forwarded (§5.10 "SHOULD forward directly"): CID replaced by the
 *     client VCID, transform applied with our key, sent from the proxy's socket to the client;
 *     everything else (long headers, stateless resets recognised by a registered token §6.8.1,
 *     packets before registration, packets too short to scramble) is tunnelled as Context ID 0.
 *   Forwarded packets count as tunnel activity (§5.10 "SHOULD be considered as activity").
 *
 * Capsules: the wire profile (draft-07/-08/-09) is fixed by the listener or learnt from the
 * client's first CID capsule; a capsule of another profile afterwards is malformed. Answers and
 * MAX_CONNECTION_IDS come from {@link CidRegistrations}; a violation resets the stream with
 * H3_DATAGRAM_ERROR.
 *
 * Loop detection: a datagram reaching the proxy's socket with a client VCID we issued toward a
 * client (our own forwarded packet come back: we are our own target) is dropped and counted
 * (`loop`); registrations of CIDs we issued are refused (`registrations.ts`).
 */

import { type PacketTransform, TransformError } from '../../../transforms/types.js';
import { CapsuleError } from '../../capsule/errors.js';
import type { Capsule } from '../../capsule/types.js';
import { rewriteShortHeaderDcid } from '../../quic/packet/dcid-rewrite.js';
import type { PacketSeam } from '../../runtime/udp/packet-seam.js';
import { decodeVarint, type VarintResult } from '../../wire/varint.js';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
  type QuicProxyProfile,
  quicProxyProfileOf,
} from '../capsules/quic-proxy.js';
import type { CidMappingTable } from '../quic-aware/cid-table.js';
import { CidRegistrations } from '../quic-aware/registrations.js';
import type { VcidGenerator } from '../quic-aware/vcid.js';
import {
  MAX_UDP_PAYLOAD,
  type RelayOptions,
  SessionRelay,
  type TunnelSession,
} from './relay-base.js';
import type { LinkUser, TargetLink } from './target-link.js';

/** The negotiated transform, one instance per direction (quic-proxy §6.3). */
export interface ForwardingTransforms {
  /** Encodes what we send to the client (our key). */
  readonly toClient: PacketTransform;
  /** Decodes what the client forwards (its key). */
  readonly fromClient: PacketTransform;
}

/** Options of {@link QuicAwareTunnel}. */
export interface QuicAwareTunnelOptions extends RelayOptions {
  /** Wire profiles accepted; one entry pins it (and credit is sent at once). */
  readonly profiles: readonly QuicProxyProfile[];
  /** Forwarded mode, when negotiated. */
  readonly forwarding: ForwardingTransforms | undefined;
  readonly table: CidMappingTable<QuicAwareTunnel>;
  readonly link: TargetLink;
  /** The proxy's socket: claims and raw sends. */
  readonly packets: PacketSeam;
  /** The client's address on the client-to-proxy 4-tuple ("host:port") when the tunnel opened. */
  readonly clientAddress: string;
  /** The connection's current client address (it changes when the client migrates). */
  readonly currentClientAddress?: () => string;
  readonly vcids: VcidGenerator;
  readonly resetTokenFor?: (vcid: Uint8Array) => Uint8Array | undefined;
  readonly minCidLength?: number;
  /** Length of the client's CIDs on its connection to us (client VCIDs are at least as long). */
  readonly clientCidLength?: number;
  readonly maxActive?: number;
  readonly reregistrationIsFree?: boolean;
  /** Called once after close, to release the link. */
  readonly releaseLink: (tunnel: QuicAwareTunnel) => void;
}

interface ClaimEntry {
  readonly vcid: Uint8Array;
  readonly cid: Uint8Array;
  /** False once unclaimed (a packet being handled when the rule went away is dropped). */
  live: boolean;
}

const SCRATCH = new Uint8Array(1 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };

/** Forwarded-mode counters (beside the tunnel's datagram counters). */
export class ForwardingCounters {
  toTarget = 0;
  toClient = 0;
  /** Datagrams carrying a client VCID we issued, back at our socket. */
  loops = 0;
  /** Forwarded packets from another address than the client's. */
  wrongPath = 0;
  /** Forwarded packets the transform refused (too short, long header). */
  refused = 0;
}

export class QuicAwareTunnel extends SessionRelay implements LinkUser {
  readonly forwarded = new ForwardingCounters();
  readonly #o: QuicAwareTunnelOptions;
  readonly #registrations: CidRegistrations<QuicAwareTunnel>;
  #profile: QuicProxyProfile | undefined;
  /** Client CID (hex) → client VCID, for forwarding toward the client. */
  readonly #toClient = new Map<string, Uint8Array>();
  /** Target VCIDs claimed on the endpoint → target CID. */
  readonly #claimed = new Map<string, ClaimEntry>();
  /** Client VCID prefixes claimed to catch loops. */
  readonly #loopClaims: Uint8Array[] = [];
  /** Where forwarded packets go, and come from: the client's address as last checked. */
  #clientAddress: string;
  /** Target Stateless Reset Tokens (hex), to tunnel resets (§6.8.1). */
  readonly #tokens = new Set<string>();
  readonly #onSent = (err: Error | null): void => {
    this.sending--;
    if (err !== null) this.counters.drop('send_error');
  };

  constructor(session: TunnelSession, options: QuicAwareTunnelOptions) {
    super(session, options);
    this.#o = options;
    this.#clientAddress = options.clientAddress;
    const o = options;
    this.#registrations = new CidRegistrations<QuicAwareTunnel>({
      table: o.table,
      owner: this,
      socket: o.link.key,
      forwarding: o.forwarding !== undefined,
      vcids: o.vcids,
      targetVcidLength: o.packets.localCidLength,
      resetTokenFor: o.resetTokenFor,
      ownCid: (cid) => cid.length === o.packets.localCidLength && o.packets.isCidRouted(cid),
      minCidLength: o.minCidLength,
      clientVcidMinLength: o.clientCidLength,
      maxActive: o.maxActive,
      reregistrationIsFree: o.reregistrationIsFree,
      hooks: {
        clientVcidActive: (cid, vcid) => this.#forwardToClient(cid, vcid),
        clientVcidRetired: (cid) => this.#toClient.delete(hex(cid)),
        targetVcidAdded: (vcid, cid) => this.#claim(vcid, cid),
        targetVcidRemoved: (vcid) => this.#unclaim(vcid),
        targetCidAdded: (_cid, token) => {
          if (token.length > 0) this.#tokens.add(hex(token));
        },
      },
    });
    if (o.profiles.length === 1) this.#setProfile(o.profiles[0]);
    this.attach();
  }

  /** The wire profile in use, once known. */
  get profile(): QuicProxyProfile | undefined {
    return this.#profile;
  }

  /** Client migrations seen (each removed the forwarding rules). */
  migrations = 0;

  /** The registrations (for stats and tests). */
  get registrations(): CidRegistrations<QuicAwareTunnel> {
    return this.#registrations;
  }

  protected closeSockets(): void {
    this.#registrations.close();
    for (const c of this.#claimed.values()) this.#o.packets.unclaimCid(c.vcid);
    this.#claimed.clear();
    for (const v of this.#loopClaims) this.#o.packets.unclaimCid(v);
    this.#loopClaims.length = 0;
    this.#toClient.clear();
    this.#o.releaseLink(this);
  }

  linkFailed(err: Error): void {
    const code = (err as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
      this.close('socket_error', err);
    }
  }

  /**
   * The client moved to another address (quic-proxy §6.5; 09-delta §2: on active migration "the
   * proxy MUST remove forwarding rules"). We cannot tell active migration from a NAT rebinding here,
   * so every move removes the rules: traffic goes on tunnelled, and the client gets new VCIDs by
   * registering its CIDs again, on the new path.
   */
  #checkPath(): void {
    const now = this.#o.currentClientAddress?.();
    if (now === undefined || now === this.#clientAddress) return;
    this.#clientAddress = now;
    this.migrations++;
    this.#registrations.detachForwarding();
  }

  // ---- capsules ----

  protected override onCapsule(c: Capsule): void {
    if (this.isClosed) return;
    this.#checkPath();
    const type = Number(c.type);
    const profile = quicProxyProfileOf(type);
    if (profile === undefined || !this.#o.profiles.includes(profile)) return;
    try {
      if (this.#profile === undefined) this.#setProfile(profile);
      if (profile !== this.#profile) {
        throw new CapsuleError(`a ${profile} capsule on a ${this.#profile} tunnel`);
      }
      const decoded = decodeQuicProxyCapsule(type, c.value, profile, 'proxy', {
        forwarding: this.#o.forwarding !== undefined,
      });
      if (decoded !== undefined) this.#send(this.#registrations.receive(decoded));
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      this.close('protocol_error', err);
    }
  }

  #setProfile(p: QuicProxyProfile): void {
    this.#profile = p;
    this.#send(this.#registrations.start());
  }

  #send(capsules: QuicProxyCapsule[]): void {
    const p = this.#profile as QuicProxyProfile;
    for (const c of capsules) {
      const [type, value] = encodeQuicProxyCapsule(c, p);
      this.session.sendCapsule(type, value);
    }
  }

  // ---- tunnelled, client → target ----

  protected fromClient(payload: Uint8Array): void {
    if (this.isClosed) return;
    let offset: number;
    if (payload.length > 0 && payload[0] === 0) offset = 1;
    else {
      try {
        decodeVarint(payload, 0, payload.length, VARINT);
      } catch {
        this.counters.drop('malformed');
        return;
      }
      if (VARINT.value !== 0) {
        this.counters.drop('unknown_context');
        return;
      }
      offset = VARINT.next;
    }
    if (payload.length - offset > MAX_UDP_PAYLOAD) {
      this.counters.drop('too_large');
      this.close('protocol_error');
      return;
    }
    this.#toTarget(payload.slice(offset));
  }

  #toTarget(packet: Uint8Array): void {
    if (!this.admitToTarget(packet.length)) return;
    const socket = this.#o.link.socket;
    // At once where the kernel takes it (no callback to wait for), else queued through `send`.
    const now = socket.trySend?.(packet, 0, packet.length) ?? false;
    if (now !== false) this.#onSent(now === true ? null : now);
    else socket.send(packet, this.#onSent);
  }

  // ---- target → client ----

  fromTarget(msg: Buffer): void {
    if (this.isClosed) return;
    this.touch();
    if (this.#toClient.size > 0) this.#checkPath();
    if ((msg[0] & 0x80) === 0 && this.#o.forwarding !== undefined && this.#toClient.size > 0) {
      const route = this.#o.table.routeFromTarget(this.#o.link.key, msg);
      if (route !== undefined && !this.#isReset(msg)) {
        const vcid = this.#toClient.get(hex(msg.subarray(1, 1 + route.cidLength)));
        if (vcid !== undefined && this.#forward(msg, route.cidLength, vcid)) return;
      }
    }
    SCRATCH[0] = 0; // Context ID 0 (RFC 9298 §5)
    SCRATCH.set(msg, 1);
    this.toClient(SCRATCH.subarray(0, msg.length + 1), msg.length);
  }

  /** A short header whose last 16 bytes are a registered target token (RFC 9000 §10.3). */
  #isReset(msg: Uint8Array): boolean {
    return (
      this.#tokens.size > 0 &&
      msg.length >= 21 &&
      this.#tokens.has(hex(msg.subarray(msg.length - 16)))
    );
  }

  /** Forwards to the client; false when the packet cannot be (it is tunnelled instead). */
  #forward(msg: Uint8Array, cidLength: number, vcid: Uint8Array): boolean {
    const t = (this.#o.forwarding as ForwardingTransforms).toClient;
    if (msg.length - cidLength + vcid.length < t.minPacketLength(vcid.length)) return false;
    const out = rewriteShortHeaderDcid(msg, cidLength, vcid);
    t.encode(out, vcid.length);
    this.#o.packets.sendRaw(out, this.#clientAddress);
    this.forwarded.toClient++;
    this.counters.forwardedToClient++;
    this.counters.datagramsToClient++;
    this.counters.bytesToClient += msg.length;
    return true;
  }

  #forwardToClient(cid: Uint8Array, vcid: Uint8Array): void {
    this.#toClient.set(hex(cid), vcid);
    // Our own forwarded packets must never come back to us (we would be our own target): claim
    // the client VCID's prefix that our endpoint parses, to drop and count them.
    const n = this.#o.packets.localCidLength;
    if (vcid.length >= n && n > 0) {
      const prefix = vcid.slice(0, n);
      if (!this.#o.packets.isCidRouted(prefix)) {
        this.#o.packets.claimCid(prefix, () => {
          this.forwarded.loops++;
          this.counters.drop('loop');
        });
        this.#loopClaims.push(prefix);
      }
    }
  }

  // ---- forwarded, client → target ----

  #claim(vcid: Uint8Array, cid: Uint8Array): void {
    const entry: ClaimEntry = { vcid, cid, live: true };
    this.#claimed.set(hex(vcid), entry);
    this.#o.packets.claimCid(vcid, (datagram, remote) =>
      this.#fromForwarded(datagram, remote, entry),
    );
  }

  #unclaim(vcid: Uint8Array): void {
    const key = hex(vcid);
    const e = this.#claimed.get(key);
    if (e === undefined) return;
    e.live = false;
    this.#claimed.delete(key);
    this.#o.packets.unclaimCid(vcid);
  }

  #fromForwarded(datagram: Uint8Array, remote: string, e: ClaimEntry): void {
    if (this.isClosed) return;
    this.#checkPath();
    if (remote !== this.#clientAddress || !e.live) {
      // §2.2: the proxy maps "the VCID and the client-to-proxy 4-tuple".
      this.forwarded.wrongPath++;
      this.counters.drop('wrong_path');
      return;
    }
    const t = (this.#o.forwarding as ForwardingTransforms).fromClient;
    try {
      t.decode(datagram, e.vcid.length);
    } catch (err) {
      if (!(err instanceof TransformError)) throw err;
      this.forwarded.refused++;
      this.counters.drop('transform_refused');
      return;
    }
    const out = rewriteShortHeaderDcid(datagram, e.vcid.length, e.cid);
    this.forwarded.toTarget++;
    this.counters.forwardedToTarget++;
    this.#toTarget(out);
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}
