/** The session's helpers on their own: SendQueue, DatagramBuffer, GoawayState, CapsuleStream. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../../src/capsule/errors.js';
import { H3Error } from '../../../src/http3/errors.js';
import { CapsuleStream } from '../../../src/http3/session/capsule-stream.js';
import { DatagramBuffer } from '../../../src/http3/session/datagram-buffer.js';
import { GoawayState } from '../../../src/http3/session/goaway.js';
import { SendQueue } from '../../../src/http3/session/send-queue.js';
import type { H3Event } from '../../../src/http3/session/types.js';
import type { QuicTransport } from '../../../src/quic/api.js';
import { concatBytes } from '../../../src/wire/hex.js';

/** A transport stub whose streams accept `room` bytes per call to `allow`. */
function stubTransport() {
  const written: Uint8Array[] = [];
  let room = 0;
  let fin = false;
  const t = {
    role: 'client',
    maxDatagramPayload: 0,
    openStream: () => undefined,
    writeStream(_id: number, data: Uint8Array, f?: boolean): number {
      if (fin) throw new Error('write after fin');
      const n = Math.min(room, data.length);
      room -= n;
      written.push(data.slice(0, n));
      if (n === data.length && f) fin = true;
      return n;
    },
    writableBytes: () => room,
    resetStream() {},
    stopSending() {},
    sendDatagram: () => false,
    close() {},
  } satisfies QuicTransport;
  return {
    t,
    allow(n: number) {
      room = n;
    },
    bytes: () => concatBytes(...written),
    get fin() {
      return fin;
    },
  };
}

describe('SendQueue', () => {
  it('keeps order and puts the FIN after the last byte, whatever the transport accepts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(30), { minLength: 1, maxLength: 20 }),
        (pieces, rooms) => {
          const s = stubTransport();
          const q = new SendQueue(s.t);
          s.allow(rooms[0]);
          for (let i = 0; i < pieces.length; i++) q.write(4, pieces[i], i === pieces.length - 1);
          let k = 1;
          while (q.has(4)) {
            s.allow(rooms[k++ % rooms.length] + 1);
            q.flush(4);
          }
          expect(s.bytes()).toEqual(concatBytes(...pieces));
          expect(s.fin).toBe(true);
          expect(q.buffered(4)).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('copies a refused remainder: the caller may reuse its buffer', () => {
    const s = stubTransport();
    const q = new SendQueue(s.t);
    const buf = new Uint8Array([1, 2, 3, 4]);
    s.allow(1);
    q.write(0, buf);
    expect(q.buffered(0)).toBe(3);
    buf.fill(9);
    s.allow(100);
    expect(q.flush(0)).toBe(true);
    expect([...s.bytes()]).toEqual([1, 2, 3, 4]);
    expect(q.flush(0)).toBe(false);
  });
});

describe('DatagramBuffer', () => {
  it('bounds each stream and the total, dropping the oldest first (model check)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('add', 'add', 'add', 'take', 'drop'), fc.nat(40)), {
          maxLength: 600,
        }),
        (ops) => {
          const b = new DatagramBuffer(16, 256);
          const model: Array<[number, number]> = []; // [stream, seq] in arrival order
          let seq = 0;
          for (const [op, sid] of ops) {
            if (op === 'add') {
              const mine = model.filter(([s]) => s === sid);
              if (mine.length >= 16) model.splice(model.indexOf(mine[0]), 1);
              model.push([sid, seq]);
              if (model.length > 256) model.shift();
              b.add(sid, new Uint8Array([seq & 0xff, seq >> 8]));
              seq++;
            } else if (op === 'take') {
              const got = (b.take(sid) ?? []).map((p) => p[0] | (p[1] << 8));
              expect(got).toEqual(model.filter(([s]) => s === sid).map(([, q]) => q));
              for (let i = model.length - 1; i >= 0; i--)
                if (model[i][0] === sid) model.splice(i, 1);
            } else {
              b.drop(sid);
              for (let i = model.length - 1; i >= 0; i--)
                if (model[i][0] === sid) model.splice(i, 1);
            }
            expect(b.size).toBe(model.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds copies', () => {
    const b = new DatagramBuffer();
    const p = new Uint8Array([7]);
    b.add(0, p);
    p[0] = 8;
    expect(b.take(0)).toEqual([new Uint8Array([7])]);
  });
});

describe('GoawayState', () => {
  it('accepts equal or smaller identifiers and refuses larger ones with H3_ID_ERROR', () => {
    const g = new GoawayState('client');
    g.receive(100n);
    g.receive(100n);
    g.receive(8n);
    expect(() => g.receive(12n)).toThrow(expect.objectContaining({ code: 0x108 }));
    expect(() => new GoawayState('client').receive(1n)).toThrow(H3Error);
    // A server receives push IDs: any value.
    new GoawayState('server').receive(7n);
  });

  it('never sends a larger identifier than before', () => {
    const g = new GoawayState('server');
    expect(g.next(40n)).toBe(40n);
    expect(g.next(80n)).toBe(40n);
    expect(g.next(8n)).toBe(8n);
  });
});

describe('CapsuleStream', () => {
  it('emits the same capsules for every split of the DATA payload', () => {
    const wire = concatBytes(
      CapsuleStream.encode(0, new Uint8Array([1, 2, 3])),
      CapsuleStream.encode(0x21, new Uint8Array(70)), // unknown: skipped
      CapsuleStream.encode(0, new Uint8Array(0)),
      CapsuleStream.encode(0x1f00, new Uint8Array(200).fill(5)),
    );
    const run = (cuts: number[]): string[] => {
      const cs = new CapsuleStream(8, { known: [[0x1f00, 1000]] });
      const out: H3Event[] = [];
      let prev = 0;
      for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
        cs.push(wire.subarray(prev, cut), out);
        prev = cut;
      }
      cs.push(wire.subarray(prev), out);
      cs.end();
      return out.map((e) =>
        e.type === 'capsule'
          ? `${e.streamId}/${e.capsule.type}/${e.capsule.value.length}`
          : e.type === 'capsule-discarded'
            ? `skipped ${e.capsuleType}/${e.length} ${e.reason}`
            : '?',
      );
    };
    const whole = run([]);
    expect(whole).toEqual(['8/0/3', 'skipped 33/70 unknown-type', '8/0/0', '8/7936/200']);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: wire.length }), { maxLength: 12 }), (cuts) => {
        expect(run(cuts)).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
    const bytewise = new CapsuleStream(8, { known: [[0x1f00, 1000]] });
    const out: H3Event[] = [];
    for (let i = 0; i < wire.length; i++) bytewise.push(wire.subarray(i, i + 1), out);
    expect(out).toHaveLength(4); // three capsules and the skipped one's report
  });

  it('every proper prefix followed by the end of the stream is an H3_DATAGRAM_ERROR', () => {
    const wire = CapsuleStream.encode(0, new Uint8Array(20));
    for (let n = 1; n < wire.length; n++) {
      const cs = new CapsuleStream(0);
      cs.push(wire.subarray(0, n), []);
      expect(() => cs.end()).toThrow(CapsuleError);
    }
  });
});
