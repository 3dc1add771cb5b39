/**
 * Arbitrary frame sequences from a hostile peer: the stream layer either accepts them or throws a
 * TransportError (never a RangeError/TypeError, never a hang), and while it accepts them it never
 * holds more than it advertised.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/quic/errors.js';
import { StreamManager } from '../../../src/quic/streams/index.js';
import { limits } from './helpers.js';

/** A stream reference: mostly peer-initiated streams within or near our limits. */
const idArb = fc.record({
  peer: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, fc.constant(false)),
  bidi: fc.boolean(),
  index: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) }, fc.nat(9)),
});
type IdRef = { peer: boolean; bidi: boolean; index: number };
/** Mostly streams that may carry frames about our sending part (never-valid ones stay rare). */
const sendIdArb = fc.oneof(
  { weight: 6, arbitrary: idArb.map((r) => (r.peer ? { ...r, bidi: true } : r)) },
  idArb,
);
/** Mostly streams that may carry frames about our receiving part. */
const recvIdArb = fc.oneof(
  { weight: 6, arbitrary: idArb.map((r) => (r.peer ? r : { ...r, bidi: true })) },
  idArb,
);
const offArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 1600 }) },
  fc.integer({ min: 0, max: 3000 }),
  fc.constant(2 ** 53 - 2),
);
const opArb = fc.oneof(
  fc.record({
    k: fc.constant('stream' as const),
    id: recvIdArb,
    off: offArb,
    len: fc.integer({ min: 0, max: 700 }),
    fin: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
  }),
  fc.record({ k: fc.constant('reset' as const), id: recvIdArb, size: offArb }),
  fc.record({ k: fc.constant('stop' as const), id: sendIdArb }),
  fc.record({ k: fc.constant('msd' as const), id: sendIdArb, max: offArb }),
  fc.record({ k: fc.constant('sdb' as const), id: recvIdArb, max: offArb }),
  fc.record({ k: fc.constant('maxStreams' as const), bidi: fc.boolean(), max: offArb }),
  fc.record({ k: fc.constant('maxData' as const), max: offArb }),
  fc.record({ k: fc.constant('open' as const), bidi: fc.boolean() }),
  fc.record({ k: fc.constant('read' as const), id: recvIdArb }),
  fc.record({ k: fc.constant('appStop' as const), id: recvIdArb }),
  fc.record({
    k: fc.constant('write' as const),
    id: sendIdArb,
    len: fc.integer({ min: 0, max: 900 }),
  }),
  fc.record({ k: fc.constant('send' as const), space: fc.integer({ min: 0, max: 1500 }) }),
);

describe('StreamManager under arbitrary peer input', () => {
  it('either accepts a frame or throws TransportError; credit and buffers stay within limits', () => {
    let totalDepth = 0;
    let totalOps = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('client', 'server'),
        fc.array(opArb, { minLength: 5, maxLength: 60 }),
        (role, ops) => {
          const m = new StreamManager({
            role: role as 'client' | 'server',
            local: limits(2000, {
              initialMaxData: 30_000,
              initialMaxStreamsBidi: 4,
              initialMaxStreamsUni: 3,
            }),
            peer: limits(1000, { initialMaxStreamsBidi: 3, initialMaxStreamsUni: 3 }),
          });
          const payload = new Uint8Array(900);
          const peerRole = role === 'client' ? 1 : 0;
          const idOf = (r: IdRef) =>
            r.index * 4 + (r.peer ? peerRole : 1 - peerRole) + (r.bidi ? 0 : 2);
          let depth = 0;
          totalOps += ops.length;
          for (const op of ops) {
            try {
              switch (op.k) {
                case 'stream':
                  m.onStreamFrame(idOf(op.id), op.off, payload.subarray(0, op.len), op.fin);
                  break;
                case 'reset':
                  m.onResetStream(idOf(op.id), 1, op.size);
                  break;
                case 'stop':
                  m.onStopSending(idOf(op.id), 2);
                  break;
                case 'msd':
                  m.onMaxStreamData(idOf(op.id), op.max);
                  break;
                case 'sdb':
                  m.onStreamDataBlocked(idOf(op.id), op.max);
                  break;
                case 'maxStreams':
                  m.onMaxStreams(op.bidi, op.max);
                  break;
                case 'maxData':
                  m.onMaxData(op.max);
                  break;
                case 'open':
                  m.openStream(op.bidi);
                  break;
                case 'read':
                  m.recvStream(idOf(op.id))?.read(100);
                  break;
                case 'appStop':
                  m.recvStream(idOf(op.id))?.stopSending(3);
                  break;
                case 'write': {
                  const send = m.sendStream(idOf(op.id));
                  if (send && send.writableBytes > 0) send.write(payload.subarray(0, op.len));
                  break;
                }
                case 'send':
                  for (let f = m.pollControlFrame(); f; f = m.pollControlFrame()) {}
                  m.nextStreamFrame(op.space);
                  break;
              }
            } catch (err) {
              if (!(err instanceof TransportError)) throw err;
              totalDepth += depth;
              return; // the connection would close here
            }
            depth++;
            // Invariants while the connection lives.
            if (m.recvFlow.received > m.recvFlow.limit) return false;
            if (m.sendFlow.used > m.sendFlow.limit) return false;
            for (let id = 0; id <= 48; id++) {
              const recv = m.recvStream(id);
              if (recv && recv.buffered > recv.limit) return false;
            }
          }
          totalDepth += depth;
          return true;
        },
      ),
      { numRuns: 3000 },
    );
    // The generator is tuned so that most operations run before the connection would close.
    expect(totalDepth / totalOps).toBeGreaterThan(0.35);
  });

  it('an implicit open is bounded by our own MAX_STREAMS', () => {
    const m = new StreamManager({
      role: 'server',
      local: limits(10, { initialMaxStreamsBidi: 1000 }),
      peer: limits(10),
    });
    m.onStreamFrame(4 * 999, 0, new Uint8Array(1), false);
    expect(m.size).toBe(1000);
    expect(() => m.onStreamFrame(4 * 1000, 0, new Uint8Array(1), false)).toThrow(TransportError);
  });
});
