/**
 * The one socket the Node adapter drives, behind a small interface so a batched (sendmmsg/GSO) or
 * native path can replace `node:dgram`. Socket errors (e.g. ECONNREFUSED after an ICMP port
 * unreachable) are logged, never thrown: a UDP endpoint must outlive its peers' mistakes.
 *
 * Native send (issue 13): where the native addon is loaded (src/crypto/native.ts, Linux), the
 * datagrams of one flush leave from the socket's own fd in one sendmmsg(2), a single one in one
 * sendto(2), instead of one `socket.send` each (node:dgram has no batched send, and each of its
 * sends allocates a request, an argument list and a callback tick). Consecutive datagrams to one
 * peer of one length leave as one message the kernel segments (UDP GSO, UDP_SEGMENT), except when
 * the kernel refuses it, while a key log is written, or with MASQUE_GSO=0. Peers' addresses are
 * encoded as struct sockaddr once and kept (up to {@link SOCKADDR_CACHE} of them). When the
 * kernel refuses one (EAGAIN on a full buffer, EMSGSIZE...) that one and the rest go through
 * node's `send`, which queues, retries and counts errors as before; and while node still holds
 * sends of ours, new ones queue behind them there, so datagrams leave in the order given.
 *
 * Native receive: see drain.ts (what waits behind a datagram node delivered, in one recvmmsg).
 */
import { createSocket, type Socket } from 'node:dgram';
import { constants } from 'node:os';
import type { Logger } from 'pino';
import { type NativeBinding, nativeBinding } from '../../crypto/native.js';
import { pooledCopy } from '../../wire/index.js';
import { formatAddress, parseAddress } from './address.js';
import {
  DRAIN_META,
  DRAIN_SLOT,
  type DrainScratch,
  type DrainSink,
  drain,
  drainFunction,
} from './drain.js';

/** What the adapter needs from a UDP socket. */
export interface DatagramSocket {
  /** Sends one datagram; failures are reported to the logger, not thrown. */
  send(data: Uint8Array, port: number, host: string): void;
  /**
   * Sends `data[i]` to `remotes[i]` ("host:port" / "[v6]:port", as `formatAddress` writes them)
   * for i below `count`, in order, as that many `send` calls would, possibly in fewer system
   * calls. The arrays may be longer than `count` (reused by the caller); the bytes may be reused
   * once it returns. A remote that does not parse is logged and counted in `sendErrors`.
   */
  sendMany?(data: readonly Uint8Array[], remotes: readonly string[], count: number): void;
  /** Sets the receiver of incoming datagrams (`remote` formatted by `formatAddress`). */
  onMessage(handler: (data: Uint8Array, remote: string) => void): void;
  /** The bound local address. */
  address(): { host: string; port: number; family: 4 | 6 };
  /** Closes once queued sends have left (bounded wait). */
  close(): Promise<void>;
  /** Datagrams the kernel refused to send (ENOBUFS, EMSGSIZE, unreachable...), when counted. */
  readonly sendErrors?: number;
  /** Datagrams that left through the native addon (sendmmsg or sendto), when counted. */
  readonly nativeSends?: number;
  /** Datagrams read by the native drain (recvmmsg) rather than by node, when counted. */
  readonly drainedReceives?: number;
  /**
   * Sends every datagram as a datagram of its own from now on (no UDP GSO): packet captures on
   * this host then show them as peers receive them. Absent where nothing is segmented.
   */
  disableSegmentation?(): void;
  /** Datagrams read and dropped (cut, unknown address family), when counted. */
  readonly receiveErrors?: number;
  /**
   * Attaches a classic BPF program (struct sock_filter[] bytes) to the socket's SO_REUSEPORT
   * group (src/runtime/udp/reuseport-steering.ts); throws when the kernel or the platform refuses.
   * Absent without the native addon.
   */
  attachReuseportProgram?(program: Uint8Array): void;
}

/** Default SO_RCVBUF / SO_SNDBUF of the endpoint's socket (the kernel caps it at *mem_max). */
export const DEFAULT_ENDPOINT_BUFFER_BYTES = 4 * 1024 * 1024;

