import { describe, expect, it } from 'vitest';
import {
  SendBuffer,
  SendStream,
  SendStreamState,
  StreamApiError,
  StreamApiErrorCode,
} from '../../../src/quic/streams/index.js';
import { bytes } from './helpers.js';

describe('SendStream: writes and ownership', () => {
  it('queues the caller array by reference: chunks are views into it, no copy', () => {
    const s = new SendStream(0, 1000);
    const data = bytes(100);
    expect(s.write(data)).toBe(100);
    const c = s.nextChunk(60, 1000);
    expect(c?.data.buffer).toBe(data.buffer);
    expect(c?.data.byteOffset).toBe(data.byteOffset);
    expect(c).toMatchObject({ kind: 'STREAM', streamId: 0, offset: 0, fin: false });
  });

  it('a chunk spanning two writes is gathered into a fresh array', () => {
    const s = new SendStream(0, 1000);
    s.write(Uint8Array.of(1, 2, 3));
    s.write(Uint8Array.of(4, 5));
    const c = s.nextChunk(100, 100);
    expect(c?.data).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
  });

  it('accepts only the stream credit: a view of the head is queued, the rest refused', () => {
    const s = new SendStream(0, 10);
    const data = bytes(25);
    expect(s.writableBytes).toBe(10);
    expect(s.write(data)).toBe(10);
    expect(s.writableBytes).toBe(0);
    expect(s.write(data.subarray(10))).toBe(0);
    const c = s.nextChunk(100, 100);
    expect(c?.data).toEqual(data.subarray(0, 10));
  });

  it('writableBytes is the true figure: 0 once ended, reset, or closed', () => {
    const a = new SendStream(0, 100);
    a.end();
    expect(a.writableBytes).toBe(0);
    const b = new SendStream(0, 100);
    b.reset(1);
    expect(b.writableBytes).toBe(0);
    const c = new SendStream(0, 100);
    c.write(bytes(5));
    c.end();
    c.nextChunk(100, 100);
    c.onAcked(0, 5, true);
    expect(c.state).toBe(SendStreamState.DataRecvd);
    expect(c.writableBytes).toBe(0);
  });

  it('write after end() or reset() is an application error with a stable code', () => {
    const s = new SendStream(0, 100);
    s.end();
    try {
      s.write(bytes(1));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(StreamApiError);
      expect((err as StreamApiError).code).toBe(StreamApiErrorCode.WRITE_AFTER_END);
    }
  });

  it('write after the peer STOP_SENDING returns 0 (a race the application cannot avoid)', () => {
    const s = new SendStream(0, 100);
    s.onStopSending(4);
    expect(s.write(bytes(10))).toBe(0);
  });
});

