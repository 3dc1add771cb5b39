/**
 * The endpoint's work per input is O(what the input reached), not O(connections): with 5,000
 * idle fake connections, counted calls show that a datagram polls one connection, a timer runs
 * only the due ones, and `nextTimeout` reads no idle connection. Fakes make the crowd free to
 * build; `idle-crowd.test.ts` repeats the point with real QUIC connections.
 */
import { describe, expect, it } from 'vitest';
import { cid, drain, type FakeConnection, resetWork, shortDatagram, work } from './fakes.js';
import { harness } from './setup.js';

const PEER = '192.0.2.1:4433';
const CROWD = 5_000;

/** An endpoint with `n` connections, drained (all of them settled: nothing pending). */
function crowd(n: number, deadline?: (i: number) => number | undefined) {
  const h = harness({}, 21);
  const conns: FakeConnection[] = [];
  for (let i = 0; i < n; i++) {
    const c = h.ep.connect({ name: `c${i}` }, PEER, 0);
    c.deadline = deadline?.(i);
    conns.push(c);
  }
  drain(h.ep);
  h.ep.nextTimeout();
  resetWork(conns);
  return { ...h, conns };
}

describe('work per input does not grow with idle connections', () => {
  it('one datagram to one of 5,000 connections polls that connection only', () => {
    const { ep, conns } = crowd(CROWD);
    const busy = conns[1234];
    busy.echo = true;
    ep.receive(shortDatagram(busy.localCids[0], 80), PEER, 1);
    expect(ep.activeConnections()).toEqual([busy]);
    const out = drain(ep, 1);
    expect(out).toHaveLength(1);
    expect(out[0].data.length).toBe(80);
    expect(ep.nextTimeout()).toBeUndefined();
    // receive, pollTransmit (the echo), pollTransmit (nothing left), nextTimeout (filed).
    expect(busy.calls).toEqual({ receive: 1, pollTransmit: 2, nextTimeout: 1, handleTimeout: 0 });
    expect(work(conns)).toBe(4);
  });

  it('the cost of a datagram is the same with 1 and with 5,000 connections', () => {
    const counts: number[] = [];
    for (const n of [1, CROWD]) {
      const { ep, conns } = crowd(n);
      const busy = conns[0];
      busy.echo = true;
      for (let i = 0; i < 50; i++) {
        ep.receive(shortDatagram(busy.localCids[0], 60), PEER, i);
        drain(ep, i);
        ep.nextTimeout();
      }
      counts.push(work(conns));
    }
    expect(counts[1]).toBe(counts[0]);
  });

  it('handleTimeout runs and re-reads only the due connections; nextTimeout is a heap peek', () => {
    // Deadlines 1000, 1001, ... 5999 ms: at 1009 exactly ten are due.
    const { ep, conns } = crowd(CROWD, (i) => 1000 + i);
    expect(ep.nextTimeout()).toBe(1000);
    expect(work(conns)).toBe(0);
    ep.handleTimeout(1009);
    const ran = conns.filter((c) => c.calls.handleTimeout > 0);
    expect(ran).toEqual(conns.slice(0, 10));
    expect(ep.activeConnections()).toEqual(conns.slice(0, 10));
    drain(ep, 1009);
    expect(ep.nextTimeout()).toBe(1010);
    // Each due connection: handleTimeout, one empty poll, one deadline read; nobody else.
    expect(work(conns)).toBe(10 * 3);
  });

  it('a timer that fires early runs nothing; an unchanged heap is not re-read', () => {
    const { ep, conns } = crowd(CROWD, (i) => 2000 + i);
    ep.handleTimeout(1999);
    expect(ep.nextTimeout()).toBe(2000);
    expect(work(conns)).toBe(0);
  });
});

