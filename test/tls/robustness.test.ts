/**
 * Hostile input: arbitrary and mutated bytes only ever produce a value or a TlsAlertError, an
 * accepted message re-encodes to the same bytes, and every truncation fails with decode_error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHandshake,
  encodeHandshake,
  type HandshakeMessage,
  parseHandshake,
  TlsAlertError,
} from '../../src/tls/index.js';
import { toHex } from '../../src/wire/index.js';
import { handshakeMessage } from './arbitraries.js';
import { clientHelloBytes, serverHelloBytes } from './fixtures.js';
import { alertOf } from './helpers.js';

const TYPES = [1, 2, 4, 5, 8, 11, 13, 15, 20, 24];

/** Decodes; if accepted, checks that the value re-encodes to the same body. */
function decodeCanonically(type: number, body: Uint8Array, hashLength: number): void {
  let msg: HandshakeMessage;
  try {
    msg = decodeHandshake(type, body, { hashLength });
  } catch (e) {
    if (e instanceof TlsAlertError) return;
    throw e;
  }
  // The one value we decode but refuse to send: a ticket lifetime above 7 days (§4.6.1).
  if (msg.kind === 'new_session_ticket' && msg.ticketLifetime > 604_800) return;
  expect(toHex(encodeHandshake(msg).subarray(4))).toBe(toHex(body));
}

const mutation = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
);

interface Mutation {
  op: 'flip' | 'set' | 'insert' | 'delete';
  at: number;
  bit?: number;
  value?: number;
}

function mutate(body: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Array.from(body);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 'flip' && b.length > 0) b[at] ^= 1 << (m.bit ?? 0);
    else if (m.op === 'set' && b.length > 0) b[at] = m.value ?? 0;
    else if (m.op === 'insert') b.splice(at, 0, m.value ?? 0);
    else if (m.op === 'delete' && b.length > 0) b = b.filter((_, i) => i !== at);
  }
  return Uint8Array.from(b);
}

describe('decoding hostile bytes', () => {
  it('arbitrary bodies of every type: a message or a TlsAlertError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...TYPES), fc.integer({ min: 0, max: 255 })),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(32, 48),
        (type, body, hashLength) => decodeCanonically(type, body, hashLength),
      ),
      { numRuns: 10_000 },
    );
  });

  it('mutated valid messages: a message that re-encodes identically, or a TlsAlertError', () => {
    fc.assert(
      fc.property(
        handshakeMessage,
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (msg, muts) => {
          const raw = parseHandshake(encodeHandshake(msg));
          const hashLength = msg.kind === 'finished' ? msg.verifyData.length : 32;
          decodeCanonically(raw.type, mutate(raw.body, muts), hashLength);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('mutated RFC 9001 vectors: same property', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(clientHelloBytes, serverHelloBytes),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (bytes, muts) => decodeCanonically(bytes[0], mutate(bytes.subarray(4), muts), 32),
      ),
      { numRuns: 5000 },
    );
  });
});

/**
 * Every proper prefix of a framed message and of its body fails with decode_error; returns the
 * offending prefix lengths (checked in bulk: an `expect` per prefix is too slow here).
 */
function badTruncations(bytes: Uint8Array, hashLength: number): string[] {
  const bad: string[] = [];
  for (let n = 0; n < bytes.length; n++) {
    const alert = alertOf(() => parseHandshake(bytes.subarray(0, n)));
    if (alert !== 'decode_error') bad.push(`frame[0..${n}): ${alert}`);
  }
  const type = bytes[0];
  const body = bytes.subarray(4);
  for (let n = 0; n < body.length; n++) {
    let msg: HandshakeMessage | undefined;
    const alert = alertOf(() => {
      msg = decodeHandshake(type, body.subarray(0, n), { hashLength });
    });
    // RFC 9846 §4.1.2: a ClientHello may end after legacy_compression_methods (no extensions).
    if (msg?.kind === 'client_hello' && msg.extensions.length === 0) continue;
    if (alert !== 'decode_error') bad.push(`body[0..${n}): ${alert}`);
  }
  return bad;
}

describe('truncation', () => {
  it('RFC 9001 A.2 ClientHello and A.3 ServerHello', () => {
    expect(badTruncations(clientHelloBytes, 32)).toEqual([]);
    expect(badTruncations(serverHelloBytes, 32)).toEqual([]);
  });

  it('every message kind', () => {
    fc.assert(
      fc.property(handshakeMessage, (msg) => {
        const hashLength = msg.kind === 'finished' ? msg.verifyData.length : 32;
        expect(badTruncations(encodeHandshake(msg), hashLength)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
