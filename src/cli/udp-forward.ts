/**
 * `masque udp-forward`: a local UDP port whose traffic goes through the proxy to one target.
 * Each local peer (address and port) gets its own tunnel, opened on its first datagram and
 * closed after `idleMs` without traffic either way, so replies find their way back to the peer
 * that asked. Tunnels spread over as many connections to the proxy as they need
 * (`client-pool.ts`); past `maxTunnels` the least recently used tunnel closes for the newcomer.
 * Datagrams that arrive while a tunnel opens wait (256 KiB per peer); a refused tunnel is not
 * retried for a second. Every datagram dropped on the way is counted (`stats()`).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { pino } from 'pino';
import { type MasqueAuth, MasqueClient, type MasqueClientOptions } from '../client/client.js';
import { MasqueError } from '../client/errors.js';
import { defaultTemplate } from '../masque/connect-udp/template-expand.js';
import { formatAddress } from '../runtime/udp/address.js';
import { bindUdpSocket, type DgramSocket } from '../runtime/udp/datagram-socket.js';
import { ClientPool } from './client-pool.js';
import { QuicForwardSocket } from './quic-forward-socket.js';

/** Options of {@link UdpForwarder.start}. */
export interface UdpForwardOptions {
  /** The proxy's URI template, or just `https://host:port` for the default template. */
  proxy: string;
  /** Local address, "127.0.0.1:8053". */
  listen: string;
  /** The target, "host:port" ("[v6]:port"); a name is resolved by the proxy. */
  target: string;
  ca?: string[];
  insecure?: true;
  pinnedSha256?: string[];
  auth?: MasqueAuth;
  /** Idle time after which a peer's tunnel closes (ms). Default 60,000. */
  idleMs?: number;
  /** Deadline to reach the proxy and to open a tunnel (ms). Default 10,000. */
  timeoutMs?: number;
  /** Ceiling of QUIC path MTU discovery to the proxy (1200-65527; default 1452). */
  maxUdpPayload?: number;
  /** How to reach the proxy: HTTP/3, HTTP/2 or HTTP/1.1 (UDP blocked), or auto (see `MasqueClientOptions.transport`). */
  transport?: 'h3' | 'h2' | 'h1' | 'auto';
  /** 'capsule' never negotiates HTTP/3 datagrams (see `MasqueClientOptions.datagrams`). */
  datagrams?: 'auto' | 'capsule';
  /** Tunnels open at most; past it the least recently used one closes. Default 1024. */
  maxTunnels?: number;
  /** Tunnels per connection to the proxy before another opens (the proxy's default is 64). */
  tunnelsPerConnection?: number;
  /** Connections to the proxy at most. Default 32. */
  maxConnections?: number;
  /** SO_RCVBUF / SO_SNDBUF of the local socket. Default 4 MiB (the kernel may cap it). */
  socketBufferBytes?: number;
  /**
   * QUIC-aware tunnels (draft-ietf-masque-quic-proxy) with forwarded mode, for a QUIC program on
   * the local port: see `quic-forward-socket.ts` for what it can and cannot learn.
   */
  quicAware?: boolean;
  /** Problems worth a line (tunnel refused, connection lost). */
  onProblem?: (message: string) => void;
}

/** Why udp-forward dropped a datagram. */
export type ForwardDropReason =
  /** Too many datagrams waited for their peer's tunnel to open. */
  | 'pending_full'
  /** The peer's tunnel could not be opened (refused, unreachable proxy); retried after 1 s. */
  | 'tunnel_failed'
  /** The tunnel's send refused it (the SDK's queue is full). */
  | 'send_refused'
  /** The tunnel had closed under it. */
  | 'tunnel_closed'
  /** The local socket could not send a reply to its peer. */
  | 'local_send_error';

