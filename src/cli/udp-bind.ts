/**
 * `masque udp-bind`: a bound UDP socket on the proxy (connect-udp-bind) for an unmodified local
 * UDP application, as a NAT would present it.
 *
 * The proxy gives one public address (and port); peers anywhere send to it. Each peer P gets a
 * local "representative" socket of its own (an ephemeral port on the local host): P's datagrams
 * reach the application (`--local host:port`) from that port, and what the application sends
 * back to that port goes to P, from the public address. The application sees ordinary peers
 * with local addresses, one per remote peer, and needs no framing.
 *
 * Peers the application wants to reach first are named with `peers` (`--peer host:port`): their
 * representatives open at start and are listed, so the application sends to them. With
 * `firewall` only those peers get through (the uncompressed context stays closed, §8.1 of
 * connect-udp-listen; each named peer gets a compressed context). Representatives close after
 * `idleMs` without traffic, and past `maxPeers` the least recently used one closes; named peers
 * stay. A representative takes datagrams only from the application's address.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { MasqueBoundSocket } from '../client/bound-socket.js';
import { type MasqueAuth, MasqueClient } from '../client/client.js';
import type { BindWire } from '../masque/bind/wire.js';
import { parseHostPort, proxyTemplate } from './udp-forward.js';

/** Options of {@link UdpBinder.start}. */
export interface UdpBindOptions {
  /** The proxy's URI template, or just `https://host:port` for the default template. */
  proxy: string;
  /** The local application's address, "127.0.0.1:9000". */
  local: string;
  /** Peers to open representatives for at start ("host:port", IP literals). */
  peers?: string[];
  /** Only the named peers get through, both ways. */
  firewall?: boolean;
  /** How to reach the proxy: HTTP/3, HTTP/2 (UDP blocked), or auto. */
  transport?: 'h3' | 'h2' | 'h1' | 'auto';
  ca?: string[];
  insecure?: true;
  pinnedSha256?: string[];
  auth?: MasqueAuth;
  /** Deadline to reach the proxy and to bind (ms). Default 10,000. */
  timeoutMs?: number;
  /** Representatives at most; past it the least recently used closes. Default 256. */
  maxPeers?: number;
  /** A representative closes after this long without traffic either way (ms). Default 120,000. */
  idleMs?: number;
  /** Compressed context for a peer after this many datagrams; 0: never. Default 8. */
  compressAfter?: number;
  /** Codepoints of the compression capsules. Default 'final'. */
  wire?: BindWire;
  /** A new representative: the peer, and the local address the application sees it at. */
  onPeer?: (peer: string, local: string) => void;
  /** Problems worth a line (the tunnel closed). */
  onProblem?: (message: string) => void;
}

/** udp-bind's counters since it started. */
export interface UdpBindStats {
  /** Datagrams from peers to the application, and back. */
  fromPeers: number;
  toPeers: number;
  peersOpen: number;
  peersOpened: number;
  /** Closed for a newcomer past `maxPeers`. */
  peersEvicted: number;
  /** Datagrams to a representative from another address than the application's. */
  foreignDropped: number;
}

interface Rep {
  readonly peer: { address: string; port: number };
  readonly socket: Socket;
  readonly pinned: boolean;
  local: string | undefined;
  last: number;
}

