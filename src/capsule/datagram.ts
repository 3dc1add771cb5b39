/**
 * HTTP/3 Datagrams (RFC 9297 §2.1) and the UDP proxying payload inside them (RFC 9298 §5).
 *
 *   HTTP/3 Datagram {                    UDP Proxying HTTP Datagram Payload {
 *     Quarter Stream ID (i),               Context ID (i),
 *     HTTP Datagram Payload (..),          UDP Proxying Payload (..),
 *   }                                    }
 *
 * On the hot path a QUIC DATAGRAM frame's data is [Quarter Stream ID][Context ID][payload]:
 * {@link writeDatagramHeader} writes both varints into a caller's buffer and
 * {@link readDatagramHeader} reads them into a reused result object, returning offsets instead of
 * allocating views.
 *
 * Number policy: a Quarter Stream ID above 2^60 - 1 is a connection error (RFC 9297 §2.1). Values
 * between 2^53 and 2^60 - 1 are legal but map to streams no endpoint of ours can open, and are
 * reported saturated at 2^53 - 1 (lookups then miss and the datagram is dropped). Context IDs are
 * likewise saturated at 2^53 - 1 on the hot path: such a Context ID is never registered, so the
 * datagram is dropped as an unknown context (RFC 9298 §5).
 */

import { pooledBytes } from '../wire/pooled.js';
import {
  decodeVarint,
  encodeVarint,
  type VarintResult,
  varintLength,
  varintLengthFromFirstByte,
} from '../wire/varint.js';
import { CapsuleError, toCapsuleError, withCapsuleErrors } from './errors.js';

/** RFC 9297 §2.1: "the largest legal value of Quarter Stream ID is 2^60-1". */
export const MAX_QUARTER_STREAM_ID = (1n << 60n) - 1n;

/** RFC 9298 §5: the largest UDP payload a Context ID 0 datagram may carry. */
export const MAX_UDP_PAYLOAD_LENGTH = 65_527;

/** Context ID 0 carries UDP payloads (RFC 9298 §4). */
export const UDP_PAYLOAD_CONTEXT_ID = 0;

/** Reused by the hot-path readers (single-threaded, not re-entrant). */
const SCRATCH: VarintResult = { value: 0, next: 0 };

/** The value reported for a Quarter Stream ID or Context ID above 2^53 - 1. */
export const SATURATED_ID = Number.MAX_SAFE_INTEGER;

/** Result slot of {@link readDatagramHeader}: reuse one per connection. */
export interface DatagramHeader {
  /** Quarter Stream ID: the request stream ID divided by four. */
  quarterStreamId: number;
  /** Context ID of the UDP proxying payload (RFC 9298 §4). */
  contextId: number;
  /** Offset of the UDP Proxying Payload in the buffer read. */
  payloadOffset: number;
}

/** A decoded HTTP/3 Datagram. */
export interface H3Datagram {
  /** Quarter Stream ID (RFC 9297 §2.1). */
  quarterStreamId: number;
  /** HTTP Datagram Payload: a zero-copy view; may be empty. */
  payload: Uint8Array;
}

/** A decoded UDP Proxying HTTP Datagram Payload (RFC 9298 §5). */
export interface UdpProxyingPayload {
  /** Context ID; 0 means the payload is a UDP payload. */
  contextId: number;
  /** UDP Proxying Payload: a zero-copy view; may be empty. */
  payload: Uint8Array;
}

/**
 * The Quarter Stream ID for a request stream. Only client-initiated bidirectional streams carry
 * HTTP requests (RFC 9297 §2.1), so `streamId` must be a multiple of four.
 */
export function quarterStreamIdOf(streamId: number): number {
  if (!Number.isSafeInteger(streamId) || streamId < 0 || streamId % 4 !== 0) {
    throw new CapsuleError(
      `stream ${streamId} is not a client-initiated bidirectional stream`,
      'MALFORMED',
    );
  }
  return streamId / 4;
}

/** The request stream ID for a Quarter Stream ID (saturated values stay saturated). */
export function streamIdOf(quarterStreamId: number): number {
  return quarterStreamId >= SATURATED_ID / 4 ? SATURATED_ID : quarterStreamId * 4;
}

/** Bytes taken by the Quarter Stream ID and Context ID varints. */
export function datagramHeaderLength(quarterStreamId: number, contextId: number | bigint): number {
  return withCapsuleErrors('datagram header', () => {
    return varintLength(quarterStreamId) + varintLength(contextId);
  });
}

/**
 * Writes Quarter Stream ID then Context ID at `offset` and returns the offset of the payload.
 * Throws CapsuleError('TOO_LARGE') when `buf` is too small.
 */
export function writeDatagramHeader(
  buf: Uint8Array,
  offset: number,
  quarterStreamId: number,
  contextId: number | bigint,
): number {
  // Hot path: no closure. Any safe integer is a legal Quarter Stream ID (below 2^60 - 1).
  try {
    return encodeVarint(buf, encodeVarint(buf, offset, quarterStreamId), contextId);
  } catch (err) {
    throw toCapsuleError('datagram header', err);
  }
}

/**
 * Reads Quarter Stream ID and Context ID from a QUIC DATAGRAM frame's data `buf[offset, end)`
 * into `out`. Throws a connection-scoped CapsuleError when the Quarter Stream ID is missing,
 * truncated or above 2^60 - 1 (RFC 9297 §2.1), and a stream-scoped one when the Context ID is
 * missing or truncated. The payload is `buf[out.payloadOffset, end)`.
 */
