import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TlsAlertError } from '../../../src/tls/alert.js';
import {
  openTicket,
  type StoredTicket,
  sealTicket,
  type TicketState,
} from '../../../src/tls/handshake/index.js';
import { SeededRandom } from '../../../src/util/random.js';
import {
  drive,
  eventsOf,
  makePair,
  NOW,
  type PairOptions,
  serverSentCertificate,
} from './harness.js';

const TICKET_KEY = new Uint8Array(32).fill(0x5a);
const OTHER_KEY = new Uint8Array(32).fill(0xa5);

/** A first connection that hands the client a ticket. */
function firstConnection(opts: PairOptions = {}): StoredTicket {
  const pair = makePair({
    ...opts,
    server: { tickets: { key: TICKET_KEY, lifetimeSeconds: 3600 }, ...opts.server },
  });
  drive(pair);
  const tickets = eventsOf(pair.clientEvents, 'ticket');
  expect(tickets).toHaveLength(1);
  const sent = eventsOf(pair.serverEvents, 'send').filter((e) => e.level === 'application');
  expect(sent).toHaveLength(1); // one NewSessionTicket, after completion
  return tickets[0].ticket;
}

function resume(ticket: StoredTicket, now: number, opts: PairOptions = {}) {
  const pair = makePair({
    seed: 2,
    ...opts,
    client: { resumption: ticket, ...opts.client },
    server: { tickets: { key: TICKET_KEY }, ...opts.server },
  });
  drive(pair, now);
  return pair;
}

describe('session resumption (psk_dhe_ke)', () => {
  it('a ticket from the first connection resumes: resumed true, no Certificate sent', () => {
    const ticket = firstConnection();
    expect(ticket.serverName).toBe('localhost');
    expect(ticket.alpn).toBe('h3');
    expect(ticket.lifetime).toBe(3600);
    expect(ticket.psk.length).toBe(32);
    const pair = resume(ticket, NOW + 60_000);
    const [c] = eventsOf(pair.clientEvents, 'complete');
    const [s] = eventsOf(pair.serverEvents, 'complete');
    expect(c.resumed).toBe(true);
    expect(s.resumed).toBe(true);
    expect(serverSentCertificate(pair.serverEvents)).toBe(false);
    expect(pair.client.peerCertificate).toBeUndefined();
    // the resumed connection issues a fresh ticket
    expect(eventsOf(pair.clientEvents, 'ticket')).toHaveLength(1);
  });

  it('resumes with a SHA-384 suite', () => {
    const opts = { client: { cipherSuites: ['TLS_AES_256_GCM_SHA384' as const] } };
    const ticket = firstConnection(opts);
    expect(ticket.psk.length).toBe(48);
    const pair = resume(ticket, NOW + 1000, opts);
    expect(eventsOf(pair.clientEvents, 'complete')[0].resumed).toBe(true);
  });

  it('resumes across a HelloRetryRequest (binder recomputed over message_hash + HRR)', () => {
    const ticket = firstConnection();
    const pair = resume(ticket, NOW + 1000, { client: { keyShareGroups: ['secp256r1'] } });
    const initial = eventsOf(pair.serverEvents, 'send').filter((e) => e.level === 'initial');
    expect(initial).toHaveLength(2);
    expect(eventsOf(pair.clientEvents, 'complete')[0].resumed).toBe(true);
  });

  it('a ticket older than its lifetime is not offered: full handshake', () => {
    const ticket = firstConnection();
    const pair = resume(ticket, NOW + 3601_000);
    expect(eventsOf(pair.clientEvents, 'complete')[0].resumed).toBe(false);
    expect(serverSentCertificate(pair.serverEvents)).toBe(true);
  });

  it('a ticket for another server name is not offered', () => {
    const ticket = firstConnection();
    const pair = resume(ticket, NOW + 1000, {
      client: { serverName: 'example.test' },
    });
    expect(eventsOf(pair.clientEvents, 'complete')[0].resumed).toBe(false);
  });

  it('a server with another ticket key ignores the ticket and falls back to a full handshake', () => {
    const ticket = firstConnection();
    const pair = resume(ticket, NOW + 1000, { server: { tickets: { key: OTHER_KEY } } });
    expect(eventsOf(pair.serverEvents, 'complete')[0].resumed).toBe(false);
    expect(serverSentCertificate(pair.serverEvents)).toBe(true);
  });

  it('a suite with another hash cannot use the ticket: full handshake', () => {
    const ticket = firstConnection();
    const pair = resume(ticket, NOW + 1000, {
      server: { cipherSuites: ['TLS_AES_256_GCM_SHA384'] },
    });
    expect(eventsOf(pair.clientEvents, 'complete')[0].resumed).toBe(false);
  });

  it('a wrong binder is decrypt_error (RFC 9846 §6.2)', () => {
    const ticket = firstConnection();
    const pair = makePair({
      seed: 3,
      client: { resumption: ticket },
      server: { tickets: { key: TICKET_KEY } },
    });
    try {
      drive(pair, NOW + 1000, {
        tamper: (from, ev) => {
          if (from !== 'client' || ev.level !== 'initial') return ev.data;
          const copy = ev.data.slice();
          copy[copy.length - 1] ^= 1; // the binder is the last field of the ClientHello
          return copy;
        },
      });
      throw new Error('handshake should fail');
    } catch (err) {
      expect(err).toBeInstanceOf(TlsAlertError);
      expect((err as TlsAlertError).alertName).toBe('decrypt_error');
    }
  });

  it('a server without tickets configured sends no NewSessionTicket', () => {
    const pair = makePair();
    drive(pair);
    expect(eventsOf(pair.clientEvents, 'ticket')).toHaveLength(0);
  });
});

describe('ticket sealing', () => {
  const state: TicketState = {
    suite: 0x1301,
    psk: new Uint8Array(32).fill(7),
    issuedAt: NOW,
    lifetime: 600,
    ageAdd: 0xdeadbeef,
    alpn: Uint8Array.of(0x68, 0x33),
    serverName: 'localhost',
  };

  it('open(seal(state)) is the state (round trip)', () => {
    fc.assert(
      fc.property(
        fc.record({
          suite: fc.constantFrom(0x1301, 0x1302, 0x1303),
          psk: fc.uint8Array({ minLength: 32, maxLength: 48 }),
          issuedAt: fc.integer({ min: 0, max: 2 ** 48 }),
          lifetime: fc.integer({ min: 0, max: 604800 }),
          ageAdd: fc.integer({ min: 0, max: 0xffff_ffff }),
          alpn: fc.uint8Array({ minLength: 1, maxLength: 20 }),
          serverName: fc.string({ maxLength: 60 }),
        }),
        fc.integer(),
        (s, seed) => {
          const ticket = sealTicket(TICKET_KEY, new SeededRandom(seed), s);
          expect(openTicket(TICKET_KEY, ticket)).toEqual(s);
          expect(openTicket(OTHER_KEY, ticket)).toBeUndefined();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes never open and never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(openTicket(TICKET_KEY, bytes)).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('every proper prefix and every single-bit flip of a ticket is rejected', () => {
    const ticket = sealTicket(TICKET_KEY, new SeededRandom(1), state);
    for (let n = 0; n < ticket.length; n++) {
      expect(openTicket(TICKET_KEY, ticket.subarray(0, n))).toBeUndefined();
    }
    for (let i = 0; i < ticket.length * 8; i += 5) {
      const copy = ticket.slice();
      copy[i >> 3] ^= 1 << (i & 7);
      expect(openTicket(TICKET_KEY, copy)).toBeUndefined();
    }
  });
});
