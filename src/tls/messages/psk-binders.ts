/**
 * PSK binders (RFC 9846 §4.2.11.2) are HMACs over the transcript up to a "truncated"
 * ClientHello: everything "up to and including the PreSharedKeyExtension.identities field",
 * with every length field "set as if binders of the correct lengths were present". The client
 * therefore encodes its ClientHello with placeholder binders of the right lengths, hashes the
 * prefix, and patches the real binders in place; the server hashes the same prefix of what it
 * received.
 */
import { ByteReader } from '../../wire/index.js';
import { decodeGuard, TlsAlertError } from '../alert.js';
import { HandshakeType } from '../constants.js';
import { readPskBinders, readPskIdentities } from '../extensions/pre-shared-key.js';
import { ExtensionType } from '../extensions/types.js';

/** Where the binders list sits in a framed ClientHello. */
export interface BinderLayout {
  /** Offset of the binders list's length field = length of Truncate(ClientHello). */
  readonly truncatedLength: number;
  /** Offset and length of each binder's bytes (after its 1-byte length). */
  readonly binders: readonly { readonly offset: number; readonly length: number }[];
}

/**
 * Locates the binders in a framed ClientHello (header included) whose last extension is
 * pre_shared_key. Throws decode_error if the message does not parse or has no such extension.
 */
export function locateBinders(clientHello: Uint8Array): BinderLayout {
  return decodeGuard('ClientHello binders', () => {
    const r = new ByteReader(clientHello);
    if (r.u8() !== HandshakeType.client_hello) {
      throw new TlsAlertError('decode_error', 'not a ClientHello');
    }
    const body = r.sub(r.u24(), 'ClientHello');
    r.expectEnd('ClientHello');
    body.skip(2 + 32); // legacy_version, random
    body.skip(body.u8()); // legacy_session_id
    body.skip(body.u16()); // cipher_suites
    body.skip(body.u8()); // legacy_compression_methods
    const exts = body.sub(body.u16(), 'extensions');
    body.expectEnd('ClientHello');
    while (!exts.done) {
      const type = exts.u16();
      const data = exts.sub(exts.u16(), 'extension_data');
      if (type !== ExtensionType.pre_shared_key) continue;
      if (!exts.done) {
        throw new TlsAlertError('illegal_parameter', 'pre_shared_key is not the last extension');
      }
      readPskIdentities(data);
      const truncatedLength = data.offset;
      const list: { offset: number; length: number }[] = [];
      const binders = readPskBinders(data);
      data.expectEnd('pre_shared_key');
      // Walk again for offsets: each binder is a u8 length then its bytes.
      let at = truncatedLength + 2;
      for (const b of binders) {
        list.push({ offset: at + 1, length: b.length });
        at += 1 + b.length;
      }
      return { truncatedLength, binders: list };
    }
    throw new TlsAlertError('decode_error', 'ClientHello has no pre_shared_key extension');
  });
}

/** Length of Truncate(ClientHello): the bytes of the framed message a binder is computed over. */
export function truncatedClientHelloLength(clientHello: Uint8Array): number {
  return locateBinders(clientHello).truncatedLength;
}

/** Placeholder binders (zeros) of the given lengths (Hash.length of each offered PSK). */
export function placeholderBinders(hashLengths: readonly number[]): Uint8Array[] {
  return hashLengths.map((n) => new Uint8Array(n));
}

/**
 * Writes the real binders into an encoded ClientHello in place. Each must have the length of the
 * placeholder it replaces, so no length field changes (internal_error otherwise).
 */
export function patchBinders(clientHello: Uint8Array, binders: readonly Uint8Array[]): void {
  const layout = locateBinders(clientHello);
  if (layout.binders.length !== binders.length) {
    throw new TlsAlertError(
      'internal_error',
      `${binders.length} binders for ${layout.binders.length} placeholders`,
    );
  }
  layout.binders.forEach((slot, i) => {
    if (binders[i].length !== slot.length) {
      throw new TlsAlertError(
        'internal_error',
        `binder ${i} is ${binders[i].length} bytes, placeholder is ${slot.length}`,
      );
    }
  });
  for (let i = 0; i < binders.length; i++) clientHello.set(binders[i], layout.binders[i].offset);
}
