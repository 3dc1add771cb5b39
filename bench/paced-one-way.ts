/**
 * The in-memory half of bench/one-way.bench.ts: a one-way flow between two sans-IO QUIC
 * connections through the simulator (src/sim), over a paced path (5 ms each way, a 100 Mbit/s
 * bottleneck with a bounded queue), so that datagrams arrive one at a time, as they do across a
 * real network, instead of in the bursts loopback delivers (where one ACK per receive batch is
 * already the rule). Measures the CPU per datagram of the whole simulation (both connections and
 * the simulator) and the receiver's QUIC packets per datagram: its ACKs.
 */
import type { QuicAppEvent } from '../src/quic/api.js';
import {
  type AckFrequencyPolicy,
  type ParsedInitialInfo,
  QuicConnection,
} from '../src/quic/connection/index.js';
import { parsePacketHeader } from '../src/quic/packet/index.js';
import { Bandwidth, Delay, Network, type SimDatagram, type SimNode } from '../src/sim/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { loadServerCredential } from '../src/tls/handshake/index.js';
import { SeededRandom } from '../src/util/random.js';

const T0 = Date.UTC(2026, 5, 1);
const CLIENT = '10.0.0.1:5000';
const SERVER = '10.0.0.2:443';
const CERT = generateDevCert({ now: T0, random: new SeededRandom(7) });
const CREDENTIAL = loadServerCredential(CERT.certPem, CERT.keyPem);
const TRANSPORT = { maxDatagramFrameSize: 1500 };

/** One connection as a simulator node; the server side is made by the client's first Initial. */
class ConnNode implements SimNode {
  readonly addresses: string[];
  conn: QuicConnection | undefined;
  sent = 0;
  received = 0;
  onEvent: ((ev: QuicAppEvent) => void) | undefined;
  readonly #make: ((d: SimDatagram, now: number) => QuicConnection) | undefined;

  constructor(
    address: string,
    conn?: QuicConnection,
    make?: (d: SimDatagram, now: number) => QuicConnection,
  ) {
    this.addresses = [address];
    this.conn = conn;
    this.#make = make;
  }

  receive(d: SimDatagram, now: number): void {
    this.conn ??= this.#make?.(d, now);
    this.conn?.receive(d.data, d.from, now);
    this.#events();
  }

  transmit(now: number): SimDatagram[] {
    const out: SimDatagram[] = [];
    const c = this.conn;
    if (c === undefined) return out;
    for (let t = c.pollTransmit(now); t !== undefined; t = c.pollTransmit(now)) {
      out.push({ from: this.addresses[0], to: t.to, data: t.data });
    }
    this.sent += out.length;
    this.#events();
    return out;
  }

  nextTimeout(): number | undefined {
    return this.conn?.nextTimeout();
  }

  timeout(now: number): void {
    this.conn?.handleTimeout(now);
    this.#events();
  }

  #events(): void {
    const c = this.conn;
    if (c === undefined) return;
    for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) this.onEvent?.(ev);
  }
}

export interface PacedResult {
  /** Datagrams the receiver got. */
  received: number;
  /** QUIC packets the receiver sent per datagram received (its ACKs). */
  receiverPackets: number;
  /** CPU (ms) of the whole run, the handshake excluded. */
  cpuMs: number;
  /** Virtual time the flow took (ms). */
  virtualMs: number;
  /** Datagrams (of any kind) the bottleneck dropped meanwhile. */
  dropped: number;
}

/**
 * The server sends `n` datagrams of 1000 bytes to the client; `ackFrequency` is the server's
 * (the data sender's) policy.
 */
export function pacedOneWay(n: number, ackFrequency: AckFrequencyPolicy | false): PacedResult {
  const net = new Network();
  net.now = T0;
  const client = new ConnNode(
    CLIENT,
    QuicConnection.client(
      {
        random: new SeededRandom(1),
        alpn: ['bench'],
        remote: SERVER,
        transport: TRANSPORT,
        tls: { serverName: 'localhost', verify: { ca: [CERT.certPem], noSystemRoots: true } },
      },
      T0,
    ),
  );
  const server = new ConnNode(SERVER, undefined, (d, now) => {
    const h = parsePacketHeader(d.data, 0, 8);
    if (h.kind !== 'long') throw new Error('the first datagram is not an Initial');
    const first: ParsedInitialInfo = { dcid: h.dcid.slice(), scid: h.scid.slice() };
    return QuicConnection.server(
      {
        random: new SeededRandom(2),
        alpn: ['bench'],
        transport: TRANSPORT,
        tls: { credentials: [CREDENTIAL] },
        ackFrequency,
      },
      first,
      d.from,
      now,
    );
  });
  // 100 Mbit/s = 12,500 bytes per ms; a queue of 64 KB; 5 ms each way.
  net.add(client).add(server);
  const bottleneck = new Bandwidth(12_500, 64_000);
  net.link(SERVER, CLIENT, [bottleneck, new Delay(5)]);
  net.link(CLIENT, SERVER, [new Delay(5)]);
  net.run({ until: T0 + 2_000, done: () => client.conn?.handshakeConfirmed === true });
  const sender = server.conn;
  if (sender === undefined || !client.conn?.handshakeConfirmed) throw new Error('no handshake');
  const payload = new Uint8Array(1000).fill(0x6b);
  let queued = 0;
  let received = 0;
  const fill = (): void => {
    while (queued < n && sender.sendDatagram(payload)) queued++;
  };
  server.onEvent = (ev) => {
    if (ev.type === 'datagrams-writable') fill();
  };
  client.onEvent = (ev) => {
    if (ev.type === 'datagram') received++;
  };
  const sent0 = client.sent;
  const start = net.now;
  const cpu0 = process.cpuUsage();
  fill();
  // Datagrams the bottleneck drops (its queue overflows as the window grows) never arrive.
  const dropped0 = bottleneck.dropped;
  net.run({
    until: start + 600_000,
    done: () => received + (bottleneck.dropped - dropped0) >= n,
    maxEvents: 50 * n,
  });
  const cpu = process.cpuUsage(cpu0);
  return {
    received,
    receiverPackets: (client.sent - sent0) / Math.max(1, received),
    cpuMs: (cpu.user + cpu.system) / 1000,
    virtualMs: net.now - start,
    dropped: bottleneck.dropped - dropped0,
  };
}
