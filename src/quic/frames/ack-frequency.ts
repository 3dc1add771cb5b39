/**
 * The two frames of the ACK frequency extension (draft-ietf-quic-ack-frequency-14):
 *
 *   ACK_FREQUENCY Frame { Type (i) = 0xaf, Sequence Number (i), Ack-Eliciting Threshold (i),
 *     Requested Max Ack Delay (i), Reordering Threshold (i) }          (§4)
 *   IMMEDIATE_ACK Frame { Type (i) = 0x1f }                            (§5)
 *
 * Field values are range-checked by the connection (the Requested Max Ack Delay rules of §4 need
 * the min_ack_delay we advertised); the codec only reads and writes them.
 */
import { type ByteReader, type ByteWriter, CodecError } from '../../wire/index.js';
import { vlen } from './codec.js';
import { type AckFrequencyFrame, FrameType } from './types.js';

export function parseAckFrequency(r: ByteReader): AckFrequencyFrame {
  return {
    kind: 'ACK_FREQUENCY',
    sequenceNumber: r.varintClamped(),
    ackElicitingThreshold: r.varintClamped(),
    requestedMaxAckDelay: r.varintClamped(),
    reorderingThreshold: r.varintClamped(),
  };
}

function checkField(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new CodecError('VARINT_RANGE', `ACK_FREQUENCY ${name} ${v}`);
  }
}

export function ackFrequencyLength(f: AckFrequencyFrame): number {
  checkField('sequence number', f.sequenceNumber);
  checkField('ack-eliciting threshold', f.ackElicitingThreshold);
  checkField('requested max ack delay', f.requestedMaxAckDelay);
  checkField('reordering threshold', f.reorderingThreshold);
  return (
    vlen(FrameType.ACK_FREQUENCY) +
    vlen(f.sequenceNumber) +
    vlen(f.ackElicitingThreshold) +
    vlen(f.requestedMaxAckDelay) +
    vlen(f.reorderingThreshold)
  );
}

export function writeAckFrequency(w: ByteWriter, f: AckFrequencyFrame): void {
  ackFrequencyLength(f);
  w.varint(FrameType.ACK_FREQUENCY);
  w.varint(f.sequenceNumber);
  w.varint(f.ackElicitingThreshold);
  w.varint(f.requestedMaxAckDelay);
  w.varint(f.reorderingThreshold);
}
