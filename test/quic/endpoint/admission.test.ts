/**
 * Connection and half-open limits per source address and in total (issue 10, points 1 and 2),
 * also for Initials whose token proved their address (RFC 9000 §8, §21.1.1.1): a client that
 * answers every Retry is held to its share while another source still connects.
 */
import { describe, expect, it } from 'vitest';
import { parseRetry } from '../../../src/quic/packet/index.js';
import { cid, clientInitial, drain, type FakeConnection } from './fakes.js';
import { harness } from './setup.js';

const ATTACKER = '198.51.100.7';
const VICTIM = '203.0.113.5:50000';

type Endpoint = ReturnType<typeof harness>['ep'];

/**
 * A client from `remote` that answers our Retry: sends a tokenless Initial and, when a Retry
 * comes back, the retried Initial with its token. Returns the Retry count (0 or 1).
 */
function connectAnsweringRetry(ep: Endpoint, remote: string, n: number, now: number): number {
  const scid = cid(0xc0 + (n % 16), 5);
  ep.receive(clientInitial(cid(n & 0xff, 8), scid), remote, now);
  const retry = drain(ep, now).find((t) => t.to === remote && (t.data[0] & 0x30) === 0x30);
  if (retry === undefined) return 0;
  const r = parseRetry(retry.data);
  ep.receive(clientInitial(r.scid, scid, r.token), remote, now);
  drain(ep, now);
  return 1;
}

function from(servers: FakeConnection[], host: string): FakeConnection[] {
  return servers.filter((s) => s.received[0]?.remote.startsWith(`${host}:`));
}

describe('admission limits (RFC 9000 §8, §21.1.1.1)', () => {
  it('a Retry-answering flood from one source is held to its half-open limit while another source still connects', () => {
    const { ep, servers } = harness({
      retry: 'under-load',
      retryLoadThreshold: 4,
      maxHalfOpen: 100,
      maxHalfOpenPerSource: 8,
      // The flood below is 400 Initials in one instant: this test is about the half-open limits.
      initialRatePerSource: { perSecond: 1e9, burst: 1e9 },
    });
    let retries = 0;
    // Every Initial from a new port; the tokens are bound to host:port, which the flood answers.
    for (let i = 0; i < 200; i++) {
      retries += connectAnsweringRetry(ep, `${ATTACKER}:${10_000 + i}`, i, 1000);
    }
    expect(retries).toBeGreaterThan(150);
    expect(from(servers, ATTACKER)).toHaveLength(8);
    expect(ep.stats().halfOpen).toBe(8);
    // At its limit the source gets Retries (stateless), and retried Initials are dropped.
    expect(ep.stats().dropped['source-half-open-limit']).toBe(retries - 4);

    connectAnsweringRetry(ep, VICTIM, 500, 1000);
    const victim = from(servers, '203.0.113.5');
    expect(victim).toHaveLength(1);
    expect(victim[0].info?.addressValidated).toBe(true);
  });

  it('a source whose handshakes complete may open more, up to maxConnectionsPerSource (CONNECTION_REFUSED beyond)', () => {
    const { ep, servers } = harness({ maxHalfOpenPerSource: 2, maxConnectionsPerSource: 3 });
    const open = (n: number) => {
      ep.receive(clientInitial(cid(n, 8), cid(0xc1, 5)), `${ATTACKER}:${20_000 + n}`, 0);
      return drain(ep);
    };
    open(1);
    open(2);
    expect(open(3)).toEqual([]); // dropped: two half-open already
    expect(servers).toHaveLength(2);
    expect(ep.stats().dropped['source-half-open-limit']).toBe(1);
    for (const s of servers) {
      s.state = 'established';
      ep.markActive(s);
    }
    drain(ep);
    expect(ep.stats().halfOpen).toBe(0);
    open(4);
    expect(servers).toHaveLength(3);
    const refused = open(5);
    expect(servers).toHaveLength(3);
    expect(refused).toHaveLength(1); // the CONNECTION_REFUSED Initial (§5.2.2)
    expect(ep.stats().dropped['source-connection-limit']).toBe(1);
    // Another source is not affected.
    ep.receive(clientInitial(cid(9, 8), cid(0xc2, 5)), VICTIM, 0);
    expect(servers).toHaveLength(4);
  });

  it('maxHalfOpen holds over every source, also for validated Initials', () => {
    const { ep, servers } = harness({ retry: 'always', maxHalfOpen: 3 });
    for (let i = 0; i < 6; i++) connectAnsweringRetry(ep, `192.0.2.${i + 1}:4000`, i, 0);
    expect(servers).toHaveLength(3);
    expect(ep.stats().dropped['half-open-limit']).toBe(3);
    // A connection that goes away frees its place.
    servers[0].state = 'closed';
    ep.markActive(servers[0]);
    drain(ep);
    expect(ep.stats().halfOpen).toBe(2);
    connectAnsweringRetry(ep, '192.0.2.99:4000', 99, 0);
    expect(servers).toHaveLength(4);
  });
});