describe('SendStream: sending within limits', () => {
  it('never sends beyond MAX_STREAM_DATA nor beyond the connection credit passed in', () => {
    const s = new SendStream(0, 50);
    s.write(bytes(50));
    const a = s.nextChunk(1000, 20);
    expect(a?.data.length).toBe(20);
    const b = s.nextChunk(1000, 1000);
    expect(b).toMatchObject({ offset: 20 });
    expect(b?.data.length).toBe(30);
    expect(s.nextChunk(1000, 1000)).toBeNull();
  });

  it('FIN rides with the last bytes, or alone (needing no credit) when all is sent', () => {
    const s = new SendStream(0, 10);
    s.write(bytes(10));
    s.nextChunk(100, 100);
    s.end();
    const fin = s.nextChunk(100, 0);
    expect(fin).toMatchObject({ offset: 10, fin: true });
    expect(fin?.data.length).toBe(0);
    expect(s.state).toBe(SendStreamState.DataSent);
    expect(s.nextChunk(100, 100)).toBeNull();
  });

  it('Ready -> Send -> Data Sent -> Data Recvd (RFC 9000 §3.1)', () => {
    const s = new SendStream(0, 100);
    expect(s.state).toBe(SendStreamState.Ready);
    s.write(bytes(30));
    s.nextChunk(10, 100);
    expect(s.state).toBe(SendStreamState.Send);
    s.end();
    s.nextChunk(100, 100);
    expect(s.state).toBe(SendStreamState.DataSent);
    s.onAcked(10, 20, true);
    expect(s.state).toBe(SendStreamState.DataSent);
    s.onAcked(0, 10, false);
    expect(s.state).toBe(SendStreamState.DataRecvd);
    expect(s.isTerminal).toBe(true);
    expect(s.unacked).toBe(0);
  });

  it('a sender refused bytes at the limit queues STREAM_DATA_BLOCKED once per limit', () => {
    const s = new SendStream(0, 10);
    s.write(bytes(20));
    expect(s.pollStreamDataBlocked()).toBe(-1); // bytes up to the limit are not sent yet
    s.nextChunk(100, 100);
    expect(s.pollStreamDataBlocked()).toBe(10);
    expect(s.pollStreamDataBlocked()).toBe(-1);
    s.write(bytes(5));
    expect(s.pollStreamDataBlocked()).toBe(-1);
    s.onStreamDataBlockedLost(10);
    expect(s.pollStreamDataBlocked()).toBe(10);
    expect(s.onMaxStreamData(15)).toBe(true);
    s.onStreamDataBlockedLost(10); // stale: not blocked at 10 any more
    expect(s.pollStreamDataBlocked()).toBe(-1);
    expect(s.write(bytes(10))).toBe(5);
    s.nextChunk(100, 100);
    expect(s.pollStreamDataBlocked()).toBe(15);
  });

  it('a zero initial limit: the refused write alone moves Ready to Send with STREAM_DATA_BLOCKED(0)', () => {
    const s = new SendStream(0, 0);
    expect(s.write(bytes(1))).toBe(0);
    expect(s.state).toBe(SendStreamState.Send);
    expect(s.pollStreamDataBlocked()).toBe(0);
  });

  it('MAX_STREAM_DATA that does not increase the limit is ignored (RFC 9000 §4.1)', () => {
    const s = new SendStream(0, 100);
    expect(s.onMaxStreamData(50)).toBe(false);
    expect(s.onMaxStreamData(100)).toBe(false);
    expect(s.limit).toBe(100);
    expect(s.onMaxStreamData(101)).toBe(true);
  });
});

describe('SendStream: retransmission', () => {
  it('lost ranges are sent again before new data, acknowledged parts excluded', () => {
    const s = new SendStream(0, 1000);
    const data = bytes(100);
    s.write(data);
    s.nextChunk(40, 1000); // [0,40)
    s.nextChunk(40, 1000); // [40,80)
    s.onAcked(10, 10, false);
    s.onLost(0, 40, false);
    const a = s.nextChunk(1000, 0);
    expect(a).toMatchObject({ offset: 0 });
    expect(a?.data).toEqual(data.subarray(0, 10));
    const b = s.nextChunk(1000, 0);
    expect(b).toMatchObject({ offset: 20 });
    expect(b?.data).toEqual(data.subarray(20, 40));
    // Retransmissions needed no credit; new data does.
    expect(s.nextChunk(1000, 0)).toBeNull();
    expect(s.nextChunk(1000, 1000)).toMatchObject({ offset: 80 });
  });

  it('a lost FIN is resent, with the last lost bytes or alone', () => {
    const s = new SendStream(0, 100);
    s.write(bytes(10));
    s.end();
    s.nextChunk(100, 100);
    s.onLost(0, 10, true);
    expect(s.nextChunk(4, 100)).toMatchObject({ offset: 0, fin: false });
    const last = s.nextChunk(100, 100);
    expect(last).toMatchObject({ offset: 4, fin: true });
    expect(last?.data.length).toBe(6);
    s.onAcked(0, 10, false);
    s.onLost(10, 0, true);
    expect(s.nextChunk(100, 100)).toMatchObject({ offset: 10, fin: true });
    s.onAcked(10, 0, true);
    expect(s.state).toBe(SendStreamState.DataRecvd);
  });

  it('acknowledged writes are released from the front once contiguous', () => {
    const s = new SendStream(0, 1000);
    s.write(bytes(10));
    s.write(bytes(10));
    s.write(bytes(10));
    s.nextChunk(1000, 1000);
    s.onAcked(10, 10, false);
    expect(s.unacked).toBe(30);
    s.onAcked(0, 10, false);
    expect(s.unacked).toBe(10);
  });
});

