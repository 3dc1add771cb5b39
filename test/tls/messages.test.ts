import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHandshake,
  encodeHandshake,
  type HandshakeMessage,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  messageHash,
  parseHandshake,
} from '../../src/tls/index.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/index.js';
import * as arb from './arbitraries.js';
import { clientHelloBytes, serverHelloBytes } from './fixtures.js';
import { alertOf, canon } from './helpers.js';

function roundTrip(msg: HandshakeMessage): void {
  const bytes = encodeHandshake(msg);
  const raw = parseHandshake(bytes);
  const hashLength = msg.kind === 'finished' ? msg.verifyData.length : undefined;
  const back = decodeHandshake(raw.type, raw.body, { hashLength });
  // Cheap checks first; `expect` only to report a mismatch.
  if (canon(back) !== canon(msg)) expect(back).toEqual(msg);
  const again = encodeHandshake(back);
  if (toHex(again) !== toHex(bytes)) expect(toHex(again)).toBe(toHex(bytes));
}

const CASES: [string, fc.Arbitrary<HandshakeMessage>][] = [
  ['ClientHello', arb.clientHello],
  ['ServerHello', arb.serverHello],
  ['HelloRetryRequest', arb.helloRetryRequest],
  ['EncryptedExtensions', arb.encryptedExtensions],
  ['CertificateRequest', arb.certificateRequest],
  ['Certificate', arb.certificate],
  ['CertificateVerify', arb.certificateVerify],
  ['Finished', arb.finished],
  ['NewSessionTicket', arb.newSessionTicket],
  ['KeyUpdate', arb.keyUpdate],
  ['EndOfEarlyData', arb.endOfEarlyData],
];

describe('handshake messages round-trip (RFC 9846 §4)', () => {
  for (const [name, a] of CASES) {
    it(name, () => {
      fc.assert(fc.property(a, roundTrip), { numRuns: 2000 });
    });
  }
});

/** The ClientHello body of RFC 9001 A.2 with bytes at `at` replaced by `hex`. */
function chBodyWith(at: number, hex: string, deleteCount = hex.length / 2): Uint8Array {
  const body = clientHelloBytes.subarray(4);
  return concatBytes(body.subarray(0, at), fromHex(hex), body.subarray(at + deleteCount));
}
const chAlert = (body: Uint8Array) => alertOf(() => decodeHandshake(1, body));
// Offsets in the A.2 body: 0 legacy_version, 2 random, 34 session id, 35 suites, 41 compression.

describe('ClientHello field rules (RFC 9846 §4.1.2)', () => {
  it('legacy_version other than 0x0303 is protocol_version', () => {
    expect(chAlert(chBodyWith(0, '0304'))).toBe('protocol_version');
    expect(chAlert(chBodyWith(0, '0301'))).toBe('protocol_version');
  });

  it('legacy_compression_methods other than [0] is illegal_parameter', () => {
    expect(chAlert(chBodyWith(41, '0101'))).toBe('illegal_parameter');
    expect(chAlert(chBodyWith(41, '020000', 2))).toBe('illegal_parameter');
    expect(chAlert(chBodyWith(41, '00', 2))).toBe('decode_error'); // <1..2^8-1>
  });

  it('legacy_session_id above 32 bytes and empty or odd cipher_suites are decode_error', () => {
    expect(chAlert(chBodyWith(34, `21${'00'.repeat(33)}`, 1))).toBe('decode_error');
    expect(chAlert(chBodyWith(35, '0000', 6))).toBe('decode_error');
    expect(chAlert(chBodyWith(35, '00031301', 6))).toBe('decode_error');
  });

  it('a ClientHello without extensions decodes (pre-1.3 form) and re-encodes without them', () => {
    const body = clientHelloBytes.subarray(4, 4 + 43);
    const ch = decodeHandshake(1, body);
    expect(ch).toMatchObject({ kind: 'client_hello', extensions: [] });
    expect(toHex(encodeHandshake(ch).subarray(4))).toBe(toHex(body));
  });

  it('an extensions block shorter than 7 bytes is decode_error', () => {
    const body = concatBytes(clientHelloBytes.subarray(4, 4 + 43), fromHex('0000'));
    expect(chAlert(body)).toBe('decode_error');
    const short = concatBytes(clientHelloBytes.subarray(4, 4 + 43), fromHex('0004 7a7a 0000'));
    expect(chAlert(short)).toBe('decode_error');
  });

  it('trailing bytes after the extensions are decode_error', () => {
    expect(chAlert(concatBytes(clientHelloBytes.subarray(4), fromHex('00')))).toBe('decode_error');
  });

  it('refuses to encode a random that is not 32 bytes', () => {
    const ch = decodeHandshake(1, clientHelloBytes.subarray(4));
    expect(
      alertOf(() => encodeHandshake({ ...ch, random: new Uint8Array(31) } as HandshakeMessage)),
    ).toBe('internal_error');
  });
});

