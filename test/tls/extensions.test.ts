import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Extension,
  type ExtensionContext,
  ExtensionType,
  readExtensions,
  writeExtensions,
} from '../../src/tls/index.js';
import { ByteReader, ByteWriter, toHex } from '../../src/wire/index.js';
import { extensionBlock } from './arbitraries.js';
import { alertOf, canon, rawBlock } from './helpers.js';

const T = ExtensionType;
const CONTEXTS: ExtensionContext[] = [
  'client_hello',
  'server_hello',
  'hello_retry_request',
  'encrypted_extensions',
  'certificate',
  'certificate_request',
  'new_session_ticket',
];

function encode(exts: readonly Extension[], ctx: ExtensionContext): Uint8Array {
  const w = new ByteWriter();
  writeExtensions(w, exts, ctx);
  return w.toBytes();
}

function decode(bytes: Uint8Array, ctx: ExtensionContext): Extension[] {
  const r = new ByteReader(bytes);
  const out = readExtensions(r, ctx);
  r.expectEnd();
  return out;
}

const decodeAlert = (ctx: ExtensionContext, ...exts: [number, string][]) =>
  alertOf(() => decode(rawBlock(...exts), ctx));

describe('extension blocks round-trip (RFC 9846 §4.2)', () => {
  for (const ctx of CONTEXTS) {
    it(`in ${ctx}`, () => {
      fc.assert(
        fc.property(extensionBlock(ctx), (exts) => {
          const bytes = encode(exts, ctx);
          const back = decode(bytes, ctx);
          if (canon(back) !== canon(exts)) expect(back).toEqual(exts);
          const again = toHex(encode(back, ctx));
          if (again !== toHex(bytes)) expect(again).toBe(toHex(bytes));
        }),
        { numRuns: 2000 },
      );
    });
  }
});

describe('extension block rules', () => {
  it('rejects a type twice in one block with illegal_parameter (§4.2)', () => {
    expect(decodeAlert('client_hello', [T.cookie, '000101'], [T.cookie, '000102'])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('encrypted_extensions', [0x1234, ''], [0x1234, 'aa'])).toBe(
      'illegal_parameter',
    );
    expect(
      alertOf(() =>
        encode(
          [
            { kind: 'unknown', type: 0x1234, data: new Uint8Array() },
            { kind: 'unknown', type: 0x1234, data: new Uint8Array() },
          ],
          'encrypted_extensions',
        ),
      ),
    ).toBe('internal_error');
  });

  it('requires pre_shared_key last in a ClientHello (§4.2.11), not in a ServerHello', () => {
    const psk = `000a00040102030400000000002120${'00'.repeat(32)}`;
    expect(decodeAlert('client_hello', [T.pre_shared_key, psk], [T.cookie, '000101'])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('client_hello', [T.cookie, '000101'], [T.pre_shared_key, psk])).toBe(
      undefined,
    );
    expect(
      decodeAlert('server_hello', [T.pre_shared_key, '0000'], [T.key_share, '001d000101']),
    ).toBe(undefined);
  });

  it('rejects a recognised extension outside its messages with illegal_parameter (§4.2 table)', () => {
    expect(decodeAlert('encrypted_extensions', [T.key_share, '001d000101'])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('server_hello', [T.supported_groups, '0002001d'])).toBe('illegal_parameter');
    expect(decodeAlert('server_hello', [T.quic_transport_parameters, ''])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('new_session_ticket', [T.cookie, '000101'])).toBe('illegal_parameter');
    expect(decodeAlert('certificate', [T.signature_algorithms, '00020403'])).toBe(
      'illegal_parameter',
    );
    // Registered but not interpreted: the table still applies (padding is ClientHello only).
    expect(decodeAlert('encrypted_extensions', [T.padding, '0000'])).toBe('illegal_parameter');
    // Unregistered types are allowed anywhere.
    expect(decodeAlert('server_hello', [0x7a7a, ''])).toBe(undefined);
  });

  it('rejects data left over in an extension body with decode_error (§4.2)', () => {
    expect(decodeAlert('server_hello', [T.supported_versions, '030400'])).toBe('decode_error');
    expect(decodeAlert('encrypted_extensions', [T.server_name, '00'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.early_data, '00'])).toBe('decode_error');
    expect(decodeAlert('hello_retry_request', [T.key_share, '001d00'])).toBe('decode_error');
  });

  it('rejects malformed block framing with decode_error', () => {
    expect(alertOf(() => decode(Uint8Array.of(0x00, 0x05, 0x00, 0x2b), 'server_hello'))).toBe(
      'decode_error',
    );
    expect(alertOf(() => decode(Uint8Array.of(0x00, 0x03, 0x00, 0x2b, 0x00), 'server_hello'))).toBe(
      'decode_error',
    );
  });

  it('refuses to encode an interpreted type given as unknown, or a form that does not fit', () => {
    expect(
      alertOf(() =>
        encode([{ kind: 'unknown', type: T.key_share, data: new Uint8Array(3) }], 'client_hello'),
      ),
    ).toBe('internal_error');
    expect(
      alertOf(() => encode([{ kind: 'key_share', selectedGroup: 0x1d }], 'server_hello')),
    ).toBe('internal_error');
    expect(
      alertOf(() => encode([{ kind: 'supported_versions', versions: [0x0304] }], 'server_hello')),
    ).toBe('internal_error');
    expect(alertOf(() => encode([{ kind: 'early_data' }], 'new_session_ticket'))).toBe(
      'internal_error',
    );
    expect(
      alertOf(() => encode([{ kind: 'key_share', selectedGroup: 1 }], 'encrypted_extensions')),
    ).toBe('internal_error');
  });
});

