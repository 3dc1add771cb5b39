/**
 * The connect-udp-bind capsules that register, acknowledge and close Context IDs
 * (connect-udp-listen §3.1-§3.3, types 0x11-0x13).
 *
 *   COMPRESSION_ASSIGN Capsule {       COMPRESSION_ACK / COMPRESSION_CLOSE Capsule {
 *     Type (i) = 0x11,                   Type (i) = 0x12 / 0x13,
 *     Length (i),                        Length (i),
 *     Context ID (i),                    Context ID (i),
 *     IP Version (8),                  }
 *     [IP Address (32..128)],
 *     [UDP Port (16)],
 *   }
 *
 * Context IDs are `number`s: one above 2^53 - 1 is refused with CapsuleError('VARINT_RANGE')
 * rather than carried as a bigint (no endpoint of ours allocates or accepts such IDs).
 */
import { encodeCapsule } from '../../capsule/capsules.js';
import { CapsuleError, withCapsuleErrors } from '../../capsule/errors.js';
import { ByteReader } from '../../wire/reader.js';
import { ByteWriter } from '../../wire/writer.js';
import { ipAddressLength } from '../payload/ip.js';

export const CompressionCapsuleType = {
  COMPRESSION_ASSIGN: 0x11,
  COMPRESSION_ACK: 0x12,
  COMPRESSION_CLOSE: 0x13,
} as const;

export type CompressionCapsuleTypeValue =
  (typeof CompressionCapsuleType)[keyof typeof CompressionCapsuleType];

/**
 * Largest Capsule Length of each type, for `CapsuleParser`'s `known` option: an 8-byte Context
 * ID, then for COMPRESSION_ASSIGN an IP Version, an IPv6 address and a port.
 */
export const COMPRESSION_CAPSULE_LIMITS: ReadonlyMap<number, number> = new Map([
  [CompressionCapsuleType.COMPRESSION_ASSIGN, 8 + 1 + 16 + 2],
  [CompressionCapsuleType.COMPRESSION_ACK, 8],
  [CompressionCapsuleType.COMPRESSION_CLOSE, 8],
]);

/** COMPRESSION_ASSIGN with IP Version 0: registers the uncompressed Context ID. */
export interface UncompressedAssign {
  readonly type: typeof CompressionCapsuleType.COMPRESSION_ASSIGN;
  /** Context ID being registered; never 0. */
  readonly contextId: number;
  /** 0: every datagram on this context carries its own address and port. */
  readonly ipVersion: 0;
}

/** COMPRESSION_ASSIGN with IP Version 4 or 6: registers a compressed Context ID for one peer. */
export interface CompressedAssign {
  readonly type: typeof CompressionCapsuleType.COMPRESSION_ASSIGN;
  /** Context ID being registered; never 0. */
  readonly contextId: number;
  /** IP Version of `address`. */
  readonly ipVersion: 4 | 6;
  /** IP Address: 4 bytes for IPv4, 16 for IPv6 (a view into the capsule value when decoded). */
  readonly address: Uint8Array;
  /** UDP Port, network byte order on the wire. */
  readonly port: number;
}

export type CompressionAssign = UncompressedAssign | CompressedAssign;

/** COMPRESSION_ACK: confirms a registration received in COMPRESSION_ASSIGN. */
export interface CompressionAck {
  readonly type: typeof CompressionCapsuleType.COMPRESSION_ACK;
  /** Context ID being acknowledged; never 0. */
  readonly contextId: number;
}

/** COMPRESSION_CLOSE: rejects a registration or closes a registered Context ID. */
export interface CompressionClose {
  readonly type: typeof CompressionCapsuleType.COMPRESSION_CLOSE;
  /** Context ID being closed; never 0. */
  readonly contextId: number;
}

export type CompressionCapsule = CompressionAssign | CompressionAck | CompressionClose;

/** Who is decoding: enables the checks that depend on which side sent the capsule. */
export interface CompressionDecodeOptions {
  /**
   * `'client'`: COMPRESSION_ASSIGN must carry an odd (proxy-allocated) Context ID and a non-zero
   * IP Version; `'proxy'`: it must carry an even (client-allocated) Context ID.
   */
  receiver?: 'client' | 'proxy';
}

/** The Capsule Value of a compression capsule. Throws CapsuleError on an invalid field. */
export function encodeCompressionValue(c: CompressionCapsule): Uint8Array {
  validate(c);
  return withCapsuleErrors(name(c.type), () => {
    const w = new ByteWriter(32).varint(c.contextId);
    if (c.type === CompressionCapsuleType.COMPRESSION_ASSIGN) {
      w.u8(c.ipVersion);
      if (c.ipVersion !== 0) w.bytes(c.address).u16(c.port);
    }
    return w.toBytes();
  });
}

