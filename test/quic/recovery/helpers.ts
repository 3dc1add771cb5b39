import type { SentPacket } from '../../../src/quic/recovery/index.js';

/** Default full-size packet (bytes). */
export const MDS = 1200;

/** A sent packet whose `info` names it, ack-eliciting and in flight unless told otherwise. */
export function pkt(
  pn: number,
  timeSent: number,
  opts: { size?: number; ackEliciting?: boolean; inFlight?: boolean; mtuProbe?: boolean } = {},
): SentPacket<string> {
  const ackEliciting = opts.ackEliciting ?? true;
  return {
    pn,
    timeSent,
    size: opts.size ?? MDS,
    ackEliciting,
    inFlight: opts.inFlight ?? ackEliciting,
    mtuProbe: opts.mtuProbe,
    info: `pn${pn}`,
  };
}

/** Packet numbers of a list of packets. */
export function pns(packets: readonly { pn: number }[]): number[] {
  return packets.map((p) => p.pn);
}
