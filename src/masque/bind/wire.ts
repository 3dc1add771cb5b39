/**
 * The two wire forms of the compression capsules of connect-udp-bind:
 *
 * - `final` (connect-udp-listen -10 and later, the RFC): COMPRESSION_ASSIGN 0x11,
 *   COMPRESSION_ACK 0x12, COMPRESSION_CLOSE 0x13.
 * - `legacy` (the drafts before -10, still in Google quiche and forks deployed from it):
 *   COMPRESSION_ASSIGN 0x1C0FE323 and COMPRESSION_CLOSE 0x1C0FE324 with the same layouts, and no
 *   ACK type: a registration is acknowledged by echoing the COMPRESSION_ASSIGN back.
 *
 * Both decode to the same {@link CompressionCapsule}s, so one context table serves both; a
 * legacy echo is recognised by the receiver (an ASSIGN carrying the receiver's own parity) and
 * turned into a COMPRESSION_ACK here.
 */
import {
  type CompressionAssign,
  type CompressionCapsule,
  CompressionCapsuleType,
  decodeCompressionCapsule,
  encodeCompressionValue,
} from '../capsules/compression.js';

/** Which codepoints a tunnel speaks. */
export type BindWire = 'final' | 'legacy';

/** Legacy codepoints (connect-udp-listen before -10). */
export const LegacyCompressionCapsuleType = {
  COMPRESSION_ASSIGN: 0x1c0fe323,
  COMPRESSION_CLOSE: 0x1c0fe324,
} as const;

const ASSIGN_MAX = 8 + 1 + 16 + 2;

/** Capsule types and largest lengths to ask the capsule parser for, per wire form. */
export function bindCapsuleLimits(wires: Iterable<BindWire>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const w of new Set(wires)) {
    if (w === 'final') {
      out.push([CompressionCapsuleType.COMPRESSION_ASSIGN, ASSIGN_MAX]);
      out.push([CompressionCapsuleType.COMPRESSION_ACK, 8]);
      out.push([CompressionCapsuleType.COMPRESSION_CLOSE, 8]);
    } else {
      out.push([LegacyCompressionCapsuleType.COMPRESSION_ASSIGN, ASSIGN_MAX]);
      out.push([LegacyCompressionCapsuleType.COMPRESSION_CLOSE, 8]);
    }
  }
  return out;
}

/** The wire form a capsule type belongs to, or undefined when it is no compression capsule. */
export function bindWireOf(type: number): BindWire | undefined {
  if (type >= 0x11 && type <= 0x13) return 'final';
  if (
    type === LegacyCompressionCapsuleType.COMPRESSION_ASSIGN ||
    type === LegacyCompressionCapsuleType.COMPRESSION_CLOSE
  ) {
    return 'legacy';
  }
  return undefined;
}

/**
 * Decodes a compression capsule of either form. `receiver` is who decodes: in the legacy form,
 * an ASSIGN carrying the receiver's own parity (odd for the proxy, even for the client) is the
 * peer's echo of our registration, returned as a COMPRESSION_ACK. Throws CapsuleError on a
 * malformed value (RFC 9297 §3.3).
 */
export function decodeBindCapsule(
  type: number,
  value: Uint8Array,
  receiver: 'client' | 'proxy',
): CompressionCapsule {
  if (type === LegacyCompressionCapsuleType.COMPRESSION_CLOSE) {
    return decodeCompressionCapsule(CompressionCapsuleType.COMPRESSION_CLOSE, value);
  }
  if (type === LegacyCompressionCapsuleType.COMPRESSION_ASSIGN) {
    const c = decodeCompressionCapsule(CompressionCapsuleType.COMPRESSION_ASSIGN, value);
    const ours = receiver === 'proxy' ? c.contextId % 2 === 1 : c.contextId % 2 === 0;
    if (ours) return { type: CompressionCapsuleType.COMPRESSION_ACK, contextId: c.contextId };
    return decodeCompressionCapsule(CompressionCapsuleType.COMPRESSION_ASSIGN, value, {
      receiver,
    });
  }
  return decodeCompressionCapsule(type, value, { receiver });
}

/**
 * Encodes a compression capsule for `wire` as (type, value). A legacy ACK is the echo of the
 * registration it answers: `assigned` must be given (the ASSIGN received for that Context ID).
 */
export function encodeBindCapsule(
  c: CompressionCapsule,
  wire: BindWire,
  assigned?: CompressionAssign,
): [type: number, value: Uint8Array] {
  if (wire === 'final') return [c.type, encodeCompressionValue(c)];
  switch (c.type) {
    case CompressionCapsuleType.COMPRESSION_ASSIGN:
      return [LegacyCompressionCapsuleType.COMPRESSION_ASSIGN, encodeCompressionValue(c)];
    case CompressionCapsuleType.COMPRESSION_CLOSE:
      return [LegacyCompressionCapsuleType.COMPRESSION_CLOSE, encodeCompressionValue(c)];
    case CompressionCapsuleType.COMPRESSION_ACK:
      if (assigned === undefined || assigned.contextId !== c.contextId) {
        throw new TypeError(`a legacy ACK of Context ID ${c.contextId} needs its ASSIGN to echo`);
      }
      return [LegacyCompressionCapsuleType.COMPRESSION_ASSIGN, encodeCompressionValue(assigned)];
  }
}
