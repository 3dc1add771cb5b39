/**
 * A lossy UDP relay on loopback for one client: datagrams to `address` go to `target` from a
 * second socket, and the target's answers go back to the last client address. Each direction
 * drops a seeded-random share of datagrams and may delay some (reordering them), so a real
 * peer's loss recovery can be exercised without netem or root.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseAddress } from '../../../src/runtime/udp/index.js';
import { SeededRandom } from '../../../src/util/random.js';

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** "host:port" of the server behind the relay. */
  target: string;
  /** Share of datagrams dropped in each direction, 0..1 (default 0). */
  loss?: number;
  /** Share of datagrams held back by `delayMs` (they overtake nothing else: reordering). */
  reorder?: number;
  /** Hold-back time of reordered datagrams (default 5 ms). */
  delayMs?: number;
  /** Datagrams never dropped at the start of each direction (default 0, e.g. to spare Initials). */
  spareFirst?: number;
  /** Seed of the drop decisions (default 1). */
  seed?: number;
  /** Where the client sends (default 127.0.0.1 on a free port). */
  listen?: { host: string; port: number };
}

/** Counters of a running relay. */
export interface RelayStats {
  forwarded: number;
  dropped: number;
  reordered: number;
}

/** A running relay. */
export interface Relay {
  /** Where the client sends: "127.0.0.1:port". */
  address: string;
  stats: RelayStats;
  /**
   * NAT rebinding: forwards to the target from a fresh socket (new source port) and closes
   * the old one, so the target sees the client at a new address (RFC 9000 §9.3).
   */
  rebind(): Promise<void>;
  /** The source address the target currently sees. */
  backAddress(): string;
  close(): Promise<void>;
}

function bound(socket: Socket, host: string, port = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** Starts a relay in front of `opts.target` (IPv4 loopback). */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const target = parseAddress(opts.target);
  const front = createSocket('udp4');
  let back = createSocket('udp4');
  await bound(front, opts.listen?.host ?? '127.0.0.1', opts.listen?.port);
  await bound(back, '127.0.0.1');
  const rng = new SeededRandom(opts.seed ?? 1);
  const buf = new Uint8Array(4);
  const coin = (p: number): boolean => {
    if (p <= 0) return false;
    rng.fill(buf);
    return new DataView(buf.buffer).getUint32(0) / 2 ** 32 < p;
  };
  const stats: RelayStats = { forwarded: 0, dropped: 0, reordered: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const seen = { up: 0, down: 0 };
  const forward = (dir: 'up' | 'down', send: () => void): void => {
    seen[dir]++;
    if (seen[dir] > (opts.spareFirst ?? 0) && coin(opts.loss ?? 0)) {
      stats.dropped++;
      return;
    }
    stats.forwarded++;
    if (coin(opts.reorder ?? 0)) {
      stats.reordered++;
      const t = setTimeout(() => {
        timers.delete(t);
        if (!closed) send();
      }, opts.delayMs ?? 5);
      timers.add(t);
      return;
    }
    send();
  };
  let client: { port: number; address: string } | undefined;
  front.on('message', (msg, rinfo) => {
    client = { port: rinfo.port, address: rinfo.address };
    forward('up', () => back.send(msg, target.port, target.host));
  });
  const onBack = (msg: Buffer): void => {
    const to = client;
    if (to === undefined) return;
    forward('down', () => front.send(msg, to.port, to.address));
  };
  back.on('message', onBack);
  const closeSocket = (s: Socket): Promise<void> =>
    new Promise<void>((resolve) => s.close(() => resolve()));
  return {
    address: `${front.address().address}:${front.address().port}`,
    stats,
    async rebind() {
      const fresh = createSocket('udp4');
      await bound(fresh, '127.0.0.1');
      fresh.on('message', onBack);
      const old = back;
      back = fresh;
      await closeSocket(old);
    },
    backAddress: () => `127.0.0.1:${back.address().port}`,
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([front, back].map(closeSocket));
    },
  };
}
