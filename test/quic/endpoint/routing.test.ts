import { describe, expect, it } from 'vitest';
import { QuicEndpoint } from '../../../src/quic/endpoint/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import { cid, clientInitial, drain, type FakeConnection, shortDatagram } from './fakes.js';
import { harness } from './setup.js';

const PEER = '192.0.2.1:4433';

describe('routing by connection ID (RFC 9000 §5.2)', () => {
  it('a short header addressed to a client connection CID reaches that connection only', () => {
    const { ep, clients } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    expect(clients).toEqual([a, b]);
    ep.receive(shortDatagram(a.localCids[0], 60), PEER, 1);
    ep.receive(shortDatagram(b.localCids[0], 61), PEER, 2);
    expect(a.received.map((r) => r.datagram.length)).toEqual([60]);
    expect(b.received.map((r) => r.datagram.length)).toEqual([61]);
    expect(a.received[0].now).toBe(1);
    expect(a.received[0].remote).toBe(PEER);
  });

  it('follows CID changes: a newly issued CID routes, a retired one no longer does', () => {
    const { ep } = harness();
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    const first = conn.localCids[0];
    // The connection issues a NEW_CONNECTION_ID while processing a packet.
    conn.addCid(cid(0xb2));
    ep.receive(shortDatagram(first, 50), PEER, 1);
    ep.receive(shortDatagram(cid(0xb2), 50), PEER, 2);
    expect(conn.received).toHaveLength(2);
    // The peer retires the first CID (RETIRE_CONNECTION_ID).
    conn.removeCid(first);
    ep.receive(shortDatagram(cid(0xb2), 50), PEER, 3);
    expect(conn.received).toHaveLength(3);
    ep.receive(shortDatagram(first, 50), '192.0.2.2:4433', 4);
    expect(conn.received).toHaveLength(3);
    expect(ep.stats().dropped['unknown-connection']).toBe(1);
  });

  it('a CID already routed to another connection is not stolen by a colliding announcement', () => {
    const { ep } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    b.addCid(a.localCids[0]);
    ep.receive(shortDatagram(b.localCids[0], 40), PEER, 0);
    ep.receive(shortDatagram(a.localCids[0], 40), PEER, 0);
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
  });

  it('a client endpoint without a server factory cannot be connected through a missing client factory', () => {
    const ep = new QuicEndpoint<FakeConnection>({ random: new SeededRandom(1) });
    expect(() => ep.connect(undefined, PEER, 0)).toThrow(/createClientConnection/);
  });

  it('rejects a local CID length outside 0..20', () => {
    expect(() => new QuicEndpoint({ random: new SeededRandom(1), localCidLength: 21 })).toThrow(
      RangeError,
    );
  });

  it('short headers are parsed with the configured CID length', () => {
    const { ep } = harness({ localCidLength: 4 });
    const conn = ep.connect({ name: 'x' }, PEER, 0);
    conn.addCid(cid(0x44, 4));
    ep.receive(shortDatagram(cid(0x44, 4), 30), PEER, 0);
    expect(conn.received).toHaveLength(1);
  });
});

describe('claim hook and claimed CIDs (seam 1)', () => {
  it('the claim hook sees the invariant header first and takes the datagram over', () => {
    const seen: Array<{ form: string; dcid: string; version: number | undefined }> = [];
    const { ep } = harness({
      claimDatagram: (_d, h, _remote) => {
        seen.push({ form: h.form, dcid: Buffer.from(h.dcid).toString('hex'), version: h.version });
        return h.dcid[0] === 0xcc;
      },
    });
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    conn.addCid(cid(0xcc));
    ep.receive(shortDatagram(cid(0xcc), 40), PEER, 0);
    expect(conn.received).toHaveLength(0);
    ep.receive(shortDatagram(conn.localCids[0], 40), PEER, 0);
    expect(conn.received).toHaveLength(1);
    ep.receive(clientInitial(cid(0xcc, 9), cid(1)), PEER, 0);
    expect(seen[0]).toEqual({ form: 'short', dcid: 'cc'.repeat(8), version: undefined });
    expect(seen[2]).toEqual({ form: 'long', dcid: 'cc'.repeat(9), version: 1 });
    expect(ep.stats().claimed).toBe(2);
  });

  it('a claimed CID wins over a connection route; unclaiming restores it', () => {
    const { ep } = harness();
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    const got: number[] = [];
    ep.claimCid(conn.localCids[0], (d) => got.push(d.length));
    expect(ep.isCidRouted(conn.localCids[0])).toBe(true);
    ep.receive(shortDatagram(conn.localCids[0], 33), PEER, 0);
    expect(got).toEqual([33]);
    expect(conn.received).toHaveLength(0);
    ep.unclaimCid(conn.localCids[0]);
    ep.receive(shortDatagram(conn.localCids[0], 34), PEER, 0);
    expect(conn.received).toHaveLength(1);
  });
});

