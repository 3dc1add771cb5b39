/**
 * One descriptor per known transport parameter: identifier, field, who may send it, and the
 * value codec with its validation (RFC 9000 §18.2, RFC 9221 §3, RFC 9287 §3,
 * draft-ietf-quic-ack-frequency-14 §3).
 *
 * Decoders receive a reader over exactly the value bytes and throw `TransportError`
 * (TRANSPORT_PARAMETER_ERROR) for invalid values; encoders throw `CodecError('MALFORMED')` for
 * values we must never send.
 */
import { type ByteReader, type ByteWriter, CodecError, VARINT_MAX } from '../../wire/index.js';
import { TransportError, TransportErrorCode } from '../errors.js';
import { MAX_STREAM_COUNT } from '../frames/codec.js';
import type { PreferredAddress, TransportParameterName, TransportParameters } from './types.js';

/** Longest connection ID in QUIC v1 (RFC 9000 §17.2). */
const MAX_CID = 20;
const TOKEN_LENGTH = 16;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

type Key = Exclude<keyof TransportParameters, 'unknown'>;

export interface ParamSpec {
  readonly id: number;
  readonly name: TransportParameterName;
  readonly key: Key;
  /** RFC 9000 §18.2: "A client MUST NOT include any server-only transport parameter". */
  readonly serverOnly: boolean;
  readonly decode: (r: ByteReader, name: string) => unknown;
  /** Writes the value; `undefined` values are never passed. Returns false to omit the parameter. */
  readonly encode: (w: ByteWriter, value: never, name: string) => boolean;
}

/** An invalid value: RFC 9000 §7.4 "An endpoint MUST treat receipt of a transport parameter with
 * an invalid value as a connection error of type TRANSPORT_PARAMETER_ERROR." */
export function invalid(reason: string): TransportError {
  return new TransportError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, reason);
}

function malformed(reason: string): CodecError {
  return new CodecError('MALFORMED', reason);
}

// Integer value: a varint filling the whole value. `min`/`max` inclusive.
function int(min: bigint, max: bigint) {
  return {
    decode(r: ByteReader, name: string): number {
      const v = r.varintBig();
      if (v < min || v > max) throw invalid(`${name} = ${v} outside ${min}..${max}`);
      return v > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(v);
    },
    encode(w: ByteWriter, v: number, name: string): boolean {
      if (!Number.isSafeInteger(v) || BigInt(v) < min || BigInt(v) > max) {
        throw malformed(`${name} = ${v} outside ${min}..${max}`);
      }
      // Clamped "unlimited" goes back on the wire as the largest legal value.
      w.varint(v === Number.MAX_SAFE_INTEGER && max > MAX_SAFE ? max : v);
      return true;
    },
  };
}

// Connection ID value: the whole value, 0 to 20 bytes.
const cid = {
  decode(r: ByteReader, name: string): Uint8Array {
    if (r.remaining > MAX_CID) throw invalid(`${name}: ${r.remaining}-byte connection ID`);
    return r.rest();
  },
  encode(w: ByteWriter, v: Uint8Array, name: string): boolean {
    if (v.length > MAX_CID) throw malformed(`${name}: ${v.length}-byte connection ID`);
    w.bytes(v);
    return true;
  },
};

// Stateless reset token: exactly 16 bytes.
const token = {
  decode(r: ByteReader, name: string): Uint8Array {
    if (r.remaining !== TOKEN_LENGTH) throw invalid(`${name}: ${r.remaining} bytes, not 16`);
    return r.rest();
  },
  encode(w: ByteWriter, v: Uint8Array, name: string): boolean {
    if (v.length !== TOKEN_LENGTH) throw malformed(`${name}: ${v.length} bytes, not 16`);
    w.bytes(v);
    return true;
  },
};

// Zero-length value; present means true. RFC 9287 §3: the grease_quic_bit value is empty too.
const flag = {
  decode(r: ByteReader, name: string): boolean {
    if (!r.done) throw invalid(`${name}: must be empty, has ${r.remaining} bytes`);
    return true;
  },
  encode(_w: ByteWriter, v: boolean): boolean {
    return v === true;
  },
};

