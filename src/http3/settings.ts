/**
 * The SETTINGS frame payload (RFC 9114 §7.2.4): zero or more `Setting { Identifier (i), Value (i) }`
 * pairs. Decoding validates every rule the RFCs attach to the payload before anything acts on it;
 * the placement rules (first frame of the control stream, only once) live in `frame-types.ts`.
 */
import { type Random, randomInt } from '../util/random.js';
import { CodecError } from '../wire/errors.js';
import { ByteReader } from '../wire/reader.js';
import { ByteWriter } from '../wire/writer.js';
import { H3Error, H3ErrorCode } from './errors.js';
import { isReservedCodePoint, randomReservedCodePoint } from './grease.js';

/** Setting identifiers this layer understands. */
export const H3SettingId = {
  /** RFC 9204 §5; default 0. */
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  /** RFC 9114 §7.2.4.1; default unlimited. */
  MAX_FIELD_SECTION_SIZE: 0x06,
  /** RFC 9204 §5; default 0. */
  QPACK_BLOCKED_STREAMS: 0x07,
  /** RFC 9220 §3 (value as in RFC 8441 §3); default 0. */
  ENABLE_CONNECT_PROTOCOL: 0x08,
  /** RFC 9297 §2.1.1; default 0. */
  H3_DATAGRAM: 0x33,
} as const;

/**
 * The pre-RFC H3_DATAGRAM identifier of draft-ietf-masque-h3-datagram-04 to -11, still sent by
 * older stacks (quic-go 0.29, older Chromium). Kept apart from {@link H3SettingId.H3_DATAGRAM}:
 * it is not part of any RFC, so its value is recorded as received and never rejected.
 */
export const LEGACY_H3_DATAGRAM_DRAFT04_SETTING = 0xffd277;

/**
 * HTTP/2 setting identifiers with no HTTP/3 meaning: ENABLE_PUSH, MAX_CONCURRENT_STREAMS,
 * INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE (RFC 9114 §7.2.4.1, §11.2.2, Appendix A.3).
 */
export const HTTP2_ONLY_SETTING_IDS: readonly number[] = [0x02, 0x03, 0x04, 0x05];

/** A setting this layer does not understand (including grease), kept for diagnostics. */
export interface H3UnknownSetting {
  /** The exact identifier (grease identifiers may exceed 2^53). */
  readonly id: bigint;
  /** The exact value. */
  readonly value: bigint;
}

/**
 * Decoded SETTINGS. An absent field means the peer did not send it and the default applies
 * (see {@link resolveSettings}); 0-RTT checks (RFC 9114 §7.2.4.2) need that distinction.
 * Limits are clamped reads: anything above 2^53 - 1 reads as `Number.MAX_SAFE_INTEGER`.
 */
export interface H3Settings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY (0x01). */
  qpackMaxTableCapacity?: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE (0x06). */
  maxFieldSectionSize?: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS (0x07). */
  qpackBlockedStreams?: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08): value 1 is `true`, 0 is `false`. */
  enableConnectProtocol?: boolean;
  /** SETTINGS_H3_DATAGRAM (0x33): value 1 is `true`, 0 is `false`. */
  h3Datagram?: boolean;
  /** The legacy draft H3_DATAGRAM (0xffd277) value as received (1 means enabled). */
  legacyH3Datagram?: number;
  /** Settings not understood here, in wire order; present only when non-empty. */
  unknown?: readonly H3UnknownSetting[];
}

/** {@link H3Settings} with every default applied (RFC 9114 §7.2.4.2 initial values). */
export interface ResolvedH3Settings {
  /** Default 0: no dynamic table. */
  readonly qpackMaxTableCapacity: number;
  /** Default unlimited, represented as `Number.MAX_SAFE_INTEGER`. */
  readonly maxFieldSectionSize: number;
  /** Default 0. */
  readonly qpackBlockedStreams: number;
  /** Default false. */
  readonly enableConnectProtocol: boolean;
  /** RFC 9297 or the legacy draft setting, whichever says 1. Default false. */
  readonly h3Datagram: boolean;
}

/** Applies the defaults to what the peer sent. */
export function resolveSettings(s: H3Settings): ResolvedH3Settings {
  return {
    qpackMaxTableCapacity: s.qpackMaxTableCapacity ?? 0,
    maxFieldSectionSize: s.maxFieldSectionSize ?? Number.MAX_SAFE_INTEGER,
    qpackBlockedStreams: s.qpackBlockedStreams ?? 0,
    enableConnectProtocol: s.enableConnectProtocol ?? false,
    h3Datagram: s.h3Datagram === true || s.legacyH3Datagram === 1,
  };
}