/** udp-forward's counters since it started. */
export interface UdpForwardStats {
  /** Datagrams and bytes from local peers into tunnels. */
  datagramsIn: number;
  bytesIn: number;
  /** Datagrams and bytes from tunnels back to local peers. */
  datagramsOut: number;
  bytesOut: number;
  tunnelsOpen: number;
  tunnelsOpened: number;
  /** Closed for a newcomer past `maxTunnels`. */
  tunnelsEvicted: number;
  tunnelsFailed: number;
  connections: number;
  drops: Record<ForwardDropReason, number>;
}

/** "host:port" / "[v6]:port" → parts; throws RangeError. */
export function parseHostPort(text: string, allowZero = false): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new RangeError(`"${text}" is not host:port (IPv6 as [addr]:port, port 1-65535)`);
  }
  return { host: m[1] ?? m[2], port };
}

/** A template from `--proxy`: a template as is, or an https origin with the default path. */
export function proxyTemplate(text: string): string {
  if (text.includes('{')) return text;
  const url = new URL(text);
  if (url.protocol !== 'https:') throw new RangeError(`--proxy must be https, not ${url.protocol}`);
  return defaultTemplate(url.host);
}

/** Bytes a peer's datagrams may take while its tunnel opens (a burst waits; beyond, drops). */
const PENDING_BYTES = 256 * 1024;
const RETRY_AFTER_MS = 1000;
const DEFAULT_BUFFER = 4 * 1024 * 1024;

/** What udp-forward needs of a peer's tunnel (a MasqueUdpSocket, or a QUIC-aware one). */
interface ForwardSocket {
  readonly isClosed: boolean;
  readonly dropped: number;
  readonly closed: Promise<unknown>;
  send(msg: Uint8Array): unknown;
  close(): void;
  on(event: 'message', fn: (msg: Buffer) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
}

interface Peer {
  /** The peer's address, "a.b.c.d:port" / "[v6]:port" (`formatAddress`): its key too. */
  key: string;
  sock: ForwardSocket | undefined;
  /** Gives the tunnel's place on its connection back (idempotent). */
  release: () => void;
  pending: Uint8Array[];
  pendingBytes: number;
  last: number;
  failedUntil: number;
}

export class UdpForwarder {
  readonly #opts: UdpForwardOptions;
  readonly #target: { host: string; port: number };
  /**
   * The local socket: the runtime's (native sends with a cached sockaddr per peer and recvmmsg
   * drains where the addon is loaded, node:dgram otherwise), as the proxy's endpoint uses.
   */
  readonly #local: DgramSocket;
  /** One reply's arguments to `sendMany`, reused. */
  readonly #replyData: Uint8Array[] = [new Uint8Array(0)];
  readonly #replyTo: string[] = [''];
  /** Peers in least-recently-used order (Map keeps insertion order; activity re-inserts). */
  readonly #peers = new Map<string, Peer>();
  readonly #pool: ClientPool;
  readonly #sweep: NodeJS.Timeout;
  readonly #maxTunnels: number;
  readonly #stats: UdpForwardStats = {
    datagramsIn: 0,
    bytesIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    tunnelsOpen: 0,
    tunnelsOpened: 0,
    tunnelsEvicted: 0,
    tunnelsFailed: 0,
    connections: 0,
    drops: {
      pending_full: 0,
      tunnel_failed: 0,
      send_refused: 0,
      tunnel_closed: 0,
      local_send_error: 0,
    },
  };
  #closed = false;

