/**
 * The client side of QUIC-aware proxying (quic-proxy §5.9, §6): a {@link DatagramSocket} for a QUIC
 * connection to one target through the proxy, that our `H3Client` (or any QUIC client on our
 * stack) runs over.
 *
 * CIDs are learnt from the long headers the connection exchanges (RFC 8999 §5.1): the Source
 * Connection ID of our first flight is the client CID, registered before that flight leaves
 * (§5: "SHOULD be sent at the same time as the client's first flight"); the Source Connection ID
 * of the target's long headers is the target CID, registered when it arrives. CIDs exchanged
 * later inside encryption (NEW_CONNECTION_ID) are registered when a short header first carries
 * one (their length is the one the long headers showed); until then their packets travel
 * tunnelled, which is always correct. That is later than §5.9.2 asks ("Prior to informing the
 * target of a new chosen client CID"), so port sharing, which needs every client CID registered
 * before use, is off by default.
 *
 * Sending: long headers, and short headers before ACK_TARGET_CID, ride Context ID 0 datagrams
 * (§6.1 "MUST wait for an ACK_TARGET_CID ... before using forwarded mode"); afterwards short
 * headers to the target CID leave from the outer connection's own socket with the target VCID,
 * encoded with our transform key. Receiving: the client VCID is claimed on that socket once
 * ACK_CLIENT_CID names it (and only if our socket can claim it, i.e. it has the socket's CID
 * length; otherwise we never send ACK_CLIENT_VCID and the proxy keeps tunnelling); a forwarded
 * packet is decoded with the proxy's key and gets the real client CID back before the
 * connection sees it (§6.2).
 */

import type { PacketTransform } from '../../transforms/types.js';
import { CapsuleError } from '../capsule/errors.js';
import type { Capsule } from '../capsule/types.js';
import { CapsuleType } from '../capsule/types.js';
import { H3ErrorCode } from '../http3/errors.js';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  INITIAL_CONNECTION_ID_LIMIT,
  type QuicProxyCapsule,
  type QuicProxyProfile,
} from '../masque/capsules/quic-proxy.js';
import { DatagramTooLargeError } from '../quic/api.js';
import { rewriteShortHeaderDcid } from '../quic/packet/dcid-rewrite.js';

/** The session the socket runs on (an HTTP/3 extended CONNECT session fits). */
interface QuicTunnelSession {
  readonly closed: Promise<unknown>;
  readonly closeInfo: unknown;
  onDatagram(cb: (payload: Uint8Array) => void): () => void;
  onCapsule(cb: (c: Capsule) => void): () => void;
  sendDatagram(payload: Uint8Array): boolean;
  sendCapsule(type: number, value: Uint8Array): boolean;
  close(): void;
  abort(code?: number): void;
}

import type { DatagramSocket } from '../runtime/udp/datagram-socket.js';
import type { PacketSeam } from '../runtime/udp/packet-seam.js';

/** Forwarded mode as negotiated: our transform (sending) and the proxy's (receiving). */
export interface ClientForwarding {
  readonly send: PacketTransform;
  readonly receive: PacketTransform;
}

/** Counters of a {@link QuicAwareSocket}. */
export class QuicAwareStats {
  tunnelledOut = 0;
  tunnelledIn = 0;
  forwardedOut = 0;
  forwardedIn = 0;
  registrations = 0;
  /** ACK_CLIENT_CID / ACK_TARGET_CID received. */
  acks = 0;
  rejections = 0;
  /** Registrations not sent for lack of MAX_CONNECTION_IDS credit. */
  overLimit = 0;
}

const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

export class QuicAwareSocket implements DatagramSocket {
  /** The label incoming datagrams carry (the target's address as the connection knows it). */
  readonly remote: string;
  readonly stats = new QuicAwareStats();
  /**
   * Whether the proxy answered `Proxy-QUIC-Forwarding` (quic-proxy §3: without it "the client SHALL
   * assume that the proxy does not support this extension"; the socket then only tunnels).
   */
  readonly supported: boolean;
  readonly #session: QuicTunnelSession;
  readonly #profile: QuicProxyProfile;
  readonly #forwarding: ClientForwarding | undefined;
  readonly #outer: PacketSeam;
  readonly #proxyAddress: string;
  #handler: ((data: Uint8Array, remote: string) => void) | undefined;
  #closed = false;
  #seq = 0;
  #limit = INITIAL_CONNECTION_ID_LIMIT;
  readonly #clientCids = new Set<string>();
  readonly #targetCids = new Set<string>();
  /** Target CID (hex) → its CID bytes and VCID, once ACK_TARGET_CID gave one. */
  readonly #targets = new Map<string, { cid: Uint8Array; vcid: Uint8Array }>();
  readonly #claimed: Uint8Array[] = [];
  /** CID lengths of each side, from the first long headers (short headers do not say). */
  #clientCidLength: number | undefined;
  #targetCidLength: number | undefined;

