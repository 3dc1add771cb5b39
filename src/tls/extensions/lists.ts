/**
 * Extensions whose body is a list of small integers (RFC 9846 §4.2.1, §4.2.3, §4.2.7, §4.2.9).
 *
 *   NamedGroup named_group_list<2..2^16-1>;                 supported_groups
 *   SignatureScheme supported_signature_algorithms<2..2^16-2>;  signature_algorithms(_cert)
 *   ProtocolVersion versions<2..254>;  (ClientHello)        supported_versions
 *   ProtocolVersion selected_version;  (ServerHello, HRR)
 *   PskKeyExchangeMode ke_modes<1..255>;                    psk_key_exchange_modes
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import {
  checkU16,
  readU8List,
  readU16List,
  shapeError as shape,
  writeU8List,
  writeU16List,
} from '../codec.js';
import type {
  ExtensionContext,
  PskKeyExchangeModesExtension,
  SignatureAlgorithmsCertExtension,
  SignatureAlgorithmsExtension,
  SupportedGroupsExtension,
  SupportedVersionsOfferExtension,
  SupportedVersionsSelectedExtension,
} from './types.js';

type SignatureList = SignatureAlgorithmsExtension | SignatureAlgorithmsCertExtension;

export function decodeSupportedGroups(r: ByteReader): SupportedGroupsExtension {
  return { kind: 'supported_groups', groups: readU16List(r, 2, 2, 0xffff, 'named_group_list') };
}

export function encodeSupportedGroups(w: ByteWriter, ext: SupportedGroupsExtension): void {
  writeU16List(w, 2, ext.groups, 2, 0xffff, 'named_group_list');
}

export function decodeSignatureAlgorithms<K extends SignatureList['kind']>(
  r: ByteReader,
  kind: K,
): { kind: K; schemes: number[] } {
  return { kind, schemes: readU16List(r, 2, 2, 0xfffe, 'supported_signature_algorithms') };
}

export function encodeSignatureAlgorithms(w: ByteWriter, ext: SignatureList): void {
  writeU16List(w, 2, ext.schemes, 2, 0xfffe, 'supported_signature_algorithms');
}

export function decodeSupportedVersions(
  r: ByteReader,
  ctx: ExtensionContext,
): SupportedVersionsOfferExtension | SupportedVersionsSelectedExtension {
  if (ctx === 'client_hello') {
    return { kind: 'supported_versions', versions: readU16List(r, 1, 2, 254, 'versions') };
  }
  return { kind: 'supported_versions', selectedVersion: r.u16() };
}

export function encodeSupportedVersions(
  w: ByteWriter,
  ext: SupportedVersionsOfferExtension | SupportedVersionsSelectedExtension,
  ctx: ExtensionContext,
): void {
  if (ctx === 'client_hello') {
    if (!('versions' in ext)) throw shape('supported_versions', ctx, 'versions');
    writeU16List(w, 1, ext.versions, 2, 254, 'versions');
    return;
  }
  if (!('selectedVersion' in ext)) throw shape('supported_versions', ctx, 'selectedVersion');
  checkU16(ext.selectedVersion, 'selected_version');
  w.u16(ext.selectedVersion);
}

export function decodePskKeyExchangeModes(r: ByteReader): PskKeyExchangeModesExtension {
  return { kind: 'psk_key_exchange_modes', modes: readU8List(r, 1, 1, 255, 'ke_modes') };
}

export function encodePskKeyExchangeModes(w: ByteWriter, ext: PskKeyExchangeModesExtension): void {
  writeU8List(w, 1, ext.modes, 1, 255, 'ke_modes');
}
