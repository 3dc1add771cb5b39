/**
 * Splitting a UDP datagram into its coalesced QUIC packets (RFC 9000 §12.2).
 *
 * Initial, 0-RTT and Handshake packets end where their Length field says; a short header, Retry,
 * Version Negotiation or unknown-version packet has no Length and takes the rest of the datagram.
 * "Every QUIC packet that is coalesced into a single UDP datagram is separate and complete", and a
 * receiver "MUST attempt to process the remaining packets" when one fails to decrypt, so a packet
 * that cannot be parsed ends the split without losing the packets before it: they are returned
 * with an `error` describing where and why parsing stopped.
 *
 * Bytes left after a long header packet are parsed as whatever packet they look like. Zero padding
 * some senders append therefore shows up as a short header with the Fixed Bit clear (or a DCID
 * mismatch), which the receiver discards after failing to decrypt it, as RFC 9000 §12.2 intends.
 */
import { bytesEqual, CodecError } from '../../wire/index.js';
import { parsePacketHeader } from './header.js';
import { checkLocalCidLength } from './short-header.js';
import type { PacketHeader } from './types.js';

/** One packet of a datagram. */
export interface CoalescedPacket {
  /** The parsed header; its offsets are absolute in the datagram. */
  header: PacketHeader;
  /** The packet's bytes: a view of the datagram from `header.start` to `header.packetEnd`. */
  bytes: Uint8Array;
  /**
   * True when the Destination Connection ID differs from the first packet's. RFC 9000 §12.2:
   * "Receivers SHOULD ignore any subsequent packets with a different Destination Connection ID
   * than the first packet in the datagram." Always false for the first packet.
   */
  dcidMismatch: boolean;
}

/** Result of {@link splitDatagram}. */
export interface SplitDatagram {
  /** The packets parsed before any error, in datagram order. */
  packets: CoalescedPacket[];
  /** Set when the bytes from `offset` to the end could not be parsed as a packet. */
  error?: {
    /** Offset where the unparsable packet starts. */
    offset: number;
    /** Why it could not be parsed. */
    cause: CodecError;
  };
}

/**
 * Splits `datagram` into packets. `localCidLength` is the length of the connection IDs this
 * endpoint issued (for short headers). Never throws on datagram content; only an invalid
 * `localCidLength` (not 0-20) throws `CodecError('MALFORMED')`.
 */
export function splitDatagram(datagram: Uint8Array, localCidLength: number): SplitDatagram {
  checkLocalCidLength(localCidLength);
  const packets: CoalescedPacket[] = [];
  let first: Uint8Array | undefined;
  let offset = 0;
  while (offset < datagram.length) {
    let header: PacketHeader;
    try {
      header = parsePacketHeader(datagram, offset, localCidLength);
    } catch (err) {
      if (err instanceof CodecError) return { packets, error: { offset, cause: err } };
      throw err;
    }
    first ??= header.dcid;
    packets.push({
      header,
      bytes: datagram.subarray(header.start, header.packetEnd),
      dcidMismatch: packets.length > 0 && !bytesEqual(first, header.dcid),
    });
    offset = header.packetEnd;
  }
  if (packets.length === 0) {
    return { packets, error: { offset: 0, cause: new CodecError('TRUNCATED', 'empty datagram') } };
  }
  return { packets };
}
