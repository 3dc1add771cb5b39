/**
 * The per-connection WebTransport state without sockets: a `SessionDriver` over the fake QUIC
 * pair, the peer scripted byte by byte. Narratives: a WebTransport stream on a connection that
 * has seen no WebTransport session is refused by the driver; streams for a session not known yet
 * are held up to MAX_PENDING_STREAMS and refused beyond with WT_BUFFERED_STREAM_REJECTED; streams
 * for a session that is over are refused with WT_SESSION_GONE.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/http3/frames.js';
import { encodeUniStreamHeader } from '../../src/http3/stream-types.js';
import type { QuicAppEvent } from '../../src/quic/api.js';
import { SessionDriver } from '../../src/runtime/h3/driver.js';
import { SeededRandom } from '../../src/util/random.js';
import {
  MAX_PENDING_STREAMS,
  WtConnection,
  WtErrorCode,
  type WtSessionHandle,
  type WtStreamSink,
  webTransportSessionOptions,
} from '../../src/webtransport/index.js';
import { concatBytes, fromHex } from '../../src/wire/hex.js';
import { Driven } from '../support/driven.js';
import { FakeQuicPair } from '../support/fake-quic.js';

function setup() {
  const pair = new FakeQuicPair({ seed: 3, chunking: 'byte' });
  const conn = new Driven(pair.server);
  const driver = new SessionDriver(
    conn,
    { role: 'server', random: new SeededRandom(4), options: webTransportSessionOptions() },
    { flush: () => {}, logger: pino({ level: 'silent' }) },
  );
  const session = driver.session;
  pair.attach('server', (ev) => {
    conn.queue.push(ev);
    driver.pump();
    return [];
  });
  const peer: QuicAppEvent[] = pair.events.client as QuicAppEvent[];
  pair.attach('client', (ev) => [ev]);
  session.start();
  const raw = pair.client;
  // The scripted client's control stream with empty SETTINGS.
  const control = raw.openStream(false)!;
  raw.writeStream(
    control,
    concatBytes(encodeUniStreamHeader(0), encodeFrame({ kind: 'SETTINGS', settings: {} })),
  );
  pair.pump();
  /** Opens a WebTransport bidirectional stream for `sessionId` carrying `body`. */
  const wtStream = (sessionId: number, body: string): number => {
    const id = raw.openStream(true)!;
    raw.writeStream(id, concatBytes(fromHex('4041'), Uint8Array.of(sessionId), fromHex(body)));
    return id;
  };
  /** What the peer was told about `id`: the codes of its STOP_SENDING and RESET_STREAM. */
  const refusal = (id: number) => ({
    stop: peer.find((e) => e.type === 'stop-sending' && e.streamId === id),
    reset: peer.find((e) => e.type === 'stream-reset' && e.streamId === id),
  });
  return { pair, driver, wtStream, refusal };
}

/** A session handle that records the streams it adopts. */
function handle(sessionId: number): WtSessionHandle & { adopted: WtStreamSink[] } {
  const adopted: WtStreamSink[] = [];
  return { sessionId, limits: {}, adopted, adopt: (sink) => adopted.push(sink) };
}

describe('WebTransport streams on one connection', () => {
  it('are refused with H3_STREAM_CREATION_ERROR before any WebTransport session', () => {
    const t = setup();
    const id = t.wtStream(0, 'aa');
    t.pair.pump();
    expect(t.refusal(id)).toEqual({
      stop: { type: 'stop-sending', streamId: id, errorCode: 0x103 },
      reset: { type: 'stream-reset', streamId: id, errorCode: 0x103, finalSize: 0 },
    });
  });

  it('go to their session; unknown sessions are held, then adopted on registration', async () => {
    const t = setup();
    const wt = WtConnection.of(t.driver);
    expect(WtConnection.of(t.driver)).toBe(wt);
    const s0 = handle(0);
    wt.register(s0);
    const a = t.wtStream(0, '01');
    const b = t.wtStream(8, '02'); // session 8 is not known yet
    t.pair.pump();
    expect(s0.adopted.map((s) => s.streamId)).toEqual([a]);
    const s8 = handle(8);
    wt.register(s8);
    expect(s8.adopted.map((s) => s.streamId)).toEqual([b]);
    // The held stream kept its bytes.
    const it = s8.adopted[0].recv![Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(fromHex('02'));
    expect(t.refusal(b)).toEqual({ stop: undefined, reset: undefined });
  });

  it(`hold at most ${MAX_PENDING_STREAMS} streams, refusing more with WT_BUFFERED_STREAM_REJECTED`, () => {
    const t = setup();
    WtConnection.of(t.driver).register(handle(0));
    const ids: number[] = [];
    for (let i = 0; i <= MAX_PENDING_STREAMS; i++) ids.push(t.wtStream(40, 'ff'));
    t.pair.pump();
    const refused = ids.filter((id) => t.refusal(id).stop !== undefined);
    expect(refused).toHaveLength(1);
    expect(t.refusal(refused[0]).stop).toMatchObject({
      errorCode: WtErrorCode.WT_BUFFERED_STREAM_REJECTED,
    });
  });

  it('for a session that is over are refused with WT_SESSION_GONE', () => {
    const t = setup();
    const wt = WtConnection.of(t.driver);
    const s0 = handle(0);
    wt.register(s0);
    wt.unregister(s0);
    const id = t.wtStream(0, 'aa');
    t.pair.pump();
    expect(t.refusal(id)).toMatchObject({
      stop: { errorCode: WtErrorCode.WT_SESSION_GONE },
      reset: { errorCode: WtErrorCode.WT_SESSION_GONE },
    });
    expect(s0.adopted).toHaveLength(0);
  });
});
