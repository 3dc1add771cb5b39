import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ClientHello,
  decodeHandshake,
  encodeHandshake,
  findExtension,
  locateBinders,
  patchBinders,
  placeholderBinders,
  truncatedClientHelloLength,
} from '../../src/tls/index.js';
import { toHex } from '../../src/wire/index.js';
import { clientHello, pskOffer } from './arbitraries.js';
import { clientHelloBytes } from './fixtures.js';
import { alertOf } from './helpers.js';

/** A ClientHello whose last extension is a pre_shared_key offer. */
const withPsk = fc.tuple(clientHello, pskOffer).map(
  ([ch, psk]): ClientHello => ({
    ...ch,
    extensions: [...ch.extensions.filter((e) => e.kind !== 'pre_shared_key'), psk],
  }),
);

function sampleHello(hashLengths: number[]): ClientHello {
  return {
    kind: 'client_hello',
    random: new Uint8Array(32).fill(1),
    legacySessionId: new Uint8Array(0),
    cipherSuites: [0x1301],
    extensions: [
      { kind: 'supported_versions', versions: [0x0304] },
      { kind: 'psk_key_exchange_modes', modes: [1] },
      {
        kind: 'pre_shared_key',
        identities: hashLengths.map((_, i) => ({
          identity: Uint8Array.of(0xa0 + i, 2, 3),
          obfuscatedTicketAge: 1000 + i,
        })),
        binders: placeholderBinders(hashLengths),
      },
    ],
  };
}

describe('PSK binders and the truncated ClientHello (RFC 9846 §4.2.11.2)', () => {
  it('Truncate(ClientHello) ends where the binders list begins', () => {
    const bytes = encodeHandshake(sampleHello([32, 48]));
    // binders<33..2^16-1>: 2-byte length, then (1 + 32) + (1 + 48) bytes.
    const bindersLength = 2 + 33 + 49;
    expect(truncatedClientHelloLength(bytes)).toBe(bytes.length - bindersLength);
    expect(
      toHex(bytes.subarray(bytes.length - bindersLength, bytes.length - bindersLength + 3)),
    ).toBe('005220');
    expect(locateBinders(bytes).binders).toEqual([
      { offset: bytes.length - 81, length: 32 },
      { offset: bytes.length - 48, length: 48 },
    ]);
  });

  it('patching real binders changes nothing before the cut and decodes back', () => {
    fc.assert(
      fc.property(withPsk, fc.nat(255), (ch, fill) => {
        const bytes = encodeHandshake(ch);
        const cut = truncatedClientHelloLength(bytes);
        const prefix = toHex(bytes.subarray(0, cut));
        const psk = findExtension(ch.extensions, 'pre_shared_key');
        if (!psk || !('binders' in psk)) throw new Error('no offer');
        const real = psk.binders.map((b) => new Uint8Array(b.length).fill(fill));
        patchBinders(bytes, real);
        expect(toHex(bytes.subarray(0, cut))).toBe(prefix);
        const back = decodeHandshake(1, bytes.subarray(4)) as ClientHello;
        const got = findExtension(back.extensions, 'pre_shared_key');
        expect(got && 'binders' in got ? got.binders : undefined).toEqual(real);
        // Truncate() spans everything but the binders list.
        const bindersLength = 2 + real.reduce((n, b) => n + 1 + b.length, 0);
        expect(cut).toBe(bytes.length - bindersLength);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses binders of other lengths or counts than the placeholders', () => {
    const bytes = encodeHandshake(sampleHello([32]));
    expect(alertOf(() => patchBinders(bytes, [new Uint8Array(48)]))).toBe('internal_error');
    expect(alertOf(() => patchBinders(bytes, [new Uint8Array(32), new Uint8Array(32)]))).toBe(
      'internal_error',
    );
  });

  it('needs a ClientHello with pre_shared_key', () => {
    expect(alertOf(() => truncatedClientHelloLength(clientHelloBytes))).toBe('decode_error');
    expect(alertOf(() => truncatedClientHelloLength(clientHelloBytes.subarray(0, 50)))).toBe(
      'decode_error',
    );
  });
});