/** How long `close` waits for queued sends before closing anyway (ms). */
const CLOSE_DRAIN_LIMIT = 200;

/**
 * Binds a `node:dgram` socket to `listen` ("127.0.0.1:0", "[::]:4433"): udp6 for IPv6 literals
 * (dual-stack, `ipv6Only` false), udp4 otherwise.
 */
export async function bindUdpSocket(
  listen: string,
  logger: Logger,
  bufferBytes = DEFAULT_ENDPOINT_BUFFER_BYTES,
  options: { reusePort?: boolean } = {},
): Promise<DgramSocket> {
  const { host, port, family } = parseAddress(listen);
  if (family === 0) throw new RangeError(`listen address "${listen}" must be an IP literal`);
  // Large buffers: a burst must not overflow the kernel's queue while the event loop is busy
  // (every datagram lost there is invisible to us; RcvbufErrors in /proc/net/snmp counts it).
  const socket = createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ipv6Only: false,
    recvBufferSize: bufferBytes,
    sendBufferSize: bufferBytes,
    // SO_REUSEPORT (Node >= 22.12): one socket per worker process on one port, the kernel
    // spreading datagrams by their 4-tuple (src/cli/workers.ts). Older Node ignores the option:
    // the workers check the version before they start.
    ...(options.reusePort === true ? ({ reusePort: true } as object) : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    // `exclusive`: in a cluster worker, a socket of its own instead of the primary's shared handle.
    socket.bind({ port, address: host, exclusive: options.reusePort === true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return new DgramSocket(socket, family, logger, nativeBinding());
}

/**
 * The OS socket under a bound node:dgram socket, or undefined. node keeps its UDP handle (whose
 * `fd` is the descriptor on Unix, -1 elsewhere) in the socket's internal state, under a symbol
 * described 'state symbol' (lib/internal/dgram.js, Node 20-24); the public `_handle` getter
 * would print a deprecation warning (DEP0112). Anything unexpected: no batching.
 */
export function socketFd(socket: Socket): number | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (key === undefined) return undefined;
  const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[
    key
  ];
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : undefined;
}

/** Encoded peer addresses a socket keeps; beyond, the table starts over (a flood of new peers). */
export const SOCKADDR_CACHE = 4096;

const osErrno = constants.errno;
/** What sendmmsg answers when UDP_SEGMENT is not available (or not for this run). */
const GSO_REFUSED = new Set([osErrno.EIO, osErrno.EINVAL, osErrno.ENOPROTOOPT, osErrno.EOPNOTSUPP]);

/** Sends from the addon, and the fd they leave from. */
interface NativeSend {
  readonly fd: number;
  readonly send: NonNullable<NativeBinding['send']>;
  readonly sendmmsg: NonNullable<NativeBinding['sendmmsg']>;
  readonly sockaddr: NonNullable<NativeBinding['sockaddr']>;
  readonly recvmmsg: NativeBinding['recvmmsg'];
}

const LATIN1 = new TextDecoder('latin1');

export class DgramSocket implements DatagramSocket, DrainSink {
  readonly #socket: Socket;
  readonly #v6: boolean;
  readonly #logger: Logger;
  #pending = 0;
  #closed = false;
  #sendErrors = 0;
  #drained: (() => void) | undefined;
  /** The addon's sends and the fd they use, or undefined: node's `send` for every datagram. */
  readonly #native: NativeSend | undefined;
  readonly attachReuseportProgram?: (program: Uint8Array) => void;
  /** Remote string → struct sockaddr bytes (null: not an IP literal the addon takes). */
  readonly #sockaddrs = new Map<string, Uint8Array | null>();
  /** The sockaddrs of a batch, reused across flushes. */
  readonly #batch: Uint8Array[] = [];
  #nativeSends = 0;
  /** IPv4 address and port (as one number) → remote string, for drained datagrams. */
  readonly #remotes = new Map<number, string>();
  #drainedCount = 0;
  #handler: (data: Uint8Array, remote: string) => void = () => {};
  #receiveErrors = 0;
  /** Runs to one peer leave as one segmented message (UDP GSO) until the kernel refuses it. */
  #gso = process.env.MASQUE_GSO !== '0';
  readonly #onSent = (err: Error | null): void => {
    this.#pending--;
    if (err) {
      this.#sendErrors++;
      this.#logger.debug({ err }, 'udp send failed');
    }
    if (this.#pending === 0) this.#drained?.();
  };

  constructor(
    socket: Socket,
    family: 4 | 6,
    logger: Logger,
    native:
      | Pick<NativeBinding, 'send' | 'sendmmsg' | 'sockaddr' | 'recvmmsg' | 'attachReuseportCbpf'>
      | undefined = undefined,
  ) {
    this.#socket = socket;
    this.#v6 = family === 6;
    this.#logger = logger;
    const fd = native === undefined ? undefined : socketFd(socket);
    const { send, sendmmsg, sockaddr } = native ?? {};
    this.#native =
      fd !== undefined && send !== undefined && sendmmsg !== undefined && sockaddr !== undefined
        ? { fd, send, sendmmsg, sockaddr, recvmmsg: native?.recvmmsg }
        : undefined;
    const attach = fd === undefined ? undefined : native?.attachReuseportCbpf;
    if (attach !== undefined && fd !== undefined) {
      this.attachReuseportProgram = (program: Uint8Array): void => {
        const rc = attach(fd, program);
        if (rc < 0) throw new Error(`SO_ATTACH_REUSEPORT_CBPF failed: ${errnoName(-rc)}`);
      };
    }
    socket.on('error', (err) => logger.warn({ err }, 'udp socket error'));
  }

  /** A dual-stack IPv6 socket reaches IPv4 peers through their IPv4-mapped address. */
  #target(host: string): string {
    return this.#v6 && !host.includes(':') ? `::ffff:${host}` : host;
  }

  /** The struct sockaddr of `remote` for the addon, or null (not a literal it takes). */
  #sockaddr(native: NativeSend, remote: string): Uint8Array | null {
    let sa = this.#sockaddrs.get(remote);
    if (sa !== undefined) return sa;
    try {
      const { host, port } = parseAddress(remote);
      sa = native.sockaddr(this.#target(host), port);
    } catch {
      sa = null; // a zone index, a name...: node's send takes it (or reports it)
    }
    if (this.#sockaddrs.size >= SOCKADDR_CACHE) this.#sockaddrs.clear();
    this.#sockaddrs.set(remote, sa);
    return sa;
  }

  sendMany(data: readonly Uint8Array[], remotes: readonly string[], count: number): void {
    if (this.#closed) return;
    let i = 0;
    const native = this.#native;
    // Behind sends node still holds, new ones queue there too (order).
    if (native !== undefined && this.#pending === 0)
      i = this.#sendNative(native, data, remotes, count);
    for (; i < count; i++) {
      let host: string;
      let port: number;
      try {
        ({ host, port } = parseAddress(remotes[i]));
      } catch (err) {
        this.#sendErrors++;
        this.#logger.warn({ err, to: remotes[i] }, 'dropping a datagram to an unparsable address');
        continue;
      }
      this.send(data[i], port, host);
    }
  }

  /** Sends what the addon takes, from the first; returns how many left. */
  #sendNative(
    native: NativeSend,
    data: readonly Uint8Array[],
    remotes: readonly string[],
    count: number,
  ): number {
    const batch = this.#batch;
    let usable = 0;
    for (; usable < count; usable++) {
      const sa = this.#sockaddr(native, remotes[usable]);
      if (sa === null) break;
      batch[usable] = sa;
    }
    let i = 0;
    while (i < usable) {
      let sent: number;
      if (usable - i === 1) {
        const d = data[i];
        sent = native.send(native.fd, d, 0, d.length, batch[i]) >= 0 ? 1 : 0;
      } else {
        sent = native.sendmmsg(native.fd, data, batch, i, usable, this.#gso);
        if (sent < 0 && this.#gso && GSO_REFUSED.has(-sent)) {
          // No segmentation here (old kernel, a device without checksum offload: EIO), or not
          // for this run (a segment above the route's MTU: EINVAL): the same without it.
          if (-sent !== osErrno.EINVAL) this.#gso = false;
          this.#logger.debug({ errno: errnoName(-sent) }, 'udp segmentation refused');
          sent = native.sendmmsg(native.fd, data, batch, i, usable, false);
        }
      }
      // -errno (EAGAIN on a full buffer, EMSGSIZE...): node's send takes this one and the rest.
      if (sent <= 0) break;
      i += sent;
      this.#nativeSends += sent;
    }
    return i;
  }

  disableSegmentation(): void {
    this.#gso = false;
  }

  get nativeSends(): number {
    return this.#nativeSends;
  }

  send(data: Uint8Array, port: number, host: string): void {
    if (this.#closed) return;
    const target = this.#target(host);
    this.#pending++;
    try {
      this.#socket.send(data, port, target, this.#onSent);
    } catch (err) {
      this.#pending--;
      this.#sendErrors++;
      this.#logger.debug({ err, host, port }, 'udp send rejected');
    }
  }

  get sendErrors(): number {
    return this.#sendErrors;
  }

  onMessage(handler: (data: Uint8Array, remote: string) => void): void {
    this.#socket.removeAllListeners('message');
    this.#handler = handler;
    const native = this.#native;
    const recvmmsg = drainFunction(native);
    this.#socket.on('message', (msg, rinfo) => {
      handler(
        new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength),
        formatAddress(rinfo.address, rinfo.port),
      );
      // What waits behind it, in one system call (drain.ts).
      if (recvmmsg !== undefined && native !== undefined) {
        this.#drainedCount += drain(native.fd, recvmmsg, this);
      }
    });
  }

  get drainStopped(): boolean {
    return this.#closed;
  }

  drained(s: DrainScratch, i: number, length: number): void {
    const remote = this.#remoteOf(s, i * DRAIN_META);
    if (length < 0 || remote === undefined) {
      this.#receiveErrors++; // cut (not with 64 KiB slots) or an address family we do not know
      return;
    }
    const offset = i * DRAIN_SLOT;
    this.#handler(pooledCopy(s.data, offset, offset + length), remote);
  }

  drainFailed(errno: number): void {
    // Not expected on an unconnected socket; node's own read reports what it would.
    this.#logger.debug({ errno: errnoName(errno) }, 'recvmmsg failed');
  }

  /** "a.b.c.d:port" / "[v6]:port" of a drained datagram's record, as formatAddress writes it. */
  #remoteOf(s: DrainScratch, at: number): string | undefined {
    const port = s.view.getUint16(at + 4, true);
    const m = s.meta;
    if (m[at + 6] === 4) {
      const key = s.view.getUint32(at + 8, false) * 65536 + port;
      let remote = this.#remotes.get(key);
      if (remote === undefined) {
        remote = `${m[at + 8]}.${m[at + 9]}.${m[at + 10]}.${m[at + 11]}:${port}`;
        if (this.#remotes.size >= SOCKADDR_CACHE) this.#remotes.clear();
        this.#remotes.set(key, remote);
      }
      return remote;
    }
    if (m[at + 6] !== 6) return undefined;
    return formatAddress(LATIN1.decode(m.subarray(at + 12, at + 12 + m[at + 7])), port);
  }

  /** Datagrams read by the drain (recvmmsg) rather than by node. */
  get drainedReceives(): number {
    return this.#drainedCount;
  }

  /** Drained datagrams dropped (cut, or an address family the drain does not know). */
  get receiveErrors(): number {
    return this.#receiveErrors;
  }

  address(): { host: string; port: number; family: 4 | 6 } {
    const a = this.#socket.address();
    return { host: a.address, port: a.port, family: a.family === 'IPv6' ? 6 : 4 };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_DRAIN_LIMIT);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

/** "EINVAL" for 22: the name of an errno value, or the number. */
export function errnoName(errno: number): string {
  const names = constants.errno as Record<string, number>;
  return Object.keys(names).find((k) => names[k] === errno) ?? `errno ${errno}`;
}
