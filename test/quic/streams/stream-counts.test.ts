import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import { StreamCounts } from '../../../src/quic/streams/index.js';
import { expectTransportError } from './helpers.js';

describe('StreamCounts (RFC 9000 §4.6)', () => {
  it('admit() reports how many peer streams a frame opens, counting from the last opened', () => {
    const c = new StreamCounts('server', 10, 10);
    expect(c.admit(8, FrameType.STREAM, true)).toBe(3); // 0, 4, 8
    expect(c.admit(4, FrameType.STREAM, true)).toBe(0);
    expect(c.admit(14, FrameType.STREAM, true)).toBe(4); // 2, 6, 10, 14
    expect(c.admit(12, FrameType.STOP_SENDING, false)).toBe(1);
  });

  it('the peer limit is exclusive: index == limit is STREAM_LIMIT_ERROR', () => {
    const c = new StreamCounts('client', 2, 0);
    expect(c.admit(5, FrameType.STREAM, true)).toBe(2);
    expectTransportError(
      () => c.admit(9, FrameType.STREAM, true),
      TransportErrorCode.STREAM_LIMIT_ERROR,
    );
    expectTransportError(
      () => c.admit(3, FrameType.RESET_STREAM, true),
      TransportErrorCode.STREAM_LIMIT_ERROR,
      FrameType.RESET_STREAM,
    );
  });

  it('our own streams: opened in order, frames only for those already opened', () => {
    const c = new StreamCounts('client', 0, 0);
    expect(c.open(true)).toBe(-1);
    expect(c.pollStreamsBlocked()).toBe(true);
    expect(c.onPeerMax(true, 2)).toBe(true);
    expect(c.onPeerMax(true, 1)).toBe(false);
    expect(c.open(true)).toBe(0);
    expect(c.admit(0, FrameType.MAX_STREAM_DATA, false)).toBe(0);
    expectTransportError(
      () => c.admit(4, FrameType.MAX_STREAM_DATA, false),
      TransportErrorCode.STREAM_STATE_ERROR,
    );
  });

  it('closing peer streams raises our limit by one each, keeping the initial concurrency', () => {
    const c = new StreamCounts('server', 3, 1);
    c.onRemoteClosed(true);
    c.onRemoteClosed(true);
    expect(c.localMax(true)).toBe(5);
    expect(c.pollMaxStreams()).toBe(true);
    expect(c.pollMaxStreams()).toBeNull();
    c.onRemoteClosed(false);
    expect(c.localMax(false)).toBe(2);
    expect(c.pollMaxStreams()).toBe(false);
  });
});