  constructor(
    session: QuicTunnelSession,
    opts: {
      remote: string;
      profile: QuicProxyProfile;
      forwarding: ClientForwarding | undefined;
      outer: PacketSeam;
      proxyAddress: string;
      /** The proxy answered Proxy-QUIC-Forwarding (it does QUIC-aware proxying, §3). */
      supported?: boolean;
    },
  ) {
    this.supported = opts.supported ?? true;
    this.#session = session;
    this.remote = opts.remote;
    this.#profile = opts.profile;
    this.#forwarding = opts.forwarding;
    this.#outer = opts.outer;
    this.#proxyAddress = opts.proxyAddress;
    session.onDatagram((p) => this.#fromTunnel(p));
    session.onCapsule((c) => this.#onCapsule(c));
    void session.closed.then(() => this.#release());
  }

  /** True once the tunnel is over (closed by us, the proxy, or the connection). */
  get isClosed(): boolean {
    return this.#closed || this.#session.closeInfo !== undefined;
  }

  /** Settles when the tunnel is over. */
  get closed(): Promise<void> {
    return this.#session.closed.then(() => undefined);
  }

  /** True once forwarded mode was negotiated. */
  get forwarding(): boolean {
    return this.#forwarding !== undefined;
  }

  // ---- DatagramSocket ----

  send(data: Uint8Array, _port: number, _host: string): void {
    if (this.#closed || this.#session.closeInfo !== undefined) return;
    if (data.length === 0) return;
    if ((data[0] & 0x80) !== 0) {
      const scid = longHeaderScid(data);
      if (scid !== undefined) {
        this.#clientCidLength ??= scid.length;
        this.#register('register_client_cid', scid, this.#clientCids);
      }
    } else {
      if (this.#targets.size > 0 && this.#forwarding !== undefined && this.#forward(data)) return;
      // A target CID the connection switched to (learnt from NEW_CONNECTION_ID, which we cannot
      // read): register it as seen, so later packets can be forwarded.
      const n = this.#targetCidLength;
      if (n !== undefined && n > 0 && data.length > n) {
        this.#register('register_target_cid', data.slice(1, 1 + n), this.#targetCids);
      }
    }
    this.#tunnel(data);
  }

  onMessage(handler: (data: Uint8Array, remote: string) => void): void {
    this.#handler = handler;
  }

  address(): { host: string; port: number; family: 4 | 6 } {
    return { host: '0.0.0.0', port: 0, family: 4 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    this.#session.close();
  }

  // ---- tunnelled ----

  #tunnel(data: Uint8Array): void {
    const payload = new Uint8Array(1 + data.length); // Context ID 0, then the packet (RFC 9298 §5)
    payload.set(data, 1);
    try {
      if (this.#session.sendDatagram(payload)) this.stats.tunnelledOut++;
    } catch (err) {
      if (!(err instanceof DatagramTooLargeError)) throw err;
      // A packet above the outer path's limit: reliably, as a capsule (RFC 9297 §3.5).
      this.#session.sendCapsule(CapsuleType.DATAGRAM, payload);
      this.stats.tunnelledOut++;
    }
  }

  #fromTunnel(p: Uint8Array): void {
    if (this.#closed || p.length < 2 || p[0] !== 0) return;
    const packet = p.slice(1);
    if ((packet[0] & 0x80) !== 0) {
      const scid = longHeaderScid(packet);
      if (scid !== undefined) {
        this.#targetCidLength ??= scid.length;
        this.#register('register_target_cid', scid, this.#targetCids);
      }
    } else if (
      this.#clientCidLength !== undefined &&
      this.#clientCidLength > 0 &&
      packet.length > this.#clientCidLength
    ) {
      // The target switched to another of our CIDs (one we issued in NEW_CONNECTION_ID, inside
      // encryption): register it as seen; its packets were tunnelled until now.
      const n = this.#clientCidLength;
      this.#register('register_client_cid', packet.slice(1, 1 + n), this.#clientCids);
    }
    this.stats.tunnelledIn++;
    this.#handler?.(packet, this.remote);
  }

  // ---- forwarded ----

  #forward(data: Uint8Array): boolean {
    for (const t of this.#targets.values()) {
      const n = t.cid.length;
      if (data.length < 1 + n || (n > 0 && hex(data.subarray(1, 1 + n)) !== hex(t.cid))) continue;
      const f = this.#forwarding as ClientForwarding;
      if (data.length - n + t.vcid.length < f.send.minPacketLength(t.vcid.length)) return false;
      const out = rewriteShortHeaderDcid(data.slice(), n, t.vcid);
      f.send.encode(out, t.vcid.length);
      this.#outer.sendRaw(out, this.#proxyAddress);
      this.stats.forwardedOut++;
      return true;
    }
    return false;
  }

  #fromForwarded(datagram: Uint8Array, cid: Uint8Array, vcid: Uint8Array): void {
    if (this.#closed) return;
    const f = this.#forwarding as ClientForwarding;
    try {
      f.receive.decode(datagram, vcid.length);
    } catch {
      return; // not a packet the transform can carry: nothing the connection could use
    }
    const packet = rewriteShortHeaderDcid(datagram, vcid.length, cid);
    this.stats.forwardedIn++;
    this.#handler?.(packet, this.remote);
  }

  // ---- capsules ----

  #register(
    kind: 'register_client_cid' | 'register_target_cid',
    cid: Uint8Array,
    seen: Set<string>,
  ): void {
    // quic-proxy §3: without Proxy-QUIC-Forwarding in the answer "the client SHALL assume that the
    // proxy does not support this extension": no capsules of it (a proxy may treat unknown capsule
    // types as an error; the Go reference proxy's tunnel stopped delivering after one).
    if (!this.supported) return;
    const key = hex(cid);
    if (seen.has(key)) return;
    seen.add(key);
    if (this.#seq >= this.#limit) {
      this.stats.overLimit++;
      return; // tunnelled it stays (§5.9: the client MUST NOT exceed the limit)
    }
    this.#seq++;
    this.stats.registrations++;
    this.#sendCapsule(
      kind === 'register_client_cid'
        ? { kind, reason: 0, cid }
        : { kind, reason: 0, cid, token: new Uint8Array(0) },
    );
  }

  #sendCapsule(c: QuicProxyCapsule): void {
    const [type, value] = encodeQuicProxyCapsule(c, this.#profile);
    this.#session.sendCapsule(type, value);
  }

  #onCapsule(c: Capsule): void {
    let d: QuicProxyCapsule | undefined;
    try {
      d = decodeQuicProxyCapsule(Number(c.type), c.value, this.#profile, 'client', {
        forwarding: this.#forwarding !== undefined,
      });
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      // RFC 9297 §3.3; quic-proxy §5.7: invalid capsules reset the stream with H3_DATAGRAM_ERROR.
      this.#session.abort(H3ErrorCode.H3_DATAGRAM_ERROR);
      return;
    }
    if (d === undefined) return;
    switch (d.kind) {
      case 'max_connection_ids':
        if (d.limit > this.#limit) this.#limit = d.limit;
        return;
      case 'reject_client_cid':
      case 'reject_target_cid':
        // That CID stays tunnelled (§6.1 "MUST NOT forward packets to the requested target CID").
        this.stats.rejections++;
        return;
      case 'ack_client_cid':
        this.stats.acks++;
        this.#onAckClient(d.cid, d.vcid);
        return;
      case 'ack_target_cid':
        this.stats.acks++;
        if (this.#forwarding !== undefined && d.vcid.length > 0) {
          this.#targets.set(hex(d.cid), { cid: d.cid.slice(), vcid: d.vcid.slice() });
        }
        return;
      default:
        return;
    }
  }

  #onAckClient(cid: Uint8Array, vcid: Uint8Array): void {
    if (this.#forwarding === undefined || vcid.length === 0) return;
    const o = this.#outer;
    // Our socket parses short headers with its own CID length: only such VCIDs can be claimed.
    if (vcid.length !== o.localCidLength || o.isCidRouted(vcid)) return;
    const c = cid.slice();
    const v = vcid.slice();
    o.claimCid(v, (datagram) => this.#fromForwarded(datagram, c, v));
    this.#claimed.push(v);
    // §5.9.1: "the client MUST respond with an ACK_CLIENT_VCID" (and be ready to receive first).
    this.#sendCapsule({ kind: 'ack_client_vcid', cid: c, vcid: v, token: new Uint8Array(0) });
  }

  #release(): void {
    for (const v of this.#claimed) this.#outer.unclaimCid(v);
    this.#claimed.length = 0;
    this.#targets.clear();
  }
}

/** The Source Connection ID of a long-header packet (RFC 8999 §5.1), or undefined. */
function longHeaderScid(p: Uint8Array): Uint8Array | undefined {
  if (p.length < 7) return undefined;
  const dcidLen = p[5];
  const scidAt = 6 + dcidLen;
  if (scidAt >= p.length) return undefined;
  const scidLen = p[scidAt];
  if (scidAt + 1 + scidLen > p.length) return undefined;
  // Version Negotiation (version 0) echoes CIDs; it names no connection of the target.
  if (p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0) return undefined;
  return p.slice(scidAt + 1, scidAt + 1 + scidLen);
}
