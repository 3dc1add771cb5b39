/**
 * pre_shared_key (RFC 9846 §4.2.11): the offered identities and binders in ClientHello, the
 * selected index in ServerHello.
 *
 *   struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;
 *   opaque PskBinderEntry<32..255>;
 *   struct { PskIdentity identities<7..2^16-1>; PskBinderEntry binders<33..2^16-1>; } OfferedPsks;
 *   select: client_hello: OfferedPsks; server_hello: uint16 selected_identity;
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import {
  checkU16,
  checkUint,
  readList,
  readOpaque,
  shapeError,
  writeList,
  writeOpaque,
} from '../codec.js';
import type {
  ExtensionContext,
  PreSharedKeyOfferExtension,
  PreSharedKeySelectedExtension,
  PskIdentity,
} from './types.js';

type PreSharedKeyExtension = PreSharedKeyOfferExtension | PreSharedKeySelectedExtension;

/** Reads OfferedPsks.identities (exported for the truncated-ClientHello helper). */
export function readPskIdentities(r: ByteReader): PskIdentity[] {
  return readList(r, 2, 7, 0xffff, 'identities', (x) => {
    const identity = readOpaque(x, 2, 1, 0xffff, 'identity');
    return { identity, obfuscatedTicketAge: x.u32() };
  });
}

/** Reads OfferedPsks.binders. */
export function readPskBinders(r: ByteReader): Uint8Array[] {
  return readList(r, 2, 33, 0xffff, 'binders', (x) => readOpaque(x, 1, 32, 255, 'PskBinderEntry'));
}

export function decodePreSharedKey(r: ByteReader, ctx: ExtensionContext): PreSharedKeyExtension {
  if (ctx !== 'client_hello') return { kind: 'pre_shared_key', selectedIdentity: r.u16() };
  const identities = readPskIdentities(r);
  const binders = readPskBinders(r);
  if (binders.length !== identities.length) {
    // RFC 9846 §4.2.11: binders are "one for each value in the identities list".
    throw new TlsAlertError(
      'illegal_parameter',
      `pre_shared_key: ${identities.length} identities but ${binders.length} binders`,
    );
  }
  return { kind: 'pre_shared_key', identities, binders };
}

export function encodePreSharedKey(
  w: ByteWriter,
  ext: PreSharedKeyExtension,
  ctx: ExtensionContext,
): void {
  if (ctx !== 'client_hello') {
    if (!('selectedIdentity' in ext)) throw shapeError('pre_shared_key', ctx, 'selectedIdentity');
    checkU16(ext.selectedIdentity, 'selected_identity');
    w.u16(ext.selectedIdentity);
    return;
  }
  if (!('identities' in ext)) throw shapeError('pre_shared_key', ctx, 'identities');
  if (ext.binders.length !== ext.identities.length) {
    throw new TlsAlertError('internal_error', 'pre_shared_key: one binder per identity');
  }
  writeList(w, 2, ext.identities, 7, 0xffff, 'identities', (x, id) => {
    writeOpaque(x, 2, id.identity, 1, 0xffff, 'identity');
    checkUint(id.obfuscatedTicketAge, 0xffff_ffff, 'obfuscated_ticket_age');
    x.u32(id.obfuscatedTicketAge);
  });
  writeList(w, 2, ext.binders, 33, 0xffff, 'binders', (x, b) =>
    writeOpaque(x, 1, b, 32, 255, 'PskBinderEntry'),
  );
}
