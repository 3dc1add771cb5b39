/**
 * Loopback pieces shared by the relay benches: a UDP echo target, a windowed echo loop, and the
 * plain `node:dgram` relay (client → relay → echo → relay → client) that does the proxy's socket
 * work without QUIC or HTTP/3, measured as the baseline in the same run.
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';

/** Payload size of the echoes. */
export const SIZE = 1200;

/** Options of {@link windowed}. */
export interface WindowOptions {
  /** Datagrams kept in flight (default 32). */
  window?: number;
  /** How long to run (default 3000 ms, or MASQUE_BENCH_MS). */
  durationMs?: number;
}

/** What {@link windowed} measured. */
export interface WindowResult {
  /** Echoes received within the window. */
  echoes: number;
  /** Datagrams sent. */
  sent: number;
  /** Datagrams never echoed (in-flight ones get 200 ms after the window to come back). */
  lost: number;
  elapsedMs: number;
  /** Process CPU time (user + system) spent meanwhile, in ms. */
  cpuMs: number;
}

export function bind(s: Socket, port = 0): Promise<number> {
  return new Promise((resolve) => s.bind(port, '127.0.0.1', () => resolve(s.address().port)));
}

export function closeAll(sockets: Socket[]): Promise<unknown> {
  return Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
}

/**
 * Keeps a window of datagrams in flight for a fixed time over `flows` senders (round robin);
 * `wire` connects the flows' receive paths to `onEcho`. Lost datagrams are replaced when echoes
 * stall, so the window never closes for good.
 */
export async function windowed(
  send: (flow: number) => void,
  flows: number,
  wire: (onEcho: () => void) => void,
  opts: WindowOptions = {},
): Promise<WindowResult> {
  const window = opts.window ?? 32;
  const durationMs = opts.durationMs ?? Number(process.env.MASQUE_BENCH_MS ?? 3000);
  let echoes = 0;
  let late = 0;
  let done = false;
  let sent = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last = t0;
  let refill: NodeJS.Timeout | undefined;
  const sendOne = (): void => {
    send(sent % flows);
    sent++;
  };
  await new Promise<void>((resolve) => {
    wire(() => {
      if (done) {
        late++;
        return;
      }
      echoes++;
      last = performance.now();
      if (last - t0 >= durationMs) resolve();
      else sendOne();
    });
    refill = setInterval(() => {
      const now = performance.now();
      if (now - t0 >= durationMs) resolve();
      else if (now - last > 50) for (let i = 0; i < window; i++) sendOne();
    }, 25);
    for (let i = 0; i < window; i++) sendOne();
  });
  clearInterval(refill);
  done = true;
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const drainUntil = performance.now() + 200;
  while (echoes + late < sent && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    echoes,
    sent,
    lost: Math.max(0, sent - echoes - late),
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

/** A UDP socket on 127.0.0.1 that sends every datagram back. */
export async function echoTarget(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  const port = await bind(socket);
  socket.on('message', (m, r) => socket.send(m, r.port, r.address));
  return { socket, port };
}

/**
 * The relay alone: one socket facing the clients and one upstream socket per client address,
 * connected to the echo target, as the proxy has one per tunnel. Returns its port and every
 * socket it opened (for `closeAll`).
 */
export async function relaySockets(echoPort: number): Promise<{ port: number; opened: Socket[] }> {
  const relay = createSocket('udp4');
  const port = await bind(relay);
  const upstreams = new Map<string, Socket>();
  const opened: Socket[] = [relay];
  relay.on('message', (m, r) => {
    const key = `${r.address}:${r.port}`;
    let up = upstreams.get(key);
    if (up === undefined) {
      const u = createSocket('udp4');
      opened.push(u);
      u.connect(echoPort, '127.0.0.1');
      u.on('message', (back) => relay.send(back, r.port, r.address));
      upstreams.set(key, u);
      up = u;
      u.once('connect', () => u.send(m));
      return;
    }
    up.send(m);
  });
  return { port, opened };
}

/** The baseline: a relay with one upstream socket per flow, as the proxy has one per tunnel. */
export async function plainRelay(
  flows: number,
  echoPort: number,
  opts: WindowOptions = {},
): Promise<WindowResult> {
  const { port: relayPort, opened } = await relaySockets(echoPort);
  const clients = await Promise.all(
    Array.from({ length: flows }, async () => {
      const c = createSocket('udp4');
      await bind(c);
      opened.push(c);
      return c;
    }),
  );
  const payload = Buffer.alloc(SIZE, 0x5a);
  const result = await windowed(
    (i) => clients[i].send(payload, relayPort, '127.0.0.1'),
    flows,
    (onEcho) => {
      for (const c of clients) c.on('message', onEcho);
    },
    opts,
  );
  await closeAll(opened);
  return result;
}