  private constructor(opts: UdpForwardOptions, pool: ClientPool, local: DgramSocket) {
    this.#opts = opts;
    this.#target = parseHostPort(opts.target);
    this.#local = local;
    this.#pool = pool;
    this.#maxTunnels = opts.maxTunnels ?? 1024;
    const idle = opts.idleMs ?? 60_000;
    this.#sweep = setInterval(() => this.#closeIdle(idle), Math.max(100, idle / 4));
    this.#sweep.unref();
    local.onMessage((msg, remote) => this.#fromPeer(msg, remote));
  }

  /** Connects to the proxy (fails fast when it is unreachable) and binds the local port. */
  static async start(opts: UdpForwardOptions): Promise<UdpForwarder> {
    const template = proxyTemplate(opts.proxy);
    parseHostPort(opts.target);
    const listen = parseHostPort(opts.listen, true);
    for (const [name, v] of [
      ['maxTunnels', opts.maxTunnels],
      ['tunnelsPerConnection', opts.tunnelsPerConnection],
      ['maxConnections', opts.maxConnections],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
        throw new RangeError(`${name} must be a positive integer, not ${v}`);
      }
    }
    const clientOpts = clientOptions(opts);
    const first = await MasqueClient.connect(template, clientOpts);
    const buffer = opts.socketBufferBytes ?? DEFAULT_BUFFER;
    let local: DgramSocket;
    try {
      // A name (localhost) binds to its first address, as node:dgram's bind would.
      const host = isIP(listen.host) === 0 ? (await lookup(listen.host)).address : listen.host;
      local = await bindUdpSocket(formatAddress(host, listen.port), SILENT, buffer);
    } catch (err) {
      await first.close();
      throw err;
    }
    let forwarder: UdpForwarder | undefined;
    const pool = new ClientPool(
      {
        template,
        client: clientOpts,
        tunnelsPerConnection: opts.tunnelsPerConnection ?? 64,
        maxConnections: opts.maxConnections ?? 32,
        onConnectionLost: () => {
          if (forwarder !== undefined && !forwarder.#closed) {
            opts.onProblem?.('a connection to the proxy closed');
          }
        },
      },
      first,
    );
    forwarder = new UdpForwarder(opts, pool, local);
    return forwarder;
  }

  /** The bound local address, "host:port". */
  get address(): string {
    const a = this.#local.address();
    return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  }

  /** Tunnels open or opening. */
  get tunnels(): number {
    return this.#peers.size;
  }

  /** Counters since the start (a copy). */
  stats(): UdpForwardStats {
    return {
      ...this.#stats,
      tunnelsOpen: this.#peers.size,
      connections: this.#pool.connections,
      // The socket counts what the kernel refused, at once or in node's send callback.
      drops: { ...this.#stats.drops, local_send_error: this.#local.sendErrors },
    };
  }

  /** Closes every tunnel, the connections and the local socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const p of this.#peers.values()) p.sock?.close();
    this.#peers.clear();
    await this.#local.close();
    await this.#pool.close();
  }

  #fromPeer(msg: Uint8Array, key: string): void {
    if (this.#closed) return;
    const st = this.#stats;
    st.datagramsIn++;
    st.bytesIn += msg.length;
    const now = Date.now();
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      if (this.#peers.size >= this.#maxTunnels || !this.#pool.hasRoom) this.#evictOldest();
      peer = {
        key,
        sock: undefined,
        release: () => {},
        pending: [],
        pendingBytes: 0,
        last: now,
        failedUntil: 0,
      };
      this.#peers.set(key, peer);
      void this.#open(peer);
    } else {
      // Most recently used goes last.
      this.#peers.delete(key);
      this.#peers.set(key, peer);
    }
    peer.last = now;
    if (peer.failedUntil > now) {
      st.drops.tunnel_failed++;
      return;
    }
    if (peer.sock !== undefined) {
      this.#sendThrough(peer.sock, msg);
      return;
    }
    if (peer.pendingBytes + msg.length <= PENDING_BYTES) {
      peer.pending.push(msg);
      peer.pendingBytes += msg.length;
    } else {
      st.drops.pending_full++;
    }
  }

  #sendThrough(sock: ForwardSocket, msg: Uint8Array): void {
    if (sock.isClosed) {
      this.#stats.drops.tunnel_closed++;
      return;
    }
    // false with nothing dropped is backpressure (still queued); the socket counts real drops.
    const dropped = sock.dropped;
    sock.send(msg);
    if (sock.dropped !== dropped) this.#stats.drops.send_refused++;
  }

  /** Closes the least recently used open tunnel to make room (counted). */
  #evictOldest(): void {
    for (const p of this.#peers.values()) {
      if (p.sock === undefined) continue;
      this.#peers.delete(p.key);
      p.sock.close();
      p.release(); // its place is the newcomer's at once, not when the proxy has answered our FIN
      this.#stats.tunnelsEvicted++;
      return;
    }
  }

  async #open(peer: Peer): Promise<void> {
    const { host, port } = this.#target;
    let opened: { sock: ForwardSocket; release: () => void };
    try {
      opened = this.#opts.quicAware
        ? await this.#pool.open<ForwardSocket>(
            host,
            port,
            async (c, h, p) => new QuicForwardSocket(await c.connectQuic(h, p)),
          )
        : await this.#pool.open(host, port);
    } catch (err) {
      const text = err instanceof MasqueError ? `${err.code}: ${err.message}` : String(err);
      this.#opts.onProblem?.(`tunnel for ${peerName(peer)} to ${host}:${port} failed: ${text}`);
      this.#stats.tunnelsFailed++;
      this.#stats.drops.tunnel_failed += peer.pending.length;
      peer.pending.length = 0;
      peer.pendingBytes = 0;
      peer.failedUntil = Date.now() + RETRY_AFTER_MS;
      setTimeout(() => {
        if (this.#peers.get(peer.key) === peer && peer.sock === undefined) {
          this.#peers.delete(peer.key);
        }
      }, RETRY_AFTER_MS).unref();
      return;
    }
    const { sock, release } = opened;
    void sock.closed.then(release);
    if (this.#closed || this.#peers.get(peer.key) !== peer) {
      sock.close();
      return;
    }
    this.#stats.tunnelsOpened++;
    peer.sock = sock;
    peer.release = release;
    sock.on('message', (m) => {
      peer.last = Date.now();
      this.#stats.datagramsOut++;
      this.#stats.bytesOut += m.length;
      this.#replyData[0] = m;
      this.#replyTo[0] = peer.key;
      this.#local.sendMany(this.#replyData, this.#replyTo, 1);
    });
    sock.on('error', (e) => this.#opts.onProblem?.(`tunnel for ${peerName(peer)}: ${e.message}`));
    sock.on('close', () => {
      if (this.#peers.get(peer.key) === peer) this.#peers.delete(peer.key);
    });
    peer.pendingBytes = 0;
    for (const m of peer.pending.splice(0)) this.#sendThrough(sock, m);
  }

  #closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const p of [...this.#peers.values()]) {
      if (p.sock !== undefined && now - p.last >= idleMs) {
        this.#peers.delete(p.key);
        p.sock.close();
        p.release();
      }
    }
  }
}

/** One line of counters, e.g. for a periodic log line. */
export function formatForwardStats(s: UdpForwardStats): string {
  const drops = Object.entries(s.drops)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`);
  return [
    `in ${s.datagramsIn} datagrams/${s.bytesIn} bytes`,
    `out ${s.datagramsOut}/${s.bytesOut}`,
    `tunnels ${s.tunnelsOpen} open, ${s.tunnelsOpened} opened, ${s.tunnelsEvicted} evicted, ${s.tunnelsFailed} failed`,
    `connections ${s.connections}`,
    `drops ${drops.length === 0 ? 0 : drops.join(' ')}`,
  ].join('; ');
}

function peerName(p: Peer): string {
  return p.key;
}

/** The local socket's own log lines (send failures are counted in `stats()`). */
const SILENT = pino({ level: 'silent' });

function clientOptions(o: UdpForwardOptions): MasqueClientOptions {
  return {
    ca: o.ca,
    insecure: o.insecure,
    pinnedSha256: o.pinnedSha256,
    auth: o.auth,
    connectTimeout: o.timeoutMs,
    tunnelTimeout: o.timeoutMs,
    maxUdpPayload: o.maxUdpPayload,
    datagrams: o.datagrams,
    transport: o.transport,
  };
}
