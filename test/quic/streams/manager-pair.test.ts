/**
 * A client and a server StreamManager joined by a lossy, reordering in-memory link that plays the
 * connection's part (routing frames, reporting acknowledgements and losses). The client opens more
 * streams than the server initially allows, some are reset by the client or stopped by the server,
 * the server echoes bidirectional streams; in the end every message arrived intact and every
 * stream was retired on both sides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isBidi,
  type StreamChunk,
  type StreamControlFrame,
  StreamManager,
} from '../../../src/quic/streams/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual } from '../../../src/wire/index.js';
import { bytes, concat, limits } from './helpers.js';

type Frame = StreamChunk | StreamControlFrame;
interface Packet {
  from: StreamManager;
  to: StreamManager;
  frames: Frame[];
}

function route(to: StreamManager, f: Frame, seen: Map<string, number>): void {
  seen.set(f.kind, (seen.get(f.kind) ?? 0) + 1);
  switch (f.kind) {
    case 'STREAM':
      to.onStreamFrame(f.streamId, f.offset, f.data, f.fin);
      break;
    case 'MAX_DATA':
      to.onMaxData(f.maximum);
      break;
    case 'DATA_BLOCKED':
      to.onDataBlocked(f.maximum);
      break;
    case 'MAX_STREAMS':
      to.onMaxStreams(f.bidi, f.maximum);
      break;
    case 'STREAMS_BLOCKED':
      to.onStreamsBlocked(f.bidi, f.maximum);
      break;
    case 'MAX_STREAM_DATA':
      to.onMaxStreamData(f.streamId, f.maximum);
      break;
    case 'STREAM_DATA_BLOCKED':
      to.onStreamDataBlocked(f.streamId, f.maximum);
      break;
    case 'RESET_STREAM':
      to.onResetStream(f.streamId, f.errorCode, f.finalSize);
      break;
    case 'STOP_SENDING':
      to.onStopSending(f.streamId, f.errorCode);
      break;
  }
}

function settle(p: Packet, acked: boolean): void {
  for (const f of p.frames) {
    if (f.kind === 'STREAM') {
      if (acked) p.from.onStreamFrameAcked(f.streamId, f.offset, f.data.length, f.fin);
      else p.from.onStreamFrameLost(f.streamId, f.offset, f.data.length, f.fin);
    } else if (acked) p.from.onControlFrameAcked(f);
    else p.from.onControlFrameLost(f);
  }
}

type Plan = 'normal' | 'reset' | 'stopped';

interface ClientStream {
  id: number;
  message: Uint8Array;
  written: number;
  plan: Plan;
  echo: Uint8Array[];
  echoDone: boolean;
}

interface ServerStream {
  id: number;
  received: Uint8Array[];
  reset: boolean;
  stopped: boolean;
  echo: Uint8Array | null;
  echoWritten: number;
}

function scenario(seed: number, streamCount: number, loss: number) {
  const rng = new SeededRandom(seed);
  const rand = (n: number) => rng.nextU32() % n;
  const client = new StreamManager({
    role: 'client',
    local: limits(4000, { initialMaxData: 6000 }),
    peer: limits(3000, { initialMaxData: 5000, initialMaxStreamsBidi: 3, initialMaxStreamsUni: 2 }),
  });
  const server = new StreamManager({
    role: 'server',
    local: limits(3000, {
      initialMaxData: 5000,
      initialMaxStreamsBidi: 3,
      initialMaxStreamsUni: 2,
    }),
    peer: limits(4000, { initialMaxData: 6000 }),
  });
  const plans: Array<{ bidi: boolean; message: Uint8Array; plan: Plan }> = [];
  for (let i = 0; i < streamCount; i++) {
    const r = rand(10);
    plans.push({
      bidi: rand(3) > 0,
      message: bytes(rand(5000), seed + i),
      plan: r === 0 ? 'reset' : r === 1 ? 'stopped' : 'normal',
    });
  }
  const cStreams = new Map<number, ClientStream>();
  const sStreams = new Map<number, ServerStream>();
  const opened: ClientStream[] = [];
  const inflight: Packet[] = [];
  const seen = new Map<string, number>();
  let nextPlan = 0;

  const clientApp = () => {
    while (nextPlan < plans.length) {
      const p = plans[nextPlan];
      const id = client.openStream(p.bidi);
      if (id === null) break;
      nextPlan++;
      const cs: ClientStream = { id, ...p, written: 0, echo: [], echoDone: !p.bidi };
      cStreams.set(id, cs);
      opened.push(cs);
    }
    for (const cs of cStreams.values()) {
      const send = client.sendStream(cs.id);
      if (send && cs.plan === 'reset') {
        // Abandon after a first write (or at once for an empty message).
        if (cs.written === 0 && cs.message.length > 0) {
          cs.written += send.write(cs.message.subarray(0, cs.message.length >> 1 || 1));
        } else send.reset(0x99);
      } else if (send) {
        if (cs.written < cs.message.length) {
          cs.written += send.write(cs.message.subarray(cs.written));
        }
        if (cs.written === cs.message.length) send.end();
      }
      const recv = client.recvStream(cs.id);
      if (recv) {
        for (let c = recv.read(); c; c = recv.read()) cs.echo.push(c);
        if (recv.finished || recv.resetCode >= 0) cs.echoDone = true;
      }
    }
    for (let e = client.pollEvent(); e; e = client.pollEvent()) {
      if (e.type === 'closed') cStreams.delete(e.streamId);
    }
  };

  const serverApp = () => {
    for (let e = server.pollEvent(); e; e = server.pollEvent()) {
      if (e.type === 'opened') {
        sStreams.set(e.streamId, {
          id: e.streamId,
          received: [],
          reset: false,
          stopped: false,
          echo: null,
          echoWritten: 0,
        });
      } else if (e.type === 'reset') {
        const ss = sStreams.get(e.streamId);
        if (ss) ss.reset = true;
      }
    }
    for (const ss of sStreams.values()) {
      const recv = server.recvStream(ss.id);
      if (recv && !ss.stopped && ss.echo === null) {
        const plan = plans[planIndex(ss.id)].plan;
        if (plan === 'stopped' && recv.readable > 0) {
          recv.stopSending(0x77);
          ss.stopped = true;
        } else {
          for (let c = recv.read(); c; c = recv.read()) ss.received.push(c);
          recv.read(); // observe a reset
          if (recv.finished || recv.resetCode >= 0) ss.echo = concat(ss.received);
        }
      }
      if (ss.stopped && ss.echo === null) ss.echo = new Uint8Array(0);
      const send = server.sendStream(ss.id);
      if (send && ss.echo !== null) {
        if (ss.echoWritten < ss.echo.length) {
          ss.echoWritten += send.write(ss.echo.subarray(ss.echoWritten));
        }
        if (ss.echoWritten === ss.echo.length) send.end();
      }
    }
  };

  // Client stream IDs are assigned in plan order per direction: map them back.
  const bidiPlans: number[] = [];
  const uniPlans: number[] = [];
  plans.forEach((p, i) => {
    (p.bidi ? bidiPlans : uniPlans).push(i);
  });
  function planIndex(id: number): number {
    return (isBidi(id) ? bidiPlans : uniPlans)[Math.floor(id / 4)];
  }

  const transmit = (from: StreamManager, to: StreamManager, now: number) => {
    for (let n = 0; n < 4; n++) {
      const frames: Frame[] = [];
      for (let f = from.pollControlFrame(now, 10); f; f = from.pollControlFrame(now, 10)) {
        frames.push(f);
      }
      for (let k = 0; k < 3; k++) {
        const f = from.nextStreamFrame(50 + rand(1200));
        if (f) frames.push(f);
      }
      if (frames.length === 0) return;
      inflight.push({ from, to, frames });
    }
  };

  const network = (lossy: boolean) => {
    while (inflight.length > 0) {
      const [p] = inflight.splice(rand(inflight.length), 1);
      if (lossy && rand(1000) < loss * 1000) {
        seen.set('lost packets', (seen.get('lost packets') ?? 0) + 1);
        settle(p, false);
        continue;
      }
      for (const f of p.frames) route(p.to, f, seen);
      if (lossy && rand(12) === 0) settle(p, false); // declared lost, yet delivered
      settle(p, true);
    }
  };

  const finished = () =>
    nextPlan === plans.length && client.size === 0 && server.size === 0 && inflight.length === 0;

  let now = 0;
  for (let tick = 0; tick < 4000 && !finished(); tick++) {
    now += 5;
    clientApp();
    serverApp();
    transmit(client, server, now);
    transmit(server, client, now);
    network(tick < 300);
  }
  return { finished: finished(), plans, opened, sStreams, client, server, seen };
}

describe('StreamManager pair over a lossy link', () => {
  it('delivers and echoes every message, honours resets and STOP_SENDING, retires every stream', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 14 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        (seed, count, loss) => {
          const r = scenario(seed, count, loss);
          expect(r.finished).toBe(true);
          for (const cs of r.opened) {
            const ss = r.sStreams.get(cs.id);
            expect(ss).toBeDefined();
            if (!ss) continue;
            if (cs.plan === 'normal') {
              expect(bytesEqual(concat(ss.received), cs.message)).toBe(true);
              if (isBidi(cs.id)) expect(bytesEqual(concat(cs.echo), cs.message)).toBe(true);
            } else if (cs.plan === 'reset') {
              expect(ss.reset).toBe(true);
            }
          }
          // Every stream was opened, beyond the initial limits (3 bidi, 2 uni): MAX_STREAMS worked.
          expect(r.opened.length).toBe(count);
          const bidiCount = r.plans.filter((p) => p.bidi).length;
          expect(r.server.localMaxStreams(true)).toBeGreaterThanOrEqual(Math.max(3, bidiCount));
          expect(r.server.localMaxStreams(false)).toBeGreaterThanOrEqual(count - bidiCount);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a seeded run exercises every frame the stream layer sends, and losses', () => {
    const r = scenario(7, 24, 0.2);
    expect(r.finished).toBe(true);
    for (const kind of [
      'STREAM',
      'MAX_DATA',
      'DATA_BLOCKED',
      'MAX_STREAMS',
      'STREAMS_BLOCKED',
      'MAX_STREAM_DATA',
      'STREAM_DATA_BLOCKED',
      'RESET_STREAM',
      'STOP_SENDING',
      'lost packets',
    ]) {
      expect(r.seen.get(kind) ?? 0, kind).toBeGreaterThan(0);
    }
  });
});
