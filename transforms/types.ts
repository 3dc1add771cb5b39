/**
 * Forwarded-mode packet transforms (quic-proxy §"Packet Transforms"): the procedure applied to a
 * short-header QUIC packet, after its CID was replaced with a VCID, before it crosses the
 * client<->proxy link, and its inverse on receipt.
 *
 * A transform sees a packet as `first byte | CID (cidLength bytes) | rest`. It is
 * length-preserving and never changes the CID bytes, so the receiver can still route the packet
 * by its (virtual) Destination Connection ID before decoding it.
 *
 * The hot path works in place (`encode(packet, cidLength)`) or into a caller-provided buffer
 * (`encode(packet, cidLength, out)`): no output buffer is allocated per packet.
 */

/** Why a transform refused a packet or a configuration. Stable strings, safe to match on. */
export type TransformErrorCode =
  /** The packet is shorter than the transform's minimum for this CID length. Drop it. */
  | 'PACKET_TOO_SHORT'
  /** The first byte has the Header Form bit set: long headers are never forwarded. Drop it. */
  | 'NOT_SHORT_HEADER'
  /** The CID length is not an integer in 0..255. */
  | 'BAD_CID_LENGTH'
  /** The caller's output buffer is shorter than the packet. */
  | 'OUTPUT_TOO_SMALL'
  /** The key is missing or has the wrong length. */
  | 'BAD_KEY'
  /** No transform is registered under this wire name. */
  | 'UNKNOWN_TRANSFORM';

/**
 * The typed error of the transform layer. Packet-level codes (`PACKET_TOO_SHORT`,
 * `NOT_SHORT_HEADER`) mean "drop this packet"; the others are configuration or programming errors.
 */
export class TransformError extends Error {
  override readonly name = 'TransformError';
  readonly code: TransformErrorCode;

  constructor(code: TransformErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Narrowing helper for catch blocks. */
export function isTransformError(err: unknown): err is TransformError {
  return err instanceof TransformError;
}

/**
 * One direction of a negotiated packet transform. For `scramble-dt` each side sends with its own
 * key and receives with the peer's key, so a connection holds two instances: one whose `encode`
 * is used for sending and one whose `decode` is used for receiving.
 */
export interface PacketTransform {
  /** The wire name this transform was negotiated under (quic-proxy §"Packet Transform Names"). */
  readonly name: string;
  /** The shortest packet `encode`/`decode` accept for this CID length. */
  minPacketLength(cidLength: number): number;
  /**
   * Transforms `packet` for sending. Writes into `out` (default: `packet` itself, in place);
   * `out` must be `packet` or a buffer that does not overlap it, of at least `packet.length`
   * bytes. Exactly `packet.length` bytes are written. Throws {@link TransformError}.
   */
  encode(packet: Uint8Array, cidLength: number, out?: Uint8Array): void;
  /** The inverse of {@link PacketTransform.encode}, with the same buffer rules. */
  decode(packet: Uint8Array, cidLength: number, out?: Uint8Array): void;
}

/** Configuration passed to a transform factory. */
export interface TransformOptions {
  /** Key material; `scramble-dt` needs exactly 32 bytes (quic-proxy §"The scramble transform"). */
  key?: Uint8Array;
}

/** Largest CID length the transforms accept (the QUIC invariants allow 0..255 bytes). */
export const MAX_CID_LENGTH = 255;

/**
 * Shared precondition check: CID length, minimum size, short header, output size. Kept out of
 * the transforms' bodies so every transform reports the same codes for the same faults.
 */
export function checkPacket(
  packet: Uint8Array,
  cidLength: number,
  minLength: number,
  out: Uint8Array,
): void {
  if (!Number.isInteger(cidLength) || cidLength < 0 || cidLength > MAX_CID_LENGTH) {
    throw new TransformError('BAD_CID_LENGTH', `CID length ${cidLength} outside 0..255`);
  }
  if (packet.length < minLength) {
    throw new TransformError(
      'PACKET_TOO_SHORT',
      `packet of ${packet.length} bytes is shorter than ${minLength} (CID length ${cidLength})`,
    );
  }
  // quic-proxy §"Sending With Forwarded Mode": "QUIC long header packets MUST NOT be forwarded."
  // RFC 8999 §5.2: a short header has the Header Form bit (0x80) clear.
  if ((packet[0] & 0x80) !== 0) {
    throw new TransformError('NOT_SHORT_HEADER', 'Header Form bit set: not a short-header packet');
  }
  if (out.length < packet.length) {
    throw new TransformError(
      'OUTPUT_TOO_SMALL',
      `output of ${out.length} bytes for a ${packet.length}-byte packet`,
    );
  }
}
