/**
 * KeyUpdate (RFC 9846 §4.6.3) and EndOfEarlyData (§4.5). Neither is used with QUIC (RFC 9001 §6,
 * §8.3): they are decoded so that the QUIC layer can recognise and reject them.
 *
 *   struct { KeyUpdateRequest request_update; } KeyUpdate;   // 0 or 1
 *   struct {} EndOfEarlyData;
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { decodeGuard, TlsAlertError } from '../alert.js';

/** A decoded KeyUpdate message. */
export interface KeyUpdate {
  readonly kind: 'key_update';
  /** KeyUpdateRequest: 0 update_not_requested, 1 update_requested. */
  readonly requestUpdate: 0 | 1;
}

/** A decoded (empty) EndOfEarlyData message. */
export interface EndOfEarlyData {
  readonly kind: 'end_of_early_data';
}

export function decodeKeyUpdateBody(body: Uint8Array): KeyUpdate {
  return decodeGuard('KeyUpdate', () => {
    const r = new ByteReader(body);
    const v = r.u8();
    r.expectEnd('KeyUpdate');
    if (v !== 0 && v !== 1) {
      // RFC 9846 §4.6.3: "If an implementation receives any other value, it MUST terminate the
      // connection with an illegal_parameter alert."
      throw new TlsAlertError('illegal_parameter', `KeyUpdate request_update ${v}`);
    }
    return { kind: 'key_update', requestUpdate: v };
  });
}

export function encodeKeyUpdateBody(w: ByteWriter, msg: KeyUpdate): void {
  if (msg.requestUpdate !== 0 && msg.requestUpdate !== 1) {
    throw new TlsAlertError('internal_error', `KeyUpdate request_update ${msg.requestUpdate}`);
  }
  w.u8(msg.requestUpdate);
}

export function decodeEndOfEarlyDataBody(body: Uint8Array): EndOfEarlyData {
  if (body.length !== 0) {
    throw new TlsAlertError('decode_error', `EndOfEarlyData: ${body.length} trailing bytes`);
  }
  return { kind: 'end_of_early_data' };
}
