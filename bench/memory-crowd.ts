/**
 * The sans-IO half of bench/endpoint-scale: one server `QuicEndpoint` in memory (no sockets, a
 * virtual clock, one thread) holding any number of idle QUIC connections from one client
 * endpoint, and a busy connection from another whose datagrams the server echoes. The cost of one
 * echo is then pure CPU, free of the scheduling noise of a shared machine: what the endpoints do
 * per packet, driven the way `UdpEndpoint` drives them (pollTransmit until empty, then
 * nextTimeout, timers when due). Only the server endpoint holds the crowd.
 *
 * Idle connections resume one TLS session (cheaper handshakes) and keep no timer but their idle
 * timeout, 10 minutes away. Once they are established and quiet, their client side is dropped:
 * like a proxy's, this process then holds only the server's side of them (the clients' side would
 * double the heap, and with it the garbage collector's share of every packet).
 */
import type { QuicConnection } from '../src/quic/connection/index.js';
import { QuicEndpoint, quicClientFactory, quicServerFactory } from '../src/quic/endpoint/index.js';
import { generateDevCert } from '../src/tls/certs/index.js';
import { loadServerCredential } from '../src/tls/handshake/index.js';
import { SeededRandom } from '../src/util/random.js';

type ClientCfg = Parameters<ReturnType<typeof quicClientFactory>>[0];
type Ep = QuicEndpoint<QuicConnection, ClientCfg>;

/** Virtual time starts at a real date: TLS checks certificate validity against it. */
const T0 = Date.UTC(2026, 5, 1);
const SERVER = '10.0.0.2:443';
const CROWD = '10.0.0.1:5000';
const BUSY = '10.0.0.3:5000';
const IDLE_TIMEOUT = 600_000;
const ALPN = ['bench'];
const CERT = generateDevCert({ now: T0, random: new SeededRandom(5) });

export class MemoryCrowd {
  readonly server: Ep;
  /** The busy connection's client side. */
  readonly busyClient: Ep;
  /** The idle connections' client side, while they are being opened. */
  #client: Ep;
  #now = T0;
  #seed = 100;
  #ticket: unknown;
  #idle = 0;
  #sent = 0;
  #echoed = 0;
  #busy: { client: QuicConnection; server: QuicConnection } | undefined;
  readonly #payload = new Uint8Array(1200).fill(0x5a);

  constructor() {
    const factory = quicServerFactory({
      random: new SeededRandom(2),
      alpn: ALPN,
      tls: {
        credentials: [loadServerCredential(CERT.certPem, CERT.keyPem)],
        tickets: { key: new Uint8Array(32).fill(0x42) },
      },
      transport: { maxIdleTimeout: IDLE_TIMEOUT, maxDatagramFrameSize: 1500 },
      maxUdpPayload: 1452,
    });
    this.server = new QuicEndpoint<QuicConnection, ClientCfg>({
      random: new SeededRandom(1),
      retry: 'never',
      // One client address opens the whole crowd at once.
      initialRatePerSource: { perSecond: 1e9, burst: 1e9 },
      createServerConnection: factory,
    });
    this.#client = clientEndpoint(3);
    this.busyClient = clientEndpoint(4);
  }

  /** Idle connections held by the server (the busy one aside). */
  get idle(): number {
    return this.#idle;
  }

