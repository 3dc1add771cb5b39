/**
 * Real-socket fixtures: our QUIC server and client, each a {@link UdpEndpoint} on 127.0.0.1,
 * with a development certificate, an optional NSS key log, and small server applications
 * (stream echo like the quic-go peer's `server`, or a SHA-256 digest of each stream).
 */
import { createHash, type Hash } from 'node:crypto';
import type { TransportSettings } from '../../../src/quic/connection/config.js';
import type { ClientConfig, QuicConnection } from '../../../src/quic/connection/index.js';
import { quicClientFactory, quicServerFactory } from '../../../src/quic/endpoint/index.js';
import { UdpEndpoint, type UdpEndpointOptions } from '../../../src/runtime/udp/index.js';
import { type DevCert, generateDevCert } from '../../../src/tls/certs/index.js';
import { loadServerCredential } from '../../../src/tls/handshake/index.js';
import { systemRandom } from '../../../src/util/random.js';
import { ConnApp } from './app.js';

/** The configuration our client endpoint's factory takes. */
export type ClientCfg = Omit<ClientConfig, 'remote'> & { remote?: string };
/** A driven endpoint of ours. */
export type OurEndpoint = UdpEndpoint<QuicConnection, ClientCfg>;

let cert: DevCert | undefined;
/** One development certificate per test process (localhost, 127.0.0.1, ::1). */
export function devCert(): DevCert {
  cert ??= generateDevCert();
  return cert;
}

/** What a server connection does with what it receives. */
export type ServerApp = 'echo' | 'sha256';

/** Options of {@link startServer}. */
export interface ServerOptions {
  alpn?: string;
  app?: ServerApp;
  keylogFile?: string;
  listen?: string;
  transport?: Partial<TransportSettings>;
  /** Retry policy of the endpoint (RFC 9000 §8.1.2). */
  retry?: UdpEndpointOptions<QuicConnection, ClientCfg>['retry'];
  /** Called for every accepted connection after its app is set up. */
  onAccept?: (app: ConnApp) => void;
}

/** Our server and its live connections. */
export interface OurServer {
  ep: OurEndpoint;
  /** "127.0.0.1:port". */
  address: string;
  port: number;
  /** Apps of accepted connections (closed ones stay, for assertions). */
  apps: ConnApp[];
  close(): Promise<void>;
}

/**
 * Sets up the echo behaviour of the quic-go peer's `server` on one connection: every
 * bidirectional stream the client opens is echoed (data as it arrives, FIN after FIN), every
 * unidirectional one on a new unidirectional stream of ours, every datagram is sent back.
 */
function echoApp(app: ConnApp, kick: () => void): void {
  const uniEcho = new Map<number, Promise<number>>();
  app.onStreamData = (id, data, fin) => {
    // RFC 9000 §2.1: the two low bits are 0b00 for client bidi, 0b10 for client uni streams.
    if ((id & 3) === 0) {
      void app.write(id, data, fin, kick);
      return;
    }
    if ((id & 3) !== 2) return;
    let out = uniEcho.get(id);
    if (out === undefined) {
      out = app.openStream(false);
      uniEcho.set(id, out);
    }
    // Chained on the open, so chunks keep their order even while waiting for stream credit.
    const next = out.then(async (ours) => {
      await app.write(ours, data, fin, kick);
      return ours;
    });
    uniEcho.set(id, next);
    if (fin) void next.then(() => uniEcho.delete(id));
  };
  app.onDatagram = (data) => {
    if (data.length <= app.conn.maxDatagramPayload) app.conn.sendDatagram(data);
  };
}

/** Answers each client stream with the 32-byte SHA-256 of what it carried, then FIN. */
function shaApp(app: ConnApp, kick: () => void): void {
  const hashes = new Map<number, Hash>();
  app.onStreamData = (id, data, fin) => {
    let h = hashes.get(id);
    if (h === undefined) {
      h = createHash('sha256');
      hashes.set(id, h);
    }
    h.update(data);
    if (fin) {
      hashes.delete(id);
      void app.write(id, new Uint8Array(h.digest()), true, kick);
    }
  };
}

