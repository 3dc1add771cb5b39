import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '../../../src/quic/errors.js';
import { FrameType } from '../../../src/quic/frames/types.js';
import {
  ConnectionRecvFlow,
  ConnectionSendFlow,
  ReceiveWindow,
} from '../../../src/quic/streams/index.js';
import { expectTransportError } from './helpers.js';

describe('ConnectionRecvFlow (RFC 9000 §4.1, §19.9)', () => {
  it('the sum of highest offsets beyond MAX_DATA is a FLOW_CONTROL_ERROR', () => {
    const fc = new ConnectionRecvFlow(100);
    fc.onReceived(60);
    fc.onReceived(40);
    expect(fc.received).toBe(100);
    expectTransportError(
      () => fc.onReceived(1, FrameType.RESET_STREAM),
      TransportErrorCode.FLOW_CONTROL_ERROR,
      FrameType.RESET_STREAM,
    );
  });

  it('MAX_DATA is raised to consumed + window once less than half the window is left', () => {
    const fc = new ConnectionRecvFlow(1000);
    fc.onReceived(1000);
    fc.onConsumed(500);
    expect(fc.pollMaxData()).toBe(-1);
    fc.onConsumed(1);
    expect(fc.pollMaxData()).toBe(1501);
    expect(fc.pollMaxData()).toBe(-1);
    fc.onReceived(501);
  });

  it('a lost MAX_DATA is resent only while it is the latest; DATA_BLOCKED below it re-sends', () => {
    const fc = new ConnectionRecvFlow(10);
    fc.onConsumed(10);
    expect(fc.pollMaxData()).toBe(20);
    fc.onMaxDataLost(20);
    expect(fc.pollMaxData()).toBe(20);
    fc.onMaxDataLost(19);
    expect(fc.pollMaxData()).toBe(-1);
    fc.onDataBlocked(20);
    expect(fc.pollMaxData()).toBe(-1);
    fc.onDataBlocked(10);
    expect(fc.pollMaxData()).toBe(20);
  });

  it('autotuning doubles the window when updates come less than 2 RTTs apart, up to the cap', () => {
    const fc = new ConnectionRecvFlow(1000, 4000);
    const rtt = 50;
    fc.onConsumed(600);
    expect(fc.pollMaxData(0, rtt)).toBe(1600); // first update: no history, window stays
    fc.onConsumed(600);
    expect(fc.pollMaxData(40, rtt)).toBe(1200 + 2000); // 40 ms < 2 RTT: window doubles
    expect(fc.window).toBe(2000);
    fc.onConsumed(1100);
    expect(fc.pollMaxData(500, rtt)).toBe(2300 + 2000); // slow reader: no growth
    fc.onConsumed(1100);
    expect(fc.pollMaxData(510, rtt)).toBe(3400 + 4000);
    fc.onConsumed(2100);
    expect(fc.pollMaxData(520, rtt)).toBe(5500 + 4000); // capped at 4000
    expect(fc.window).toBe(4000);
  });
});

describe('ConnectionSendFlow', () => {
  it('MAX_DATA only increases; DATA_BLOCKED is signalled once per limit', () => {
    const fc = new ConnectionSendFlow(100);
    expect(fc.onMaxData(50)).toBe(false);
    fc.consume(100);
    expect(fc.available).toBe(0);
    fc.blocked();
    fc.blocked();
    expect(fc.pollDataBlocked()).toBe(100);
    expect(fc.pollDataBlocked()).toBe(-1);
    fc.onDataBlockedLost(100);
    expect(fc.pollDataBlocked()).toBe(100);
    expect(fc.onMaxData(150)).toBe(true);
    fc.onDataBlockedLost(100);
    expect(fc.pollDataBlocked()).toBe(-1);
    fc.blocked(); // credit available: not blocked
    expect(fc.pollDataBlocked()).toBe(-1);
  });

  it('overdrawing the credit is a caller bug reported as INTERNAL_ERROR', () => {
    const fc = new ConnectionSendFlow(10);
    expectTransportError(() => fc.consume(11), TransportErrorCode.INTERNAL_ERROR);
  });
});

describe('ReceiveWindow', () => {
  it('a zero window never updates', () => {
    const w = new ReceiveWindow(0);
    w.consume(0);
    expect(w.update()).toBe(false);
  });
});
