import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statelessResetToken } from '../../../src/quic/path/index.js';
import { cid, drain, shortDatagram } from './fakes.js';
import { harness } from './setup.js';

const KEY = new Uint8Array(32).fill(0x42);
const PEER = '192.0.2.44:7000';

describe('stateless reset for unknown short headers (RFC 9000 §10.3)', () => {
  it('answers an unroutable short header with a smaller reset carrying the token for its DCID', () => {
    const { ep } = harness({ statelessResetKey: KEY });
    const dcid = cid(0x9e);
    ep.receive(shortDatagram(dcid, 100), PEER, 0);
    const [t] = drain(ep);
    expect(t.to).toBe(PEER);
    expect(t.data.length).toBeLessThan(100);
    expect(t.data.length).toBeGreaterThanOrEqual(42);
    // 01xxxxxx: a short header with the fixed bit (§10.3).
    expect(t.data[0] & 0xc0).toBe(0x40);
    expect(t.data.subarray(t.data.length - 16)).toEqual(statelessResetToken(KEY, dcid));
    expect(ep.resetTokenFor(dcid)).toEqual(statelessResetToken(KEY, dcid));
    expect(ep.stats().resetsSent).toBe(1);
  });

  it('sends nothing for a trigger of 21 bytes or less (no loop, §10.3.3); 22 bytes get a 21-byte reset', () => {
    const { ep } = harness({ statelessResetKey: KEY });
    ep.receive(shortDatagram(cid(1), 21), PEER, 0);
    expect(drain(ep)).toEqual([]);
    expect(ep.stats().dropped['unknown-connection']).toBe(1);
    ep.receive(shortDatagram(cid(1), 22), PEER, 0);
    expect(drain(ep).map((t) => t.data.length)).toEqual([21]);
  });

  it('every reset is smaller than its trigger, for any trigger size', () => {
    const { ep } = harness({ statelessResetKey: KEY, resetRate: { perSecond: 0, burst: 1e9 } });
    fc.assert(
      fc.property(fc.integer({ min: 9, max: 1500 }), (size) => {
        ep.receive(shortDatagram(cid(size & 0xff), size), PEER, 0);
        const out = drain(ep);
        if (size <= 21) return out.length === 0;
        return out.length === 1 && out[0].data.length < size && out[0].data.length >= 21;
      }),
      { numRuns: 2000 },
    );
  });

  it('is rate-limited, and the limit refills with time', () => {
    const { ep } = harness({ statelessResetKey: KEY, resetRate: { perSecond: 10, burst: 2 } });
    for (let i = 0; i < 3; i++) ep.receive(shortDatagram(cid(i), 80), PEER, 0);
    expect(drain(ep)).toHaveLength(2);
    expect(ep.stats().dropped['reset-rate-limited']).toBe(1);
    ep.receive(shortDatagram(cid(7), 80), PEER, 100);
    expect(drain(ep)).toHaveLength(1);
  });

  it('without a reset key, unknown short headers are only counted', () => {
    const { ep } = harness();
    ep.receive(shortDatagram(cid(1), 200), PEER, 0);
    expect(drain(ep)).toEqual([]);
    expect(ep.stats().dropped['unknown-connection']).toBe(1);
  });
});

describe('detecting a stateless reset (RFC 9000 §10.3.1)', () => {
  it("an unroutable datagram from the peer's address ending in its token drains that connection", () => {
    const { ep } = harness({ statelessResetKey: KEY });
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    const token = new Uint8Array(16).fill(0x7c);
    conn.peerResetTokens.push(token);
    const reset = shortDatagram(cid(0xee), 45);
    reset.set(token, 45 - 16);
    ep.receive(reset, PEER, 1);
    expect(conn.state).toBe('draining');
    expect(ep.stats().resetsDetected).toBe(1);
    // Recognised as a reset: we do not answer it with one of our own.
    expect(drain(ep)).toEqual([]);
  });

  it('the same datagram from another address is not offered to the connection', () => {
    const { ep } = harness({ statelessResetKey: KEY });
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    const token = new Uint8Array(16).fill(0x7c);
    conn.peerResetTokens.push(token);
    const reset = shortDatagram(cid(0xee), 45);
    reset.set(token, 45 - 16);
    ep.receive(reset, '192.0.2.45:7000', 1);
    expect(conn.state).toBe('handshaking');
    expect(conn.received).toHaveLength(0);
    expect(ep.stats().resetsSent).toBe(1);
  });

  it('the address followed is the one the connection last sent to (migration)', () => {
    const { ep } = harness();
    const conn = ep.connect({ name: 'c' }, PEER, 0);
    conn.outbox.push({ data: new Uint8Array([1]), to: '192.0.2.99:1' });
    drain(ep);
    const token = new Uint8Array(16).fill(0x3d);
    conn.peerResetTokens.push(token);
    const reset = shortDatagram(cid(0xee), 30);
    reset.set(token, 30 - 16);
    ep.receive(reset, PEER, 1);
    expect(conn.state).toBe('handshaking');
    ep.receive(reset, '192.0.2.99:1', 2);
    expect(conn.state).toBe('draining');
  });

  it('with several connections at that address, each is offered the datagram until one recognises it', () => {
    const { ep } = harness({ statelessResetKey: KEY });
    const a = ep.connect({ name: 'a' }, PEER, 0);
    const b = ep.connect({ name: 'b' }, PEER, 0);
    const token = new Uint8Array(16).fill(0x51);
    b.peerResetTokens.push(token);
    const reset = shortDatagram(cid(0xef), 50);
    reset.set(token, 50 - 16);
    ep.receive(reset, PEER, 1);
    expect(a.received).toHaveLength(1);
    expect(a.state).toBe('handshaking');
    expect(b.state).toBe('draining');
    expect(ep.stats().resetsDetected).toBe(1);
    expect(drain(ep)).toEqual([]);
  });
});