  /** Opens idle connections until `total` exist, then lets their post-handshake timers run out. */
  grow(total: number): void {
    while (this.#idle < total) {
      const wave = Math.min(50, total - this.#idle);
      for (let i = 0; i < wave; i++) this.#connect();
      this.#pump();
      this.#now += 1;
      this.#idle += wave;
      this.#drainServerEvents();
    }
    this.#advance(this.#now + 5_000);
    this.#client = clientEndpoint(this.#seed++);
  }

  /** Echoes sent and not back yet (a pacer may hold one for a few iterations). */
  get outstanding(): number {
    return this.#sent - this.#echoed;
  }

  /** One datagram from the busy client, echoed by the server: the unit being measured. */
  echo(): void {
    const busy = this.#busy ?? this.#openBusy();
    const c = busy.client;
    const s = busy.server;
    if (!c.sendDatagram(this.#payload)) throw new Error('the datagram queue is full');
    this.#sent++;
    this.busyClient.markActive(c);
    this.#send(this.busyClient);
    for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) {
      if (ev.type === 'datagram') s.sendDatagram(ev.data);
    }
    this.server.markActive(s);
    this.#send(this.server);
    // 200 µs of virtual time per echo (5,000 echoes/s, what the proxy does over loopback): ACK
    // and pacing timers fire as they would, the idle connections' timers never.
    this.#now += 0.2;
    this.#timers(this.busyClient);
    this.#timers(this.server);
    for (let ev = c.pollEvent(); ev !== undefined; ev = c.pollEvent()) {
      if (ev.type === 'datagram') this.#echoed++;
    }
    if (this.outstanding > 8) throw new Error(`${this.outstanding} echoes missing in memory`);
  }

  #openBusy(): { client: QuicConnection; server: QuicConnection } {
    const client = this.busyClient.connect(this.#config(undefined), SERVER, this.#now);
    this.#pump();
    let server: QuicConnection | undefined;
    for (let ev = this.server.pollEvent(); ev !== undefined; ev = this.server.pollEvent()) {
      if (ev.type === 'connection') server = ev.conn;
    }
    if (server === undefined || client.state !== 'established') throw new Error('no busy link');
    // Paths start at 1200-byte packets (RFC 9000 §14.1): let path MTU discovery (RFC 8899) run
    // on the virtual clock until a 1200-byte DATAGRAM fits both ways, as it does on loopback.
    for (let i = 0; i < 100; i++) {
      const fits = Math.min(client.maxDatagramPayload, server.maxDatagramPayload);
      if (fits >= this.#payload.length) break;
      this.#advance(this.#now + 100);
    }
    if (Math.min(client.maxDatagramPayload, server.maxDatagramPayload) < this.#payload.length) {
      throw new Error('path MTU discovery never reached 1200-byte datagrams in memory');
    }
    for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent());
    for (let ev = client.pollEvent(); ev !== undefined; ev = client.pollEvent());
    this.#busy = { client, server };
    return this.#busy;
  }

  #connect(): void {
    const conn = this.#client.connect(this.#config(this.#ticket), SERVER, this.#now);
    if (this.#ticket === undefined) {
      this.#pump();
      this.#ticket = conn.sessionTicket;
    }
  }

  #config(resumption: unknown): ClientCfg {
    return {
      random: new SeededRandom(this.#seed++),
      alpn: ALPN,
      maxUdpPayload: 1452,
      transport: { maxIdleTimeout: IDLE_TIMEOUT, maxDatagramFrameSize: 1500 },
      tls: {
        serverName: 'localhost',
        verify: { ca: [CERT.certPem], noSystemRoots: true },
        resumption: resumption as ClientCfg['tls']['resumption'],
      },
    };
  }

  #drainServerEvents(): void {
    for (let ev = this.server.pollEvent(); ev !== undefined; ev = this.server.pollEvent());
  }

  /** Delivers what `from` has to send; then `from` arms its timer, as the driver does. */
  #send(from: Ep): boolean {
    const now = this.#now;
    let moved = false;
    for (let t = from.pollTransmit(now); t !== undefined; t = from.pollTransmit(now)) {
      moved = true;
      if (from !== this.server)
        this.server.receive(t.data, from === this.#client ? CROWD : BUSY, now);
      else if (t.to === BUSY) this.busyClient.receive(t.data, SERVER, now);
      else this.#client.receive(t.data, SERVER, now);
    }
    from.nextTimeout();
    return moved;
  }

  #timers(ep: Ep): void {
    const at = ep.nextTimeout();
    if (at === undefined || at > this.#now) return;
    ep.handleTimeout(this.#now);
    this.#send(ep);
  }

  #pump(): void {
    for (let round = 0; round < 10_000; round++) {
      const a = this.#send(this.#client);
      const b = this.#send(this.busyClient);
      const c = this.#send(this.server);
      if (!a && !b && !c) return;
    }
    throw new Error('the in-memory link never settles');
  }

  #advance(until: number): void {
    const eps = [this.#client, this.busyClient, this.server];
    for (;;) {
      let next = Number.POSITIVE_INFINITY;
      for (const ep of eps) next = Math.min(next, ep.nextTimeout() ?? Number.POSITIVE_INFINITY);
      if (next > until) break;
      this.#now = Math.max(this.#now, next);
      for (const ep of eps) ep.handleTimeout(this.#now);
      this.#pump();
    }
    this.#now = Math.max(this.#now, until);
  }
}

function clientEndpoint(seed: number): Ep {
  return new QuicEndpoint<QuicConnection, ClientCfg>({
    random: new SeededRandom(seed),
    createClientConnection: quicClientFactory(),
  });
}
