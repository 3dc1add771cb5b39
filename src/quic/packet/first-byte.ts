/**
 * Bits of the first byte of a QUIC version 1 packet (RFC 9000 §17.2, §17.3.1).
 *
 *   long header:  1 F T T R R P P   form, fixed, long packet type, reserved, pn length - 1
 *   short header: 0 F S R R K P P   form, fixed, spin, reserved, key phase, pn length - 1
 *
 * Header protection (RFC 9001 §5.4) masks the low 4 bits of a long header and the low 5 bits of a
 * short header, so the reserved, key phase and packet number length readers below only make sense
 * on a first byte whose protection has been removed.
 */
import { HEADER_FORM_BIT } from './invariant.js';
import type { PacketNumberLength } from './packet-number.js';
import type { LongPacketType } from './types.js';

/** The Fixed Bit: 1 in every version 1 packet except Version Negotiation (RFC 9000 §17.2). */
export const FIXED_BIT = 0x40;
/** Latency spin bit of a short header (not covered by header protection). */
export const SPIN_BIT = 0x20;
/** Key phase bit of a short header (protected). */
export const KEY_PHASE_BIT = 0x04;
/** RFC 9001 §5.4.1: "Long header: 4 bits masked". */
export const LONG_HEADER_PROTECTED_BITS = 0x0f;
/** RFC 9001 §5.4.1: "Short header: 5 bits masked". */
export const SHORT_HEADER_PROTECTED_BITS = 0x1f;

/** Which first-byte bits header protection covers for this packet's header form. */
export function headerProtectedBits(firstByte: number): number {
  return firstByte & HEADER_FORM_BIT ? LONG_HEADER_PROTECTED_BITS : SHORT_HEADER_PROTECTED_BITS;
}

/** The Long Packet Type (mask 0x30) of a long header first byte; not protected. */
export function longPacketTypeOf(firstByte: number): LongPacketType {
  return ((firstByte & 0x30) >> 4) as LongPacketType;
}

/** Packet Number Length (low 2 bits, plus one) of an unprotected first byte, either form. */
export function packetNumberLengthOf(unprotectedFirstByte: number): PacketNumberLength {
  return ((unprotectedFirstByte & 0x03) + 1) as PacketNumberLength;
}

/**
 * Reserved Bits (mask 0x0c) of an unprotected long header first byte. Non-zero after removing
 * packet and header protection is a PROTOCOL_VIOLATION (RFC 9000 §17.2).
 */
export function longHeaderReservedBits(unprotectedFirstByte: number): number {
  return (unprotectedFirstByte & 0x0c) >> 2;
}

/**
 * Reserved Bits (mask 0x18) of an unprotected short header first byte. Non-zero after removing
 * packet and header protection is a PROTOCOL_VIOLATION (RFC 9000 §17.3.1).
 */
export function shortHeaderReservedBits(unprotectedFirstByte: number): number {
  return (unprotectedFirstByte & 0x18) >> 3;
}

/** Key Phase bit (0x04) of an unprotected short header first byte. */
export function keyPhaseOf(unprotectedFirstByte: number): 0 | 1 {
  return unprotectedFirstByte & KEY_PHASE_BIT ? 1 : 0;
}

/** Spin Bit (0x20) of a short header first byte; readable with or without protection. */
export function spinBitOf(firstByte: number): boolean {
  return (firstByte & SPIN_BIT) !== 0;
}
