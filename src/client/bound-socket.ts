/**
 * A bound UDP socket on the proxy (connect-udp-bind, draft-ietf-masque-connect-udp-listen), shaped
 * like an unconnected `node:dgram` socket: one public address and port on the proxy, any number
 * of peers.
 *
 *   const sock = await client.bindUdp();
 *   sock.address();                             // { address, family, port } peers must use
 *   sock.on('message', (msg, rinfo) => ...);    // rinfo: the peer that sent it
 *   sock.send(bytes, port, address);            // to any peer (an IP literal)
 *   for await (const { msg, rinfo } of sock) ...
 *   sock.close();
 *
 * Datagrams travel on the Context IDs of the client's table (`../masque/bind/client-contexts.ts`):
 * the uncompressed context (address and port in every datagram, §4) opened at start unless
 * `uncompressed: false`, compressed ones (§5) registered with `compress()` or after
 * `compressAfter` datagrams to or from a peer, and the proxy's own, which we acknowledge. With
 * `fallback`, Context ID 0 is the request's target (RFC 9298's meaning, §3), and if the proxy
 * answered without bind (`bound: false`) the socket is a plain connect-udp tunnel to it.
 *
 * Errors as for `MasqueUdpSocket`: a reset or the loss of the connection emits `error` (a
 * {@link MasqueError}) then `close`; a malformed capsule or Context ID 0 on `*`/`*` from the
 * proxy resets the tunnel with H3_DATAGRAM_ERROR (RFC 9297 §3.3) and emits MASQUE_PROTOCOL_ERROR.
 */
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { CapsuleError } from '../capsule/errors.js';
import type { Capsule } from '../capsule/types.js';
import { H3ErrorCode } from '../http3/errors.js';
import { type BindPeer, ClientBindContexts } from '../masque/bind/client-contexts.js';
import {
  type BindWire,
  bindWireOf,
  decodeBindCapsule,
  encodeBindCapsule,
} from '../masque/bind/wire.js';
import { type CompressionCapsule, CompressionCapsuleType } from '../masque/capsules/compression.js';
import type { ProxyPublicAddress } from '../masque/headers/index.js';
import {
  type BindHeader,
  readUncompressedBindHeader,
  writeUncompressedBindHeader,
} from '../masque/payload/bind.js';
import { bytesToIp, ipToBytes } from '../masque/payload/ip.js';
import { AsyncQueue } from '../runtime/h3/async-queue.js';
import { decodeVarint, encodeVarint, type VarintResult } from '../wire/varint.js';
import { DatagramOut } from './datagram-out.js';
import { MasqueError, MasqueErrorCode } from './errors.js';
import { closedError, closeWithGrace, endError, endQueue, failSend } from './tunnel-lifecycle.js';
import type { MasqueUdpSocketOptions, RemoteInfo, TunnelStream } from './udp-socket.js';

/** What the bound socket needs of its extended CONNECT session (`ClientConnectSession` fits). */
export interface BindTunnelStream extends TunnelStream {
  onCapsule(cb: (c: Capsule) => void): () => void;
}

/** Options of {@link MasqueClient.bindUdp}. */
export interface MasqueBindOptions extends MasqueUdpSocketOptions {
  /**
   * Register a compressed context for a peer after this many datagrams to or from it (saves the
   * 7 or 19 bytes of address per datagram, §5); 0 turns it off. Default 8.
   */
  compressAfter?: number;
  /**
   * Open the uncompressed context (default true): any peer can reach us, and we can send to any
   * peer. False is firewall mode (§8.1): only peers registered with `compress()` get through,
   * both ways.
   */
  uncompressed?: boolean;
  /**
   * Bind with fallback (§2): the request names this target, Context ID 0 carries its datagrams,
   * and a proxy without bind serves the request as plain connect-udp to it (`bound: false`).
   */
  fallback?: { host: string; port: number };
  /**
   * Codepoints of the compression capsules: `'final'` (default; 0x11-0x13) or `'legacy'` (the
   * drafts before -10: 0x1C0FE323 / 0x1C0FE324, the ACK being the ASSIGN echoed).
   */
  wire?: BindWire;
  /** Open contexts at most, ours and the proxy's (§9). Default 64. */
  maxContexts?: number;
  /** A peer whose registration the proxy refused is registered again automatically after this long (ms). Default 60,000. */
  compressRetryMs?: number;
  /** Deadline (ms) of the request and of the uncompressed context's answer. */
  timeout?: number;
}

