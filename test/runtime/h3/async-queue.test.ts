/**
 * The push queues behind bodies and datagram iterators: order is kept whatever the interleaving
 * of pushes and reads, the end and errors arrive after the buffered items, an early `break`
 * drops the rest and tells the owner, and a body refuses to buffer beyond its cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../../src/runtime/h3/async-queue.js';
import { IncomingBody } from '../../../src/runtime/h3/body.js';

describe('AsyncQueue', () => {
  it('delivers every item in order for any interleaving of pushes and reads (2,000 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { maxLength: 60 }), async (ops) => {
        const q = new AsyncQueue<number>();
        const got: number[] = [];
        // One consumer, running whenever the producer yields.
        const reader = (async () => {
          for await (const v of q) got.push(v);
        })();
        let n = 0;
        for (const push of ops) {
          if (push) q.push(n++);
          else await Promise.resolve();
        }
        q.end();
        await reader;
        expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(q.units).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a second concurrent reader', async () => {
    const q = new AsyncQueue<number>();
    const first = q.next();
    await expect(q.next()).rejects.toThrow('single consumer');
    q.push(1);
    expect(await first).toEqual({ done: false, value: 1 });
  });

  it('a failure reaches the reader after the buffered items', async () => {
    const q = new AsyncQueue<string>();
    q.push('a');
    q.fail(new Error('reset'));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const v of q) seen.push(v);
      })(),
    ).rejects.toThrow('reset');
    expect(seen).toEqual(['a']);
  });

  it('a reader that breaks early drops the rest and the owner hears of it', async () => {
    const q = new AsyncQueue<number>();
    let abandoned = 0;
    q.onAbandon = () => abandoned++;
    q.push(1);
    q.push(2);
    for await (const v of q) if (v === 1) break;
    expect(abandoned).toBe(1);
    expect(q.length).toBe(0);
    q.push(3); // ignored after the end
    expect(q.length).toBe(0);
  });

  it('counts units with the size function and drops the oldest on demand', () => {
    const q = new AsyncQueue<Uint8Array>((b) => b.length);
    q.push(new Uint8Array(3));
    q.push(new Uint8Array(5));
    expect(q.units).toBe(8);
    expect(q.dropOldest()?.length).toBe(3);
    expect(q.units).toBe(5);
  });
});

describe('IncomingBody', () => {
  it('copies chunks, refuses to hold more than maxBuffered, and caps bytes()', async () => {
    const body = new IncomingBody({ maxBuffered: 10, maxBodySize: 7 });
    const chunk = new Uint8Array([1, 2, 3, 4, 5, 6]);
    expect(body.push(chunk)).toBe(true);
    chunk.fill(9); // the body kept a copy
    expect(body.push(new Uint8Array(5))).toBe(false);
    expect(body.bufferedBytes).toBe(6);
    body.push(new Uint8Array([7, 8]));
    body.end([['x-t', '1']]);
    await expect(body.bytes()).rejects.toMatchObject({ code: 'BODY_TOO_LARGE' });
    const ok = new IncomingBody({ maxBuffered: 100, maxBodySize: 100 });
    ok.push(new Uint8Array([1, 2]));
    ok.push(new Uint8Array([3]));
    ok.end([['x-t', '1']]);
    expect([...(await ok.bytes())]).toEqual([1, 2, 3]);
    expect(ok.trailers).toEqual([['x-t', '1']]);
    expect(ok.complete).toBe(true);
  });
});