describe('SendStream: reset and STOP_SENDING (RFC 9000 §3.1, §3.5)', () => {
  it('reset carries the bytes sent as final size and stops all data', () => {
    const s = new SendStream(0, 100);
    s.write(bytes(50));
    s.nextChunk(30, 100);
    expect(s.reset(8)).toBe(true);
    expect(s.state).toBe(SendStreamState.ResetSent);
    expect(s.pollResetStream()).toEqual({ errorCode: 8, finalSize: 30 });
    expect(s.pollResetStream()).toBeNull();
    s.onLost(0, 30, false);
    expect(s.nextChunk(100, 100)).toBeNull();
    expect(s.hasData).toBe(false);
  });

  it('a lost RESET_STREAM is sent again; its acknowledgement reaches Reset Recvd', () => {
    const s = new SendStream(0, 100);
    s.reset(2);
    s.pollResetStream();
    s.onResetLost();
    expect(s.pollResetStream()).toEqual({ errorCode: 2, finalSize: 0 });
    s.onResetAcked();
    expect(s.state).toBe(SendStreamState.ResetRecvd);
    expect(s.isTerminal).toBe(true);
    s.onResetLost();
    expect(s.pollResetStream()).toBeNull();
  });

  it('STOP_SENDING in Ready, Send or Data Sent makes the stream send RESET_STREAM with that code', () => {
    for (const setup of [
      (_s: SendStream) => {},
      (s: SendStream) => {
        s.write(bytes(5));
        s.nextChunk(100, 100);
      },
      (s: SendStream) => {
        s.write(bytes(5));
        s.end();
        s.nextChunk(100, 100);
      },
    ]) {
      const s = new SendStream(0, 100);
      setup(s);
      expect(s.onStopSending(0x42)).toBe(true);
      expect(s.state).toBe(SendStreamState.ResetSent);
      expect(s.stopSendingCode).toBe(0x42);
      expect(s.pollResetStream()?.errorCode).toBe(0x42);
    }
  });

  it('STOP_SENDING after all data was acknowledged needs no reset', () => {
    const s = new SendStream(0, 100);
    s.end();
    s.nextChunk(100, 100);
    s.onAcked(0, 0, true);
    expect(s.onStopSending(1)).toBe(false);
    expect(s.state).toBe(SendStreamState.DataRecvd);
  });
});

describe('SendBuffer', () => {
  it('onLost ignores never-sent and acknowledged bytes', () => {
    const b = new SendBuffer();
    b.push(bytes(100));
    b.takeNew(50);
    b.onAcked(20, 10);
    b.onLost(0, 100);
    const ranges: Array<[number, number]> = [];
    while (b.hasLost) {
      const start = b.lostStart;
      ranges.push([start, start + b.takeLost(1000).length]);
    }
    expect(ranges).toEqual([
      [0, 20],
      [30, 50],
    ]);
  });

  it('discard() leaves nothing to send or acknowledge', () => {
    const b = new SendBuffer();
    b.push(bytes(100));
    b.takeNew(40);
    b.discard();
    expect(b.unsent).toBe(0);
    expect(b.unacked).toBe(0);
    expect(b.hasLost).toBe(false);
    expect(b.sentEnd).toBe(40);
  });
});
