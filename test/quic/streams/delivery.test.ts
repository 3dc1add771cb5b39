/**
 * A sending and a receiving stream joined by a tiny lossy, reordering, duplicating "network"
 * (no sockets): every byte arrives exactly once and in order, and neither stream nor connection
 * credit is ever exceeded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConnectionRecvFlow,
  ConnectionSendFlow,
  RecvStream,
  SendStream,
  SendStreamState,
  type StreamChunk,
} from '../../../src/quic/streams/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual } from '../../../src/wire/index.js';
import { bytes, concat } from './helpers.js';

interface Outcome {
  delivered: Uint8Array;
  done: boolean;
  maxSentBeyondLimit: number;
  connOverdraw: number;
}

function run(seed: number, length: number, window: number, connWindow: number, loss: number) {
  const rng = new SeededRandom(seed);
  const rand = (n: number) => rng.nextU32() % n;
  const data = bytes(length, seed);
  const sender = new SendStream(0, window);
  const receiver = new RecvStream(0, window);
  const connSend = new ConnectionSendFlow(connWindow);
  const connRecv = new ConnectionRecvFlow(connWindow);
  const inflight: StreamChunk[] = [];
  const acks: StreamChunk[] = [];
  const out: Uint8Array[] = [];
  let written = 0;
  let maxSentBeyondLimit = 0;
  let connOverdraw = 0;

  const write = () => {
    if (written < length) {
      written += sender.write(data.subarray(written, written + 1 + rand(400)));
    }
    if (written === length) sender.end();
  };
  const send = () => {
    const before = sender.sentEnd;
    const chunk = sender.nextChunk(1 + rand(300), connSend.available);
    connSend.consume(sender.sentEnd - before);
    if (!chunk) return;
    // The receiver's advertised limit is the truth the sender must respect.
    maxSentBeyondLimit = Math.max(
      maxSentBeyondLimit,
      chunk.offset + chunk.data.length - receiver.limit,
    );
    connOverdraw = Math.max(connOverdraw, connSend.used - connRecv.limit);
    inflight.push(chunk);
  };
  const deliver = (lossy: boolean) => {
    if (inflight.length === 0) return;
    const [chunk] = inflight.splice(rand(inflight.length), 1);
    if (lossy && rand(1000) < loss * 1000) {
      sender.onLost(chunk.offset, chunk.data.length, chunk.fin);
      return;
    }
    connRecv.onReceived(receiver.onData(chunk.offset, chunk.data, chunk.fin));
    if (lossy && rand(8) === 0) inflight.push(chunk); // duplicated by the network
    if (lossy && rand(10) === 0) sender.onLost(chunk.offset, chunk.data.length, chunk.fin); // spurious
    acks.push(chunk);
  };
  const ack = () => {
    if (acks.length === 0) return;
    const [chunk] = acks.splice(rand(acks.length), 1);
    sender.onAcked(chunk.offset, chunk.data.length, chunk.fin);
  };
  const read = () => {
    const c = receiver.read(1 + rand(500));
    if (c) {
      out.push(c);
      connRecv.onConsumed(c.length);
    }
    const msd = receiver.pollMaxStreamData();
    if (msd >= 0) sender.onMaxStreamData(msd);
    const md = connRecv.pollMaxData();
    if (md >= 0) connSend.onMaxData(md);
  };
  const done = () => receiver.finished && sender.state === SendStreamState.DataRecvd;

  // Chaos phase, then a loss-free drain phase.
  for (let step = 0; step < 3000 && !done(); step++) {
    const r = rand(10);
    if (r < 2) write();
    else if (r < 5) send();
    else if (r < 7) deliver(true);
    else if (r < 9) ack();
    else read();
  }
  for (let step = 0; step < 20000 && !done(); step++) {
    write();
    send();
    while (inflight.length > 0) deliver(false);
    while (acks.length > 0) ack();
    read();
  }
  return {
    delivered: concat(out),
    done: done(),
    maxSentBeyondLimit,
    connOverdraw,
    data,
  } satisfies Outcome & { data: Uint8Array };
}

describe('SendStream -> RecvStream over a lossy loop', () => {
  it('delivers every byte exactly once, in order, within stream and connection credit', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 0, max: 4000 }),
        fc.integer({ min: 1, max: 1500 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (seed, length, window, connWindow, loss) => {
          const r = run(seed, length, window, connWindow, loss);
          return (
            r.done &&
            bytesEqual(r.delivered, r.data) &&
            r.maxSentBeyondLimit <= 0 &&
            r.connOverdraw <= 0
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a heavy-loss run still completes (seeded, reproducible)', () => {
    const r = run(42, 20_000, 700, 1000, 0.5);
    expect(r.done).toBe(true);
    expect(bytesEqual(r.delivered, r.data)).toBe(true);
  });
});
