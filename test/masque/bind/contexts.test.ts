/**
 * The proxy's Context ID table of a bound tunnel (connect-udp-listen §3, §5, §6): every MUST,
 * without sockets.
 */
import { describe, expect, it } from 'vitest';
import { CapsuleError } from '../../../src/capsule/errors.js';
import { BindContexts, type BindPeer } from '../../../src/masque/bind/contexts.js';
import {
  type CompressionCapsule,
  CompressionCapsuleType as T,
} from '../../../src/masque/capsules/compression.js';
import { ipToBytes } from '../../../src/masque/payload/ip.js';

const uncompressed = (contextId: number): CompressionCapsule => ({
  type: T.COMPRESSION_ASSIGN,
  contextId,
  ipVersion: 0,
});
const compressed = (contextId: number, address: string, port: number): CompressionCapsule => {
  const bytes = ipToBytes(address);
  return {
    type: T.COMPRESSION_ASSIGN,
    contextId,
    ipVersion: bytes.length === 4 ? 4 : 6,
    address: bytes,
    port,
  };
};
const ack = (contextId: number): CompressionCapsule => ({ type: T.COMPRESSION_ACK, contextId });
const close = (contextId: number): CompressionCapsule => ({ type: T.COMPRESSION_CLOSE, contextId });
const peer = (address: string, port: number): BindPeer => ({ address, port });

function table(maxContexts = 8, allowPeer?: (p: BindPeer) => boolean): BindContexts {
  return new BindContexts({ maxContexts, allowPeer });
}

describe('client registrations', () => {
  it('acknowledges the uncompressed context and compressed ones (§3.1)', () => {
    const t = table();
    expect(t.receive(uncompressed(2))).toEqual([ack(2)]);
    expect(t.receive(compressed(4, '192.0.2.1', 53))).toEqual([ack(4)]);
    expect(t.receive(compressed(6, '2001:db8::1', 443))).toEqual([ack(6)]);
    expect(t.route(2)).toEqual({ kind: 'uncompressed' });
    expect(t.route(4)).toEqual({ kind: 'compressed', peer: peer('192.0.2.1', 53) });
    expect(t.route(6)).toEqual({ kind: 'compressed', peer: peer('2001:db8::1', 443) });
    expect(t.size).toBe(3);
  });

  it('an odd (proxy-allocated) Context ID from the client is malformed (RFC 9298 §4)', () => {
    expect(() => table().receive(uncompressed(3))).toThrow(CapsuleError);
    // RFC 9297 §3.3: a malformed capsule aborts the stream with H3_DATAGRAM_ERROR.
    expect(() => table().receive(uncompressed(3))).toThrow(expect.objectContaining({ code: 0x33 }));
  });

  it('an ID assigned twice is malformed, even after it closed (§3.1, §3.3)', () => {
    const t = table();
    t.receive(compressed(4, '192.0.2.1', 53));
    expect(() => t.receive(compressed(4, '192.0.2.2', 53))).toThrow(/assigned twice/);
    t.receive(close(4));
    expect(() => t.receive(compressed(4, '192.0.2.3', 53))).toThrow(/assigned twice/);
  });

  it('a second uncompressed context while one is open is malformed; reopening after close is fine (§5)', () => {
    const t = table();
    t.receive(uncompressed(2));
    expect(() => t.receive(uncompressed(4))).toThrow(/second uncompressed/);
    t.receive(close(2));
    expect(t.receive(uncompressed(6))).toEqual([ack(6)]);
  });

  it('the client naming a tuple it already holds is malformed (§3.1)', () => {
    const t = table();
    t.receive(compressed(4, '192.0.2.1', 53));
    expect(() => t.receive(compressed(6, '192.0.2.1', 53))).toThrow(/already has Context ID 4/);
  });

  it('past the limit, or to a denied peer, the answer is COMPRESSION_CLOSE, and the ID is spent (§7)', () => {
    const t = table(1, (p) => p.port !== 25);
    expect(t.receive(compressed(2, '192.0.2.1', 25))).toEqual([close(2)]);
    expect(t.receive(uncompressed(4))).toEqual([ack(4)]);
    expect(t.receive(compressed(6, '192.0.2.1', 53))).toEqual([close(6)]);
    expect(() => t.receive(compressed(2, '192.0.2.9', 53))).toThrow(/assigned twice/);
  });

  it('COMPRESSION_ACK for an ID we did not assign, and CLOSE of 0, are malformed (§3.2, §3.3)', () => {
    const t = table();
    t.receive(uncompressed(2));
    expect(() => t.receive(ack(2))).toThrow(/did not assign/);
    expect(() => t.receive(ack(5))).toThrow(/did not assign/);
    expect(() => t.receive(close(0))).toThrow(/Context ID 0/);
  });
});

