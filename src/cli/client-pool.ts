/**
 * The connections a forwarder keeps to one proxy, each carrying at most `tunnelsPerConnection`
 * tunnels (the proxy's own limit answers 429 beyond its share, RFC 6585 §4): a tunnel opens on
 * the first connection with room, a new connection opens when all are full, and a connection the
 * proxy refused with 429 counts as full at what it carries. Lost connections are forgotten; the
 * next tunnel reconnects (the SDK never reconnects on its own).
 */
import { MasqueClient, type MasqueClientOptions } from '../client/client.js';
import { MasqueError, MasqueErrorCode } from '../client/errors.js';
import type { MasqueUdpSocket } from '../client/udp-socket.js';

interface PooledClient {
  readonly client: Promise<MasqueClient>;
  /** Tunnels open or opening on it. */
  tunnels: number;
  /** Tunnels it may carry (lowered when the proxy answers 429). */
  cap: number;
}

export interface ClientPoolOptions {
  readonly template: string;
  readonly client: MasqueClientOptions;
  /** Tunnels per connection before another connection opens. */
  readonly tunnelsPerConnection: number;
  /** Connections at most. */
  readonly maxConnections: number;
  /** A connection was lost (for a log line). */
  readonly onConnectionLost?: () => void;
}

export class ClientPool {
  readonly #opts: ClientPoolOptions;
  #clients: PooledClient[] = [];
  #closed = false;

  constructor(options: ClientPoolOptions, first?: MasqueClient) {
    this.#opts = options;
    if (first !== undefined) this.#adopt(Promise.resolve(first));
  }

  /** Connections open or opening. */
  get connections(): number {
    return this.#clients.length;
  }

  /** True when a new tunnel would find room (on a connection, or by opening one). */
  get hasRoom(): boolean {
    return (
      this.#clients.length < this.#opts.maxConnections ||
      this.#clients.some((c) => c.tunnels < c.cap)
    );
  }

  /**
   * Opens a tunnel to `host:port`; on 429 the connection is marked full and another is tried
   * (at most once per connection the pool may hold). `release` gives the place back. `how`
   * opens it on the chosen client (default `connectUdp`; e.g. `connectQuic` for QUIC-aware).
   */
  async open<T = MasqueUdpSocket>(
    host: string,
    port: number,
    how: (client: MasqueClient, host: string, port: number) => Promise<T> = (c, h, p) =>
      c.connectUdp(h, p) as Promise<T>,
  ): Promise<{ sock: T; release: () => void }> {
    for (let attempt = 0; ; attempt++) {
      const pooled = this.#pick();
      if (pooled === undefined) {
        throw new MasqueError(
          MasqueErrorCode.STREAM_LIMIT,
          'every connection to the proxy is full',
        );
      }
      pooled.tunnels++;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        pooled.tunnels--;
      };
      try {
        const client = await pooled.client;
        const sock = await how(client, host, port);
        return { sock, release };
      } catch (err) {
        if (
          err instanceof MasqueError &&
          err.status === 429 &&
          attempt < this.#opts.maxConnections
        ) {
          // The proxy's share per connection is lower than ours: this one holds no more than the
          // others open or opening on it now.
          pooled.cap = Math.max(1, Math.min(pooled.cap, pooled.tunnels - 1));
          release();
          continue;
        }
        release();
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = this.#clients;
    this.#clients = [];
    await Promise.all(
      all.map((c) =>
        c.client.then(
          (x) => x.close(),
          () => {},
        ),
      ),
    );
  }

  #pick(): PooledClient | undefined {
    for (const c of this.#clients) if (c.tunnels < c.cap) return c;
    if (this.#closed || this.#clients.length >= this.#opts.maxConnections) return undefined;
    return this.#adopt(MasqueClient.connect(this.#opts.template, this.#opts.client));
  }

  #adopt(client: Promise<MasqueClient>): PooledClient {
    const pooled: PooledClient = { client, tunnels: 0, cap: this.#opts.tunnelsPerConnection };
    this.#clients.push(pooled);
    const forget = (): void => {
      this.#clients = this.#clients.filter((c) => c !== pooled);
    };
    client.then(
      (c) =>
        void c.closed.then(() => {
          forget();
          if (!this.#closed) this.#opts.onConnectionLost?.();
        }),
      forget,
    );
    return pooled;
  }
}
