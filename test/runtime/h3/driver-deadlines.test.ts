/**
 * The driver keeps the session's time: events carry the clock's `now`, and its one timer follows
 * `session.nextTimeout`, so a request whose header section stalls is reset when its deadline
 * passes with nothing else happening on the connection (virtual time, no sockets).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { encodeFrame } from '../../../src/http3/frames.js';
import { encodeUniStreamHeader } from '../../../src/http3/stream-types.js';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import { SessionDriver } from '../../../src/runtime/h3/driver.js';
import { ManualClock } from '../../../src/util/clock.js';
import { SeededRandom } from '../../../src/util/random.js';
import { concatBytes } from '../../../src/wire/index.js';
import { Driven } from '../../support/driven.js';
import { FakeQuicPair } from '../../support/fake-quic.js';

function setup(headerTimeout?: number) {
  const clock = new ManualClock(5_000);
  const pair = new FakeQuicPair({ seed: 5 });
  const conn = new Driven(pair.server);
  let flushes = 0;
  const driver = new SessionDriver(
    conn,
    { role: 'server', random: new SeededRandom(6), options: { headerTimeout } },
    { flush: () => flushes++, logger: pino({ level: 'silent' }), clock },
  );
  pair.attach('server', (ev) => {
    conn.queue.push(ev);
    driver.pump();
    return [];
  });
  const peer = pair.events.client as QuicAppEvent[];
  pair.attach('client', (ev) => [ev]);
  driver.session.start();
  const raw = pair.client;
  raw.writeStream(
    raw.openStream(false)!,
    concatBytes(encodeUniStreamHeader(0), encodeFrame({ kind: 'SETTINGS', settings: {} })),
  );
  pair.pump();
  const reset = (id: number) =>
    peer.find((e) => e.type === 'stream-reset' && e.streamId === id) as
      | { errorCode: number }
      | undefined;
  return { clock, pair, raw, driver, reset, flushes: () => flushes };
}

describe('SessionDriver deadlines', () => {
  it('resets a request stream whose header section stalls, when its deadline passes', () => {
    const t = setup();
    const id = t.raw.openStream(true)!;
    t.raw.writeStream(id, Uint8Array.of(0x01, 0x40, 0x64, 0x00)); // HEADERS of 100, 1 byte sent
    t.pair.pump();
    expect(t.clock.pending).toBe(1);
    t.clock.advance(9_999);
    t.pair.pump();
    expect(t.reset(id)).toBeUndefined();
    const before = t.flushes();
    t.clock.advance(1);
    t.pair.pump();
    expect(t.reset(id)?.errorCode).toBe(H3ErrorCode.H3_REQUEST_INCOMPLETE);
    expect(t.flushes()).toBeGreaterThan(before);
    expect(t.driver.session.stats.headerTimeouts).toBe(1);
    expect(t.clock.pending).toBe(0);
  });

  it('keeps no timer when the header timeout is off', () => {
    const t = setup(0);
    const id = t.raw.openStream(true)!;
    t.raw.writeStream(id, Uint8Array.of(0x01, 0x40, 0x64, 0x00));
    t.pair.pump();
    expect(t.clock.pending).toBe(0);
  });
});
