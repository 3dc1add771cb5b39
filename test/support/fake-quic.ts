/**
 * An in-memory pair of `QuicTransport`s (client and server) for testing the layers above QUIC
 * without sockets. Stream data is delivered reliably and in order per stream, cut into chunks of
 * a configurable size (whole, 1 byte, or seeded random splits), with streams interleaved in a
 * seeded random order; datagrams may be lost (seeded); stream limits, send buffers,
 * STOP_SENDING / RESET_STREAM and CONNECTION_CLOSE behave like QUIC's.
 *
 * `pump()` moves queued data between the sides until nothing moves, feeding each side's events to
 * its handler (typically `session.handleEvent`) and collecting what the handlers return.
 */
import {
  DatagramTooLargeError,
  type QuicAppEvent,
  type QuicCloseInfo,
  type QuicTransport,
} from '../../src/quic/api.js';
import { randomFloat, randomInt, SeededRandom } from '../../src/util/random.js';

export type Chunking = 'whole' | 'byte' | 'random';

export interface FakeQuicOptions {
  /** Seed of every random choice (chunk sizes, stream order, datagram loss). Default 1. */
  seed?: number;
  /** How stream data is cut on delivery. Default 'random'. */
  chunking?: Chunking;
  /** Largest chunk for 'random' (sizes are uniform in 1..maxChunk). Default 1500. */
  maxChunk?: number;
  /** Probability that a datagram is lost. Default 0. */
  datagramLoss?: number;
  /** Largest datagram payload (0: the peer accepts none). Default 1200. */
  maxDatagramPayload?: number;
  /** Datagrams a side may queue before `sendDatagram` returns false. Default 4096. */
  datagramQueue?: number;
  /** Bidirectional streams each side may open initially. Default 1000. */
  maxBidiStreams?: number;
  /** Unidirectional streams each side may open. Default 100. */
  maxUniStreams?: number;
  /** Bytes a stream's send buffer holds before `writeStream` accepts less. Default 16 MiB. */
  sendBuffer?: number;
  /** Return closed bidirectional stream credit to the initiator (MAX_STREAMS). Default true. */
  autoStreamCredit?: boolean;
}

type Handler = (ev: QuicAppEvent) => unknown[];

interface SendStream {
  chunks: Uint8Array[];
  bytes: number;
  sent: number;
  fin: boolean;
  finDelivered: boolean;
  reset: boolean;
  /** A write was refused (short): report stream-writable when room appears. */
  wantWritable: boolean;
}

interface Resolved {
  chunking: Chunking;
  maxChunk: number;
  datagramLoss: number;
  maxDatagramPayload: number;
  datagramQueue: number;
  maxBidiStreams: number;
  maxUniStreams: number;
  sendBuffer: number;
  autoStreamCredit: boolean;
}

/** One side of the fake connection. */
export class FakeQuicEndpoint implements QuicTransport {
  readonly role: 'client' | 'server';
  peer!: FakeQuicEndpoint;
  /** Events waiting to be handed to this side's handler. */
  readonly inbox: QuicAppEvent[] = [];
  /** How this side's connection ended, once it did. */
  closeInfo: QuicCloseInfo | undefined;
  /** Datagrams this side sent (including lost ones). */
  datagramsSent = 0;
  readonly #opts: Resolved;
  readonly #rng: SeededRandom;
  readonly sends = new Map<number, SendStream>();
  /** Streams whose receive side this endpoint stopped (data discarded). */
  readonly stoppedRecv = new Set<number>();
  /** Streams whose outgoing data is held back by the test. */
  readonly held = new Set<number>();
  readonly datagrams: Uint8Array[] = [];
  /** Control frames (resets, stop-sending) to deliver, in order. */
  readonly control: QuicAppEvent[] = [];
  #nextBidi: number;
  #nextUni: number;
  #bidiLimit: number;
  #uniLimit: number;
  #bidiOpened = 0;
  #uniOpened = 0;
  /** Peer-initiated bidirectional streams seen (for write permission). */
  readonly peerBidi = new Set<number>();

  constructor(role: 'client' | 'server', opts: Resolved, rng: SeededRandom) {
    this.role = role;
    this.#opts = opts;
    this.#rng = rng;
    const bit = role === 'client' ? 0 : 1;
    this.#nextBidi = bit;
    this.#nextUni = 2 | bit;
    this.#bidiLimit = opts.maxBidiStreams;
    this.#uniLimit = opts.maxUniStreams;
  }

  get closed(): boolean {
    return this.closeInfo !== undefined;
  }

  get maxDatagramPayload(): number {
    return this.closed ? 0 : this.#opts.maxDatagramPayload;
  }

