/**
 * Validation of the ranges of a received ACK frame against what was sent, before any of it is
 * acted upon.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import type { SentPackets } from './sent-packets.js';

/** ACK frame type, reported as the offending frame. */
const ACK_FRAME_TYPE = 0x02;

/**
 * Checks ACK ranges given as `[start, endExclusive)`, highest first.
 * @throws TransportError FRAME_ENCODING_ERROR when the ranges are empty, not descending or
 * overlapping; PROTOCOL_VIOLATION when one covers a packet number never sent.
 */
export function checkAckRanges<T>(
  sent: SentPackets<T>,
  ranges: ReadonlyArray<readonly [number, number]>,
): void {
  if (ranges.length === 0) {
    throw new TransportError(
      TransportErrorCode.FRAME_ENCODING_ERROR,
      'ACK without ranges',
      ACK_FRAME_TYPE,
    );
  }
  let floor = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ranges.length; i++) {
    const start = ranges[i][0];
    const end = ranges[i][1];
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0)) {
      throw new TransportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        'bad ACK range',
        ACK_FRAME_TYPE,
      );
    }
    if (!(start < end && end <= floor)) {
      throw new TransportError(
        TransportErrorCode.FRAME_ENCODING_ERROR,
        'ACK ranges not descending',
        ACK_FRAME_TYPE,
      );
    }
    floor = start;
    // RFC 9000 §13.1: "An endpoint SHOULD treat receipt of an acknowledgment for a packet it did
    // not send as a connection error of type PROTOCOL_VIOLATION, if it is able to detect the
    // condition."
    if (!sent.wasSent(start, end)) {
      throw new TransportError(
        TransportErrorCode.PROTOCOL_VIOLATION,
        `ACK of packets [${start}, ${end}) never sent`,
        ACK_FRAME_TYPE,
      );
    }
  }
}
