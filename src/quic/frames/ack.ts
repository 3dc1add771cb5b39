/**
 * ACK frames (RFC 9000 §19.3), types 0x02 and 0x03 (with ECN counts).
 *
 *   ACK Frame { Type (i) = 0x02..0x03, Largest Acknowledged (i), ACK Delay (i),
 *               ACK Range Count (i), First ACK Range (i), ACK Range (..) ..., [ECN Counts (..)] }
 *   ACK Range { Gap (i), ACK Range Length (i) }
 */
import { type ByteReader, type ByteWriter, CodecError } from '../../wire/index.js';
import { encodingError, vlen } from './codec.js';
import { type AckFrame, type AckRange, type EcnCounts, FrameType } from './types.js';

export function parseAck(r: ByteReader, type: number): AckFrame {
  const largest = r.varint();
  const ackDelay = r.varintClamped();
  const count = r.varint();
  const first = r.varint();
  let smallest = largest - first;
  // RFC 9000 §19.3.1: "If any computed packet number is negative, an endpoint MUST generate a
  // connection error of type FRAME_ENCODING_ERROR."
  if (smallest < 0)
    throw encodingError(type, `first ACK range ${first} exceeds largest ${largest}`);
  const ranges: AckRange[] = [[smallest, largest]];
  // Each further range takes at least 2 bytes, so a huge count ends in TRUNCATED quickly.
  for (let i = 0; i < count; i++) {
    const gap = r.varint();
    const len = r.varint();
    // largest = previous_smallest - gap - 2; smallest = largest - ack_range
    const hi = smallest - gap - 2;
    const lo = hi - len;
    if (hi < 0 || lo < 0) throw encodingError(type, `ACK range ${i + 1} goes below packet 0`);
    ranges.push([lo, hi]);
    smallest = lo;
  }
  let ecn: EcnCounts | null = null;
  if (type === FrameType.ACK_ECN) {
    ecn = { ect0: r.varint(), ect1: r.varint(), ce: r.varint() };
  }
  return { kind: 'ACK', ranges, ackDelay, ecn };
}

/** Throws MALFORMED unless the ranges are non-empty, descending, and separated by a gap. */
function checkRanges(ranges: readonly AckRange[]): void {
  if (ranges.length === 0) throw new CodecError('MALFORMED', 'ACK frame without ranges');
  let prevSmallest = Number.POSITIVE_INFINITY;
  // Indexed, not destructured: array destructuring runs the iterator protocol (an ACK is written
  // into nearly every packet).
  for (let i = 0; i < ranges.length; i++) {
    const lo = ranges[i][0];
    const hi = ranges[i][1];
    if (!(lo >= 0 && lo <= hi && hi <= prevSmallest - 2)) {
      throw new CodecError('MALFORMED', `ACK range [${lo}, ${hi}] out of order or overlapping`);
    }
    prevSmallest = lo;
  }
}

export function writeAck(w: ByteWriter, f: AckFrame): void {
  const { ranges } = f;
  checkRanges(ranges);
  const lo0 = ranges[0][0];
  const hi0 = ranges[0][1];
  w.u8(f.ecn ? FrameType.ACK_ECN : FrameType.ACK);
  w.varint(hi0)
    .varint(f.ackDelay)
    .varint(ranges.length - 1)
    .varint(hi0 - lo0);
  let prevSmallest = lo0;
  for (let i = 1; i < ranges.length; i++) {
    const lo = ranges[i][0];
    const hi = ranges[i][1];
    w.varint(prevSmallest - hi - 2).varint(hi - lo);
    prevSmallest = lo;
  }
  if (f.ecn) w.varint(f.ecn.ect0).varint(f.ecn.ect1).varint(f.ecn.ce);
}

export function ackLength(f: AckFrame): number {
  const { ranges } = f;
  checkRanges(ranges);
  const lo0 = ranges[0][0];
  const hi0 = ranges[0][1];
  let n = 1 + vlen(hi0) + vlen(f.ackDelay) + vlen(ranges.length - 1) + vlen(hi0 - lo0);
  let prevSmallest = lo0;
  for (let i = 1; i < ranges.length; i++) {
    const lo = ranges[i][0];
    const hi = ranges[i][1];
    n += vlen(prevSmallest - hi - 2) + vlen(hi - lo);
    prevSmallest = lo;
  }
  if (f.ecn) n += vlen(f.ecn.ect0) + vlen(f.ecn.ect1) + vlen(f.ecn.ce);
  return n;
}