/** "a.b.c.d:p" or "[v6]:p". */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class UdpBinder {
  readonly #opts: UdpBindOptions;
  readonly #client: MasqueClient;
  readonly #sock: MasqueBoundSocket;
  readonly #local: { host: string; port: number };
  /** Representatives in least-recently-used order (activity re-inserts). */
  readonly #reps = new Map<string, Rep>();
  readonly #sweep: NodeJS.Timeout;
  readonly #stats: UdpBindStats = {
    fromPeers: 0,
    toPeers: 0,
    peersOpen: 0,
    peersOpened: 0,
    peersEvicted: 0,
    foreignDropped: 0,
  };
  #closing: Promise<void> | undefined;

  private constructor(
    opts: UdpBindOptions,
    client: MasqueClient,
    sock: MasqueBoundSocket,
    local: { host: string; port: number },
  ) {
    this.#opts = opts;
    this.#client = client;
    this.#sock = sock;
    this.#local = local;
    sock.on('message', (msg, rinfo) => this.#fromPeer(msg, rinfo.address, rinfo.port));
    sock.on('error', (err) => opts.onProblem?.(`the bound tunnel failed: ${err.message}`));
    sock.on('close', () => {
      if (this.#closing === undefined) opts.onProblem?.('the bound tunnel closed');
    });
    const idle = opts.idleMs ?? 120_000;
    this.#sweep = setInterval(() => this.#closeIdle(idle), Math.min(idle, 5000));
    this.#sweep.unref();
  }

  /** Connects, binds, and opens the named peers' representatives. */
  static async start(opts: UdpBindOptions): Promise<UdpBinder> {
    const local = parseHostPort(opts.local);
    if (isIP(local.host) === 0)
      throw new RangeError(`--local ${opts.local}: an IP literal is needed`);
    const peers = (opts.peers ?? []).map((p) => {
      const hp = parseHostPort(p);
      if (isIP(hp.host) === 0) throw new RangeError(`--peer ${p}: an IP literal is needed`);
      return hp;
    });
    const timeout = opts.timeoutMs ?? 10_000;
    const client = await MasqueClient.connect(proxyTemplate(opts.proxy), {
      ca: opts.ca,
      insecure: opts.insecure,
      pinnedSha256: opts.pinnedSha256,
      auth: opts.auth,
      connectTimeout: timeout,
      tunnelTimeout: timeout,
      transport: opts.transport,
    });
    let sock: MasqueBoundSocket;
    try {
      sock = await client.bindUdp({
        compressAfter: opts.compressAfter ?? 8,
        uncompressed: opts.firewall !== true,
        wire: opts.wire,
      });
    } catch (err) {
      await client.close();
      throw err;
    }
    const binder = new UdpBinder(opts, client, sock, local);
    for (const p of peers) {
      if (opts.firewall === true) sock.compress(p.host, p.port);
      binder.#open(p.host, p.port, true);
    }
    await Promise.all([...binder.#reps.values()].map((r) => binder.#listening(r)));
    return binder;
  }

  /** Where peers reach the application: the proxy's public addresses ("ip:port"). */
  get publicAddresses(): string[] {
    return this.#sock.publicAddresses.map((a) => formatHostPort(a.address, a.port));
  }

  /** Representatives open: the peer and the local address the application sees it at. */
  peers(): Array<{ peer: string; local: string }> {
    return [...this.#reps.values()].map((r) => ({
      peer: formatHostPort(r.peer.address, r.peer.port),
      local: r.local ?? '',
    }));
  }

  stats(): UdpBindStats {
    return { ...this.#stats, peersOpen: this.#reps.size };
  }

  /** Closes the representatives, the tunnel and the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#sweep);
      for (const r of [...this.#reps.values()]) this.#closeRep(r);
      this.#sock.close();
      await this.#client.close();
    })();
    return this.#closing;
  }

  #fromPeer(msg: Buffer, address: string, port: number): void {
    const rep = this.#reps.get(formatHostPort(address, port)) ?? this.#open(address, port, false);
    this.#stats.fromPeers++;
    this.#touch(rep);
    rep.socket.send(msg, this.#local.port, this.#local.host);
  }

  #open(address: string, port: number, pinned: boolean): Rep {
    const key = formatHostPort(address, port);
    const family = this.#local.host.includes(':') ? 'udp6' : 'udp4';
    const socket = createSocket(family);
    const rep: Rep = { peer: { address, port }, socket, pinned, local: undefined, last: 0 };
    socket.on('message', (msg, r) => {
      if (r.address !== this.#local.host || r.port !== this.#local.port) {
        this.#stats.foreignDropped++;
        return;
      }
      this.#touch(rep);
      this.#stats.toPeers++;
      this.#sock.send(msg, port, address);
    });
    socket.on('error', (err) => this.#opts.onProblem?.(`representative of ${key}: ${err.message}`));
    // Sends queue until the bind completes (node:dgram), so the first datagram is not lost.
    socket.bind(0, this.#local.host, () => {
      const a = socket.address();
      rep.local = formatHostPort(a.address, a.port);
      this.#opts.onPeer?.(key, rep.local);
    });
    this.#reps.set(key, rep);
    this.#stats.peersOpened++;
    this.#evict();
    return rep;
  }

  #listening(rep: Rep): Promise<void> {
    if (rep.local !== undefined) return Promise.resolve();
    return new Promise((resolve) => rep.socket.once('listening', () => resolve()));
  }

  #touch(rep: Rep): void {
    rep.last = performance.now();
    const key = formatHostPort(rep.peer.address, rep.peer.port);
    this.#reps.delete(key);
    this.#reps.set(key, rep);
  }

  #evict(): void {
    const max = this.#opts.maxPeers ?? 256;
    if (this.#reps.size <= max) return;
    for (const r of this.#reps.values()) {
      if (this.#reps.size <= max) return;
      if (r.pinned) continue;
      this.#closeRep(r);
      this.#stats.peersEvicted++;
    }
  }

  #closeIdle(idleMs: number): void {
    const now = performance.now();
    // Snapshot: closing deletes from the map.
    for (const r of [...this.#reps.values()]) {
      if (!r.pinned && now - r.last > idleMs) this.#closeRep(r);
    }
  }

  #closeRep(r: Rep): void {
    this.#reps.delete(formatHostPort(r.peer.address, r.peer.port));
    r.socket.close();
  }
}