describe('active connections', () => {
  it('markActive: data an application queued on an idle connection leaves at the next flush', () => {
    const { ep, conns } = crowd(100);
    const c = conns[42];
    c.outbox.push({ data: new Uint8Array([7]), to: PEER });
    // Without the flag the endpoint does not look at an idle connection...
    expect(drain(ep, 5)).toEqual([]);
    // ...with it, the datagram leaves and only that connection is polled.
    ep.markActive(c);
    expect(drain(ep, 5)).toEqual([{ data: new Uint8Array([7]), to: PEER }]);
    expect(c.calls).toEqual({ receive: 0, pollTransmit: 2, nextTimeout: 1, handleTimeout: 0 });
    expect(work(conns.filter((x) => x !== c))).toBe(0);
  });

  it('a deadline an application moved is read again once the connection is flagged', () => {
    const { ep, conns } = crowd(10);
    conns[3].deadline = 77;
    expect(ep.nextTimeout()).toBeUndefined();
    ep.markActive(conns[3]);
    expect(ep.nextTimeout()).toBe(77);
    drain(ep);
    expect(ep.nextTimeout()).toBe(77);
  });

  it('busy connections share the sender round-robin while idle ones are never visited', () => {
    const { ep, conns } = crowd(1000);
    const [a, b] = [conns[10], conns[900]];
    for (let i = 0; i < 3; i++) {
      a.outbox.push({ data: new Uint8Array([0xa, i]), to: PEER });
      b.outbox.push({ data: new Uint8Array([0xb, i]), to: PEER });
    }
    ep.markActive(a);
    ep.markActive(b);
    ep.markActive(a); // flagging twice queues once
    const order = drain(ep).map((t) => `${t.data[0].toString(16)}${t.data[1]}`);
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
    expect(work(conns)).toBe(a.calls.pollTransmit + b.calls.pollTransmit + 2);
  });

  it('a connection that closes while queued is skipped, removed once and reported once', () => {
    const { ep, conns } = crowd(3);
    const [a, b] = conns;
    a.outbox.push({ data: new Uint8Array([1]), to: PEER });
    ep.markActive(a);
    ep.markActive(b);
    // `a` closes on a timer while it waits in the active ring.
    a.deadline = 5;
    a.onTimeout = () => {
      a.state = 'closed';
    };
    ep.handleTimeout(5);
    expect(ep.pollEvent()).toEqual({ type: 'closed', conn: a });
    expect(ep.activeConnections()).toEqual([b]);
    expect(drain(ep, 5)).toEqual([]);
    expect(a.calls.pollTransmit).toBe(0);
    expect(ep.pollEvent()).toBeUndefined();
    expect(ep.connections()).toEqual([b, conns[2]]);
    // A removed connection cannot be flagged back in.
    ep.markActive(a);
    expect(ep.activeConnections()).toEqual([]);
  });

  it('activeConnections fills the given array, a snapshot the caller may keep iterating', () => {
    const { ep, conns } = crowd(5);
    const out: FakeConnection[] = [conns[0]];
    ep.receive(shortDatagram(conns[2].localCids[0], 40), PEER, 1);
    ep.receive(shortDatagram(conns[4].localCids[0], 40), PEER, 1);
    expect(ep.activeConnections(out)).toBe(out);
    expect(out).toEqual([conns[2], conns[4]]);
    drain(ep, 1);
    expect(out).toEqual([conns[2], conns[4]]);
    expect(ep.activeConnections()).toEqual([]);
  });

  it('the endpoint queue takes its turn among busy connections', () => {
    const { ep, conns } = crowd(4);
    const a = conns[1];
    for (let i = 0; i < 3; i++) a.outbox.push({ data: new Uint8Array([0xa, i]), to: PEER });
    ep.markActive(a);
    ep.sendRaw(new Uint8Array([0xe, 0]), '198.51.100.7:1');
    ep.sendRaw(new Uint8Array([0xe, 1]), '198.51.100.7:1');
    const order = drain(ep).map((t) => `${t.data[0].toString(16)}${t.data[1]}`);
    expect(order).toEqual(['a0', 'e0', 'a1', 'e1', 'a2']);
    expect(ep.isCidRouted(cid(0x99))).toBe(false);
  });
});
