/**
 * key_share (RFC 9846 §4.2.8): a list of shares in ClientHello, one share in ServerHello, only
 * the selected group in HelloRetryRequest.
 *
 *   struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;
 *   struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;
 *   struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;
 *   struct { KeyShareEntry server_share; } KeyShareServerHello;
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { checkU16, readList, readOpaque, shapeError, writeList, writeOpaque } from '../codec.js';
import type {
  ExtensionContext,
  KeyShareEntry,
  KeyShareOfferExtension,
  KeyShareRetryExtension,
  KeyShareServerExtension,
} from './types.js';

type KeyShareExtension = KeyShareOfferExtension | KeyShareServerExtension | KeyShareRetryExtension;

function readEntry(r: ByteReader): KeyShareEntry {
  const group = r.u16();
  return { group, keyExchange: readOpaque(r, 2, 1, 0xffff, 'key_exchange') };
}

function writeEntry(w: ByteWriter, e: KeyShareEntry): void {
  checkU16(e.group, 'KeyShareEntry.group');
  w.u16(e.group);
  writeOpaque(w, 2, e.keyExchange, 1, 0xffff, 'key_exchange');
}

function checkDistinctGroups(
  shares: readonly KeyShareEntry[],
  alert: 'illegal_parameter' | 'internal_error',
): void {
  const seen = new Set<number>();
  for (const s of shares) {
    if (seen.has(s.group)) {
      // RFC 9846 §4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same
      // group." ... servers "MAY check for violations ... and abort with illegal_parameter".
      throw new TlsAlertError(alert, `key_share: two shares for group 0x${s.group.toString(16)}`);
    }
    seen.add(s.group);
  }
}

export function decodeKeyShare(r: ByteReader, ctx: ExtensionContext): KeyShareExtension {
  if (ctx === 'client_hello') {
    const clientShares = readList(r, 2, 0, 0xffff, 'client_shares', readEntry);
    checkDistinctGroups(clientShares, 'illegal_parameter');
    return { kind: 'key_share', clientShares };
  }
  if (ctx === 'hello_retry_request') return { kind: 'key_share', selectedGroup: r.u16() };
  return { kind: 'key_share', serverShare: readEntry(r) };
}

export function encodeKeyShare(w: ByteWriter, ext: KeyShareExtension, ctx: ExtensionContext): void {
  if (ctx === 'client_hello') {
    if (!('clientShares' in ext)) throw shapeError('key_share', ctx, 'clientShares');
    checkDistinctGroups(ext.clientShares, 'internal_error');
    writeList(w, 2, ext.clientShares, 0, 0xffff, 'client_shares', writeEntry);
  } else if (ctx === 'hello_retry_request') {
    if (!('selectedGroup' in ext)) throw shapeError('key_share', ctx, 'selectedGroup');
    checkU16(ext.selectedGroup, 'selected_group');
    w.u16(ext.selectedGroup);
  } else {
    if (!('serverShare' in ext)) throw shapeError('key_share', ctx, 'serverShare');
    writeEntry(w, ext.serverShare);
  }
}