describe('ServerHello / HelloRetryRequest (RFC 9846 §4.1.3, §4.1.4)', () => {
  const body = serverHelloBytes.subarray(4);
  const withBytes = (at: number, hex: string) =>
    concatBytes(body.subarray(0, at), fromHex(hex), body.subarray(at + hex.length / 2));

  it('legacy_version other than 0x0303 is protocol_version; compression other than 0 is illegal_parameter', () => {
    expect(alertOf(() => decodeHandshake(2, withBytes(0, '0304')))).toBe('protocol_version');
    expect(alertOf(() => decodeHandshake(2, withBytes(37, '01')))).toBe('illegal_parameter');
  });

  it('is a HelloRetryRequest exactly when random is SHA-256("HelloRetryRequest")', () => {
    const hrrBody = concatBytes(
      fromHex('0303'),
      HELLO_RETRY_REQUEST_RANDOM,
      fromHex('00 1301 00 000c 002b00020304 003300020017'),
    );
    const hrr = decodeHandshake(2, hrrBody);
    expect(hrr).toEqual({
      kind: 'hello_retry_request',
      legacySessionIdEcho: new Uint8Array(0),
      cipherSuite: 0x1301,
      extensions: [
        { kind: 'supported_versions', selectedVersion: 0x0304 },
        { kind: 'key_share', selectedGroup: 0x17 },
      ],
    });
    expect(toHex(encodeHandshake(hrr).subarray(4))).toBe(toHex(hrrBody));
    // The same key_share body is too short for a ServerHello's KeyShareEntry.
    const flipped = hrrBody.slice();
    flipped[2] ^= 1;
    expect(alertOf(() => decodeHandshake(2, flipped))).toBe('decode_error');
  });

  it('pre_shared_key is not allowed in a HelloRetryRequest', () => {
    const hrrBody = concatBytes(
      fromHex('0303'),
      HELLO_RETRY_REQUEST_RANDOM,
      fromHex('00 1301 00 000c 002b00020304 002900020000'),
    );
    expect(alertOf(() => decodeHandshake(2, hrrBody))).toBe('illegal_parameter');
  });

  it('refuses to encode a ServerHello whose random is the HelloRetryRequest value', () => {
    const sh = decodeHandshake(2, body);
    expect(
      alertOf(() =>
        encodeHandshake({ ...sh, random: HELLO_RETRY_REQUEST_RANDOM } as HandshakeMessage),
      ),
    ).toBe('internal_error');
  });
});

describe('other messages', () => {
  it('Finished takes its length from the hash (§4.4.4)', () => {
    const body = new Uint8Array(32).fill(7);
    expect(decodeHandshake(HandshakeType.finished, body, { hashLength: 32 })).toEqual({
      kind: 'finished',
      verifyData: body,
    });
    expect(alertOf(() => decodeHandshake(HandshakeType.finished, body, { hashLength: 48 }))).toBe(
      'decode_error',
    );
    expect(alertOf(() => decodeHandshake(HandshakeType.finished, body))).toBe('internal_error');
  });

  it('KeyUpdate request_update other than 0/1 is illegal_parameter (§4.6.3)', () => {
    expect(decodeHandshake(HandshakeType.key_update, Uint8Array.of(1))).toEqual({
      kind: 'key_update',
      requestUpdate: 1,
    });
    expect(alertOf(() => decodeHandshake(HandshakeType.key_update, Uint8Array.of(2)))).toBe(
      'illegal_parameter',
    );
  });

  it('EndOfEarlyData is empty (§4.5)', () => {
    expect(decodeHandshake(HandshakeType.end_of_early_data, new Uint8Array(0))).toEqual({
      kind: 'end_of_early_data',
    });
    expect(encodeHandshake({ kind: 'end_of_early_data' })).toEqual(fromHex('05000000'));
    expect(alertOf(() => decodeHandshake(HandshakeType.end_of_early_data, Uint8Array.of(0)))).toBe(
      'decode_error',
    );
  });

  it('unknown or transcript-only types are unexpected_message', () => {
    for (const t of [0, 3, 6, 12, 14, 16, 21, 254, 255]) {
      expect(alertOf(() => decodeHandshake(t, new Uint8Array(0)))).toBe('unexpected_message');
    }
  });

  it('Certificate: empty cert_data is decode_error; an empty list is allowed (§4.4.2)', () => {
    expect(decodeHandshake(HandshakeType.certificate, fromHex('00000000'))).toEqual({
      kind: 'certificate',
      certificateRequestContext: new Uint8Array(0),
      certificateList: [],
    });
    expect(
      alertOf(() => decodeHandshake(HandshakeType.certificate, fromHex('00000005 000000 0000'))),
    ).toBe('decode_error');
  });

  it('NewSessionTicket: empty ticket is decode_error; lifetime above 7 days decodes but is not sent', () => {
    const nst = fromHex('00093a81 01020304 00 0001aa 0000');
    expect(decodeHandshake(HandshakeType.new_session_ticket, nst)).toMatchObject({
      ticketLifetime: 604_801,
      ticketAgeAdd: 0x01020304,
    });
    expect(
      alertOf(() => encodeHandshake(decodeHandshake(HandshakeType.new_session_ticket, nst))),
    ).toBe('internal_error');
    expect(
      alertOf(() =>
        decodeHandshake(
          HandshakeType.new_session_ticket,
          fromHex('00000001 00000000 00 0000 0000'),
        ),
      ),
    ).toBe('decode_error');
  });

  it('CertificateRequest keeps its context and extensions', () => {
    const cr = fromHex('02abcd 0008 000d 0004 0002 0403');
    const back = decodeHandshake(HandshakeType.certificate_request, cr);
    expect(back).toEqual({
      kind: 'certificate_request',
      certificateRequestContext: fromHex('abcd'),
      extensions: [{ kind: 'signature_algorithms', schemes: [0x0403] }],
    });
  });

  it('message_hash frames Hash(ClientHello1) as type 254 (§4.4.1)', () => {
    const h = new Uint8Array(32).fill(0x5a);
    expect(toHex(messageHash(h))).toBe(`fe000020${'5a'.repeat(32)}`);
  });

  it('parseHandshake rejects a length that disagrees with the bytes', () => {
    expect(alertOf(() => parseHandshake(fromHex('14000003aabb')))).toBe('decode_error');
    expect(alertOf(() => parseHandshake(fromHex('14000001aabb')))).toBe('decode_error');
  });
});
