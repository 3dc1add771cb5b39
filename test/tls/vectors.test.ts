/**
 * RFC 9001 Appendix A.2 / A.3: the ClientHello and ServerHello carried in the sample Initial
 * packets, decoded field by field and re-encoded byte for byte.
 */
import { describe, expect, it } from 'vitest';
import {
  alpnName,
  CipherSuite,
  type ClientHello,
  decodeHandshake,
  ExtensionType,
  encodeHandshake,
  findExtension,
  findUnknownExtension,
  HandshakeReader,
  NamedGroup,
  ProtocolVersion,
  PskKeyExchangeMode,
  parseHandshake,
  type ServerHello,
  SignatureScheme,
} from '../../src/tls/index.js';
import { toHex } from '../../src/wire/index.js';
import { clientHelloBytes, serverHelloBytes } from './fixtures.js';

describe('RFC 9001 A.2 ClientHello', () => {
  const raw = parseHandshake(clientHelloBytes);
  const ch = decodeHandshake(raw.type, raw.body) as ClientHello;

  it('is a 237-byte client_hello starting 010000ed0303ebf8fa56', () => {
    expect(toHex(clientHelloBytes.subarray(0, 10))).toBe('010000ed0303ebf8fa56');
    expect(raw.type).toBe(1);
    expect(raw.body.length).toBe(0xed);
    expect(ch.kind).toBe('client_hello');
  });

  it('has the fixed fields', () => {
    expect(toHex(ch.random)).toBe(
      'ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c',
    );
    expect(ch.legacySessionId.length).toBe(0);
    expect(ch.cipherSuites).toEqual([
      CipherSuite.TLS_AES_128_GCM_SHA256,
      CipherSuite.TLS_AES_256_GCM_SHA384,
    ]);
  });

  it('has the extensions, in wire order', () => {
    expect(ch.extensions.map((e) => (e.kind === 'unknown' ? e.type : e.kind))).toEqual([
      'server_name',
      0xff01, // renegotiation_info (RFC 5746), not interpreted
      'supported_groups',
      'alpn',
      ExtensionType.status_request,
      'key_share',
      'supported_versions',
      'signature_algorithms',
      'psk_key_exchange_modes',
      ExtensionType.record_size_limit,
      'quic_transport_parameters',
    ]);
    expect(findExtension(ch.extensions, 'server_name')?.hostName).toBe('example.com');
    expect(findExtension(ch.extensions, 'supported_groups')?.groups).toEqual([
      NamedGroup.x25519,
      NamedGroup.secp256r1,
      NamedGroup.secp384r1,
    ]);
    const alpn = findExtension(ch.extensions, 'alpn');
    expect(alpn?.protocols.map(alpnName)).toEqual(['alpn']);
    const ks = findExtension(ch.extensions, 'key_share');
    expect(ks && 'clientShares' in ks).toBe(true);
    if (ks && 'clientShares' in ks) {
      expect(ks.clientShares.length).toBe(1);
      expect(ks.clientShares[0].group).toBe(NamedGroup.x25519);
      expect(toHex(ks.clientShares[0].keyExchange)).toBe(
        '9370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748',
      );
    }
    const sv = findExtension(ch.extensions, 'supported_versions');
    expect(sv && 'versions' in sv ? sv.versions : undefined).toEqual([ProtocolVersion.TLS_1_3]);
    expect(findExtension(ch.extensions, 'signature_algorithms')?.schemes).toEqual([
      SignatureScheme.ecdsa_secp256r1_sha256,
      SignatureScheme.ecdsa_secp384r1_sha384,
      SignatureScheme.ecdsa_secp521r1_sha512,
      SignatureScheme.ecdsa_sha1,
      SignatureScheme.rsa_pss_rsae_sha256,
      SignatureScheme.rsa_pss_rsae_sha384,
      SignatureScheme.rsa_pss_rsae_sha512,
    ]);
    expect(findExtension(ch.extensions, 'psk_key_exchange_modes')?.modes).toEqual([
      PskKeyExchangeMode.psk_dhe_ke,
    ]);
    expect(toHex(findUnknownExtension(ch.extensions, ExtensionType.record_size_limit)!.data)).toBe(
      '4001',
    );
    const tp = findExtension(ch.extensions, 'quic_transport_parameters');
    expect(tp?.data.length).toBe(0x32);
    expect(toHex(tp!.data.subarray(0, 10))).toBe('0408ffffffffffffffff');
    expect(findExtension(ch.extensions, 'pre_shared_key')).toBeUndefined();
  });

  it('re-encodes byte for byte', () => {
    expect(toHex(encodeHandshake(ch))).toBe(toHex(clientHelloBytes));
  });

  it('re-encodes byte for byte after a deep copy (no aliasing of the input)', () => {
    const copy = structuredClone(ch);
    expect(toHex(encodeHandshake(copy))).toBe(toHex(clientHelloBytes));
  });

  it('comes out of the reassembler one byte at a time', () => {
    const reader = new HandshakeReader();
    const out = [];
    for (const b of clientHelloBytes) out.push(...reader.feed(Uint8Array.of(b)));
    expect(out.length).toBe(1);
    expect(toHex(out[0].raw)).toBe(toHex(clientHelloBytes));
    expect(reader.buffered).toBe(0);
  });
});

describe('RFC 9001 A.3 ServerHello', () => {
  const raw = parseHandshake(serverHelloBytes);
  const sh = decodeHandshake(raw.type, raw.body) as ServerHello;

  it('is a 86-byte server_hello starting 020000560303eefc', () => {
    expect(toHex(serverHelloBytes.subarray(0, 8))).toBe('020000560303eefc');
    expect(sh.kind).toBe('server_hello');
  });

  it('has the fields', () => {
    expect(toHex(sh.random)).toBe(
      'eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a12',
    );
    expect(sh.legacySessionIdEcho.length).toBe(0);
    expect(sh.cipherSuite).toBe(CipherSuite.TLS_AES_128_GCM_SHA256);
    expect(sh.extensions.map((e) => e.kind)).toEqual(['key_share', 'supported_versions']);
    const ks = findExtension(sh.extensions, 'key_share');
    expect(ks && 'serverShare' in ks).toBe(true);
    if (ks && 'serverShare' in ks) {
      expect(ks.serverShare.group).toBe(NamedGroup.x25519);
      expect(toHex(ks.serverShare.keyExchange)).toBe(
        '9d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a',
      );
    }
    const sv = findExtension(sh.extensions, 'supported_versions');
    expect(sv && 'selectedVersion' in sv ? sv.selectedVersion : undefined).toBe(
      ProtocolVersion.TLS_1_3,
    );
  });

  it('re-encodes byte for byte', () => {
    expect(toHex(encodeHandshake(sh))).toBe(toHex(serverHelloBytes));
  });
});
