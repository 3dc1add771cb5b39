import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import { CryptoStream, MIN_CRYPTO_BUFFER } from '../../../src/quic/streams/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { bytesEqual } from '../../../src/wire/index.js';
import { bytes, concat, expectTransportError, shuffle } from './helpers.js';

describe('CryptoStream receive side (RFC 9000 §7.5, §19.6)', () => {
  it('buffers at least 4096 bytes out of order, as the RFC requires', () => {
    const cs = new CryptoStream(0); // asking for less still gets the minimum
    const data = bytes(MIN_CRYPTO_BUFFER);
    cs.onData(1, data.subarray(1));
    expect(cs.outOfOrder).toBe(MIN_CRYPTO_BUFFER - 1);
    cs.onData(0, data.subarray(0, 1));
    expect(cs.read()).toEqual(data.subarray(0, 1));
    expect(cs.read()).toEqual(data.subarray(1));
  });

  it('a frame reaching beyond the buffer cap is CRYPTO_BUFFER_EXCEEDED', () => {
    const cs = new CryptoStream(4096);
    cs.onData(4000, bytes(96));
    expectTransportError(
      () => cs.onData(4000, bytes(97)),
      TransportErrorCode.CRYPTO_BUFFER_EXCEEDED,
      FrameType.CRYPTO,
    );
  });

  it('the cap moves with the read offset: consumed handshake bytes free room', () => {
    const cs = new CryptoStream(4096);
    cs.onData(0, bytes(4096));
    expect(cs.read()?.length).toBe(4096);
    cs.onData(8000, bytes(192));
    expect(cs.readOffset).toBe(4096);
  });

  it('reassembles CRYPTO frames in any order, with duplicates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer(), (length, seed) => {
        const data = bytes(length, seed);
        const rng = new SeededRandom(seed);
        const frames: Array<[number, number]> = [];
        for (let off = 0; off < length; ) {
          const n = 1 + (rng.nextU32() % 400);
          frames.push([off, Math.min(length, off + n)]);
          if (rng.nextU32() % 3 === 0) frames.push([off, Math.min(length, off + n)]);
          off += n;
        }
        shuffle(frames, rng);
        const cs = new CryptoStream();
        const out: Uint8Array[] = [];
        for (const [s, e] of frames) {
          cs.onData(s, data.subarray(s, e));
          for (let c = cs.read(); c; c = cs.read()) out.push(c);
        }
        return bytesEqual(concat(out), data);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('CryptoStream send side', () => {
  it('lost CRYPTO ranges go out again before new bytes', () => {
    const cs = new CryptoStream();
    const data = bytes(300);
    cs.write(data);
    expect(cs.nextChunk(100)).toMatchObject({ offset: 0 });
    expect(cs.nextChunk(100)).toMatchObject({ offset: 100 });
    cs.onLost(0, 100);
    cs.onAcked(100, 100);
    const again = cs.nextChunk(1000);
    expect(again?.offset).toBe(0);
    expect(again?.data).toEqual(data.subarray(0, 100));
    expect(cs.nextChunk(1000)).toMatchObject({ offset: 200 });
    expect(cs.nextChunk(1000)).toBeNull();
    cs.onAcked(0, 100);
    expect(cs.allAcked).toBe(false);
    cs.onAcked(200, 100);
    expect(cs.allAcked).toBe(true);
  });

  it('retransmitAll re-queues every unacknowledged byte (PTO during the handshake)', () => {
    const cs = new CryptoStream();
    cs.write(bytes(50));
    cs.nextChunk(50);
    cs.onAcked(0, 20);
    cs.retransmitAll();
    expect(cs.nextChunk(1000)).toMatchObject({ offset: 20 });
    expect(cs.hasData).toBe(false);
  });

  it('discard() drops everything (keys of the level discarded)', () => {
    const cs = new CryptoStream();
    cs.write(bytes(50));
    cs.onData(10, bytes(5));
    cs.discard();
    expect(cs.hasData).toBe(false);
    expect(cs.nextChunk(100)).toBeNull();
    expect(cs.outOfOrder).toBe(0);
  });
});
