/**
 * Extensions with a trivial body: early_data (RFC 9846 §4.2.10), cookie (§4.2.2) and
 * quic_transport_parameters (RFC 9001 §8.2, opaque here).
 *
 *   early_data:  new_session_ticket: uint32 max_early_data_size; client_hello, EE: empty
 *   cookie:      opaque cookie<1..2^16-1>;
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { checkUint, readOpaque, writeOpaque } from '../codec.js';
import type {
  CookieExtension,
  EarlyDataExtension,
  ExtensionContext,
  QuicTransportParametersExtension,
} from './types.js';

export function decodeEarlyData(r: ByteReader, ctx: ExtensionContext): EarlyDataExtension {
  if (ctx === 'new_session_ticket') return { kind: 'early_data', maxEarlyDataSize: r.u32() };
  return { kind: 'early_data' };
}

export function encodeEarlyData(
  w: ByteWriter,
  ext: EarlyDataExtension,
  ctx: ExtensionContext,
): void {
  if (ctx === 'new_session_ticket') {
    if (ext.maxEarlyDataSize === undefined) {
      throw new TlsAlertError('internal_error', 'early_data in NewSessionTicket needs a size');
    }
    checkUint(ext.maxEarlyDataSize, 0xffff_ffff, 'max_early_data_size');
    w.u32(ext.maxEarlyDataSize);
  } else if (ext.maxEarlyDataSize !== undefined) {
    throw new TlsAlertError('internal_error', `early_data in ${ctx} is empty`);
  }
}

export function decodeCookie(r: ByteReader): CookieExtension {
  return { kind: 'cookie', cookie: readOpaque(r, 2, 1, 0xffff, 'cookie') };
}

export function encodeCookie(w: ByteWriter, ext: CookieExtension): void {
  writeOpaque(w, 2, ext.cookie, 1, 0xffff, 'cookie');
}

export function decodeQuicTransportParameters(r: ByteReader): QuicTransportParametersExtension {
  return { kind: 'quic_transport_parameters', data: r.rest() };
}

export function encodeQuicTransportParameters(
  w: ByteWriter,
  ext: QuicTransportParametersExtension,
): void {
  w.bytes(ext.data);
}
