/**
 * `masque udp-forward`: a local UDP port whose traffic goes through the proxy to one target.
 * Each local peer (address and port) gets its own tunnel, opened on its first datagram and
 * closed after `idleMs` without traffic either way, so replies find their way back to the peer
 * that asked. Datagrams that arrive while a tunnel opens wait in a small queue (64); a refused
 * tunnel is not retried for a second. When the connection to the proxy is lost, the next
 * datagram reconnects (the SDK never does so on its own).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { type MasqueAuth, MasqueClient } from '../client/client.js';
import { MasqueError } from '../client/errors.js';
import type { MasqueUdpSocket } from '../client/udp-socket.js';
import { defaultTemplate } from '../masque/connect-udp/template-expand.js';

/** Options of {@link UdpForwarder.start}. */
export interface UdpForwardOptions {
  /** The proxy's URI template, or just `https://host:port` for the default template. */
  proxy: string;
  /** Local address, "127.0.0.1:5353". */
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
  /** 'capsule' never negotiates HTTP/3 datagrams (see `MasqueClientOptions.datagrams`). */
  datagrams?: 'auto' | 'capsule';
  /** Problems worth a line (tunnel refused, connection lost). */
  onProblem?: (message: string) => void;
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

const QUEUE_LIMIT = 64;
const RETRY_AFTER_MS = 1000;

interface Peer {
  key: string;
  rinfo: RemoteInfo;
  sock: MasqueUdpSocket | undefined;
  pending: Buffer[];
  last: number;
  failedUntil: number;
}

export class UdpForwarder {
  readonly #opts: UdpForwardOptions;
  readonly #template: string;
  readonly #target: { host: string; port: number };
  readonly #local: Socket;
  readonly #peers = new Map<string, Peer>();
  readonly #sweep: NodeJS.Timeout;
  #client: Promise<MasqueClient> | undefined;
  #closed = false;

  private constructor(
    opts: UdpForwardOptions,
    template: string,
    local: Socket,
    client: MasqueClient,
  ) {
    this.#opts = opts;
    this.#template = template;
    this.#target = parseHostPort(opts.target);
    this.#local = local;
    this.#adopt(client);
    const idle = opts.idleMs ?? 60_000;
    this.#sweep = setInterval(() => this.#closeIdle(idle), Math.max(100, idle / 4));
    local.on('message', (msg, rinfo) => this.#fromPeer(msg, rinfo));
  }

  /** Connects to the proxy (fails fast when it is unreachable) and binds the local port. */
  static async start(opts: UdpForwardOptions): Promise<UdpForwarder> {
    const template = proxyTemplate(opts.proxy);
    parseHostPort(opts.target);
    const listen = parseHostPort(opts.listen, true);
    const client = await MasqueClient.connect(template, clientOptions(opts));
    const local = createSocket(isIP(listen.host) === 6 ? 'udp6' : 'udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        local.once('error', reject);
        local.bind(listen.port, listen.host, () => {
          local.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await client.close();
      throw err;
    }
    return new UdpForwarder(opts, template, local, client);
  }

  /** The bound local address, "host:port". */
  get address(): string {
    const a = this.#local.address();
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  /** Tunnels open or opening. */
  get tunnels(): number {
    return this.#peers.size;
  }

  /** Closes every tunnel, the connection and the local socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const p of this.#peers.values()) p.sock?.close();
    this.#peers.clear();
    await new Promise<void>((resolve) => this.#local.close(() => resolve()));
    const client = await this.#client?.catch(() => undefined);
    await client?.close();
  }

  #adopt(client: MasqueClient): void {
    const ready = Promise.resolve(client);
    this.#client = ready;
    void client.closed.then(() => {
      if (this.#client === ready) this.#client = undefined;
      if (!this.#closed) this.#opts.onProblem?.('connection to the proxy closed');
    });
  }

  #connectClient(): Promise<MasqueClient> {
    if (this.#client === undefined) {
      const p = MasqueClient.connect(this.#template, clientOptions(this.#opts));
      this.#client = p;
      p.then(
        (c) => this.#adopt(c),
        () => {
          if (this.#client === p) this.#client = undefined;
        },
      );
    }
    return this.#client;
  }

  #fromPeer(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    const now = Date.now();
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      peer = { key, rinfo, sock: undefined, pending: [], last: now, failedUntil: 0 };
      this.#peers.set(key, peer);
      void this.#open(peer);
    }
    peer.last = now;
    if (peer.failedUntil > now) return;
    if (peer.sock !== undefined && !peer.sock.isClosed) {
      peer.sock.send(msg);
      return;
    }
    if (peer.pending.length < QUEUE_LIMIT) peer.pending.push(msg);
  }

  async #open(peer: Peer): Promise<void> {
    const { host, port } = this.#target;
    try {
      const client = await this.#connectClient();
      const sock = await client.connectUdp(host, port);
      if (this.#closed || this.#peers.get(peer.key) !== peer) {
        sock.close();
        return;
      }
      peer.sock = sock;
      sock.on('message', (m) => {
        peer.last = Date.now();
        this.#local.send(m, peer.rinfo.port, peer.rinfo.address);
      });
      sock.on('error', (e) => this.#opts.onProblem?.(`tunnel for ${peerName(peer)}: ${e.message}`));
      sock.on('close', () => {
        if (this.#peers.get(peer.key) === peer) this.#peers.delete(peer.key);
      });
      for (const m of peer.pending.splice(0)) sock.send(m);
    } catch (err) {
      const text = err instanceof MasqueError ? `${err.code}: ${err.message}` : String(err);
      this.#opts.onProblem?.(`tunnel for ${peerName(peer)} to ${host}:${port} failed: ${text}`);
      peer.pending.length = 0;
      peer.failedUntil = Date.now() + RETRY_AFTER_MS;
      setTimeout(() => {
        if (this.#peers.get(peer.key) === peer && peer.sock === undefined) {
          this.#peers.delete(peer.key);
        }
      }, RETRY_AFTER_MS).unref();
    }
  }

  #closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const p of [...this.#peers.values()]) {
      if (p.sock !== undefined && now - p.last >= idleMs) {
        this.#peers.delete(p.key);
        p.sock.close();
      }
    }
  }
}

function peerName(p: Peer): string {
  return p.rinfo.family === 'IPv6'
    ? `[${p.rinfo.address}]:${p.rinfo.port}`
    : `${p.rinfo.address}:${p.rinfo.port}`;
}

function clientOptions(o: UdpForwardOptions) {
  return {
    ca: o.ca,
    insecure: o.insecure,
    pinnedSha256: o.pinnedSha256,
    auth: o.auth,
    connectTimeout: o.timeoutMs,
    tunnelTimeout: o.timeoutMs,
    maxUdpPayload: o.maxUdpPayload,
    datagrams: o.datagrams,
  };
}
