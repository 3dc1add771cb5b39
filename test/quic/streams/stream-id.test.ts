import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canReceive,
  canSend,
  isBidi,
  isLocal,
  isUni,
  StreamType,
  streamIdOf,
  streamIndex,
  streamInitiator,
  streamType,
  streamTypeFor,
} from '../../../src/quic/streams/index.js';

describe('stream IDs (RFC 9000 §2.1)', () => {
  it('decodes the four types of Table 1 from the two low bits', () => {
    expect([0, 1, 2, 3].map(streamType)).toEqual([
      StreamType.CLIENT_BIDI,
      StreamType.SERVER_BIDI,
      StreamType.CLIENT_UNI,
      StreamType.SERVER_UNI,
    ]);
    expect([0, 1, 2, 3].map(streamInitiator)).toEqual(['client', 'server', 'client', 'server']);
    expect([0, 1, 2, 3].map(isBidi)).toEqual([true, true, false, false]);
    expect([0, 1, 2, 3].map(isUni)).toEqual([false, false, true, true]);
  });

  it('the §19.11 example: a server with a uni limit of 3 may open 3, 7 and 11 but not 15', () => {
    expect([0, 1, 2].map((i) => streamIdOf(StreamType.SERVER_UNI, i))).toEqual([3, 7, 11]);
    expect(streamIndex(15)).toBe(3);
  });

  it('stream type of each role and direction', () => {
    expect(streamTypeFor('client', true)).toBe(0);
    expect(streamTypeFor('server', true)).toBe(1);
    expect(streamTypeFor('client', false)).toBe(2);
    expect(streamTypeFor('server', false)).toBe(3);
  });

  it('direction rules: uni streams are send-only for their opener, receive-only for the peer', () => {
    expect(canSend(2, 'client')).toBe(true);
    expect(canReceive(2, 'client')).toBe(false);
    expect(canSend(2, 'server')).toBe(false);
    expect(canReceive(2, 'server')).toBe(true);
    expect(canSend(1, 'client') && canReceive(1, 'client')).toBe(true);
    expect(isLocal(5, 'server')).toBe(true);
    expect(isLocal(5, 'client')).toBe(false);
  });

  it('index <-> id round-trips for IDs beyond 2^32 (no 32-bit arithmetic)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 51 - 1 }),
        (type, index) => {
          const id = streamIdOf(type as StreamType, index);
          expect(streamType(id)).toBe(type);
          expect(streamIndex(id)).toBe(index);
        },
      ),
      { numRuns: 2000 },
    );
    expect(streamType(2 ** 40 + 3)).toBe(3);
    expect(streamIndex(2 ** 40 + 3)).toBe(2 ** 38);
  });
});