function settingsError(message: string): H3Error {
  return new H3Error(H3ErrorCode.H3_SETTINGS_ERROR, message);
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const clamp = (v: bigint): number => (v > SAFE_MAX ? Number.MAX_SAFE_INTEGER : Number(v));

/** A 0/1 setting; RFC 9297 §2.1.1 and RFC 8441 §3 both say "MUST be 0 or 1". */
function flag(id: string, v: bigint): boolean {
  if (v > 1n) {
    // RFC 9297 §2.1.1: "If the SETTINGS_H3_DATAGRAM setting is received with a value that is
    // neither 0 nor 1, the receiver MUST terminate the connection with error H3_SETTINGS_ERROR."
    // RFC 9220 §3 takes ENABLE_CONNECT_PROTOCOL from RFC 8441 §3 ("MUST be 0 or 1"), which names
    // no code; a bad value is "an error in the payload of a SETTINGS frame" (RFC 9114 §8.1).
    throw settingsError(`${id} value ${v} is neither 0 nor 1`);
  }
  return v === 1n;
}

/**
 * Decodes a SETTINGS payload. Throws `H3Error`:
 * - H3_FRAME_ERROR when a pair is cut short (RFC 9114 §7.1);
 * - H3_SETTINGS_ERROR for an HTTP/2-only identifier (§7.2.4.1: "their receipt MUST be treated as
 *   a connection error of type H3_SETTINGS_ERROR"), a duplicate identifier (§7.2.4: "MAY treat
 *   ... as a connection error of type H3_SETTINGS_ERROR"; compared exactly), or a 0/1 setting
 *   with another value.
 * Unknown identifiers, grease included, are kept in `unknown` and otherwise ignored (§7.2.4:
 * "An implementation MUST ignore any parameter with an identifier it does not understand").
 */
export function decodeSettingsPayload(payload: Uint8Array): H3Settings {
  const r = new ByteReader(payload);
  const seen = new Set<bigint>();
  const out: H3Settings = {};
  const unknown: H3UnknownSetting[] = [];
  while (!r.done) {
    let id: bigint;
    let value: bigint;
    try {
      id = r.varintBig();
      value = r.varintBig();
    } catch (err) {
      throw H3Error.fromCodec(err, 'SETTINGS');
    }
    if (seen.has(id)) throw settingsError(`duplicate setting 0x${id.toString(16)}`);
    seen.add(id);
    switch (id) {
      case 0x01n:
        out.qpackMaxTableCapacity = clamp(value);
        break;
      case 0x02n:
      case 0x03n:
      case 0x04n:
      case 0x05n:
        throw settingsError(`HTTP/2 setting 0x${id.toString(16)} in HTTP/3 SETTINGS`);
      case 0x06n:
        out.maxFieldSectionSize = clamp(value);
        break;
      case 0x07n:
        out.qpackBlockedStreams = clamp(value);
        break;
      case 0x08n:
        out.enableConnectProtocol = flag('SETTINGS_ENABLE_CONNECT_PROTOCOL', value);
        break;
      case 0x33n:
        out.h3Datagram = flag('SETTINGS_H3_DATAGRAM', value);
        break;
      case 0xffd277n:
        out.legacyH3Datagram = clamp(value);
        break;
      default:
        // Includes 0x00, reserved in the registry (§11.2.2) but with no receipt rule.
        unknown.push({ id, value });
    }
  }
  if (unknown.length > 0) out.unknown = unknown;
  return out;
}

/** Options for {@link writeSettingsPayload}. */
export interface SettingsEncodeOptions {
  /**
   * Randomness for one reserved setting with a random value (RFC 9114 §7.2.4.1: "Endpoints SHOULD
   * include at least one such setting"), appended after the others.
   */
  readonly grease?: Random;
}

const KNOWN_IDS = new Set<bigint>([
  0x01n,
  0x02n,
  0x03n,
  0x04n,
  0x05n,
  0x06n,
  0x07n,
  0x08n,
  0x33n,
  BigInt(LEGACY_H3_DATAGRAM_DRAFT04_SETTING),
]);

/**
 * Writes a SETTINGS payload: the known settings present in `s` in identifier order, the legacy
 * datagram setting, then `unknown` in order, then the optional grease setting. Throws
 * `CodecError('MALFORMED')` when `unknown` repeats an identifier or uses one that is known or
 * HTTP/2-only (§7.2.4.1: "These reserved settings MUST NOT be sent").
 */
export function writeSettingsPayload(
  w: ByteWriter,
  s: H3Settings,
  opts: SettingsEncodeOptions = {},
): ByteWriter {
  if (s.qpackMaxTableCapacity !== undefined) w.varint(0x01).varint(s.qpackMaxTableCapacity);
  if (s.maxFieldSectionSize !== undefined) w.varint(0x06).varint(s.maxFieldSectionSize);
  if (s.qpackBlockedStreams !== undefined) w.varint(0x07).varint(s.qpackBlockedStreams);
  if (s.enableConnectProtocol !== undefined) w.varint(0x08).varint(s.enableConnectProtocol ? 1 : 0);
  if (s.h3Datagram !== undefined) w.varint(0x33).varint(s.h3Datagram ? 1 : 0);
  if (s.legacyH3Datagram !== undefined) {
    w.varint(LEGACY_H3_DATAGRAM_DRAFT04_SETTING).varint(s.legacyH3Datagram);
  }
  const used = new Set<bigint>();
  for (const { id, value } of s.unknown ?? []) {
    if (KNOWN_IDS.has(id) || used.has(id)) {
      throw new CodecError('MALFORMED', `setting 0x${id.toString(16)} cannot be sent as unknown`);
    }
    used.add(id);
    w.varint(id).varint(value);
  }
  if (opts.grease !== undefined) {
    let id = randomReservedCodePoint(opts.grease);
    // Stay clear of a reserved identifier the caller already listed.
    while (used.has(id)) id = randomReservedCodePoint(opts.grease);
    w.varint(id).varint(randomInt(opts.grease, 0x1_0000_0000));
  }
  return w;
}

/** {@link writeSettingsPayload} into a fresh buffer. */
export function encodeSettingsPayload(s: H3Settings, opts?: SettingsEncodeOptions): Uint8Array {
  return writeSettingsPayload(new ByteWriter(64), s, opts).toBytes();
}

/** True for a reserved (grease) setting identifier, which MUST carry no meaning (§7.2.4.1). */
export function isReservedSettingId(id: number | bigint): boolean {
  return isReservedCodePoint(id);
}
