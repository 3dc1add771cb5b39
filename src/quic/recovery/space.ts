/**
 * Packet number spaces as recovery sees them (RFC 9002 Appendix A.2, kPacketNumberSpace). 0-RTT
 * and 1-RTT packets share the Application Data space (RFC 9000 §12.3).
 */
export const PacketSpace = {
  Initial: 0,
  Handshake: 1,
  ApplicationData: 2,
} as const;

export type PacketSpace = (typeof PacketSpace)[keyof typeof PacketSpace];

/** The three spaces in the order the loss detection timer visits them. */
export const PACKET_SPACES: readonly PacketSpace[] = [
  PacketSpace.Initial,
  PacketSpace.Handshake,
  PacketSpace.ApplicationData,
];