/** A whole compression capsule (type, length, value). */
export function encodeCompressionCapsule(c: CompressionCapsule): Uint8Array {
  return encodeCapsule(c.type, encodeCompressionValue(c));
}

/**
 * Decodes the value of a capsule of type 0x11, 0x12 or 0x13. Throws CapsuleError on truncated
 * fields, trailing bytes (RFC 9297 §3.3: "Each capsule's payload MUST contain exactly the fields
 * identified in its description") and on the field rules of connect-udp-listen §3.
 */
export function decodeCompressionCapsule(
  type: number,
  value: Uint8Array,
  options: CompressionDecodeOptions = {},
): CompressionCapsule {
  if (type !== 0x11 && type !== 0x12 && type !== 0x13) {
    throw new CapsuleError(`capsule type 0x${type.toString(16)} is not a compression capsule`);
  }
  const c = withCapsuleErrors(name(type), (): CompressionCapsule => {
    const r = new ByteReader(value);
    const contextId = r.varint();
    if (type !== CompressionCapsuleType.COMPRESSION_ASSIGN) {
      r.expectEnd(name(type));
      return { type, contextId };
    }
    const ipVersion = r.u8();
    if (ipVersion === 0) {
      r.expectEnd(name(type));
      return { type, contextId, ipVersion };
    }
    if (ipVersion !== 4 && ipVersion !== 6) {
      // connect-udp-listen §3.1: IP Version "MUST be 0, 4 or 6".
      throw new CapsuleError(`COMPRESSION_ASSIGN: IP Version ${ipVersion} is not 0, 4 or 6`);
    }
    const address = r.bytes(ipAddressLength(ipVersion));
    const port = r.u16();
    r.expectEnd(name(type));
    return { type, contextId, ipVersion, address, port };
  });
  validate(c);
  if (c.type === CompressionCapsuleType.COMPRESSION_ASSIGN && options.receiver) {
    checkReceived(c, options.receiver);
  }
  return c;
}

function checkReceived(c: CompressionAssign, receiver: 'client' | 'proxy'): void {
  // RFC 9298 §4: "Non-zero even-numbered Context IDs are client-allocated, and odd-numbered
  // Context IDs are proxy-allocated"; the sender of COMPRESSION_ASSIGN allocates.
  const fromClient = receiver === 'proxy';
  if ((c.contextId % 2 === 0) !== fromClient) {
    throw new CapsuleError(
      `COMPRESSION_ASSIGN: Context ID ${c.contextId} has the parity of the receiver's own IDs`,
    );
  }
  // connect-udp-listen §4: "If a client receives a COMPRESSION_ASSIGN capsule with the IP
  // Version set to 0, it MUST treat it as malformed."
  if (receiver === 'client' && c.ipVersion === 0) {
    throw new CapsuleError('COMPRESSION_ASSIGN: a proxy cannot register the uncompressed context');
  }
}

function validate(c: CompressionCapsule): void {
  const what = name(c.type);
  if (!Number.isSafeInteger(c.contextId) || c.contextId < 0) {
    throw new CapsuleError(`${what}: Context ID ${c.contextId} is not a varint`, 'VARINT_RANGE');
  }
  // connect-udp-listen §3.1: "the Context ID value of COMPRESSION_ASSIGN can never be zero";
  // §3.3: "a COMPRESSION_CLOSE capsule with Context ID set to zero is malformed"; §3.2: an ACK
  // for a Context ID never sent in COMPRESSION_ASSIGN "is considered malformed".
  if (c.contextId === 0) throw new CapsuleError(`${what}: Context ID 0 is reserved`);
  if (c.type !== CompressionCapsuleType.COMPRESSION_ASSIGN || c.ipVersion === 0) return;
  if (c.ipVersion !== 4 && c.ipVersion !== 6) {
    throw new CapsuleError(`${what}: IP Version ${String(c.ipVersion)} is not 0, 4 or 6`);
  }
  if (c.address.length !== ipAddressLength(c.ipVersion)) {
    throw new CapsuleError(
      `${what}: an IPv${c.ipVersion} address has ${ipAddressLength(c.ipVersion)} bytes, not ${c.address.length}`,
    );
  }
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 0xffff) {
    throw new CapsuleError(`${what}: UDP port ${c.port} out of range`, 'TOO_LARGE');
  }
}

function name(type: number): string {
  return type === 0x11
    ? 'COMPRESSION_ASSIGN'
    : type === 0x12
      ? 'COMPRESSION_ACK'
      : 'COMPRESSION_CLOSE';
}
