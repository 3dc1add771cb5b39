/** An in-memory client/server pair: each side's `send` events are fed to the other's `receive`. */
import { type DevCert, generateDevCert } from '../../../src/tls/certs/index.js';
import {
  createTlsClient,
  createTlsServer,
  loadServerCredential,
  type ServerCredential,
  type TlsClient,
  type TlsClientConfig,
  type TlsEvent,
  type TlsServer,
  type TlsServerConfig,
} from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';

/** A fixed clock for the tests (2025-06-01T00:00:00Z). */
export const NOW = Date.UTC(2025, 5, 1);

export const CLIENT_PARAMS = Uint8Array.of(0x01, 0x02, 0x40, 0x64);
export const SERVER_PARAMS = Uint8Array.of(0x03, 0x02, 0x45, 0xc0);

let cached: { cert: DevCert; credential: ServerCredential } | undefined;

/** One ECDSA P-256 localhost certificate per test file (deterministic key). */
export function devCredential(): { cert: DevCert; credential: ServerCredential } {
  if (!cached) {
    const cert = generateDevCert({
      now: NOW,
      random: new SeededRandom(42),
      names: ['example.test'],
    });
    cached = { cert, credential: loadServerCredential(cert.certPem, cert.keyPem) };
  }
  return cached;
}

export interface PairOptions {
  readonly client?: Partial<TlsClientConfig>;
  readonly server?: Partial<TlsServerConfig>;
  readonly seed?: number;
}

export interface Pair {
  readonly client: TlsClient;
  readonly server: TlsServer;
  /** Every event each side produced, in order. */
  readonly clientEvents: TlsEvent[];
  readonly serverEvents: TlsEvent[];
  /** Client transport parameters as the server's hook saw them. */
  readonly seenByServer: Uint8Array[];
}

export function makePair(opts: PairOptions = {}): Pair {
  const { cert, credential } = devCredential();
  const seed = opts.seed ?? 1;
  const seenByServer: Uint8Array[] = [];
  const client = createTlsClient(
    {
      serverName: 'localhost',
      alpn: ['h3'],
      transportParameters: CLIENT_PARAMS,
      verify: { ca: [cert.certPem], noSystemRoots: true },
      ...opts.client,
    },
    new SeededRandom(seed),
  );
  const server = createTlsServer(
    {
      credentials: [credential],
      alpn: ['h3'],
      transportParameters: (p) => {
        seenByServer.push(p);
        return SERVER_PARAMS;
      },
      ...opts.server,
    },
    new SeededRandom(seed + 1000),
  );
  return { client, server, clientEvents: [], serverEvents: [], seenByServer };
}

export type Tamper = (from: 'client' | 'server', ev: TlsEvent & { kind: 'send' }) => Uint8Array;

/**
 * Runs the exchange until neither side has anything to say. `chunk` splits each send into pieces
 * of at most that many bytes (1 = byte at a time). `tamper` may rewrite bytes in flight.
 */
export function drive(
  pair: Pair,
  now = NOW,
  options: { chunk?: number; tamper?: Tamper; start?: boolean } = {},
): void {
  if (options.start !== false) pair.client.start(now);
  for (let progress = true; progress; ) {
    progress = false;
    for (const [from, to, log] of [
      ['client', pair.server, pair.clientEvents],
      ['server', pair.client, pair.serverEvents],
    ] as const) {
      const source = from === 'client' ? pair.client : pair.server;
      for (let ev = source.poll(); ev !== undefined; ev = source.poll()) {
        log.push(ev);
        progress = true;
        if (ev.kind !== 'send') continue;
        const data = options.tamper ? options.tamper(from, ev) : ev.data;
        const step = options.chunk ?? data.length;
        for (let i = 0; i < data.length; i += step) {
          to.receive(ev.level, data.subarray(i, i + step), now);
        }
      }
    }
  }
}

/** The events of one kind. */
export function eventsOf<K extends TlsEvent['kind']>(
  events: readonly TlsEvent[],
  kind: K,
): Extract<TlsEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<TlsEvent, { kind: K }> => e.kind === kind);
}

/** Whether the server sent a Certificate message (type 11) in its handshake flight. */
export function serverSentCertificate(events: readonly TlsEvent[]): boolean {
  for (const ev of eventsOf(events, 'send')) {
    if (ev.level !== 'handshake') continue;
    for (let at = 0; at + 4 <= ev.data.length; ) {
      if (ev.data[at] === 11) return true;
      at += 4 + ((ev.data[at + 1] << 16) | (ev.data[at + 2] << 8) | ev.data[at + 3]);
    }
  }
  return false;
}