  openStream(bidirectional: boolean): number | undefined {
    if (this.closed) return undefined;
    if (bidirectional) {
      if (this.#bidiOpened >= this.#bidiLimit) return undefined;
      this.#bidiOpened++;
      const id = this.#nextBidi;
      this.#nextBidi += 4;
      return id;
    }
    if (this.#uniOpened >= this.#uniLimit) return undefined;
    this.#uniOpened++;
    const id = this.#nextUni;
    this.#nextUni += 4;
    return id;
  }

  /** Raises the number of streams this side may open (as MAX_STREAMS would). */
  grantStreams(bidirectional: boolean, more: number): void {
    if (bidirectional) this.#bidiLimit += more;
    else this.#uniLimit += more;
    this.inbox.push({ type: 'streams-available', bidirectional });
  }

  #canWrite(streamId: number): boolean {
    const local = (streamId & 1) === (this.role === 'client' ? 0 : 1);
    if ((streamId & 2) !== 0) return local;
    return local || this.peerBidi.has(streamId);
  }

  #send(streamId: number): SendStream {
    let s = this.sends.get(streamId);
    if (s === undefined) {
      s = {
        chunks: [],
        bytes: 0,
        sent: 0,
        fin: false,
        finDelivered: false,
        reset: false,
        wantWritable: false,
      };
      this.sends.set(streamId, s);
    }
    return s;
  }

