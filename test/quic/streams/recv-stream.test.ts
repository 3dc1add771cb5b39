import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import { RecvStream, RecvStreamState, type StreamOwner } from '../../../src/quic/streams/index.js';
import { bytes, expectTransportError } from './helpers.js';

/** An owner that records what the stream reports. */
function recorder(): StreamOwner & { consumed: number; wants: number; changes: number } {
  return {
    consumed: 0,
    wants: 0,
    changes: 0,
    streamWantsSend() {
      this.wants++;
    },
    streamConsumed(_id, n) {
      this.consumed += n;
    },
    streamStateChanged() {
      this.changes++;
    },
  };
}

describe('RecvStream: flow control (RFC 9000 §4.1)', () => {
  it('a peer that exceeds MAX_STREAM_DATA gets FLOW_CONTROL_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(100), false);
    expectTransportError(
      () => rs.onData(100, bytes(1), false),
      TransportErrorCode.FLOW_CONTROL_ERROR,
      FrameType.STREAM,
    );
  });

  it('a RESET_STREAM whose final size exceeds the limit is a FLOW_CONTROL_ERROR', () => {
    const rs = new RecvStream(0, 100);
    expectTransportError(
      () => rs.onReset(0, 101),
      TransportErrorCode.FLOW_CONTROL_ERROR,
      FrameType.RESET_STREAM,
    );
  });

  it('out-of-order data is accounted by highest offset, not by bytes received', () => {
    const rs = new RecvStream(0, 1000);
    expect(rs.onData(500, bytes(10), false)).toBe(510);
    expect(rs.onData(0, bytes(10), false)).toBe(0);
    expect(rs.onData(505, bytes(20), false)).toBe(15);
    expect(rs.highestReceived).toBe(525);
  });

  it('after the app reads more than half the window, MAX_STREAM_DATA advertises consumed + window', () => {
    const owner = recorder();
    const rs = new RecvStream(0, 100, owner);
    rs.onData(0, bytes(100), false);
    expect(rs.read(50)?.length).toBe(50);
    expect(rs.pollMaxStreamData()).toBe(-1); // 50 left: not below half
    expect(rs.read(1)?.length).toBe(1);
    expect(owner.wants).toBe(1);
    expect(rs.pollMaxStreamData()).toBe(151);
    expect(rs.pollMaxStreamData()).toBe(-1);
    expect(rs.limit).toBe(151);
    expect(owner.consumed).toBe(51);
    // The peer may now send up to 151.
    rs.onData(100, bytes(51), false);
  });

  it('a lost MAX_STREAM_DATA is resent only while it is the latest limit', () => {
    const rs = new RecvStream(0, 10);
    rs.onData(0, bytes(10), false);
    rs.read();
    expect(rs.pollMaxStreamData()).toBe(20);
    rs.onMaxStreamDataLost(20);
    expect(rs.pollMaxStreamData()).toBe(20);
    rs.onMaxStreamDataLost(15);
    expect(rs.pollMaxStreamData()).toBe(-1);
  });

  it('STREAM_DATA_BLOCKED at a lower limit than ours re-sends the current limit', () => {
    const rs = new RecvStream(0, 10);
    rs.onData(0, bytes(10), false);
    rs.read();
    rs.pollMaxStreamData();
    rs.onStreamDataBlocked(20);
    expect(rs.pollMaxStreamData()).toBe(-1);
    rs.onStreamDataBlocked(10);
    expect(rs.pollMaxStreamData()).toBe(20);
  });

  it('no MAX_STREAM_DATA once the final size is known (Size Known)', () => {
    const rs = new RecvStream(0, 10);
    rs.onData(0, bytes(8), false);
    rs.onData(9, bytes(1), true);
    expect(rs.state).toBe(RecvStreamState.SizeKnown);
    rs.read();
    expect(rs.pollMaxStreamData()).toBe(-1);
  });
});

