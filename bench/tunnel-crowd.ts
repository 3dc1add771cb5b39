/**
 * Idle connect-udp tunnels for bench/memory: SDK clients in a child process, each holding up to
 * {@link PER_CLIENT} tunnels on one QUIC connection that send nothing. The child holds the
 * clients' side; the measuring process holds only the proxy's.
 *
 *   const crowd = await TunnelCrowd.spawn(template, caPem, echoPort);
 *   await crowd.grow(1000);   // opens tunnels until 1,000 are open
 *   await crowd.close();
 */
import { type ChildProcess, fork } from 'node:child_process';
import { MasqueClient } from '../src/client/index.js';
import type { MasqueUdpSocket } from '../src/client/udp-socket.js';

/** Tunnels per client connection (the bench proxy lifts `tunnelsPerConnection`). */
export const PER_CLIENT = 50;
const CHILD_FLAG = '--tunnel-crowd-child';

type Request =
  | { start: { template: string; ca: string; port: number } }
  | { grow: number }
  | 'close';

class Crowd {
  readonly #clients: MasqueClient[] = [];
  readonly #sockets: MasqueUdpSocket[] = [];
  constructor(
    readonly template: string,
    readonly ca: string,
    readonly port: number,
  ) {}

  async grow(total: number): Promise<number> {
    while (this.#sockets.length < total) {
      const client = await MasqueClient.connect(this.template, { ca: [this.ca] });
      this.#clients.push(client);
      const n = Math.min(PER_CLIENT, total - this.#sockets.length);
      const socks = await Promise.all(
        Array.from({ length: n }, () => client.connectUdp('127.0.0.1', this.port)),
      );
      this.#sockets.push(...socks);
    }
    return this.#sockets.length;
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.close()));
  }
}

/** The parent's handle on a crowd of idle tunnels in a child process. */
export class TunnelCrowd {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static async spawn(template: string, ca: string, port: number): Promise<TunnelCrowd> {
    const child = fork(new URL(import.meta.url).pathname, [CHILD_FLAG], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const crowd = new TunnelCrowd(child);
    await crowd.#ask({ start: { template, ca, port } });
    return crowd;
  }

  /** Opens tunnels until `total` are open; resolves with how many are. */
  async grow(total: number): Promise<number> {
    return (await this.#ask({ grow: total })) as number;
  }

  /** Closes every client and ends the child (idempotent). */
  async close(): Promise<void> {
    if (!this.#child.connected) return;
    await this.#ask('close');
    if (this.#child.connected) this.#child.disconnect();
  }

  #ask(req: Request): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#child.once('message', (m: unknown) =>
        typeof m === 'object' && m !== null && 'error' in m
          ? reject(new Error(String((m as { error: unknown }).error)))
          : resolve(m),
      );
      this.#child.once('error', reject);
      this.#child.send(req);
    });
  }
}

if (process.argv[2] === CHILD_FLAG && process.send !== undefined) {
  let crowd: Crowd | undefined;
  process.on('message', async (msg: Request) => {
    const reply = (v: unknown): void => void process.send?.(v);
    try {
      if (msg === 'close') {
        await crowd?.close();
        reply(true);
        process.exit(0);
      } else if ('start' in msg) {
        crowd = new Crowd(msg.start.template, msg.start.ca, msg.start.port);
        reply(true);
      } else {
        reply(await (crowd as Crowd).grow(msg.grow));
      }
    } catch (err) {
      reply({ error: err instanceof Error ? err.message : String(err) });
    }
  });
}
