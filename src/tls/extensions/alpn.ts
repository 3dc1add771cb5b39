/**
 * application_layer_protocol_negotiation (RFC 7301 §3.1). QUIC requires it (RFC 9001 §8.1).
 *
 *   opaque ProtocolName<1..2^8-1>;
 *   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { readList, readOpaque, writeList, writeOpaque } from '../codec.js';
import type { AlpnExtension, ExtensionContext } from './types.js';

export function decodeAlpn(r: ByteReader, ctx: ExtensionContext): AlpnExtension {
  const protocols = readList(r, 2, 2, 0xffff, 'protocol_name_list', (x) =>
    readOpaque(x, 1, 1, 0xff, 'ProtocolName'),
  );
  if (ctx === 'encrypted_extensions' && protocols.length !== 1) {
    // RFC 7301 §3.1: in the server's reply the "ProtocolNameList MUST contain exactly one
    // ProtocolName".
    throw new TlsAlertError(
      'illegal_parameter',
      `alpn: server selected ${protocols.length} protocols`,
    );
  }
  return { kind: 'alpn', protocols };
}

export function encodeAlpn(w: ByteWriter, ext: AlpnExtension, ctx: ExtensionContext): void {
  if (ctx === 'encrypted_extensions' && ext.protocols.length !== 1) {
    throw new TlsAlertError('internal_error', 'alpn in EncryptedExtensions carries one protocol');
  }
  writeList(w, 2, ext.protocols, 2, 0xffff, 'protocol_name_list', (x, p) =>
    writeOpaque(x, 1, p, 1, 0xff, 'ProtocolName'),
  );
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A protocol name from its usual text form (`alpnId('h3')`). */
export function alpnId(name: string): Uint8Array {
  return utf8.encode(name);
}

/** A protocol name as text, for logs and comparisons with well-known names. */
export function alpnName(id: Uint8Array): string {
  return utf8Decoder.decode(id);
}