/** A public address of the bound socket, as `node:dgram`'s `address()` gives it. */
export interface BoundAddressInfo {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

/** One received datagram, as the async iterator yields it. */
export interface BoundMessage {
  msg: Buffer;
  rinfo: RemoteInfo;
}

/** Counters of a {@link MasqueBoundSocket}. */
export interface MasqueBoundSocketStats {
  datagramsSent: number;
  datagramsReceived: number;
  /** Sent / received on compressed contexts (ours or the proxy's). */
  compressedSent: number;
  compressedReceived: number;
  /** Sent / received on the uncompressed context. */
  uncompressedSent: number;
  uncompressedReceived: number;
  /** Drops by reason: `no_context`, `family`, `closed_context`, `unknown_context`, `malformed`, `backlog`, `local`. */
  drops: Record<string, number>;
  /** Contexts open or awaiting an answer now. */
  contexts: number;
}

export interface MasqueBoundSocketEvents {
  message: [msg: Buffer, rinfo: RemoteInfo];
  error: [err: MasqueError];
  close: [];
  /** After `send` returned false because a queue filled: sending may resume. */
  drain: [];
}

// RFC 9298 §5: UDP payloads are at most 65527 bytes.
const MAX_UDP_PAYLOAD = 65_527;
/** Scratch: Context ID (up to 8 bytes), the IPv6 header (19), the payload. */
const SCRATCH = new Uint8Array(8 + 19 + MAX_UDP_PAYLOAD);
const VARINT: VarintResult = { value: 0, next: 0 };
const HEADER: BindHeader = { ipVersion: 4, addressOffset: 0, port: 0, payloadOffset: 0 };
const encoder = new TextEncoder();

type SendCallback = (err: MasqueError | null) => void;

/** What the response said, as `MasqueClient.bindUdp` read it. */
export interface BoundSocketInfo {
  /** The proxy accepted bind (`connect-udp-bind: ?1`, or a legacy proxy's Proxy-Public-Address). */
  readonly bound: boolean;
  /** Proxy-Public-Address, read leniently. */
  readonly publicAddresses: readonly ProxyPublicAddress[];
  /** The request's target (bind with fallback). */
  readonly fallback?: { readonly host: string; readonly port: number };
}

export class MasqueBoundSocket
  extends EventEmitter<MasqueBoundSocketEvents>
  implements AsyncIterable<BoundMessage>
{
  /** True when the proxy accepted bind; false: plain connect-udp to `fallback` only. */
  readonly bound: boolean;
  /** Where peers reach us (Proxy-Public-Address, §7); empty when not bound. */
  readonly publicAddresses: readonly BoundAddressInfo[];
  /** The request's target (bind with fallback): Context ID 0. */
  readonly fallback: { readonly host: string; readonly port: number } | undefined;
  /** The codepoints of the compression capsules in use. */
  readonly wire: BindWire;
  /** Settles once the uncompressed context is answered (or at once without one); rejects if the tunnel ends first. */
  readonly ready: Promise<void>;
  readonly #stream: BindTunnelStream;
  readonly #opts: MasqueBindOptions;
  readonly #table: ClientBindContexts | undefined;
  readonly #out: DatagramOut;
  readonly #offs: Array<() => void> = [];
  readonly #stats: MasqueBoundSocketStats = {
    datagramsSent: 0,
    datagramsReceived: 0,
    compressedSent: 0,
    compressedReceived: 0,
    uncompressedSent: 0,
    uncompressedReceived: 0,
    drops: {},
    contexts: 0,
  };
  /** The fallback target as a table peer (its address canonical when it is an IP literal). */
  readonly #fallbackPeer: BindPeer | undefined;
  #readyId: number | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (err: MasqueError) => void;
  #queue: AsyncQueue<BoundMessage> | undefined;
  #closing = false;
  #closed = false;
  #error: MasqueError | undefined;

