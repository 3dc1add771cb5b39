/**
 * The `identity` transform (quic-proxy §"The identity transform"): the packet crosses the link
 * unchanged. Its use is NOT RECOMMENDED when both sides support `scramble`: a passive observer of
 * both links can match packets byte for byte.
 */
import { checkPacket, type PacketTransform } from './types.js';

export class IdentityTransform implements PacketTransform {
  readonly name = 'identity';

  /** The packet must at least hold the first byte and the CID. */
  minPacketLength(cidLength: number): number {
    return 1 + cidLength;
  }

  encode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, 1 + cidLength, out);
    if (out !== packet) out.set(packet);
  }

  decode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    this.encode(packet, cidLength, out);
  }
}
