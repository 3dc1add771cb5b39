/**
 * One packet number space of a connection (RFC 9000 §12.3): its keys (Initial and Handshake; the
 * Application space's 1-RTT keys live in {@link OneRttKeys}), the next packet number to send,
 * the received-packet tracker that drives ACKs, and the CRYPTO stream of its encryption level.
 */
import { type PacketNumberSpace, ReceivedPackets } from '../ack/index.js';
import type { PacketProtector } from '../protection/index.js';
import { PacketSpace } from '../recovery/index.js';
import { CryptoStream } from '../streams/crypto-stream.js';

/** Space names in recovery's numbering (Initial 0, Handshake 1, Application 2). */
const NAMES: readonly PacketNumberSpace[] = ['initial', 'handshake', 'application'];

export class PacketSpaceState {
  /** Recovery's index of this space. */
  readonly id: PacketSpace;
  readonly name: PacketNumberSpace;
  /** Keys to open the peer's packets (Initial / Handshake only). */
  readKeys: PacketProtector | undefined;
  /** Keys to protect our packets (Initial / Handshake only). */
  writeKeys: PacketProtector | undefined;
  /** Next packet number to send. */
  nextPn = 0;
  /** Received packets and ACK scheduling. */
  received: ReceivedPackets;
  /** CRYPTO stream of this encryption level. */
  crypto = new CryptoStream();
  /** True once the keys of this space were discarded (RFC 9001 §4.9): nothing more is sent. */
  discarded = false;
  /** An ack-eliciting probe (RFC 9002 §6.2.4) is owed in this space: count of packets. */
  probesOwed = 0;

  constructor(id: PacketSpace, maxAckDelay: number) {
    this.id = id;
    this.name = NAMES[id];
    this.received = new ReceivedPackets({ space: this.name, maxAckDelay });
  }

  /**
   * Forgets the keys and the CRYPTO state (RFC 9001 §4.9). The space's packet tracking and CRYPTO
   * stream are let go too (an idle connection's memory, issue 10): nothing reaches them once the
   * keys are gone (receive drops the space's packets, the builder skips it, loss detection
   * forgets its packets), and one shared empty pair stands in for every discarded space.
   */
  discard(): void {
    this.discarded = true;
    this.readKeys = undefined;
    this.writeKeys = undefined;
    this.probesOwed = 0;
    this.crypto.discard();
    this.received = DISCARDED.received;
    this.crypto = DISCARDED.crypto;
  }
}

/** What every discarded space holds instead of its own tracker and CRYPTO stream. */
const DISCARDED = {
  received: new ReceivedPackets({ space: 'initial', maxAckDelay: 0 }),
  crypto: new CryptoStream(),
};
DISCARDED.crypto.discard();

/** The three spaces of a connection, indexed by {@link PacketSpace}. */
export function createSpaces(
  maxAckDelay: number,
): [PacketSpaceState, PacketSpaceState, PacketSpaceState] {
  return [
    new PacketSpaceState(PacketSpace.Initial, maxAckDelay),
    new PacketSpaceState(PacketSpace.Handshake, maxAckDelay),
    new PacketSpaceState(PacketSpace.ApplicationData, maxAckDelay),
  ];
}