// Preferred Address { IPv4 Address (32), IPv4 Port (16), IPv6 Address (128), IPv6 Port (16),
//   Connection ID Length (8), Connection ID (..), Stateless Reset Token (128) }
const preferredAddress = {
  decode(r: ByteReader, name: string): PreferredAddress {
    const ipv4Address = r.bytes(4);
    const ipv4Port = r.u16();
    const ipv6Address = r.bytes(16);
    const ipv6Port = r.u16();
    const connectionId = r.vec8();
    // RFC 9000 §18.2: "a server MUST NOT include a zero-length connection ID in this transport
    // parameter. A client MUST treat a violation of these requirements as a connection error of
    // type TRANSPORT_PARAMETER_ERROR."
    if (connectionId.length < 1 || connectionId.length > MAX_CID) {
      throw invalid(`${name}: connection ID length ${connectionId.length} outside 1..20`);
    }
    const statelessResetToken = r.bytes(TOKEN_LENGTH);
    return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
  },
  encode(w: ByteWriter, v: PreferredAddress, name: string): boolean {
    const n = v.connectionId.length;
    if (v.ipv4Address.length !== 4 || v.ipv6Address.length !== 16) {
      throw malformed(`${name}: address sizes must be 4 and 16 bytes`);
    }
    if (n < 1 || n > MAX_CID) throw malformed(`${name}: connection ID length ${n}`);
    if (v.statelessResetToken.length !== TOKEN_LENGTH) throw malformed(`${name}: token size`);
    w.bytes(v.ipv4Address).u16(v.ipv4Port).bytes(v.ipv6Address).u16(v.ipv6Port);
    w.vec8(v.connectionId).bytes(v.statelessResetToken);
    return true;
  },
};

const ANY = int(0n, VARINT_MAX);

function spec(
  id: number,
  name: TransportParameterName,
  key: Key,
  codec: { decode: ParamSpec['decode']; encode: (w: ByteWriter, v: never, n: string) => boolean },
  serverOnly = false,
): ParamSpec {
  return { id, name, key, serverOnly, decode: codec.decode, encode: codec.encode };
}

/** Known parameters in identifier order. */
export const PARAMS: readonly ParamSpec[] = [
  spec(0x00, 'original_destination_connection_id', 'originalDestinationConnectionId', cid, true),
  spec(0x01, 'max_idle_timeout', 'maxIdleTimeout', ANY),
  spec(0x02, 'stateless_reset_token', 'statelessResetToken', token, true),
  // "Values below 1200 are invalid."
  spec(0x03, 'max_udp_payload_size', 'maxUdpPayloadSize', int(1200n, VARINT_MAX)),
  spec(0x04, 'initial_max_data', 'initialMaxData', ANY),
  spec(0x05, 'initial_max_stream_data_bidi_local', 'initialMaxStreamDataBidiLocal', ANY),
  spec(0x06, 'initial_max_stream_data_bidi_remote', 'initialMaxStreamDataBidiRemote', ANY),
  spec(0x07, 'initial_max_stream_data_uni', 'initialMaxStreamDataUni', ANY),
  // RFC 9000 §4.6: a max_streams value above 2^60 MUST be a TRANSPORT_PARAMETER_ERROR.
  spec(0x08, 'initial_max_streams_bidi', 'initialMaxStreamsBidi', int(0n, MAX_STREAM_COUNT)),
  spec(0x09, 'initial_max_streams_uni', 'initialMaxStreamsUni', int(0n, MAX_STREAM_COUNT)),
  // "Values above 20 are invalid."
  spec(0x0a, 'ack_delay_exponent', 'ackDelayExponent', int(0n, 20n)),
  // "Values of 2^14 or greater are invalid."
  spec(0x0b, 'max_ack_delay', 'maxAckDelay', int(0n, (1n << 14n) - 1n)),
  spec(0x0c, 'disable_active_migration', 'disableActiveMigration', flag),
  spec(0x0d, 'preferred_address', 'preferredAddress', preferredAddress, true),
  // "The value of the active_connection_id_limit parameter MUST be at least 2."
  spec(0x0e, 'active_connection_id_limit', 'activeConnectionIdLimit', int(2n, VARINT_MAX)),
  spec(0x0f, 'initial_source_connection_id', 'initialSourceConnectionId', cid),
  spec(0x10, 'retry_source_connection_id', 'retrySourceConnectionId', cid, true),
  spec(0x20, 'max_datagram_frame_size', 'maxDatagramFrameSize', ANY),
  spec(0x2ab2, 'grease_quic_bit', 'greaseQuicBit', flag),
  // draft-ietf-quic-ack-frequency-14 §3; "not greater than max_ack_delay" needs both values and
  // is checked where the parameters are applied.
  spec(0xff04de1b, 'min_ack_delay', 'minAckDelay', ANY),
];

const BY_ID = new Map<bigint, ParamSpec>(PARAMS.map((p) => [BigInt(p.id), p]));

/** The descriptor of a known identifier. */
export function paramSpec(id: bigint): ParamSpec | undefined {
  return BY_ID.get(id);
}

/** RFC 9000 §18.1: reserved identifiers are `31 * N + 27`. */
export function isGreaseId(id: bigint): boolean {
  return id >= 27n && (id - 27n) % 31n === 0n;
}
