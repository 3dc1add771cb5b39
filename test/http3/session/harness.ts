/** Builds a client and a server `H3Session` joined by the fake QUIC transport. */
import { createHash } from 'node:crypto';
import { encodeFrame } from '../../../src/http3/frames.js';
import { H3Session } from '../../../src/http3/session/session.js';
import type { H3Event, H3SessionOptions } from '../../../src/http3/session/types.js';
import type { H3Settings } from '../../../src/http3/settings.js';
import { encodeUniStreamHeader } from '../../../src/http3/stream-types.js';
import { QpackEncoder } from '../../../src/qpack/encoder.js';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import { SeededRandom } from '../../../src/util/random.js';
import { concatBytes } from '../../../src/wire/hex.js';
import {
  type FakeQuicEndpoint,
  type FakeQuicOptions,
  FakeQuicPair,
} from '../../support/fake-quic.js';

export interface Connected {
  pair: FakeQuicPair;
  client: H3Session;
  server: H3Session;
  /** Everything each session returned so far. */
  clientEvents: H3Event[];
  serverEvents: H3Event[];
  /** Pumps until quiet; returns the events produced meanwhile (per side). */
  pump(): { client: H3Event[]; server: H3Event[] };
}

export interface ConnectOptions {
  seed?: number;
  quic?: FakeQuicOptions;
  client?: H3SessionOptions;
  server?: H3SessionOptions;
  /** Skip `start()` + the first pump (to script the opening by hand). */
  noStart?: boolean;
}

export function connect(o: ConnectOptions = {}): Connected {
  const seed = o.seed ?? 7;
  const pair = new FakeQuicPair({ seed, ...o.quic });
  const client = new H3Session(pair.client, 'client', new SeededRandom(seed + 1), o.client);
  const server = new H3Session(pair.server, 'server', new SeededRandom(seed + 2), o.server);
  pair.attach('client', (ev) => client.handleEvent(ev));
  pair.attach('server', (ev) => server.handleEvent(ev));
  const clientEvents = pair.events.client as H3Event[];
  const serverEvents = pair.events.server as H3Event[];
  const c: Connected = {
    pair,
    client,
    server,
    clientEvents,
    serverEvents,
    pump() {
      const a = clientEvents.length;
      const b = serverEvents.length;
      pair.pump();
      return { client: clientEvents.slice(a), server: serverEvents.slice(b) };
    },
  };
  if (!o.noStart) {
    client.start();
    server.start();
    c.pump();
  }
  return c;
}

/** Events of one type, narrowed. */
export function ofType<T extends H3Event['type']>(
  events: readonly H3Event[],
  type: T,
): Array<Extract<H3Event, { type: T }>> {
  return events.filter((e): e is Extract<H3Event, { type: T }> => e.type === type);
}

/** Events of one stream. */
export function onStream(events: readonly H3Event[], streamId: number): H3Event[] {
  return events.filter((e) => 'streamId' in e && e.streamId === streamId);
}

export function sha256(parts: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Deterministic bytes of length `n` for `seed`. */
export function body(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  new SeededRandom(seed).fill(out);
  return out;
}

/** A GET request's header section. */
export function get(path: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  return [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'example.com'],
    [':path', path],
    ...extra,
  ];
}

// ---------------------------------------------------------------------------------------------
// A session facing a scripted peer (raw bytes), for error paths a real session never produces.

export interface RawPeer {
  pair: FakeQuicPair;
  /** The session under test. */
  session: H3Session;
  /** What the session returned so far. */
  events: H3Event[];
  /** The scripted side's transport. */
  raw: FakeQuicEndpoint;
  /** QUIC events the scripted side received. */
  rawEvents: QuicAppEvent[];
  pump(): H3Event[];
  /** Opens a unidirectional stream on the scripted side and writes `bytes` to it. */
  uni(bytes: Uint8Array, fin?: boolean): number;
  /** The scripted side's control stream with SETTINGS, as a well-behaved peer opens it. */
  control(settings?: H3Settings): number;
  /** How the session's side closed the connection, if it did. */
  closeCode(): number | undefined;
}

export function rawPeer(
  role: 'client' | 'server',
  o: {
    seed?: number;
    quic?: FakeQuicOptions;
    session?: H3SessionOptions;
    /** The `now` given with each event (none by default). */
    now?: () => number;
  } = {},
): RawPeer {
  const seed = o.seed ?? 11;
  const pair = new FakeQuicPair({ seed, ...o.quic });
  const mine = role === 'client' ? pair.client : pair.server;
  const raw = role === 'client' ? pair.server : pair.client;
  const session = new H3Session(mine, role, new SeededRandom(seed + 1), o.session);
  const rawSide = role === 'client' ? 'server' : 'client';
  pair.attach(role, (ev) => session.handleEvent(ev, o.now?.()));
  pair.attach(rawSide, (ev) => [ev]);
  const events = pair.events[role] as H3Event[];
  const rawEvents = pair.events[rawSide] as QuicAppEvent[];
  session.start();
  const peer: RawPeer = {
    pair,
    session,
    events,
    raw,
    rawEvents,
    pump() {
      const a = events.length;
      pair.pump();
      return events.slice(a);
    },
    uni(bytes, fin = false) {
      const id = raw.openStream(false)!;
      raw.writeStream(id, bytes, fin);
      return id;
    },
    control(settings = {}) {
      return peer.uni(
        concatBytes(encodeUniStreamHeader(0), encodeFrame({ kind: 'SETTINGS', settings })),
      );
    },
    closeCode() {
      const info = mine.closeInfo;
      return info !== undefined && !info.byPeer ? info.errorCode : undefined;
    },
  };
  pair.pump();
  return peer;
}

const staticEncoder = new QpackEncoder({ maxTableCapacity: 0, maxBlockedStreams: 0 });

/** A HEADERS frame with a static-table-only field section (no QPACK state needed). */
export function headersFrame(fields: Array<[string, string]>): Uint8Array {
  return encodeFrame({ kind: 'HEADERS', fieldSection: staticEncoder.encode(0, fields) });
}

/** A DATA frame. */
export function dataFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame({ kind: 'DATA', payload });
}

/** A GET request section for scripted peers. */
export const GET_HEADERS: Array<[string, string]> = get('/');
