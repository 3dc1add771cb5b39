/**
 * Destination Connection ID rewriting for QUIC-aware proxying in forwarded mode
 * (draft-ietf-masque-quic-proxy §6.1, §6.2; RFC 8999 §5.2).
 *
 * A forwarded-mode packet travels between client and proxy with a Virtual Connection ID (VCID) in
 * place of the real one. Packet protection authenticates the whole header, DCID included
 * (RFC 9001 §5.3), so the endpoint seals and opens with the REAL connection ID and the swap
 * happens outside the AEAD: after sealing on the way out, before opening on the way in. Both the
 * client and the proxy swap, each in one direction per table:
 *
 *   client -> proxy   target VCID  -> (proxy) target CID   -> target
 *   target -> proxy   client CID   -> (proxy) client VCID  -> client -> (client) client CID
 *
 * Only the invariant short header is relied on for a datagram that starts with one: the first
 * byte, then a DCID whose length the caller knows, then bytes this module never reads
 * (quic-proxy §9: a proxy "can only require that these packets conform to the QUIC invariants
 * for short-header packets"). Nothing version specific is looked at, not even the Fixed Bit.
 *
 * Cost: O(1) when the lengths are equal (in place); otherwise one allocation and one copy of
 * the datagram. No per-call closures.
 */
import { CodecError } from '../../wire/index.js';
import { splitDatagram } from './coalesced.js';
import { isLongHeader } from './invariant.js';

/**
 * Longest connection ID the capsules of quic-proxy can register ("between 0 and 255 bytes",
 * quic-proxy §5.1-§5.2, following RFC 8999 §5.1's 8-bit length fields).
 */
export const MAX_FORWARDED_CID_LENGTH = 255;

/**
 * Replaces the Destination Connection ID of the short-header packet in `datagram`, whose current
 * DCID is `currentDcidLength` bytes long, with `newDcid`, and returns the datagram to send.
 *
 * - Equal lengths: `datagram` itself is modified in place and returned (no allocation).
 * - Different lengths: a NEW array is returned, longer or shorter by the difference, as
 *   quic-proxy §6.1 requires ("the sender MUST extend the length of the packet by the difference
 *   ... MUST shrink the length of the packet"); `datagram` is left untouched.
 *   Callers must always use the return value.
 *
 * A datagram that starts with long-header packets (a QUIC version 1 endpoint may coalesce its
 * last Handshake packet with a 1-RTT packet, RFC 9000 §12.2) is split with `splitDatagram`; only
 * the trailing short-header packet is rewritten: it has no Length field, so its size may change
 * without touching the long headers before it. This path parses version 1 long headers and so
 * needs `currentDcidLength` in 0-20. Bytes trailing a long header that parse as a short header
 * (e.g. zero padding) are rewritten like one, as a receiver would read them.
 *
 * Throws `CodecError`:
 * - TRUNCATED: empty datagram, or the DCID does not fit;
 * - MALFORMED: a length outside 0-255 (0-20 on the coalesced path), or no short-header packet
 *   to rewrite. quic-proxy §6.1: "QUIC long header packets MUST NOT be forwarded", so a datagram
 *   made only of long-header packets (or of a Retry, Version Negotiation or other-version packet)
 *   is refused rather than forwarded.
 */
export function rewriteShortHeaderDcid(
  datagram: Uint8Array,
  currentDcidLength: number,
  newDcid: Uint8Array,
): Uint8Array {
  checkForwardedCidLength(currentDcidLength, 'current DCID');
  checkForwardedCidLength(newDcid.length, 'new DCID');
  if (datagram.length === 0) throw new CodecError('TRUNCATED', 'empty datagram');
  const start = isLongHeader(datagram[0])
    ? trailingShortHeaderStart(datagram, currentDcidLength)
    : 0;
  const dcidEnd = start + 1 + currentDcidLength;
  if (dcidEnd > datagram.length) {
    throw new CodecError(
      'TRUNCATED',
      `short header needs ${currentDcidLength} DCID bytes, datagram has ${datagram.length - start - 1}`,
    );
  }
  if (newDcid.length === currentDcidLength) {
    // TypedArray#set copies correctly even when `newDcid` is a view of `datagram`.
    datagram.set(newDcid, start + 1);
    return datagram;
  }
  // |long packets...| first byte | new DCID | rest of the short packet, unchanged |
  const out = new Uint8Array(datagram.length - currentDcidLength + newDcid.length);
  out.set(datagram.subarray(0, start + 1), 0);
  out.set(newDcid, start + 1);
  out.set(datagram.subarray(dcidEnd), start + 1 + newDcid.length);
  return out;
}

/**
 * The Destination Connection ID of the first packet in `datagram`, as a zero-copy view.
 * For a short header (RFC 8999 §5.2) the length is not on the wire and `dcidLength` gives it; for
 * a long header (RFC 8999 §5.1) the length byte on the wire is used and `dcidLength` is ignored.
 * TRUNCATED when the datagram is too short; MALFORMED when `dcidLength` is not 0-255.
 */
export function dcidOf(datagram: Uint8Array, dcidLength: number): Uint8Array {
  checkForwardedCidLength(dcidLength, 'DCID');
  if (datagram.length === 0) throw new CodecError('TRUNCATED', 'empty datagram');
  let start = 1;
  let length = dcidLength;
  if (isLongHeader(datagram[0])) {
    // 1 | Version (32) | DCID Len (8) | DCID (0..2040) | ...
    if (datagram.length < 6) throw new CodecError('TRUNCATED', 'long header cut before DCID Len');
    length = datagram[5];
    start = 6;
  }
  if (start + length > datagram.length) {
    throw new CodecError('TRUNCATED', `DCID of ${length} bytes does not fit`);
  }
  return datagram.subarray(start, start + length);
}

/** Offset of the short-header packet that ends a datagram starting with a long header. */
function trailingShortHeaderStart(datagram: Uint8Array, currentDcidLength: number): number {
  const split = splitDatagram(datagram, currentDcidLength);
  if (split.error !== undefined) throw split.error.cause;
  const last = split.packets[split.packets.length - 1];
  if (last === undefined || last.header.kind !== 'short') {
    // quic-proxy §6.1: "QUIC long header packets MUST NOT be forwarded."
    throw new CodecError(
      'MALFORMED',
      'no short-header packet to rewrite: long header packets are never forwarded',
    );
  }
  return last.header.start;
}

function checkForwardedCidLength(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_FORWARDED_CID_LENGTH) {
    throw new CodecError('MALFORMED', `${what} length ${n} is not 0-255`);
  }
}