describe('transmission round-robin', () => {
  it('interleaves connections and the endpoint queue so no source starves the others', () => {
    const { ep } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    for (let i = 0; i < 3; i++) {
      a.outbox.push({ data: new Uint8Array([0xa, i]), to: PEER });
      b.outbox.push({ data: new Uint8Array([0xb, i]), to: PEER });
    }
    ep.sendRaw(new Uint8Array([0xe, 0]), '198.51.100.7:1');
    ep.sendRaw(new Uint8Array([0xe, 1]), '198.51.100.7:1');
    const order = drain(ep).map((t) => `${t.data[0].toString(16)}${t.data[1]}`);
    expect(order).toEqual(['a0', 'b0', 'e0', 'a1', 'b1', 'e1', 'a2', 'b2']);
    expect(ep.pollTransmit(0)).toBeUndefined();
  });

  it('sendRaw datagrams leave with their destination', () => {
    const { ep } = harness();
    ep.sendRaw(new Uint8Array([1, 2, 3]), '[2001:db8::1]:443');
    expect(drain(ep)).toEqual([{ data: new Uint8Array([1, 2, 3]), to: '[2001:db8::1]:443' }]);
  });
});

describe('timers and connection lifetime', () => {
  it('nextTimeout is the earliest deadline; handleTimeout runs only the connections due', () => {
    const { ep } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    expect(ep.nextTimeout()).toBeUndefined();
    a.deadline = 50;
    b.deadline = 20.5;
    expect(ep.nextTimeout()).toBe(20.5);
    ep.handleTimeout(21);
    expect(b.timeoutsRun).toEqual([21]);
    expect(a.timeoutsRun).toEqual([]);
    expect(ep.nextTimeout()).toBe(50);
  });

  it('a connection that reaches closed on a timer is removed with its routes and reported', () => {
    const { ep } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    // The CID is announced while the connection processes a packet.
    a.addCid(cid(0x5a));
    ep.receive(shortDatagram(a.localCids[0], 40), PEER, 0);
    ep.receive(shortDatagram(cid(0x5a), 40), PEER, 0);
    expect(a.received).toHaveLength(2);
    a.deadline = 10;
    a.onTimeout = () => {
      a.state = 'closed';
    };
    ep.handleTimeout(10);
    expect(ep.pollEvent()).toEqual({ type: 'closed', conn: a });
    expect(ep.pollEvent()).toBeUndefined();
    expect(ep.stats().connections).toBe(0);
    ep.receive(shortDatagram(cid(0x5a), 40), PEER, 11);
    ep.receive(shortDatagram(a.localCids[0], 40), PEER, 11);
    expect(a.received).toHaveLength(2);
    expect(ep.stats().dropped['unknown-connection']).toBe(2);
  });

  it('a connection found closed while polling for transmit is removed too', () => {
    const { ep } = harness();
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    a.state = 'closed';
    b.outbox.push({ data: new Uint8Array([1]), to: PEER });
    expect(drain(ep)).toHaveLength(1);
    expect(ep.connections()).toEqual([b]);
    expect(ep.pollEvent()).toEqual({ type: 'closed', conn: a });
  });

  it('shutdown closes every connection and stops accepting', () => {
    const { ep, servers } = harness();
    ep.receive(clientInitial(cid(1), cid(2)), PEER, 0);
    const c = ep.connect({ name: 'c' }, PEER, 0);
    ep.shutdown(7, 'bye');
    expect(servers[0].closedWith).toEqual({ code: 7, reason: 'bye' });
    expect(c.closedWith).toEqual({ code: 7, reason: 'bye' });
    expect(drain(ep)).toHaveLength(2);
    ep.receive(clientInitial(cid(3), cid(4)), PEER, 0);
    expect(servers).toHaveLength(1);
    expect(ep.stats().dropped['not-accepting']).toBe(1);
  });
});
