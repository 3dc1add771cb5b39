/**
 * Test harness: QuicConnection-backed simulator nodes (a client node, and a server node that
 * plays the endpoint: it routes datagrams by connection ID and creates connections for new
 * Initials), configurations with a development certificate, and helpers to run a scenario.
 */
import type { QuicAppEvent } from '../../../src/quic/api.js';
import {
  type ClientConfig,
  type ParsedInitialInfo,
  QuicConnection,
  type ServerConfig,
} from '../../../src/quic/connection/index.js';
import { parsePacketHeader } from '../../../src/quic/packet/index.js';
import { buildStatelessReset, type StatelessResetKey } from '../../../src/quic/path/index.js';
import type { LinkElement, SimDatagram, SimNode } from '../../../src/sim/index.js';
import { generateDevCert } from '../../../src/tls/certs/index.js';
import { loadServerCredential } from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { toHex } from '../../../src/wire/index.js';

/** Virtual time starts at a real date: TLS checks certificate validity against `now`. */
export const T0 = Date.UTC(2026, 5, 1);
export const CLIENT_ADDR = '10.0.0.1:5000';
export const SERVER_ADDR = '10.0.0.2:443';

const CERT = generateDevCert({ now: T0, random: new SeededRandom(7) });
const CREDENTIAL = loadServerCredential(CERT.certPem, CERT.keyPem);

export function clientConfig(seed = 1, overrides: Partial<ClientConfig> = {}): ClientConfig {
  return {
    random: new SeededRandom(seed),
    alpn: ['h3'],
    remote: SERVER_ADDR,
    tls: { serverName: 'localhost', verify: { ca: [CERT.certPem], noSystemRoots: true } },
    ...overrides,
  };
}

export function serverConfig(seed = 2, overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    random: new SeededRandom(seed),
    alpn: ['h3'],
    tls: { credentials: [CREDENTIAL] },
    ...overrides,
  };
}

/** Events collected per connection. */
export class EventLog {
  readonly events: QuicAppEvent[] = [];
  of<T extends QuicAppEvent['type']>(type: T): Extract<QuicAppEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<QuicAppEvent, { type: T }>[];
  }
}

/** Handler called for each application event of a connection, after it is logged. */
export type EventHandler = (conn: QuicConnection, ev: QuicAppEvent) => void;

function drainTransmit(conn: QuicConnection, from: string, now: number, out: SimDatagram[]): void {
  for (let i = 0; i < 10_000; i++) {
    const t = conn.pollTransmit(now);
    if (t === undefined) return;
    out.push({ from, to: t.to, data: t.data });
  }
  throw new Error('pollTransmit never stops');
}

/** A client: one connection. */
export class ClientNode implements SimNode {
  readonly addresses: string[];
  readonly log = new EventLog();
  conn: QuicConnection;
  onEvent: EventHandler | undefined;
  /** The address the client sends from (a NAT may rewrite it). */
  address: string;

  constructor(config: ClientConfig, now: number, address = CLIENT_ADDR) {
    this.address = address;
    this.addresses = [address];
    this.conn = QuicConnection.client(config, now);
  }

  receive(d: SimDatagram, now: number): void {
    this.conn.receive(d.data, d.from, now);
    this.#events();
  }

  transmit(now: number): SimDatagram[] {
    const out: SimDatagram[] = [];
    drainTransmit(this.conn, this.address, now, out);
    this.#events();
    return out;
  }

  nextTimeout(): number | undefined {
    return this.conn.nextTimeout();
  }

  timeout(now: number): void {
    this.conn.handleTimeout(now);
    this.#events();
  }

  #events(): void {
    for (let ev = this.conn.pollEvent(); ev !== undefined; ev = this.conn.pollEvent()) {
      this.log.events.push(ev);
      this.onEvent?.(this.conn, ev);
    }
  }
}

/** Server configuration for a new connection (undefined: refuse it). */
export type ServerConfigFactory = (
  first: ParsedInitialInfo,
  from: string,
  now: number,
) => ServerConfig | undefined;

/** What the server node does with a datagram before routing (e.g. send a Retry). */
export type ServerFilter = (d: SimDatagram, now: number, node: ServerNode) => boolean;

/** A server endpoint: routes by DCID, creates connections for new Initials. */
export class ServerNode implements SimNode {
  readonly addresses = [SERVER_ADDR];
  readonly conns: QuicConnection[] = [];
  readonly logs = new Map<QuicConnection, EventLog>();
  readonly #routes = new Map<string, QuicConnection>();
  readonly #config: ServerConfigFactory;
  readonly #cidLength: number;
  onEvent: EventHandler | undefined;
  filter: ServerFilter | undefined;
  /** Datagrams the endpoint itself sends (Retry, stateless reset, VN). */
  readonly outbox: SimDatagram[] = [];
  /** Datagrams that matched no connection and were not Initials. */
  unroutable: SimDatagram[] = [];
  /** CID routing events seen, as "cid-added <hex>" / "cid-removed <hex>". */
  readonly cidLog: string[] = [];
  /** When set, unroutable short-header packets are answered with a stateless reset. */
  resetKey: StatelessResetKey | undefined;
  readonly #random = new SeededRandom(99);

  constructor(config: ServerConfigFactory, cidLength = 8) {
    this.#config = config;
    this.#cidLength = cidLength;
  }

  get conn(): QuicConnection {
    const c = this.conns[0];
    if (c === undefined) throw new Error('no server connection yet');
    return c;
  }