  writeStream(streamId: number, data: Uint8Array, fin = false): number {
    if (this.closed) throw new Error('connection closed');
    if (!this.#canWrite(streamId)) throw new Error(`stream ${streamId} is not writable here`);
    const s = this.#send(streamId);
    if (s.reset || s.fin) throw new Error(`stream ${streamId} is finished`);
    const room = Math.max(0, this.#opts.sendBuffer - s.bytes);
    const n = Math.min(room, data.length);
    if (n > 0) {
      s.chunks.push(data.slice(0, n));
      s.bytes += n;
    }
    if (n < data.length) {
      s.wantWritable = true;
      return n;
    }
    if (fin) s.fin = true;
    return n;
  }

  writableBytes(streamId: number): number {
    if (this.closed || !this.#canWrite(streamId)) return 0;
    const s = this.sends.get(streamId);
    if (s?.reset || s?.fin) return 0;
    return Math.max(0, this.#opts.sendBuffer - (s?.bytes ?? 0));
  }

  resetStream(streamId: number, errorCode: number): void {
    if (this.closed) return;
    const s = this.#send(streamId);
    if (s.reset || s.finDelivered) return;
    s.reset = true;
    s.chunks = [];
    s.bytes = 0;
    this.control.push({ type: 'stream-reset', streamId, errorCode, finalSize: s.sent });
  }

  stopSending(streamId: number, errorCode: number): void {
    if (this.closed || this.stoppedRecv.has(streamId)) return;
    this.stoppedRecv.add(streamId);
    this.control.push({ type: 'stop-sending', streamId, errorCode });
  }

  sendDatagram(data: Uint8Array): boolean {
    if (this.closed) return false;
    const max = this.#opts.maxDatagramPayload;
    if (data.length > max) throw new DatagramTooLargeError(data.length, max);
    if (this.datagrams.length >= this.#opts.datagramQueue) return false;
    this.datagramsSent++;
    if (this.#opts.datagramLoss > 0 && randomFloat(this.#rng) < this.#opts.datagramLoss) {
      return true; // lost on the way
    }
    this.datagrams.push(data.slice());
    return true;
  }

  close(errorCode: number, reason = ''): void {
    if (this.closed) return;
    const info: QuicCloseInfo = { errorCode, reason, app: true, byPeer: false, cause: 'close' };
    this.closeInfo = info;
    this.#drop();
    this.inbox.push({ type: 'connection-closed', info });
    if (!this.peer.closed) {
      const peerInfo: QuicCloseInfo = { ...info, byPeer: true };
      this.peer.closeInfo = peerInfo;
      this.peer.#drop();
      this.peer.inbox.push({ type: 'connection-closed', info: peerInfo });
    }
  }

  #drop(): void {
    this.sends.clear();
    this.datagrams.length = 0;
    this.control.length = 0;
  }

  /** Takes the next chunk size for a delivery. */
  chunkSize(available: number): number {
    switch (this.#opts.chunking) {
      case 'whole':
        return available;
      case 'byte':
        return Math.min(1, available);
      default:
        return Math.min(available, 1 + randomInt(this.#rng, this.#opts.maxChunk));
    }
  }

  /** Takes up to `n` bytes off the front of a send stream. */
  take(s: SendStream, n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = s.chunks[0];
    let out: Uint8Array;
    if (first.length <= n) {
      out = first;
      s.chunks.shift();
    } else {
      out = first.slice(0, n);
      s.chunks[0] = first.subarray(n);
    }
    s.bytes -= out.length;
    s.sent += out.length;
    return out;
  }
}

/** Both sides and the wire between them. */
export class FakeQuicPair {
  readonly client: FakeQuicEndpoint;
  readonly server: FakeQuicEndpoint;
  readonly #rng: SeededRandom;
  readonly #opts: Resolved;
  #handlers: { client?: Handler; server?: Handler } = {};
  /** Everything the handlers returned, per side, in order. */
  readonly events: { client: unknown[]; server: unknown[] } = { client: [], server: [] };
  /** Bidirectional stream completion, for returning credit: stream ID -> directions done. */
  readonly #bidiDone = new Map<number, number>();

  constructor(options: FakeQuicOptions = {}) {
    this.#opts = {
      chunking: options.chunking ?? 'random',
      maxChunk: options.maxChunk ?? 1500,
      datagramLoss: options.datagramLoss ?? 0,
      maxDatagramPayload: options.maxDatagramPayload ?? 1200,
      datagramQueue: options.datagramQueue ?? 4096,
      maxBidiStreams: options.maxBidiStreams ?? 1000,
      maxUniStreams: options.maxUniStreams ?? 100,
      sendBuffer: options.sendBuffer ?? 16 << 20,
      autoStreamCredit: options.autoStreamCredit ?? true,
    };
    this.#rng = new SeededRandom(options.seed ?? 1);
    this.client = new FakeQuicEndpoint('client', this.#opts, this.#rng);
    this.server = new FakeQuicEndpoint('server', this.#opts, this.#rng);
    this.client.peer = this.server;
    this.server.peer = this.client;
  }

  /** Sets the function that consumes one side's events. */
  attach(side: 'client' | 'server', handler: Handler): void {
    this.#handlers[side] = handler;
  }

  /** Holds back one side's outgoing data on a stream (e.g. a QPACK encoder stream). */
  hold(side: 'client' | 'server', streamId: number): void {
    this[side].held.add(streamId);
  }

  release(side: 'client' | 'server', streamId: number): void {
    this[side].held.delete(streamId);
  }

  /** Changes how data is cut from now on. */
  setChunking(chunking: Chunking, maxChunk?: number): void {
    this.#opts.chunking = chunking;
    if (maxChunk !== undefined) this.#opts.maxChunk = maxChunk;
  }

  /** Moves data until nothing moves; returns the number of rounds. Throws if it never settles. */
  pump(maxRounds = 10_000_000): number {
    let rounds = 0;
    for (;;) {
      let progress = this.#deliverEvents('client');
      progress = this.#deliverEvents('server') || progress;
      progress = this.#transmit(this.client) || progress;
      progress = this.#transmit(this.server) || progress;
      if (!progress) return rounds;
      if (++rounds > maxRounds) throw new Error('pump did not settle');
    }
  }

  #deliverEvents(side: 'client' | 'server'): boolean {
    const ep = this[side];
    if (ep.inbox.length === 0) return false;
    const handler = this.#handlers[side];
    const batch = ep.inbox.splice(0, ep.inbox.length);
    for (const ev of batch) {
      const out = handler ? handler(ev) : [];
      for (const e of out) this.events[side].push(e);
    }
    return true;
  }

  /** One round of `from`'s outgoing traffic: a chunk per stream, then control frames, datagrams. */
  #transmit(from: FakeQuicEndpoint): boolean {
    const to = from.peer;
    if (from.closed) return false;
    let progress = false;
    const ids = [...from.sends.keys()];
    // Interleave streams in a random order each round.
    for (let i = ids.length - 1; i > 0; i--) {
      const j = randomInt(this.#rng, i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    for (const id of ids) {
      const s = from.sends.get(id)!;
      if (s.reset || s.finDelivered || from.held.has(id)) continue;
      if (s.bytes === 0 && !s.fin) continue;
      const data = from.take(s, from.chunkSize(s.bytes));
      const fin = s.fin && s.bytes === 0;
      if (fin) s.finDelivered = true;
      progress = true;
      if (s.wantWritable && s.bytes < this.#opts.sendBuffer) {
        s.wantWritable = false;
        from.inbox.push({ type: 'stream-writable', streamId: id });
      }
      if ((id & 2) === 0 && (id & 1) !== (to.role === 'client' ? 0 : 1)) to.peerBidi.add(id);
      if (fin) this.#directionDone(id);
      if (to.stoppedRecv.has(id)) continue;
      to.inbox.push({ type: 'stream-data', streamId: id, data, fin });
    }
    if (from.control.length > 0) {
      progress = true;
      for (const ev of from.control.splice(0, from.control.length)) {
        to.inbox.push(ev);
        if (ev.type === 'stream-reset') this.#directionDone(ev.streamId);
        if (ev.type === 'stop-sending') {
          // The sender's data in flight is discarded, as the receiver would.
          const s = to.sends.get(ev.streamId);
          if (s !== undefined && !s.reset) {
            s.chunks = [];
            s.bytes = 0;
          }
        }
      }
    }
    if (from.datagrams.length > 0) {
      progress = true;
      for (const d of from.datagrams.splice(0, from.datagrams.length)) {
        to.inbox.push({ type: 'datagram', data: d });
      }
    }
    return progress;
  }

  /** Counts a finished direction of a bidirectional stream; both done returns credit. */
  #directionDone(id: number): void {
    if ((id & 2) !== 0 || !this.#opts.autoStreamCredit) return;
    const n = (this.#bidiDone.get(id) ?? 0) + 1;
    if (n < 2) {
      this.#bidiDone.set(id, n);
      return;
    }
    this.#bidiDone.delete(id);
    const initiator = (id & 1) === 0 ? this.client : this.server;
    if (!initiator.closed) initiator.grantStreams(true, 1);
  }
}
