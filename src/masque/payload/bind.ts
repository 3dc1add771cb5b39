/**
 * connect-udp-bind HTTP Datagram payloads (connect-udp-listen §4, §5): what follows the Context
 * ID (RFC 9298 §5) on a bound UDP proxying request.
 *
 *   Uncompressed Bound UDP Proxying Payload {      Compressed Bound UDP Proxying Payload {
 *     IP Version (8),                                 UDP Payload (..),
 *     IP Address (32..128),                         }
 *     UDP Port (16),
 *     UDP Payload (..),
 *   }
 *
 * On the uncompressed context each datagram names its peer; on a compressed context the peer is
 * the one registered with COMPRESSION_ASSIGN and the payload is the UDP payload unchanged.
 */

import { MAX_UDP_PAYLOAD_LENGTH } from '../../capsule/datagram.js';
import { CapsuleError } from '../../capsule/errors.js';
import { type IpVersion, ipAddressLength, ipVersionOf } from './ip.js';

export { bytesToIp, type IpVersion, ipAddressLength, ipToBytes, ipVersionOf } from './ip.js';

/** A decoded uncompressed payload. */
export interface UncompressedBindPayload {
  /** IP Version of `address`: 4 or 6. */
  readonly ipVersion: IpVersion;
  /** IP Address (4 or 16 bytes, a view): the target when sent by the client, the source when sent by the proxy. */
  readonly address: Uint8Array;
  /** UDP Port: the target's or the source's, as for `address`. */
  readonly port: number;
  /** UDP Payload: a view; may be empty. */
  readonly payload: Uint8Array;
}

/** Result slot of {@link readUncompressedBindHeader}: offsets instead of views. */
export interface BindHeader {
  /** IP Version: 4 or 6. */
  ipVersion: IpVersion;
  /** Offset of the IP Address (4 or 16 bytes). */
  addressOffset: number;
  /** UDP Port. */
  port: number;
  /** Offset of the UDP Payload, which runs to the end of the datagram. */
  payloadOffset: number;
}

/** Bytes taken by IP Version, IP Address and UDP Port: 7 for IPv4, 19 for IPv6. */
export function uncompressedBindHeaderLength(ipVersion: IpVersion): number {
  return 1 + ipAddressLength(ipVersion) + 2;
}

/**
 * Writes IP Version, IP Address and UDP Port at `offset` (hot path: after
 * `writeDatagramHeader`) and returns the offset of the UDP Payload.
 */
export function writeUncompressedBindHeader(
  buf: Uint8Array,
  offset: number,
  address: Uint8Array,
  port: number,
): number {
  const ipVersion = ipVersionOf(address);
  if (ipVersion === undefined) {
    throw new CapsuleError(`an IP address has 4 or 16 bytes, not ${address.length}`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new CapsuleError(`UDP port ${port} out of range`, 'TOO_LARGE');
  }
  const end = offset + 1 + address.length + 2;
  if (offset < 0 || end > buf.length) {
    throw new CapsuleError(`no room for a bind header at offset ${offset}`, 'TOO_LARGE');
  }
  buf[offset] = ipVersion;
  buf.set(address, offset + 1);
  buf[end - 2] = port >>> 8;
  buf[end - 1] = port & 0xff;
  return end;
}

/**
 * Reads IP Version, IP Address and UDP Port from `buf[offset, end)` into `out`. Throws
 * CapsuleError('MALFORMED') for an IP Version other than 4 or 6 (connect-udp-listen §4: "MUST be
 * 4 or 6") and CapsuleError('TRUNCATED') when the fields do not fit.
 */
export function readUncompressedBindHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: BindHeader,
): BindHeader {
  if (offset < 0 || end > buf.length || offset >= end) {
    throw new CapsuleError('uncompressed bind payload without an IP Version', 'TRUNCATED');
  }
  const v = buf[offset];
  if (v !== 4 && v !== 6) {
    throw new CapsuleError(`uncompressed bind payload: IP Version ${v} is not 4 or 6`);
  }
  const portAt = offset + 1 + ipAddressLength(v);
  if (portAt + 2 > end) {
    throw new CapsuleError(`uncompressed bind payload: IPv${v} header truncated`, 'TRUNCATED');
  }
  out.ipVersion = v;
  out.addressOffset = offset + 1;
  out.port = (buf[portAt] << 8) | buf[portAt + 1];
  out.payloadOffset = portAt + 2;
  return out;
}

/** An uncompressed payload (what follows the Context ID) as a new buffer. */
export function encodeUncompressedBindPayload(
  address: Uint8Array,
  port: number,
  payload: Uint8Array,
): Uint8Array {
  checkPayload(payload);
  const out = new Uint8Array(1 + address.length + 2 + payload.length);
  out.set(payload, writeUncompressedBindHeader(out, 0, address, port));
  return out;
}

/** Decodes an uncompressed payload (what follows the Context ID); the views share `bytes`. */
export function decodeUncompressedBindPayload(bytes: Uint8Array): UncompressedBindPayload {
  const h = readUncompressedBindHeader(bytes, 0, bytes.length, {
    ipVersion: 4,
    addressOffset: 0,
    port: 0,
    payloadOffset: 0,
  });
  return {
    ipVersion: h.ipVersion,
    address: bytes.subarray(h.addressOffset, h.addressOffset + ipAddressLength(h.ipVersion)),
    port: h.port,
    payload: bytes.subarray(h.payloadOffset),
  };
}

/**
 * A compressed payload: the UDP payload itself (connect-udp-listen §5), the peer being the one
 * registered for the Context ID. Returned as is after the length check.
 */
export function encodeCompressedBindPayload(payload: Uint8Array): Uint8Array {
  checkPayload(payload);
  return payload;
}

/** Decodes a compressed payload: the whole of it is the UDP payload. */
export function decodeCompressedBindPayload(bytes: Uint8Array): Uint8Array {
  return bytes;
}

function checkPayload(payload: Uint8Array): void {
  // A UDP datagram cannot carry more (RFC 9298 §5 gives the same bound for Context ID 0).
  if (payload.length > MAX_UDP_PAYLOAD_LENGTH) {
    throw new CapsuleError(
      `UDP payload of ${payload.length} bytes exceeds ${MAX_UDP_PAYLOAD_LENGTH}`,
      'TOO_LARGE',
    );
  }
}