  constructor(stream: BindTunnelStream, info: BoundSocketInfo, options: MasqueBindOptions = {}) {
    super();
    this.#stream = stream;
    this.#opts = options;
    this.bound = info.bound;
    this.wire = options.wire ?? 'final';
    this.fallback = info.fallback;
    this.publicAddresses = info.publicAddresses.map((a) => ({
      address: a.ip,
      family: a.family === 4 ? 'IPv4' : 'IPv6',
      port: a.port,
    }));
    this.#fallbackPeer =
      info.fallback === undefined
        ? undefined
        : { address: canonical(info.fallback.host), port: info.fallback.port };
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.#out = new DatagramOut(stream, options, () => {
      if (!this.#closed) this.emit('drain');
    });
    if (info.bound) {
      const families = [...new Set(info.publicAddresses.map((a) => a.family))];
      this.#table = new ClientBindContexts({
        maxContexts: options.maxContexts ?? 64,
        compressAfter: options.compressAfter ?? 8,
        retryAfterMs: options.compressRetryMs ?? 60_000,
        fallback: this.#fallbackPeer,
        families: families.length > 0 ? families : undefined,
      });
      this.#offs.push(stream.onCapsule((c) => this.#onCapsule(c)));
    }
    this.#offs.push(stream.onDatagram((p) => this.#onDatagram(p)));
    void stream.closed.then((i) => this.#onClosed(i));
    const open = options.uncompressed === false ? undefined : this.#table?.openUncompressed();
    if (open === undefined) this.#resolveReady();
    else {
      this.#readyId = open.contextId;
      this.#sendCapsule(open);
    }
  }

  /**
   * The public address peers must send to (§7): the first IPv4 one when there is one, like
   * `node:dgram`'s `address()`. Throws MASQUE_BIND_UNSUPPORTED when the proxy gave none (not
   * bound). All of them are in `publicAddresses`.
   */
  address(): BoundAddressInfo {
    const a = this.publicAddresses.find((x) => x.family === 'IPv4') ?? this.publicAddresses.at(0);
    if (a === undefined) {
      throw new MasqueError(
        MasqueErrorCode.BIND_UNSUPPORTED,
        'the proxy gave no public address (the tunnel is not bound)',
      );
    }
    return { ...a };
  }

  /** True once the tunnel is over. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Settles once the socket has closed (see `error`); never rejects. */
  get closed(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.once('close', () => resolve()));
  }

  /** The error that ended the tunnel, if one did. */
  get error(): MasqueError | undefined {
    return this.#error;
  }

  /** Datagrams dropped, whatever the reason (see `stats().drops`). */
  get dropped(): number {
    let n = this.#out.dropped;
    for (const v of Object.values(this.#stats.drops)) n += v;
    return n;
  }

  /**
   * Largest UDP payload that rides one QUIC DATAGRAM frame on a compressed context now (an
   * uncompressed one takes 7 more bytes for IPv4, 19 for IPv6); larger ones go as DATAGRAM
   * capsules. 0 when QUIC datagrams are not in use.
   */
  get maxDatagramPayload(): number {
    return Math.max(0, (this.#stream.maxDatagramPayload ?? 0) - 1);
  }

  /** Counters (a copy). */
  stats(): MasqueBoundSocketStats {
    return {
      ...this.#stats,
      drops: {
        ...this.#stats.drops,
        ...(this.#out.dropped > 0 ? { local: this.#out.dropped } : {}),
      },
      contexts: this.#table?.size ?? 0,
    };
  }

  /**
   * The context datagrams to `address:port` travel on now: `contextId` 0 for the fallback target;
   * `compressed` false for the uncompressed context; undefined when none can carry them.
   */
  contextOf(
    address: string,
    port: number,
  ):
    | { contextId: number; compressed: boolean; owner: 'client' | 'proxy'; acked: boolean }
    | undefined {
    const peer = { address: canonical(address), port };
    if (this.#table === undefined) {
      return this.#isFallback(peer)
        ? { contextId: 0, compressed: false, owner: 'client', acked: true }
        : undefined;
    }
    const r = this.#table.outbound(peer);
    if (r.kind === 'none') return undefined;
    if (r.kind === 'fallback')
      return { contextId: 0, compressed: false, owner: 'client', acked: true };
    const ctx = r.kind === 'compressed' ? this.#table.contextOf(peer) : this.#table.uncompressed;
    return {
      contextId: r.contextId,
      compressed: r.kind === 'compressed',
      owner: ctx?.owner ?? 'client',
      acked: ctx?.acked ?? false,
    };
  }

  /**
   * Registers a compressed context for `address:port` (§5): from its acknowledgement on,
   * datagrams to and from that peer carry no address; with `uncompressed: false` it is how a peer
   * is let through (§8.1). Returns false when nothing was sent: the peer has a context already,
   * is the fallback target, is of a family the proxy did not offer, or the table is full.
   */
  compress(address: string, port: number): boolean {
    if (this.#closing || this.#closed || this.#table === undefined) return false;
    const a = this.#table.register(this.#peerOf(address, port));
    if (a === undefined) return false;
    this.#sendCapsule(a);
    return true;
  }

  /**
   * Sends one UDP payload to `address:port` (an IP literal; the fallback target may be a name),
   * or to the fallback target when no address is given. Returns false when the payload was
   * dropped locally (no context can carry it, or a queue is full) or the caller should wait for
   * `drain`. Errors take node:dgram's path: to `callback` if given, else `error` if listened to,
   * else thrown: MASQUE_CLOSED, MASQUE_PAYLOAD_TOO_LARGE, MASQUE_INVALID_ARGUMENT,
   * MASQUE_BIND_UNSUPPORTED (another peer than the fallback target on an unbound socket).
   */
  send(msg: Uint8Array | string, callback?: SendCallback): boolean;
  send(msg: Uint8Array | string, port: number, address: string, callback?: SendCallback): boolean;
  send(
    msg: Uint8Array | string,
    portOrCb?: number | SendCallback,
    address?: string,
    cb?: SendCallback,
  ): boolean {
    const callback = typeof portOrCb === 'function' ? portOrCb : cb;
    if (this.#closing || this.#closed) return failSend(this, closedError(this.#error), callback);
    let peer: BindPeer;
    if (typeof portOrCb !== 'number') {
      if (this.#fallbackPeer === undefined) {
        return failSend(
          this,
          new MasqueError(
            MasqueErrorCode.INVALID_ARGUMENT,
            'send(msg) needs a port and an address without a fallback target',
          ),
          callback,
        );
      }
      peer = this.#fallbackPeer;
    } else {
      const p = this.#checkPeer(address ?? '', portOrCb);
      if (p instanceof MasqueError) return failSend(this, p, callback);
      peer = p;
    }
    const bytes = typeof msg === 'string' ? encoder.encode(msg) : msg;
    if (bytes.length > MAX_UDP_PAYLOAD) {
      return failSend(
        this,
        new MasqueError(
          MasqueErrorCode.PAYLOAD_TOO_LARGE,
          `a UDP payload is at most ${MAX_UDP_PAYLOAD} bytes, not ${bytes.length}`,
        ),
        callback,
      );
    }
    const ok = this.#sendTo(peer, bytes);
    if (callback !== undefined) process.nextTick(callback, null);
    return ok;
  }

  /** Ends the tunnel (FIN on the stream); `close` is emitted once the proxy ended its side. */
  close(): void {
    if (this.#closing || this.#closed) return;
    this.#closing = true;
    for (const off of this.#offs.splice(0)) off();
    closeWithGrace(this.#stream, this.#opts.closeGraceMs ?? 5000);
  }

  [Symbol.asyncIterator](): AsyncIterator<BoundMessage> {
    if (this.#queue === undefined) {
      this.#queue = new AsyncQueue<BoundMessage>();
      if (this.#closed) endQueue(this.#queue, this.#error);
    }
    return this.#queue[Symbol.asyncIterator]();
  }

  // ---- sending ----

  #isFallback(peer: BindPeer): boolean {
    const fb = this.#fallbackPeer;
    return fb !== undefined && fb.address === peer.address && fb.port === peer.port;
  }

  #peerOf(address: string, port: number): BindPeer {
    return { address: canonical(address), port };
  }

  #checkPeer(address: string, port: number): BindPeer | MasqueError {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) {
      return new MasqueError(
        MasqueErrorCode.INVALID_ARGUMENT,
        `port ${port} out of range 1..65535`,
      );
    }
    const peer = this.#peerOf(address, port);
    if (this.#isFallback(peer)) return peer;
    if (!this.bound) {
      return new MasqueError(
        MasqueErrorCode.BIND_UNSUPPORTED,
        `the proxy did not accept bind: this socket reaches only ${this.fallback?.host}:${this.fallback?.port}`,
      );
    }
    if (isIP(peer.address) === 0) {
      // Resolving here would leak the name to the local resolver; the uncompressed payload
      // carries an address (§4).
      return new MasqueError(
        MasqueErrorCode.INVALID_ARGUMENT,
        `a bound socket sends to IP addresses, not ${JSON.stringify(address)}`,
      );
    }
    return peer;
  }

  #sendTo(peer: BindPeer, bytes: Uint8Array): boolean {
    const st = this.#stats;
    const table = this.#table;
    if (table === undefined) return this.#emit(0, undefined, bytes); // not bound: the fallback only
    const route = table.outbound(peer);
    switch (route.kind) {
      case 'none':
        this.#drop(route.reason);
        return false;
      case 'fallback':
        st.datagramsSent++;
        return this.#emit(0, undefined, bytes);
      case 'compressed':
        st.datagramsSent++;
        st.compressedSent++;
        return this.#emit(route.contextId, undefined, bytes);
      case 'uncompressed': {
        const assign = table.noteTraffic(peer, performance.now());
        if (assign !== undefined) this.#sendCapsule(assign);
        st.datagramsSent++;
        st.uncompressedSent++;
        return this.#emit(route.contextId, peer, bytes);
      }
    }
  }

  /** One HTTP datagram: Context ID, the uncompressed header when `peer` is given (§4), payload. */
  #emit(contextId: number, peer: BindPeer | undefined, bytes: Uint8Array): boolean {
    let at = encodeVarint(SCRATCH, 0, contextId);
    if (peer !== undefined)
      at = writeUncompressedBindHeader(SCRATCH, at, ipToBytes(peer.address), peer.port);
    SCRATCH.set(bytes, at);
    return this.#out.send(SCRATCH.subarray(0, at + bytes.length));
  }

  #drop(reason: string): void {
    this.#stats.drops[reason] = (this.#stats.drops[reason] ?? 0) + 1;
  }

  // ---- capsules ----

  #sendCapsule(c: CompressionCapsule, assigned?: CompressionCapsule): void {
    const s = this.#stream;
    // §9: a limit on answers that cannot leave; past it the tunnel is not worth keeping.
    if (s.bufferedAmount > (this.#opts.capsuleBacklogBytes ?? 1024 * 1024)) {
      this.#fail(
        H3ErrorCode.H3_EXCESSIVE_LOAD,
        MasqueErrorCode.TUNNEL_RESET,
        'compression capsules cannot leave: the stream is full',
      );
      return;
    }
    const echo =
      assigned?.type === CompressionCapsuleType.COMPRESSION_ASSIGN ? assigned : undefined;
    const [type, value] = encodeBindCapsule(c, this.wire, echo);
    s.sendCapsule(type, value);
  }

  #onCapsule(c: Capsule): void {
    const table = this.#table;
    if (this.#closing || this.#closed || table === undefined) return;
    // Only the configured wire form is ours; the other is an unknown capsule (RFC 9297 §3.2).
    if (bindWireOf(c.type) !== this.wire) return;
    let decoded: CompressionCapsule;
    let replies: CompressionCapsule[];
    try {
      decoded = decodeBindCapsule(c.type, c.value, 'client');
      replies = table.receive(decoded, performance.now());
    } catch (err) {
      if (!(err instanceof CapsuleError)) throw err;
      // RFC 9297 §3.3: a malformed capsule is an error processing the Capsule Protocol.
      this.#fail(
        H3ErrorCode.H3_DATAGRAM_ERROR,
        MasqueErrorCode.PROTOCOL_ERROR,
        `the proxy sent a malformed capsule: ${err.message}`,
      );
      return;
    }
    for (const r of replies) this.#sendCapsule(r, decoded);
    if (
      this.#readyId !== undefined &&
      decoded.type !== CompressionCapsuleType.COMPRESSION_ASSIGN &&
      decoded.contextId === this.#readyId
    ) {
      // Acknowledged, or refused (then only compressed contexts carry datagrams, §8.1).
      this.#readyId = undefined;
      this.#resolveReady();
    }
  }

  // ---- receiving ----

  #onDatagram(payload: Uint8Array): void {
    if (this.#closing || this.#closed) return;
    let id: number;
    let offset: number;
    if (payload.length > 0 && payload[0] < 0x40) {
      id = payload[0];
      offset = 1;
    } else {
      try {
        decodeVarint(payload, 0, payload.length, VARINT);
      } catch {
        this.#drop('malformed');
        return;
      }
      id = VARINT.value;
      offset = VARINT.next;
    }
    const st = this.#stats;
    const table = this.#table;
    if (table === undefined) {
      // Not bound: RFC 9298 §4, unknown Context IDs are dropped.
      if (id !== 0 || this.fallback === undefined) {
        this.#drop('unknown_context');
        return;
      }
      this.#deliver(payload.subarray(offset), this.fallback.host, this.fallback.port);
      return;
    }
    const route = table.inbound(id);
    switch (route.kind) {
      case 'abort':
        // §3: Context ID 0 on `*`/`*` "MUST abort the request stream".
        this.#fail(
          H3ErrorCode.H3_DATAGRAM_ERROR,
          MasqueErrorCode.PROTOCOL_ERROR,
          'the proxy sent Context ID 0 on a bind request without a target',
        );
        return;
      case 'closed':
        this.#drop('closed_context'); // §3.3: discarded silently
        return;
      case 'unknown':
        this.#drop('unknown_context');
        return;
      case 'fallback': {
        const fb = this.fallback as { host: string; port: number };
        this.#deliver(payload.subarray(offset), fb.host, fb.port);
        return;
      }
      case 'compressed':
        st.compressedReceived++;
        this.#deliver(payload.subarray(offset), route.peer.address, route.peer.port);
        return;
      case 'uncompressed': {
        try {
          readUncompressedBindHeader(payload, offset, payload.length, HEADER);
        } catch {
          this.#drop('malformed'); // §4: IP Version other than 4 or 6, or truncated
          return;
        }
        const len = HEADER.ipVersion === 4 ? 4 : 16;
        const address = bytesToIp(
          payload.subarray(HEADER.addressOffset, HEADER.addressOffset + len),
        );
        const peer = { address, port: HEADER.port };
        st.uncompressedReceived++;
        const assign = table.noteTraffic(peer, performance.now());
        if (assign !== undefined) this.#sendCapsule(assign);
        this.#deliver(payload.subarray(HEADER.payloadOffset), address, HEADER.port);
      }
    }
  }

  #deliver(view: Uint8Array, address: string, port: number): void {
    this.#stats.datagramsReceived++;
    const msg = Buffer.from(view); // a copy: the view dies with this call
    const rinfo: RemoteInfo = {
      address,
      port,
      family: address.includes(':') ? 'IPv6' : isIP(address) === 4 ? 'IPv4' : 'name',
      size: msg.length,
    };
    if (this.listenerCount('message') > 0) this.emit('message', msg, rinfo);
    const q = this.#queue;
    if (q !== undefined && !q.ended) {
      if (q.length >= (this.#opts.backlog ?? 4096)) {
        q.dropOldest();
        this.#drop('backlog');
      }
      q.push({ msg, rinfo });
    }
  }

  // ---- the end ----

  #fail(
    h3Code: number,
    code: (typeof MasqueErrorCode)[keyof typeof MasqueErrorCode],
    message: string,
  ): void {
    if (this.#error === undefined) this.#error = new MasqueError(code, message, { h3Code });
    this.#stream.abort(h3Code);
  }

  #onClosed(info: { kind: 'end' | 'reset' | 'connection'; code?: number }): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    this.#out.dispose();
    if (this.#error === undefined && !this.#closing) this.#error = endError(info);
    const err = this.#error;
    this.#rejectReady(
      err ?? new MasqueError(MasqueErrorCode.CLOSED, 'the tunnel closed before the proxy answered'),
    );
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
    endQueue(this.#queue, this.#error);
    this.emit('close');
  }
}

/** IP literals in canonical text (brackets dropped) so one peer is one key; names as given. */
function canonical(address: string): string {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return isIP(a) === 0 ? a : bytesToIp(ipToBytes(a));
}