describe('RecvStream: final size (RFC 9000 §4.5)', () => {
  it('a FIN that changes the final size is a FINAL_SIZE_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10), true);
    expectTransportError(
      () => rs.onData(0, bytes(11), true),
      TransportErrorCode.FINAL_SIZE_ERROR,
      FrameType.STREAM,
    );
  });

  it('data beyond the final size is a FINAL_SIZE_ERROR, even without FIN', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(5, new Uint8Array(0), true);
    expectTransportError(() => rs.onData(4, bytes(2), false), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('a FIN below data already received is a FINAL_SIZE_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(20, bytes(10), false);
    expectTransportError(() => rs.onData(0, bytes(10), true), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('a RESET_STREAM with a final size different from the FIN is a FINAL_SIZE_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10), true);
    expectTransportError(
      () => rs.onReset(1, 12),
      TransportErrorCode.FINAL_SIZE_ERROR,
      FrameType.RESET_STREAM,
    );
  });

  it('a RESET_STREAM below data already received is a FINAL_SIZE_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(30), false);
    expectTransportError(() => rs.onReset(1, 29), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('data beyond the final size after a reset is still a FINAL_SIZE_ERROR', () => {
    const rs = new RecvStream(0, 100);
    rs.onReset(3, 40);
    rs.onData(0, bytes(40), false); // a late retransmission is fine
    expectTransportError(() => rs.onData(39, bytes(2), false), TransportErrorCode.FINAL_SIZE_ERROR);
  });

  it('repeated FIN and repeated RESET_STREAM with the same final size are accepted', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10), true);
    rs.onData(5, bytes(5), true);
    rs.onReset(7, 10);
    rs.onReset(7, 10);
  });
});

describe('RecvStream: states (RFC 9000 §3.2)', () => {
  it('Recv -> Size Known -> Data Recvd -> Data Read', () => {
    const owner = recorder();
    const rs = new RecvStream(0, 100, owner);
    expect(rs.state).toBe(RecvStreamState.Recv);
    rs.onData(5, bytes(5), true);
    expect(rs.state).toBe(RecvStreamState.SizeKnown);
    rs.onData(0, bytes(5), false);
    expect(rs.state).toBe(RecvStreamState.DataRecvd);
    expect(rs.read(3)?.length).toBe(3);
    expect(rs.finished).toBe(false);
    expect(rs.read()?.length).toBe(2);
    expect(rs.read()?.length).toBe(5);
    expect(rs.state).toBe(RecvStreamState.DataRead);
    expect(rs.isTerminal).toBe(true);
    expect(owner.changes).toBe(1);
    expect(rs.read()).toBeNull();
  });

  it('an empty stream closed by a FIN-only frame is finished at the first read', () => {
    const rs = new RecvStream(0, 0);
    rs.onData(0, new Uint8Array(0), true);
    expect(rs.state).toBe(RecvStreamState.DataRecvd);
    expect(rs.read()).toBeNull();
    expect(rs.finished).toBe(true);
  });

  it('RESET_STREAM in Recv discards data, returns its credit, then Reset Read on the next read', () => {
    const owner = recorder();
    const rs = new RecvStream(0, 100, owner);
    rs.onData(0, bytes(10), false);
    rs.onData(20, bytes(10), false);
    expect(rs.onReset(9, 50)).toBe(20);
    expect(rs.state).toBe(RecvStreamState.ResetRecvd);
    expect(rs.resetCode).toBe(9);
    expect(rs.buffered).toBe(0);
    expect(owner.consumed).toBe(50); // the whole final size is released to the connection
    expect(rs.read()).toBeNull();
    expect(rs.state).toBe(RecvStreamState.ResetRead);
    expect(rs.isTerminal).toBe(true);
  });

  it('RESET_STREAM after all data arrived is suppressed: the data stays readable', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10, 4), true);
    rs.onReset(1, 10);
    expect(rs.state).toBe(RecvStreamState.DataRecvd);
    expect(rs.read()).toEqual(bytes(10, 4));
    expect(rs.finished).toBe(true);
  });
});

describe('RecvStream: STOP_SENDING (RFC 9000 §3.5)', () => {
  it('stopSending in Recv queues STOP_SENDING, drops buffered data and releases its credit', () => {
    const owner = recorder();
    const rs = new RecvStream(0, 100, owner);
    rs.onData(0, bytes(10), false);
    rs.onData(30, bytes(10), false);
    expect(rs.stopSending(77)).toBe(true);
    expect(rs.stopSending(78)).toBe(false);
    expect(rs.pollStopSending()).toBe(77);
    expect(rs.pollStopSending()).toBe(-1);
    expect(owner.consumed).toBe(40);
    expect(rs.read()).toBeNull();
    expect(rs.readable).toBe(0);
  });

  it('data arriving after STOP_SENDING still counts toward flow control and is released', () => {
    const owner = recorder();
    const rs = new RecvStream(0, 100, owner);
    rs.stopSending(1);
    expect(rs.onData(0, bytes(60), false)).toBe(60);
    expect(owner.consumed).toBe(60);
    expectTransportError(
      () => rs.onData(60, bytes(41), false),
      TransportErrorCode.FLOW_CONTROL_ERROR,
    );
  });

  it('the peer answers with RESET_STREAM: the stream goes straight to Reset Read', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10), false);
    rs.stopSending(1);
    rs.onReset(1, 20);
    expect(rs.state).toBe(RecvStreamState.ResetRead);
    expect(rs.isTerminal).toBe(true);
  });

  it('a lost STOP_SENDING is resent until the stream leaves Recv / Size Known', () => {
    const rs = new RecvStream(0, 100);
    rs.stopSending(5);
    rs.pollStopSending();
    rs.onStopSendingLost();
    expect(rs.pollStopSending()).toBe(5);
    rs.onReset(5, 0);
    rs.onStopSendingLost();
    expect(rs.pollStopSending()).toBe(-1);
  });

  it('stopping after all data arrived needs no frame and ends the stream', () => {
    const rs = new RecvStream(0, 100);
    rs.onData(0, bytes(10), true);
    expect(rs.stopSending(5)).toBe(false);
    expect(rs.state).toBe(RecvStreamState.DataRead);
  });
});
