/**
 * The Node driver of a sans-IO {@link QuicEndpoint}: one UDP socket, one timer, nothing else.
 *
 *   socket 'message' → endpoint.receive(data, "host:port", now)   ┐ any number per
 *   timer            → endpoint.handleTimeout(now)                 ├ event-loop turn
 *   flush(conn?)     → endpoint.markActive(conn)                   ┘
 *   end of the turn (setImmediate) → events → onWake(active) → pollTransmit until empty →
 *     socket.send; re-arm the timer at nextTimeout()
 *
 * Output waits for the end of the event-loop turn: everything the poll phase delivered (datagrams
 * from peers, and from the proxy's target sockets, whose replies queue data on connections) is
 * taken in first, then each connection builds its packets once. An ACK the received packets made
 * due then rides on the data going back rather than leaving alone (RFC 9000 §13.2.2 "A receiver
 * MAY process multiple available packets before determining whether to send an ACK frame"), and
 * application calls made in that turn share packets.
 *
 * `onWake` is given the connections the input reached (the endpoint's active set), not all of
 * them: the work per turn does not grow with idle connections. Application calls on a
 * connection (writeStream, sendDatagram, close...) only queue work the endpoint cannot see: call
 * `flush(conn)` after them, which flags the connection and schedules the end-of-turn send (calls
 * made inside `onWake` on a connection it was given need nothing more).
 *
 * It also carries the packet seam ({@link PacketSeam}): claimed CIDs, routing queries and raw
 * sends from this socket, for MASQUE forwarded mode and loop detection.
 *
 * Clock: `performance.timeOrigin + performance.now()`, i.e. monotonic milliseconds that read as
 * wall-clock time, because TLS checks certificate validity against `now` and address tokens
 * outlive a restart. The timer keeps the process alive only while connections exist.
 */
import { performance } from 'node:perf_hooks';
import { type Logger, pino } from 'pino';
import type { SocketCounters } from '../../metrics/metrics.js';
import {
  type ClaimedCidHandler,
  type EndpointConnection,
  type FactoryContext,
  QuicEndpoint,
  type QuicEndpointOptions,
  type ServerInitialInfo,
} from '../../quic/endpoint/index.js';
import { systemRandom } from '../../util/random.js';
import { parseAddress } from './address.js';
import { bindUdpSocket, type DatagramSocket } from './datagram-socket.js';
import { keylogFile, keylogFromEnv } from './keylog.js';
import type { PacketSeam } from './packet-seam.js';
import { QlogDirectory, type QlogSink } from './qlog.js';
import { encodeProgram, steeringProgram } from './reuseport-steering.js';

/** Options of {@link UdpEndpoint.bind}. */
export interface UdpEndpointOptions<C extends EndpointConnection, ClientConfig>
  extends Omit<QuicEndpointOptions<C, ClientConfig>, 'random'> {
  /** Local address to bind, "127.0.0.1:0" or "[::1]:4433" (ignored when `socket` is given). */
  listen?: string;
  /** Bind with SO_REUSEPORT (worker processes sharing one port; Node >= 22.12). */
  reusePort?: boolean;
  /** Randomness (default: the OS CSPRNG via `systemRandom`). */
  random?: QuicEndpointOptions<C, ClientConfig>['random'];
  /** A ready socket instead of a new `node:dgram` one. */
  socket?: DatagramSocket;
  /** Logger (default: silent). */
  logger?: Logger;
  /**
   * Append NSS key log lines of every connection to this file. Default: the file named by the
   * SSLKEYLOGFILE environment variable, when set.
   */
  keylogFile?: string;
  /** Write one qlog JSON-SEQ file per connection into this directory. */
  qlogDir?: string;
  /** A server connection was accepted. */
  onConnection?: (conn: C) => void;
  /** A connection was closed and removed. */
  onClosed?: (conn: C) => void;
  /**
   * Input was processed (the datagrams and timers of one event-loop turn): read the events of the
   * connections in `active` (those the input reached, plus any flagged and not yet flushed). The
   * array is a snapshot, reused: valid only during the call. A flush follows.
   */
  onWake?: (active: readonly C[]) => void;
  /** Clock in ms (default: performance.timeOrigin + performance.now()). */
  clock?: () => number;
}

const defaultClock = (): number => performance.timeOrigin + performance.now();

/** Datagrams handed to the socket at once at most (the addon's sendmmsg takes 64 per call). */
const SEND_BATCH = 64;
const EMPTY = new Uint8Array(0);

