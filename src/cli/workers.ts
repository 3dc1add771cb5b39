/**
 * `masque proxy --workers N` (issue 13, "every core"): N worker processes (node:cluster) serve
 * one UDP port, each with a socket of its own bound with SO_REUSEPORT, so the kernel spreads
 * datagrams over them by 4-tuple: every packet of a connection reaches the worker that holds it as
 * long as the client's address stays the same. The TCP listener (HTTP/2, HTTP/1.1) is shared by
 * node:cluster. The primary holds no connection: it picks the port, makes sure the development
 * certificate and the reset key exist (so that every worker loads the same ones), prints the
 * banner once every worker is ready, serves /metrics (every worker's series, summed by
 * prom-client's AggregatorRegistry), /healthz and /readyz, relays SIGHUP (each worker reloads
 * its configuration), drains on SIGTERM and starts a worker again when one dies.
 *
 * Steering by connection ID: the kernel's 4-tuple hash sends a client whose address changes
 * (migration, NAT rebinding, RFC 9000 §9) to a worker that does not hold its connection. So every
 * worker names itself in the connection IDs it issues (src/quic/cid/steering.ts) and a classic BPF
 * program on the port sends each datagram to the worker its DCID names
 * (src/runtime/udp/reuseport-steering.ts, as nginx's quic_bpf). The program needs each worker's
 * socket index in the SO_REUSEPORT group, which is the order the sockets bound in: the primary
 * starts the workers one after the other, mirrors the group (ReuseportGroup) as workers exit and
 * come back, and after every change sends the workers the new table, which they attach with the
 * native addon. Without the addon (or off Linux) the hash alone steers: a client whose address
 * changed then gets a stateless reset from the other worker (every worker has the same reset
 * key) and reconnects at once instead of waiting for its idle timeout; the banner says which.
 * The clients of a worker that died wait for its replacement (started half a second later), which
 * resets them: the others drop what names another worker rather than reset someone else's client.
 * SO_REUSEPORT for UDP needs Node >= 22.12 (`dgram` `reusePort`).
 */
import cluster, { type Worker } from 'node:cluster';
import { createSocket } from 'node:dgram';
import { AggregatorRegistry } from 'prom-client';
import type { RunningProxy } from '../app/proxy-server.js';
import { ConfigError, type ProxyConfig } from '../config/index.js';
import { startMetricsServer } from '../metrics/server.js';
import { ReuseportGroup } from '../runtime/udp/reuseport-steering.js';
import type { CliIO } from './io.js';

/** Environment variable that makes a process a worker, and carries its number. */
export const WORKER_ENV = 'MASQUE_WORKER';

