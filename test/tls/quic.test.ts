import { describe, expect, it } from 'vitest';
import { tlsCall } from '../../src/quic/connection/handshake.js';
import { TransportError, TransportErrorCode } from '../../src/quic/errors.js';
import {
  type ClientHello,
  checkQuicClientHello,
  checkQuicEncryptedExtensions,
  decodeHandshake,
  type EncryptedExtensions,
  HandshakeType,
  rejectNonQuicHandshakeType,
} from '../../src/tls/index.js';
import { clientHelloBytes } from './fixtures.js';

const ch = decodeHandshake(1, clientHelloBytes.subarray(4)) as ClientHello;

function quicCode(fn: () => void): number | undefined {
  // Through the QUIC layer's boundary, which maps TLS's errors to transport error codes.
  try {
    tlsCall(fn);
    return undefined;
  } catch (e) {
    if (e instanceof TransportError) return e.code;
    throw e;
  }
}

describe('QUIC constraints on TLS (RFC 9001)', () => {
  it('accepts the RFC 9001 A.2 ClientHello', () => {
    expect(quicCode(() => checkQuicClientHello(ch))).toBeUndefined();
  });

  it('rejects KeyUpdate with 0x010a (§6) and EndOfEarlyData as unexpected_message (§8.3)', () => {
    expect(quicCode(() => rejectNonQuicHandshakeType(HandshakeType.key_update))).toBe(0x010a);
    expect(quicCode(() => rejectNonQuicHandshakeType(HandshakeType.end_of_early_data))).toBe(
      0x010a,
    );
    expect(quicCode(() => rejectNonQuicHandshakeType(HandshakeType.finished))).toBeUndefined();
  });

  it('treats a non-empty legacy_session_id as PROTOCOL_VIOLATION (§8.4)', () => {
    expect(
      quicCode(() => checkQuicClientHello({ ...ch, legacySessionId: new Uint8Array(32) })),
    ).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
  });

  it('requires quic_transport_parameters: 0x016d (§8.2)', () => {
    const without = ch.extensions.filter((e) => e.kind !== 'quic_transport_parameters');
    expect(quicCode(() => checkQuicClientHello({ ...ch, extensions: without }))).toBe(0x016d);
    const ee: EncryptedExtensions = {
      kind: 'encrypted_extensions',
      extensions: [{ kind: 'alpn', protocols: [Uint8Array.of(0x68, 0x33)] }],
    };
    expect(quicCode(() => checkQuicEncryptedExtensions(ee))).toBe(0x016d);
  });

  it('requires ALPN: 0x0178 (§8.1)', () => {
    const without = ch.extensions.filter((e) => e.kind !== 'alpn');
    expect(quicCode(() => checkQuicClientHello({ ...ch, extensions: without }))).toBe(0x0178);
    const ee: EncryptedExtensions = {
      kind: 'encrypted_extensions',
      extensions: [{ kind: 'quic_transport_parameters', data: new Uint8Array(0) }],
    };
    expect(quicCode(() => checkQuicEncryptedExtensions(ee))).toBe(0x0178);
  });

  it('requires TLS 1.3 in supported_versions (§4.2)', () => {
    const tls12 = ch.extensions.map((e) =>
      e.kind === 'supported_versions'
        ? { kind: 'supported_versions' as const, versions: [0x0303] }
        : e,
    );
    expect(quicCode(() => checkQuicClientHello({ ...ch, extensions: tls12 }))).toBe(0x0146);
  });
});
