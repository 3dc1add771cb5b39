/**
 * Which SETTINGS this session sends (RFC 9114 §7.2.4, RFC 9204 §5, RFC 9220 §3, RFC 9297
 * §2.1.1) and how it reads the peer's.
 */
import type { EncodePolicy } from '../../qpack/encoder.js';
import { type H3Settings, type H3UnknownSetting, resolveSettings } from '../settings.js';
import type { H3SessionOptions, PeerSettings } from './types.js';

/** Default of `H3SessionOptions.maxIncompleteHeaderBytes`. */
export const DEFAULT_MAX_INCOMPLETE_HEADER_BYTES = 256 * 1024;
/** Default of `H3SessionOptions.headerTimeout`, in milliseconds. */
export const DEFAULT_HEADER_TIMEOUT = 10_000;

/** `H3SessionOptions` with defaults applied (fields as documented there). */
export interface ResolvedOptions {
  readonly qpackMaxTableCapacity: number;
  readonly qpackBlockedStreams: number;
  readonly maxFieldSectionSize: number;
  readonly qpackEncoderCapacity: number;
  readonly enableConnectProtocol: boolean;
  readonly h3Datagram: boolean;
  readonly acceptLegacyH3Datagram: boolean;
  readonly grease: boolean;
  readonly maxBlockedStreamBytes: number;
  readonly maxIncompleteHeaderBytes: number;
  readonly headerTimeout: number;
  /** Largest encoded HEADERS payload read at all. */
  readonly maxEncodedFieldSection: number;
  readonly qpackPolicy: EncodePolicy | undefined;
  readonly extraSettings: readonly H3UnknownSetting[];
  readonly extensionBidiSignals: readonly number[];
  readonly extensionUniTypes: readonly number[];
  readonly capsuleMode: H3SessionOptions['capsuleMode'];
}

export function resolveOptions(o: H3SessionOptions): ResolvedOptions {
  const maxFieldSectionSize = o.maxFieldSectionSize ?? 65_536;
  return {
    qpackMaxTableCapacity: o.qpackMaxTableCapacity ?? 4096,
    qpackBlockedStreams: o.qpackBlockedStreams ?? 16,
    maxFieldSectionSize,
    qpackEncoderCapacity: o.qpackEncoderCapacity ?? 4096,
    enableConnectProtocol: o.enableConnectProtocol ?? false,
    h3Datagram: o.h3Datagram ?? false,
    acceptLegacyH3Datagram: o.acceptLegacyH3Datagram ?? false,
    grease: o.grease ?? true,
    maxBlockedStreamBytes: o.maxBlockedStreamBytes ?? 1 << 20,
    maxIncompleteHeaderBytes: o.maxIncompleteHeaderBytes ?? DEFAULT_MAX_INCOMPLETE_HEADER_BYTES,
    headerTimeout: o.headerTimeout ?? DEFAULT_HEADER_TIMEOUT,
    // Encoded sections are rarely larger than decoded ones (Huffman may stretch odd octets).
    maxEncodedFieldSection: Math.min(maxFieldSectionSize * 4, 4 << 20),
    qpackPolicy: o.qpackPolicy,
    extraSettings: o.extraSettings ?? [],
    extensionBidiSignals: o.extensionBidiSignals ?? [],
    extensionUniTypes: o.extensionUniTypes ?? [],
    capsuleMode: o.capsuleMode,
  };
}

/** Our SETTINGS: limits always; the 0/1 flags only when enabled (nothing to "stick out" with). */
export function localSettings(o: ResolvedOptions): H3Settings {
  const s: H3Settings = {
    qpackMaxTableCapacity: o.qpackMaxTableCapacity,
    maxFieldSectionSize: o.maxFieldSectionSize,
    qpackBlockedStreams: o.qpackBlockedStreams,
  };
  if (o.enableConnectProtocol) s.enableConnectProtocol = true;
  if (o.h3Datagram) {
    s.h3Datagram = true;
    // RFC 9297 draft note: several draft versions "MAY be supported by sending multiple values".
    if (o.acceptLegacyH3Datagram) s.legacyH3Datagram = 1;
  }
  if (o.extraSettings.length > 0) s.unknown = o.extraSettings;
  return s;
}

/**
 * The peer's SETTINGS as this session uses them. The legacy draft datagram setting counts only
 * when `acceptLegacy` (`resolveSettings` alone would always count it).
 */
export function peerSettings(s: H3Settings, acceptLegacy: boolean): PeerSettings {
  const r = resolveSettings(s);
  return {
    qpackMaxTableCapacity: r.qpackMaxTableCapacity,
    qpackBlockedStreams: r.qpackBlockedStreams,
    maxFieldSectionSize: r.maxFieldSectionSize,
    enableConnectProtocol: r.enableConnectProtocol,
    h3Datagram: s.h3Datagram === true || (acceptLegacy && s.legacyH3Datagram === 1),
    unknownIds: (s.unknown ?? []).map((u) => u.id),
    unknown: s.unknown ?? [],
  };
}