/** The worker number of this process (1..N), or undefined in the primary or a single process. */
export function workerId(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(env[WORKER_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Throws {@link ConfigError} unless this Node binds UDP with SO_REUSEPORT (>= 22.12). */
export function checkWorkersSupported(workers: number, version = process.versions.node): void {
  if (workers <= 1) return;
  const [major, minor] = version.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return;
  throw new ConfigError([
    `workers: ${workers} worker processes share the UDP port with SO_REUSEPORT, which needs Node >= 22.12 (this is Node ${version}); use Node 24 or workers: 1`,
  ]);
}

/** What a worker tells the primary once its proxy listens. */
interface ReadyMessage {
  type: 'masque-worker-ready';
  worker: number;
  address: string;
  template: string;
  spkiSha256: string;
}

/** The primary's table of socket indexes by worker (0-based; null: no socket now). */
interface SteerMessage {
  type: 'masque-steer';
  slots: (number | null)[];
}

/** A worker's answer to {@link SteerMessage}: attached, or why not. */
interface SteeredMessage {
  type: 'masque-steered';
  worker: number;
  error?: string;
}

/**
 * In a worker: tell the primary the proxy is up, report its metrics to the aggregator, and attach
 * the steering program the primary's tables describe.
 */
export function announceWorker(proxy: RunningProxy, worker: number): void {
  AggregatorRegistry.setRegistries([proxy.metrics.registry]);
  // prom-client answers the primary's requests from the listener its constructor installs.
  new AggregatorRegistry();
  let said: string | undefined;
  process.on('message', (m: SteerMessage) => {
    if (m?.type !== 'masque-steer' || !Array.isArray(m.slots)) return;
    let error: string | undefined;
    try {
      proxy.server.endpoint.steerWorkers(
        m.slots.map((s) => (typeof s === 'number' ? s : undefined)),
      );
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    // Said once, and again only when it changes.
    if (said !== (error ?? '')) {
      said = error ?? '';
      if (error === undefined) proxy.logger.info('the kernel steers datagrams by connection ID');
      else proxy.logger.warn({ reason: error }, 'datagrams are steered by 4-tuple only');
    }
    const reply: SteeredMessage = { type: 'masque-steered', worker, error };
    process.send?.(reply);
  });
  const msg: ReadyMessage = {
    type: 'masque-worker-ready',
    worker,
    address: proxy.address,
    template: proxy.template,
    spkiSha256: proxy.spkiSha256,
  };
  process.send?.(msg);
}

/** A free UDP port on `host` (the workers are then told it, as port 0 would differ per worker). */
async function freeUdpPort(host: string): Promise<number> {
  const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The primary's handle: what `masque proxy` leaves running. */
export interface WorkersCommand {
  readonly workers: number;
  /** Workers whose proxy is listening. */
  readonly ready: number;
  /** Sends SIGHUP to every worker (each reads its configuration again). */
  reload(): Promise<void>;
  /** SIGTERM to every worker (each drains for shutdownGraceMs), then resolves. */
  close(): Promise<void>;
}

/**
 * In the primary: starts `config.workers` workers running `masque proxy` with the same flags
 * (node:cluster runs this program again; `MASQUE_WORKER_LISTEN` tells them the port), and
 * resolves once all listen; rejects if one exits before.
 */
export async function runWorkers(config: ProxyConfig, io: CliIO): Promise<WorkersCommand> {
  const n = config.workers;
  checkWorkersSupported(n);
  const host = config.listen.host;
  const port = config.listen.port === 0 ? await freeUdpPort(host) : config.listen.port;
  const listen = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const ready = new Map<number, ReadyMessage>();
  const byWorker = new Map<Worker, number>();
  let stopping = false;
  let starting = true;
  let allReady: (() => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  const started = new Promise<void>((resolve, reject) => {
    allReady = resolve;
    failed = reject;
  });
  // The port's SO_REUSEPORT group as the kernel orders it, and what the workers last said of
  // attaching the steering program built from it.
  const group = new ReuseportGroup();
  let steered: { error?: string } | undefined;
  let onSteered: (() => void) | undefined;
  const steer = (): void => {
    const message: SteerMessage = {
      type: 'masque-steer',
      slots: group.slots(n).map((s) => s ?? null),
    };
    for (const w of byWorker.keys()) if (w.isConnected()) w.send(message);
  };

  const fork = (id: number): void => {
    const w = cluster.fork({ [WORKER_ENV]: String(id), MASQUE_WORKER_LISTEN: listen });
    byWorker.set(w, id);
    // An IPC send to a worker that is going away fails here, not in the primary's face.
    w.on('error', (err: Error) => io.stderr(`masque: worker ${id}: ${err.message}\n`));
    w.on('message', (m: ReadyMessage | SteeredMessage) => {
      if (m?.type === 'masque-steered') {
        steered = { error: m.error };
        onSteered?.();
        return;
      }
      if (m?.type !== 'masque-worker-ready') return;
      ready.set(id, m);
      // Its socket is bound: the last of the group (workers start one at a time for that).
      group.joined(id - 1);
      steer();
      if (ready.size === n) allReady?.();
      else if (starting) fork(id + 1);
    });
    w.on('exit', (code, signal) => {
      byWorker.delete(w);
      ready.delete(id);
      group.left(id - 1);
      if (stopping) return;
      steer();
      if (starting) {
        failed?.(
          new Error(
            `worker ${id} exited before listening (code ${code}, ${signal ?? 'no signal'})`,
          ),
        );
        return;
      }
      io.stderr(
        `masque: worker ${id} exited (code ${code}, ${signal ?? 'no signal'}); starting it again\n`,
      );
      setTimeout(() => {
        if (!stopping) fork(id);
      }, 500).unref();
    });
  };
  fork(1);
  try {
    await started;
    // What the workers said of the last table (sent as the last one joined); a second at most.
    await new Promise<void>((resolve) => {
      if (steered !== undefined) return resolve();
      onSteered = resolve;
      setTimeout(resolve, 1000).unref();
    });
    onSteered = undefined;
  } catch (err) {
    stopping = true;
    for (const w of byWorker.keys()) w.process.kill('SIGKILL');
    throw err;
  } finally {
    starting = false;
  }

  const aggregator = new AggregatorRegistry();
  const metricsServer =
    config.metrics === undefined
      ? undefined
      : await startMetricsServer(
          {
            metricsText: () => aggregator.clusterMetrics(),
            contentType: aggregator.contentType,
          },
          config.metrics.listen,
          { ready: () => !stopping && ready.size === n },
        );
  const first = ready.get(1) as ReadyMessage;
  const lines = [
    `masque proxy listening on ${first.address} (HTTP/3, UDP) with ${n} worker processes (SO_REUSEPORT)`,
    `  URI template:   ${first.template}`,
    `  SPKI sha256:    ${first.spkiSha256}`,
    steered !== undefined && steered.error === undefined
      ? '  steering:       by connection ID (kernel BPF): a client whose address changes keeps its worker'
      : `  steering:       by address only (${steered?.error ?? 'no answer from the workers'}): a client whose address changes reconnects`,
  ];
  if (metricsServer !== undefined) {
    const a = metricsServer.address;
    const m = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    lines.push(`  metrics:        http://${m}/metrics (all workers)`);
  }
  io.stdout(`${lines.join('\n')}\n`);

  const exited = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (byWorker.size === 0) return resolve();
      cluster.on('exit', () => {
        if (byWorker.size === 0) resolve();
      });
    });
  return {
    workers: n,
    get ready() {
      return ready.size;
    },
    reload: async () => {
      for (const w of byWorker.keys()) w.process.kill('SIGHUP');
    },
    close: async () => {
      stopping = true;
      for (const w of byWorker.keys()) w.process.kill('SIGTERM');
      await exited();
      await metricsServer?.close();
    },
  };
}