describe('datagram routes', () => {
  it('closed contexts are discarded silently, unknown ones dropped (§3.3, RFC 9298 §4)', () => {
    const t = table();
    t.receive(compressed(4, '192.0.2.1', 53));
    t.receive(close(4));
    expect(t.route(4)).toEqual({ kind: 'closed' });
    expect(t.route(8)).toEqual({ kind: 'unknown' });
  });

  it('the firewall property: without the uncompressed context only named peers get in (§6)', () => {
    const t = table();
    t.receive(compressed(4, '192.0.2.1', 53));
    expect(t.inbound(peer('192.0.2.1', 53))).toEqual({ kind: 'compressed', contextId: 4 });
    expect(t.inbound(peer('198.51.100.7', 9))).toEqual({ kind: 'none' });
    t.receive(uncompressed(2));
    expect(t.inbound(peer('198.51.100.7', 9))).toEqual({ kind: 'uncompressed', contextId: 2 });
    t.receive(close(2));
    expect(t.inbound(peer('198.51.100.7', 9))).toEqual({ kind: 'none' });
    // ... and we may not open a compressed context for such a sender either (§3.1).
    expect(t.assign(peer('198.51.100.7', 9))).toBeUndefined();
  });
});

describe('proxy-assigned contexts', () => {
  it('are odd, used inbound only once acknowledged, and closable by the client', () => {
    const t = table();
    t.receive(uncompressed(2));
    const a = t.assign(peer('192.0.2.1', 53));
    expect(a).toMatchObject({ type: T.COMPRESSION_ASSIGN, contextId: 1, ipVersion: 4, port: 53 });
    expect(t.inbound(peer('192.0.2.1', 53))).toEqual({ kind: 'uncompressed', contextId: 2 });
    expect(t.receive(ack(1))).toEqual([]);
    expect(t.inbound(peer('192.0.2.1', 53))).toEqual({ kind: 'compressed', contextId: 1 });
    expect(() => t.receive(ack(1))).toThrow(/did not assign/); // acknowledged already
    expect(t.assign(peer('192.0.2.2', 53))?.contextId).toBe(3);
    expect(t.assign(peer('192.0.2.1', 53))).toBeUndefined(); // the tuple has one
    t.receive(close(1));
    expect(t.inbound(peer('192.0.2.1', 53))).toEqual({ kind: 'uncompressed', contextId: 2 });
  });

  it("a crossing registration of the same tuple closes ours and keeps the client's (§3.1)", () => {
    const t = table();
    t.receive(uncompressed(2));
    expect(t.assign(peer('192.0.2.1', 53))?.contextId).toBe(1);
    expect(t.receive(compressed(4, '192.0.2.1', 53))).toEqual([close(1), ack(4)]);
    expect(t.route(1)).toEqual({ kind: 'closed' });
    expect(t.inbound(peer('192.0.2.1', 53))).toEqual({ kind: 'compressed', contextId: 4 });
  });

  it('close() of an open context says COMPRESSION_CLOSE once', () => {
    const t = table();
    t.receive(compressed(4, '192.0.2.1', 53));
    expect(t.close(4)).toEqual([close(4)]);
    expect(t.close(4)).toEqual([]);
  });
});
