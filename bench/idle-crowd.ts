/**
 * Idle QUIC clients for bench/endpoint-scale: connections from a few client sockets (ALPN h3, no
 * requests) that only send a keep-alive PING every 20 s, as idle clients do to outlive the 30 s
 * idle timeout (RFC 9000 §10.1.2). They run in a child process, as real clients would be
 * elsewhere: the measured process then holds only the proxy's side of them (heap, timers), and
 * their own packet work is not counted as the proxy's.
 *
 *   const crowd = await IdleCrowd.spawn(proxyAddress, caPem);
 *   const live = await crowd.grow(1000);   // opens connections until 1,000 are alive
 *   await crowd.close();
 */
import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { ClientConfig, QuicConnection } from '../src/quic/connection/index.js';
import { quicClientFactory } from '../src/quic/endpoint/index.js';
import { UdpEndpoint } from '../src/runtime/udp/index.js';
import { systemRandom } from '../src/util/random.js';

type ClientCfg = Omit<ClientConfig, 'remote'> & { remote?: string };
type Ep = UdpEndpoint<QuicConnection, ClientCfg>;

const SOCKETS = 10;
/** Handshakes in flight at once (below the server's 'under-load' Retry threshold of 64). */
const CONCURRENCY = 48;
const KEEP_ALIVE_MS = 20_000;
/** Give up growing after this long (a slow stack may never get there). */
const GROW_BUDGET_MS = 600_000;
const MAX_UDP_PAYLOAD = 1452;
const CHILD_FLAG = '--idle-crowd-child';

/** The crowd, in this process. */
class Crowd {
  readonly #eps: Ep[] = [];
  readonly #pending = new Map<QuicConnection, (ok: boolean) => void>();
  readonly #live = new Set<QuicConnection>();
  #next = 0;

  private constructor(
    readonly server: string,
    readonly ca: string,
  ) {}

  static async start(server: string, ca: string): Promise<Crowd> {
    const crowd = new Crowd(server, ca);
    for (let i = 0; i < SOCKETS; i++) {
      const ep: Ep = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
        listen: '127.0.0.1:0',
        createClientConnection: quicClientFactory(),
        onClosed: (conn) => {
          crowd.#live.delete(conn);
          crowd.#settle(conn, false);
        },
        // Only connections still handshaking are read; established ones are left alone.
        onWake: () => {
          for (const conn of [...crowd.#pending.keys()]) {
            for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
              if (ev.type === 'handshake-complete') crowd.#settle(conn, true);
            }
          }
        },
      });
      crowd.#eps.push(ep);
    }
    return crowd;
  }

  /** Opens connections until `total` are alive (or the budget runs out); returns how many are. */
  async grow(total: number): Promise<number> {
    const deadline = performance.now() + GROW_BUDGET_MS;
    while (this.#live.size < total && performance.now() < deadline) {
      const wave = Math.min(CONCURRENCY, total - this.#live.size);
      await Promise.all(Array.from({ length: wave }, () => this.#connect()));
    }
    return this.#live.size;
  }

  #connect(): Promise<boolean> {
    const ep = this.#eps[this.#next++ % this.#eps.length];
    return new Promise((resolve) => {
      const conn = ep.connect(
        {
          random: systemRandom,
          alpn: ['h3'],
          keepAlive: KEEP_ALIVE_MS,
          maxUdpPayload: MAX_UDP_PAYLOAD,
          tls: { serverName: 'localhost', verify: { ca: [this.ca], noSystemRoots: true } },
        },
        this.server,
      );
      const timer = setTimeout(() => this.#settle(conn, false), 10_000);
      this.#pending.set(conn, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
    });
  }

  #settle(conn: QuicConnection, ok: boolean): void {
    const done = this.#pending.get(conn);
    if (done === undefined) return;
    this.#pending.delete(conn);
    if (ok) this.#live.add(conn);
    done(ok);
  }

  async close(): Promise<void> {
    await Promise.all(this.#eps.map((ep) => ep.close()));
  }
}

type Request = { grow: number } | { close: true };

/** The parent's handle on a crowd running in a child process. */
export class IdleCrowd {
  readonly #child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  static async spawn(server: string, ca: string): Promise<IdleCrowd> {
    const child = fork(new URL(import.meta.url).pathname, [CHILD_FLAG, server], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const crowd = new IdleCrowd(child);
    await crowd.#ask({ ca } as unknown as Request);
    return crowd;
  }

  /** Opens connections until `total` are alive; resolves with how many are. */
  async grow(total: number): Promise<number> {
    return (await this.#ask({ grow: total })) as number;
  }

  /** Closes every connection and ends the child (idempotent). */
  async close(): Promise<void> {
    if (!this.#child.connected) return;
    await this.#ask({ close: true });
    if (this.#child.connected) this.#child.disconnect();
  }

  #ask(req: Request): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#child.once('message', resolve);
      this.#child.once('error', reject);
      this.#child.send(req);
    });
  }
}

if (process.argv[2] === CHILD_FLAG && process.send !== undefined) {
  const server = process.argv[3];
  let crowd: Crowd | undefined;
  process.on('message', async (msg: Request | { ca: string }) => {
    const reply = (v: unknown): void => void process.send?.(v);
    if ('ca' in msg) {
      crowd = await Crowd.start(server, msg.ca);
      reply(true);
    } else if ('grow' in msg) {
      reply(await (crowd as Crowd).grow(msg.grow));
    } else {
      await crowd?.close();
      reply(true);
      process.exit(0);
    }
  });
}