  get log(): EventLog {
    return this.logs.get(this.conn) as EventLog;
  }

  receive(d: SimDatagram, now: number): void {
    if (this.filter?.(d, now, this)) return;
    let header: ReturnType<typeof parsePacketHeader>;
    try {
      header = parsePacketHeader(d.data, 0, this.#cidLength);
    } catch {
      return;
    }
    if (header.kind === 'version-negotiation' || header.kind === 'unsupported-version') return;
    let conn = this.#routes.get(toHex(header.dcid));
    if (conn === undefined) {
      if (header.kind !== 'long' || header.type !== 0 || d.data.length < 1200) {
        this.unroutable.push(d);
        if (header.kind === 'short' && this.resetKey !== undefined) {
          const token = this.resetKey.tokenFor(header.dcid);
          const reset = buildStatelessReset(token, d.data.length, this.#random);
          if (reset !== undefined) this.outbox.push({ from: SERVER_ADDR, to: d.from, data: reset });
        }
        return;
      }
      const first: ParsedInitialInfo = {
        dcid: header.dcid.slice(),
        scid: header.scid.slice(),
        token: header.token.slice(),
      };
      const config = this.#config(first, d.from, now);
      if (config === undefined) return;
      conn = QuicConnection.server(config, first, d.from, now);
      this.conns.push(conn);
      this.logs.set(conn, new EventLog());
      this.#routes.set(toHex(header.dcid), conn);
      this.#cids(conn);
    }
    conn.receive(d.data, d.from, now);
    this.#after(conn);
  }

  transmit(now: number): SimDatagram[] {
    const out: SimDatagram[] = this.outbox.splice(0);
    for (const conn of this.conns) {
      drainTransmit(conn, SERVER_ADDR, now, out);
      this.#after(conn);
    }
    return out;
  }

  /** True when `dcid` routes to a connection. */
  knows(dcid: Uint8Array): boolean {
    return this.#routes.has(toHex(dcid));
  }

  /** Loses every connection's state, as a restarted server would. */
  forget(): void {
    this.conns.length = 0;
    this.#routes.clear();
  }

  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const conn of this.conns) {
      const n = conn.nextTimeout();
      if (n !== undefined && (t === undefined || n < t)) t = n;
    }
    return t;
  }

  timeout(now: number): void {
    for (const conn of this.conns) {
      const n = conn.nextTimeout();
      if (n !== undefined && n <= now) conn.handleTimeout(now);
      this.#after(conn);
    }
  }

  #after(conn: QuicConnection): void {
    this.#cids(conn);
    const log = this.logs.get(conn) as EventLog;
    for (let ev = conn.pollEvent(); ev !== undefined; ev = conn.pollEvent()) {
      log.events.push(ev);
      this.onEvent?.(conn, ev);
    }
  }

  #cids(conn: QuicConnection): void {
    for (let e = conn.pollCidEvent(); e !== undefined; e = conn.pollCidEvent()) {
      this.cidLog.push(`${e.type} ${toHex(e.cid)}`);
      if (e.type === 'cid-added') this.#routes.set(toHex(e.cid), conn);
      else this.#routes.delete(toHex(e.cid));
    }
  }
}

/** Concatenates received stream data per stream. */
export class StreamCollector {
  readonly data = new Map<number, Uint8Array[]>();
  readonly finished = new Set<number>();

  add(ev: QuicAppEvent): void {
    if (ev.type !== 'stream-data') return;
    let list = this.data.get(ev.streamId);
    if (list === undefined) {
      list = [];
      this.data.set(ev.streamId, list);
    }
    if (ev.data.length > 0) list.push(ev.data.slice());
    if (ev.fin) this.finished.add(ev.streamId);
  }

  bytes(id: number): Uint8Array {
    const list = this.data.get(id) ?? [];
    let n = 0;
    for (const c of list) n += c.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of list) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** A link element that drops datagrams while `active` is true, counting them. */
export class Blackhole implements LinkElement {
  active = false;
  dropped = 0;

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (this.active) {
      this.dropped++;
      return [];
    }
    return [[0, d]];
  }
}

/** Drops datagrams larger than `mtu` (UDP payload bytes), which a test may change mid-run. */
export class VariableMtu implements LinkElement {
  dropped = 0;
  constructor(public mtu: number) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (d.data.length > this.mtu) {
      this.dropped++;
      return [];
    }
    return [[0, d]];
  }
}

/**
 * A 1-RTT packet from `conn` carrying `payload`, sealed with its current keys: a peer that breaks
 * a rule, with packets that still pass decryption and reach the rule under test.
 */
export function forgeOneRtt(
  conn: QuicConnection,
  payload: Uint8Array,
  reservedBits = 0,
): Uint8Array {
  const c = conn.internals;
  const keys = c.oneRtt;
  const dcid = c.peerCids.current?.cid;
  if (keys === undefined || dcid === undefined) throw new Error('no 1-RTT keys');
  const pn = c.appSpace.nextPn++;
  const pnOffset = 1 + dcid.length;
  const buf = new Uint8Array(pnOffset + 4 + payload.length + 16);
  // 0 1 S RR K PP: short header, fixed bit, reserved bits as asked, 4-byte packet number.
  buf[0] = 0x40 | (reservedBits << 3) | (keys.writePhase << 2) | 0x03;
  buf.set(dcid, 1);
  buf.set(payload, pnOffset + 4);
  keys.writer.seal(buf, pnOffset, 4, pn, payload.length);
  return buf;
}