/** Binds our server on loopback and runs `app` on every connection. */
export async function startServer(opts: ServerOptions = {}): Promise<OurServer> {
  const c = devCert();
  const apps: ConnApp[] = [];
  const live = new Set<ConnApp>();
  const byConn = new Map<QuicConnection, ConnApp>();
  let ep: OurEndpoint | undefined;
  ep = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
    listen: opts.listen ?? '127.0.0.1:0',
    keylogFile: opts.keylogFile,
    retry: opts.retry,
    createServerConnection: quicServerFactory({
      random: systemRandom,
      alpn: [opts.alpn ?? 'masque-interop'],
      tls: { credentials: [loadServerCredential(c.certPem, c.keyPem)] },
      transport: { maxDatagramFrameSize: 65_535, ...opts.transport },
    }),
    onConnection: (conn) => {
      const app = new ConnApp(conn);
      // The endpoint polls only connections with pending work: flush names this one.
      const kick = (): void => ep?.flush(conn);
      if ((opts.app ?? 'echo') === 'echo') echoApp(app, kick);
      else shaApp(app, kick);
      apps.push(app);
      live.add(app);
      byConn.set(conn, app);
      opts.onAccept?.(app);
      app.drain();
    },
    onClosed: (conn) => {
      const app = byConn.get(conn);
      if (app === undefined) return;
      app.drain();
      live.delete(app);
      byConn.delete(conn);
    },
    onWake: () => {
      for (const app of [...live]) app.drain();
    },
  });
  const address = ep.address;
  const server = ep;
  return {
    ep: server,
    address,
    port: Number(address.slice(address.lastIndexOf(':') + 1)),
    apps,
    close: () => server.close(),
  };
}

/** Options of {@link startClient}. */
export interface ClientOptions {
  alpn?: string;
  keylogFile?: string;
  listen?: string;
  transport?: Partial<TransportSettings>;
  /** PEM CA to trust (default: our dev certificate). */
  ca?: string;
}

/** Our client endpoint; `connect` returns the new connection's app. */
export interface OurClient {
  ep: OurEndpoint;
  /** Connects; `tls` adds client TLS options (e.g. `resumption`). */
  connect(remote: string, tls?: Partial<ClientCfg['tls']>): ConnApp;
  /** Flushes the endpoint after app calls, flagging every live connection as active. */
  kick(): void;
  close(): Promise<void>;
}

/** Binds a client endpoint on loopback. */
export async function startClient(opts: ClientOptions = {}): Promise<OurClient> {
  const live = new Set<ConnApp>();
  const byConn = new Map<QuicConnection, ConnApp>();
  const ep = await UdpEndpoint.bind<QuicConnection, ClientCfg>({
    listen: opts.listen ?? '127.0.0.1:0',
    keylogFile: opts.keylogFile,
    createClientConnection: quicClientFactory(),
    onClosed: (conn) => {
      const app = byConn.get(conn);
      if (app === undefined) return;
      app.drain();
      live.delete(app);
      byConn.delete(conn);
    },
    onWake: () => {
      for (const app of [...live]) app.drain();
    },
  });
  const ca = opts.ca ?? devCert().certPem;
  return {
    ep,
    connect(remote: string, tls?: Partial<ClientCfg['tls']>): ConnApp {
      const conn = ep.connect(
        {
          random: systemRandom,
          alpn: [opts.alpn ?? 'masque-interop'],
          tls: { serverName: 'localhost', verify: { ca: [ca], noSystemRoots: true }, ...tls },
          transport: { maxDatagramFrameSize: 65_535, ...opts.transport },
        },
        remote,
      );
      const app = new ConnApp(conn);
      live.add(app);
      byConn.set(conn, app);
      app.drain();
      return app;
    },
    kick: () => {
      for (const app of live) ep.endpoint.markActive(app.conn);
      ep.flush();
    },
    close: () => ep.close(),
  };
}

/** Rejects after `ms` with `what` (for races against hangs). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