describe('individual extensions', () => {
  it('server_name (RFC 6066 §3)', () => {
    const one = decode(rawBlock([T.server_name, '0009000006682e74657374']), 'client_hello');
    expect(one).toEqual([{ kind: 'server_name', hostName: 'h.test' }]);
    expect(decode(rawBlock([T.server_name, '']), 'encrypted_extensions')).toEqual([
      { kind: 'server_name' },
    ]);
    expect(decodeAlert('client_hello', [T.server_name, '0000'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.server_name, '000300' + '0000'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.server_name, '00040100016b'])).toBe('illegal_parameter');
    expect(decodeAlert('client_hello', [T.server_name, '00080000016b0000016c'])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('client_hello', [T.server_name, '0004000001c3'])).toBe('illegal_parameter');
    expect(alertOf(() => encode([{ kind: 'server_name', hostName: 'é' }], 'client_hello'))).toBe(
      'internal_error',
    );
    expect(alertOf(() => encode([{ kind: 'server_name' }], 'client_hello'))).toBe('internal_error');
  });

  it('application_layer_protocol_negotiation (RFC 7301 §3.1)', () => {
    expect(decodeAlert('client_hello', [T.application_layer_protocol_negotiation, '0000'])).toBe(
      'decode_error',
    );
    expect(decodeAlert('client_hello', [T.application_layer_protocol_negotiation, '000100'])).toBe(
      'decode_error',
    );
    expect(
      decodeAlert('encrypted_extensions', [
        T.application_layer_protocol_negotiation,
        '0006026833026832',
      ]),
    ).toBe('illegal_parameter');
    expect(
      decodeAlert('client_hello', [T.application_layer_protocol_negotiation, '0006026833026832']),
    ).toBe(undefined);
    const long = new Uint8Array(256);
    expect(alertOf(() => encode([{ kind: 'alpn', protocols: [long] }], 'client_hello'))).toBe(
      'internal_error',
    );
    expect(alertOf(() => encode([{ kind: 'alpn', protocols: [] }], 'client_hello'))).toBe(
      'internal_error',
    );
  });

  it('key_share (RFC 9846 §4.2.8)', () => {
    expect(decode(rawBlock([T.key_share, '0000']), 'client_hello')).toEqual([
      { kind: 'key_share', clientShares: [] },
    ]);
    expect(decodeAlert('client_hello', [T.key_share, '000a001d000101001d000102'])).toBe(
      'illegal_parameter',
    );
    expect(decodeAlert('client_hello', [T.key_share, '0004001d0000'])).toBe('decode_error');
    expect(decodeAlert('server_hello', [T.key_share, '001d0000'])).toBe('decode_error');
    expect(decode(rawBlock([T.key_share, '0017']), 'hello_retry_request')).toEqual([
      { kind: 'key_share', selectedGroup: 0x17 },
    ]);
  });

  it('pre_shared_key (RFC 9846 §4.2.11)', () => {
    const id = '000401020304' + '00000007'; // identity 01020304, age 7
    const binder = `20${'ab'.repeat(32)}`;
    const ok = `000a${id}0021${binder}`;
    const [psk] = decode(rawBlock([T.pre_shared_key, ok]), 'client_hello');
    expect(psk).toMatchObject({ kind: 'pre_shared_key' });
    expect('identities' in psk && psk.identities[0].obfuscatedTicketAge).toBe(7);
    // Binder of 31 bytes: below PskBinderEntry<32..255>.
    expect(
      decodeAlert('client_hello', [
        T.pre_shared_key,
        `000a${id}0020 1f${'ab'.repeat(31)}`.replace(' ', ''),
      ]),
    ).toBe('decode_error');
    // Two binders for one identity.
    expect(decodeAlert('client_hello', [T.pre_shared_key, `000a${id}0042${binder}${binder}`])).toBe(
      'illegal_parameter',
    );
    // Empty identities list.
    expect(decodeAlert('client_hello', [T.pre_shared_key, `00000021${binder}`])).toBe(
      'decode_error',
    );
    expect(decode(rawBlock([T.pre_shared_key, '0002']), 'server_hello')).toEqual([
      { kind: 'pre_shared_key', selectedIdentity: 2 },
    ]);
  });

  it('supported_versions, supported_groups, signature_algorithms, psk modes, cookie, early_data', () => {
    expect(decodeAlert('client_hello', [T.supported_versions, '00'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.supported_versions, '030304'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.supported_groups, '0000'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.supported_groups, '0003001d00'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.signature_algorithms, '0000'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.psk_key_exchange_modes, '00'])).toBe('decode_error');
    expect(decodeAlert('client_hello', [T.cookie, '0000'])).toBe('decode_error');
    expect(decode(rawBlock([T.early_data, '00004000']), 'new_session_ticket')).toEqual([
      { kind: 'early_data', maxEarlyDataSize: 0x4000 },
    ]);
    expect(decodeAlert('new_session_ticket', [T.early_data, ''])).toBe('decode_error');
  });

  it('keeps quic_transport_parameters opaque', () => {
    expect(
      decode(rawBlock([T.quic_transport_parameters, '0102ffee']), 'encrypted_extensions'),
    ).toEqual([{ kind: 'quic_transport_parameters', data: Uint8Array.of(1, 2, 0xff, 0xee) }]);
  });
});