export function readDatagramHeader(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: DatagramHeader,
): DatagramHeader {
  const scratch = SCRATCH;
  const afterQsid = readQuarterStreamId(buf, offset, end, scratch);
  out.quarterStreamId = scratch.value;
  const after = readSaturated(buf, afterQsid, end, scratch, 'Context ID', 'stream');
  out.contextId = scratch.value;
  out.payloadOffset = after;
  return out;
}

/**
 * Reads a Quarter Stream ID at `offset` into `out.value` and returns the offset after it.
 * RFC 9297 §2.1: "Receipt of a QUIC DATAGRAM frame whose payload is too short to allow parsing the
 * Quarter Stream ID field MUST be treated as an HTTP/3 connection error of type
 * H3_DATAGRAM_ERROR" and likewise for a value above 2^60 - 1.
 */
export function readQuarterStreamId(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: VarintResult,
): number {
  checkComplete(buf, offset, end, 'Quarter Stream ID', 'connection');
  // 8-byte encoding 11xxxxxx with either of bits 61..60 set (first byte above 0xcf): >= 2^60.
  if (buf[offset] > 0xcf) {
    throw new CapsuleError('Quarter Stream ID above 2^60 - 1', 'TOO_LARGE', {
      scope: 'connection',
    });
  }
  return readSaturated(buf, offset, end, out, 'Quarter Stream ID', 'connection');
}

/**
 * An HTTP/3 Datagram in bytes the caller owns (from the packet-path pool, `wire/pooled.ts`: it is
 * queued and sent soon).
 */
export function encodeH3Datagram(quarterStreamId: number, payload: Uint8Array): Uint8Array {
  // Hot path: no closure (one per datagram sent).
  let head: number;
  try {
    head = varintLength(quarterStreamId);
  } catch (err) {
    throw toCapsuleError('HTTP/3 datagram', err);
  }
  const out = pooledBytes(head + payload.length);
  encodeVarint(out, 0, quarterStreamId);
  out.set(payload, head);
  return out;
}

/** Splits a QUIC DATAGRAM frame's data into Quarter Stream ID and a view of the payload. */
export function decodeH3Datagram(data: Uint8Array): H3Datagram {
  const r: VarintResult = { value: 0, next: 0 };
  const next = readQuarterStreamId(data, 0, data.length, r);
  return { quarterStreamId: r.value, payload: data.subarray(next) };
}

/**
 * A UDP Proxying HTTP Datagram Payload as a new buffer. RFC 9298 §5: "endpoints MUST NOT send
 * HTTP Datagrams with a UDP Proxying Payload field longer than 65527 using Context ID zero."
 */
export function encodeUdpProxyingPayload(
  contextId: number | bigint,
  payload: Uint8Array,
): Uint8Array {
  checkUdpPayloadLength(contextId, payload.length);
  const head = withCapsuleErrors('UDP proxying payload', () => varintLength(contextId));
  const out = new Uint8Array(head + payload.length);
  encodeVarint(out, 0, contextId);
  out.set(payload, head);
  return out;
}

/**
 * Splits an HTTP Datagram Payload into Context ID and a view of the UDP Proxying Payload. RFC 9298
 * §5: "An endpoint that receives an HTTP Datagram using Context ID zero whose UDP Proxying Payload
 * field is longer than 65527 MUST abort the corresponding stream" (CapsuleError TOO_LARGE).
 */
export function decodeUdpProxyingPayload(httpDatagramPayload: Uint8Array): UdpProxyingPayload {
  const r: VarintResult = { value: 0, next: 0 };
  const next = readSaturated(
    httpDatagramPayload,
    0,
    httpDatagramPayload.length,
    r,
    'Context ID',
    'stream',
  );
  checkUdpPayloadLength(r.value, httpDatagramPayload.length - next);
  return { contextId: r.value, payload: httpDatagramPayload.subarray(next) };
}

/** RFC 9298 §5 length rule for Context ID 0; a no-op for other contexts. */
export function checkUdpPayloadLength(contextId: number | bigint, length: number): void {
  if ((contextId === 0 || contextId === 0n) && length > MAX_UDP_PAYLOAD_LENGTH) {
    throw new CapsuleError(
      `UDP payload of ${length} bytes exceeds ${MAX_UDP_PAYLOAD_LENGTH} (RFC 9298 §5)`,
      'TOO_LARGE',
    );
  }
}

/** A varint saturated at 2^53 - 1, with truncation reported as a CapsuleError of `scope`. */
function readSaturated(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: VarintResult,
  what: string,
  scope: 'stream' | 'connection',
): number {
  checkComplete(buf, offset, end, what, scope);
  const first = buf[offset];
  if (first >= 0xc0 && ((first & 0x3f) !== 0 || buf[offset + 1] > 0x1f)) {
    out.value = SATURATED_ID;
    out.next = offset + 8;
    return out.next;
  }
  return decodeVarint(buf, offset, end, out).next;
}

function checkComplete(
  buf: Uint8Array,
  offset: number,
  end: number,
  what: string,
  scope: 'stream' | 'connection',
): void {
  if (
    offset < 0 ||
    end > buf.length ||
    offset >= end ||
    offset + varintLengthFromFirstByte(buf[offset]) > end
  ) {
    throw new CapsuleError(`${what} truncated`, 'TRUNCATED', { scope });
  }
}
