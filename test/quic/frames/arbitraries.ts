/** fast-check generators for every frame kind, with fields within their legal ranges. */
import fc from 'fast-check';
import type { AckRange, Frame } from '../../../src/quic/frames/index.js';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Integers spread over every varint size that a `number` can hold. */
export const num = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: 63 }),
    fc.integer({ min: 64, max: 16383 }),
    fc.integer({ min: 16384, max: 2 ** 30 - 1 }),
    fc.integer({ min: 2 ** 30, max: MAX_SAFE }),
  );

const bytes = (max = 48): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
const fixed = (n: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: n, maxLength: n });

export const ackRanges = (): fc.Arbitrary<AckRange[]> =>
  fc
    .record({
      base: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 50 })),
      segs: fc.array(
        fc.tuple(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 })),
        { minLength: 1, maxLength: 12 },
      ),
    })
    .map(({ base, segs }) => {
      // Build ascending [lo, hi] with gaps of at least one packet, then reverse.
      const out: AckRange[] = [];
      let lo = base;
      for (const [len, gap] of segs) {
        const hi = lo + len;
        out.push([lo, hi]);
        lo = hi + gap + 2;
      }
      return out.reverse();
    });

const streamLike = (kind: 'STREAM'): fc.Arbitrary<Frame> =>
  fc
    .record({
      streamId: num(),
      data: bytes(),
      fin: fc.boolean(),
      implicitLength: fc.boolean(),
      offset: num(),
    })
    .map((f) => ({ kind, ...f, offset: Math.min(f.offset, MAX_SAFE - f.data.length) }));

/** One arbitrary of each kind, keyed by kind. */
export const frameArbs: Record<Frame['kind'], fc.Arbitrary<Frame>> = {
  PADDING: fc.integer({ min: 1, max: 300 }).map((length) => ({ kind: 'PADDING', length })),
  PING: fc.constant({ kind: 'PING' }),
  IMMEDIATE_ACK: fc.constant({ kind: 'IMMEDIATE_ACK' }),
  ACK_FREQUENCY: fc.record({
    kind: fc.constant('ACK_FREQUENCY' as const),
    sequenceNumber: num(),
    ackElicitingThreshold: num(),
    requestedMaxAckDelay: num(),
    reorderingThreshold: num(),
  }),
  ACK: fc.record({
    kind: fc.constant('ACK' as const),
    ranges: ackRanges(),
    ackDelay: num(),
    ecn: fc.option(fc.record({ ect0: num(), ect1: num(), ce: num() }), { nil: null }),
  }),
  RESET_STREAM: fc.record({
    kind: fc.constant('RESET_STREAM' as const),
    streamId: num(),
    errorCode: num(),
    finalSize: num(),
  }),
  STOP_SENDING: fc.record({
    kind: fc.constant('STOP_SENDING' as const),
    streamId: num(),
    errorCode: num(),
  }),
  CRYPTO: fc.record({ offset: num(), data: bytes() }).map((f) => ({
    kind: 'CRYPTO' as const,
    data: f.data,
    offset: Math.min(f.offset, MAX_SAFE - f.data.length),
  })),
  NEW_TOKEN: fc.record({
    kind: fc.constant('NEW_TOKEN' as const),
    token: fc.uint8Array({ minLength: 1, maxLength: 80 }),
  }),
  STREAM: streamLike('STREAM'),
  MAX_DATA: fc.record({ kind: fc.constant('MAX_DATA' as const), maximum: num() }),
  MAX_STREAM_DATA: fc.record({
    kind: fc.constant('MAX_STREAM_DATA' as const),
    streamId: num(),
    maximum: num(),
  }),
  MAX_STREAMS: fc.record({
    kind: fc.constant('MAX_STREAMS' as const),
    bidi: fc.boolean(),
    maximum: num(),
  }),
  DATA_BLOCKED: fc.record({ kind: fc.constant('DATA_BLOCKED' as const), maximum: num() }),
  STREAM_DATA_BLOCKED: fc.record({
    kind: fc.constant('STREAM_DATA_BLOCKED' as const),
    streamId: num(),
    maximum: num(),
  }),
  STREAMS_BLOCKED: fc.record({
    kind: fc.constant('STREAMS_BLOCKED' as const),
    bidi: fc.boolean(),
    maximum: num(),
  }),
  NEW_CONNECTION_ID: fc
    .record({
      a: num(),
      b: num(),
      connectionId: fc.uint8Array({ minLength: 1, maxLength: 20 }),
      statelessResetToken: fixed(16),
    })
    .map(({ a, b, connectionId, statelessResetToken }) => ({
      kind: 'NEW_CONNECTION_ID' as const,
      sequenceNumber: Math.max(a, b),
      retirePriorTo: Math.min(a, b),
      connectionId,
      statelessResetToken,
    })),
  RETIRE_CONNECTION_ID: fc.record({
    kind: fc.constant('RETIRE_CONNECTION_ID' as const),
    sequenceNumber: num(),
  }),
  PATH_CHALLENGE: fc.record({ kind: fc.constant('PATH_CHALLENGE' as const), data: fixed(8) }),
  PATH_RESPONSE: fc.record({ kind: fc.constant('PATH_RESPONSE' as const), data: fixed(8) }),
  CONNECTION_CLOSE: fc
    .record({
      application: fc.boolean(),
      errorCode: num(),
      frameType: num(),
      reason: bytes(64),
    })
    .map((f) => ({
      kind: 'CONNECTION_CLOSE' as const,
      ...f,
      frameType: f.application ? 0 : f.frameType,
    })),
  HANDSHAKE_DONE: fc.constant({ kind: 'HANDSHAKE_DONE' }),
  DATAGRAM: fc.record({
    kind: fc.constant('DATAGRAM' as const),
    data: bytes(),
    implicitLength: fc.boolean(),
  }),
};

export const anyFrame = (): fc.Arbitrary<Frame> => fc.oneof(...Object.values(frameArbs));

/** Frames with every length explicit (valid anywhere in a payload). */
export function explicit(f: Frame): Frame {
  if (f.kind === 'STREAM' || f.kind === 'DATAGRAM') return { ...f, implicitLength: false };
  return f;
}

/** A valid payload: explicit lengths except possibly the last frame, adjacent PADDING merged. */
export const framesPayload = (): fc.Arbitrary<Frame[]> =>
  fc.array(anyFrame(), { minLength: 1, maxLength: 8 }).map((frames) => {
    const out: Frame[] = [];
    frames.forEach((f, i) => {
      const g = i === frames.length - 1 ? f : explicit(f);
      const prev = out[out.length - 1];
      if (g.kind === 'PADDING' && prev?.kind === 'PADDING') {
        out[out.length - 1] = { kind: 'PADDING', length: prev.length + g.length };
      } else out.push(g);
    });
    return out;
  });