export class UdpEndpoint<C extends EndpointConnection, ClientConfig = unknown>
  implements PacketSeam
{
  /** The sans-IO endpoint (stats, claims, sendRaw...). */
  readonly endpoint: QuicEndpoint<C, ClientConfig>;
  readonly #socket: DatagramSocket;
  /** Datagrams of the current flush not yet handed to the socket (reused arrays). */
  readonly #out = {
    data: [] as Uint8Array[],
    remotes: [] as string[],
    count: 0,
  };
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #qlog: QlogDirectory | undefined;
  readonly #onConnection: ((conn: C) => void) | undefined;
  readonly #onClosed: ((conn: C) => void) | undefined;
  readonly #onWake: ((active: readonly C[]) => void) | undefined;
  readonly #qlogSinks = new WeakMap<C, QlogSink>();
  /** Reused for `onWake` (no allocation per datagram). */
  readonly #woken: C[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt: number | undefined;
  #timerRefed = true;
  readonly #onTimerBound = (): void => this.#onTimer();
  #closed = false;
  /** Input arrived this turn: the end of the turn runs events and onWake before the flush. */
  #inputPending = false;
  /** The end of the turn is scheduled or running: flush() only flags connections. */
  #turnScheduled = false;
  /** Bound once: the end of the event-loop turn (setImmediate). */
  readonly #onTurnEnd = (): void => this.#endTurn();
  /** Bound once: the flush that closes a turn (a microtask, after those onWake queued). */
  readonly #onTurnFlush = (): void => {
    this.#turnScheduled = false;
    if (this.#closed) return;
    this.#wakeIfPending();
    this.#flushNow();
  };

  private constructor(
    socket: DatagramSocket,
    options: UdpEndpointOptions<C, ClientConfig>,
    random: QuicEndpointOptions<C, ClientConfig>['random'],
  ) {
    this.#socket = socket;
    this.#logger = options.logger ?? pino({ level: 'silent' });
    this.#clock = options.clock ?? defaultClock;
    this.#qlog = options.qlogDir ? new QlogDirectory(options.qlogDir, this.#logger) : undefined;
    this.#onConnection = options.onConnection;
    this.#onClosed = options.onClosed;
    this.#onWake = options.onWake;
    // An explicit file wins; otherwise SSLKEYLOGFILE, as browsers and curl honour it.
    const keylog = options.keylogFile
      ? keylogFile(options.keylogFile, this.#logger)
      : keylogFromEnv(process.env, this.#logger);
    // A key log is written to read a capture: a capture on this host sees a segmented send (UDP
    // GSO) as one large datagram, which Wireshark cannot dissect, so each datagram goes alone.
    if (keylog !== undefined) socket.disableSegmentation?.();
    const qlogDir = this.#qlog;
    const sinks = this.#qlogSinks;
    /** Adds the driver's diagnostics sinks to the factory context, then builds the connection. */
    const build = (
      ctx: FactoryContext,
      role: 'client' | 'server',
      label: string,
      make: (ctx: FactoryContext) => C,
    ): C => {
      const qlog = qlogDir?.forConnection(`${role}-${label}`, role);
      const conn = make({ ...ctx, keylog, qlog });
      if (qlog !== undefined) sinks.set(conn, qlog);
      return conn;
    };
    const server = options.createServerConnection;
    const client = options.createClientConnection;
    this.endpoint = new QuicEndpoint<C, ClientConfig>({
      ...options,
      random,
      createServerConnection:
        server &&
        ((info: ServerInitialInfo, remote: string, now: number, ctx: FactoryContext) =>
          build(ctx, 'server', hex(info.originalDcid), (c) => server(info, remote, now, c))),
      createClientConnection:
        client &&
        ((config: ClientConfig, remote: string, now: number, ctx: FactoryContext) =>
          build(ctx, 'client', String(Math.floor(now)), (c) => client(config, remote, now, c))),
    });
    socket.onMessage((data, remote) => this.#onMessage(data, remote));
  }

  /** Binds the socket (or adopts `options.socket`) and starts driving a new endpoint. */
  static async bind<C extends EndpointConnection, ClientConfig = unknown>(
    options: UdpEndpointOptions<C, ClientConfig>,
  ): Promise<UdpEndpoint<C, ClientConfig>> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const socket =
      options.socket ??
      (await bindUdpSocket(options.listen ?? '[::]:0', logger, undefined, {
        reusePort: options.reusePort,
      }));
    return new UdpEndpoint<C, ClientConfig>(
      socket,
      { ...options, logger },
      options.random ?? systemRandom,
    );
  }

  /**
   * Worker steering (src/runtime/udp/reuseport-steering.ts): attaches to the port's SO_REUSEPORT
   * group the program that sends each datagram to the worker its DCID names, `slots[w]` being the
   * socket index of worker w; from then on this endpoint drops, instead of resetting, short
   * headers that name another worker. Throws when the endpoint marks no worker in its CIDs or
   * its socket cannot take the program (no native addon, not Linux, no group).
   */
  steerWorkers(slots: readonly (number | undefined)[]): void {
    const steering = this.endpoint.cidSteering;
    if (steering === undefined) throw new Error('this endpoint marks no worker in its CIDs');
    const attach = this.#socket.attachReuseportProgram;
    if (attach === undefined) {
      throw new Error('worker steering needs the native addon on Linux (SO_ATTACH_REUSEPORT_CBPF)');
    }
    attach(encodeProgram(steeringProgram(this.endpoint.localCidLength, steering.workers, slots)));
    steering.enforced = true;
  }

  /** The socket's own counters (zero where the socket does not count). */
  socketStats(): SocketCounters {
    const s = this.#socket;
    return {
      sendErrors: s.sendErrors ?? 0,
      receiveErrors: s.receiveErrors ?? 0,
      nativeSends: s.nativeSends ?? 0,
      drainedReceives: s.drainedReceives ?? 0,
    };
  }

  /** The bound address as "host:port" / "[v6]:port". */
  get address(): string {
    const a = this.#socket.address();
    return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  }

  /** The current time on the driver's clock (what connections are given as `now`). */
  now(): number {
    return this.#clock();
  }

  /** Opens a client connection to `remote` (an IP literal "host:port") and sends its first flight. */
  connect(config: ClientConfig, remote: string): C {
    if (parseAddress(remote).family === 0) {
      throw new RangeError(`remote "${remote}" must be an IP literal; resolve names first`);
    }
    const conn = this.endpoint.connect(config, remote, this.#clock());
    this.flush();
    return conn;
  }

  /** Length of the CIDs this endpoint's connections issue (short headers are parsed with it). */
  get localCidLength(): number {
    return this.endpoint.localCidLength;
  }

  /**
   * Sends what the endpoint has to send, at the end of this event-loop turn, and re-arms the timer.
   * Pass the connection an application call just queued work on (stream data, a datagram,
   * close...): only connections flagged this way or reached by input are polled.
   */
  flush(conn?: C): void {
    if (this.#closed) return;
    if (conn !== undefined) this.endpoint.markActive(conn);
    this.#scheduleTurnEnd();
  }

  /**
   * Sends what the endpoint has to send now (as {@link flush}, without waiting for the end of the
   * turn): for stream writes that must leave before datagrams queued later in this turn. Not from
   * inside the endpoint's own callbacks (claim handlers), which run within its `receive`.
   */
  flushNow(conn?: C): void {
    if (this.#closed) return;
    if (conn !== undefined) this.endpoint.markActive(conn);
    // The input of the turn first: polling settles connections, and onWake sees only active ones.
    this.#wakeIfPending();
    this.#flushNow();
  }

  #scheduleTurnEnd(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(this.#onTurnEnd);
  }

  /** Sends now: pollTransmit until empty, events, timer. */
  #flushNow(): void {
    if (this.#closed) return;
    const now = this.#clock();
    for (
      let t = this.endpoint.pollTransmit(now);
      t !== undefined;
      t = this.endpoint.pollTransmit(now)
    ) {
      if (this.#socket.sendMany === undefined) {
        let port: number;
        let host: string;
        try {
          ({ host, port } = parseAddress(t.to));
        } catch (err) {
          this.#logger.warn({ err, to: t.to }, 'dropping a datagram to an unparsable address');
          continue;
        }
        this.#socket.send(t.data, port, host);
        continue;
      }
      // Collected, so the socket can send them in one system call (datagram-socket.ts); each
      // Transmit owns its bytes. Bounded, so a long flush does not hold its first datagram back.
      const out = this.#out;
      out.data[out.count] = t.data;
      out.remotes[out.count] = t.to;
      if (++out.count === SEND_BATCH) this.#sendCollected();
    }
    this.#sendCollected();
    this.#dispatchEvents();
    this.#arm();
  }

  /** Sends the datagrams collected by {@link #flushNow} and forgets them. */
  #sendCollected(): void {
    const out = this.#out;
    if (out.count === 0) return;
    this.#socket.sendMany?.(out.data, out.remotes, out.count);
    out.data.fill(EMPTY, 0, out.count); // let the sent bytes go
    out.count = 0;
  }

  /**
   * Closes every connection with `errorCode` (CONNECTION_CLOSE is sent once, without waiting for
   * the closing period), then the socket and the qlog files.
   */
  async close(errorCode = 0, reason = ''): Promise<void> {
    if (this.#closed) return;
    try {
      this.endpoint.shutdown(errorCode, reason);
      this.#flushNow();
    } catch (err) {
      this.#logger.warn({ err }, 'error while closing connections');
    }
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#socket.close();
    await this.#qlog?.closeAll();
  }

  // --- packet seam (see PacketSeam) ---

  claimCid(cid: Uint8Array, handler: ClaimedCidHandler): void {
    this.endpoint.claimCid(cid, handler);
  }

  unclaimCid(cid: Uint8Array): void {
    this.endpoint.unclaimCid(cid);
  }

  isCidRouted(cid: Uint8Array): boolean {
    return this.endpoint.isCidRouted(cid);
  }

  sendRaw(data: Uint8Array, to: string): void {
    this.endpoint.sendRaw(data, to);
    // Never sent from here: inside a claim handler a flush would re-enter the endpoint's receive.
    this.flush();
  }

  #onMessage(data: Uint8Array, remote: string): void {
    if (this.#closed) return;
    try {
      this.endpoint.receive(data, remote, this.#clock());
    } catch (err) {
      this.#logger.error({ err, remote }, 'endpoint.receive threw');
    }
    this.#input();
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#timerAt = undefined;
    if (this.#closed) return;
    try {
      this.endpoint.handleTimeout(this.#clock());
    } catch (err) {
      this.#logger.error({ err }, 'endpoint.handleTimeout threw');
    }
    this.#input();
  }

  #input(): void {
    this.#inputPending = true;
    this.#scheduleTurnEnd();
  }

  /**
   * Ends a turn: after input, events and onWake with the connections it reached; then one flush,
   * queued as a microtask so that the work onWake queued as microtasks (the HTTP/3 drivers' kicks)
   * is in it.
   */
  #endTurn(): void {
    if (this.#closed) {
      this.#turnScheduled = false;
      return;
    }
    this.#wakeIfPending();
    queueMicrotask(this.#onTurnFlush);
  }

  /** After input: endpoint events, then onWake with the connections the input reached. */
  #wakeIfPending(): void {
    if (!this.#inputPending) return;
    this.#inputPending = false;
    this.#dispatchEvents();
    if (this.#onWake === undefined) return;
    const active = this.endpoint.activeConnections(this.#woken);
    try {
      this.#onWake(active);
    } catch (err) {
      this.#logger.error({ err }, 'onWake threw');
    } finally {
      active.length = 0;
    }
  }

  #dispatchEvents(): void {
    for (let ev = this.endpoint.pollEvent(); ev !== undefined; ev = this.endpoint.pollEvent()) {
      if (ev.type === 'closed') this.#qlogSinks.get(ev.conn)?.close();
      const hook = ev.type === 'connection' ? this.#onConnection : this.#onClosed;
      try {
        hook?.(ev.conn);
      } catch (err) {
        this.#logger.error({ err }, `${ev.type} hook threw`);
      }
    }
  }

  #arm(): void {
    const at = this.endpoint.nextTimeout();
    const armed = this.#timer;
    // A timer armed at or before the deadline stays: the deadline mostly moves later (every ACK
    // pushes the PTO and idle timers on), and a timer that fires early finds nothing due and
    // re-arms. One setTimeout per deadline reached, instead of one per flush.
    if (armed !== undefined && at !== undefined && (this.#timerAt as number) <= at) {
      this.#refTimer(armed);
      return;
    }
    if (armed !== undefined) clearTimeout(armed);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === undefined) return;
    // Node timers have 1 ms granularity: round up so the deadline has passed when it fires.
    const delay = Math.max(0, Math.ceil(at - this.#clock()));
    const timer = setTimeout(this.#onTimerBound, delay);
    this.#timer = timer;
    this.#timerRefed = true;
    this.#refTimer(timer);
  }

  /** The timer keeps the process alive only while connections exist. */
  #refTimer(timer: NodeJS.Timeout): void {
    const wanted = this.endpoint.connectionCount > 0;
    if (wanted === this.#timerRefed) return;
    this.#timerRefed = wanted;
    if (wanted) timer.ref();
    else timer.unref();
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
