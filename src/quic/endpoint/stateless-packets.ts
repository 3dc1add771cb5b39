/**
 * The packets an endpoint sends without a connection: Version Negotiation (RFC 9000 §6.1,
 * §17.2.1), Retry (§8.1.2, §17.2.5) and an Initial carrying only CONNECTION_CLOSE, used to refuse
 * a connection (§5.2.2: CONNECTION_REFUSED) or an invalid Retry token (§8.1.2: INVALID_TOKEN).
 * Stateless resets are built by `src/quic/path/stateless-reset.ts`.
 */
import { type Random, randomBytes } from '../../util/random.js';
import { ByteWriter } from '../../wire/index.js';
import {
  encodeRetry,
  encodeVersionNegotiation,
  LongPacketType,
  RETRY_INTEGRITY_TAG_LENGTH,
  writeLongHeader,
} from '../packet/index.js';
import {
  computeRetryTag,
  INITIAL_SUITE,
  initialSecrets,
  PacketProtector,
} from '../protection/index.js';

const AEAD_TAG = 16;
/** CONNECTION_CLOSE frame type for transport errors (RFC 9000 §19.19). */
const CONNECTION_CLOSE_TRANSPORT = 0x1c;

/** A random reserved version 0x?a?a?a?a (RFC 9000 §15), to keep negotiation greased. */
export function greaseVersion(random: Random): number {
  const b = randomBytes(random, 4);
  const v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  return ((v & 0xf0f0_f0f0) | 0x0a0a_0a0a) >>> 0;
}

/**
 * Version Negotiation answering a packet with `dcid`/`scid`: the CIDs swap places
 * (RFC 9000 §17.2.1: DCID "MUST" be the triggering SCID and vice versa), then our versions and one
 * grease version. The unused bits are random with 0x40 set (§17.2.1 SHOULD).
 */
export function buildVersionNegotiation(
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  random: Random,
): Uint8Array {
  const unused = randomBytes(random, 1)[0];
  return encodeVersionNegotiation({
    dcid: scid,
    scid: dcid,
    versions: [...versions, greaseVersion(random)],
    unusedBits: (unused & 0x3f) | 0x40,
  });
}

/**
 * A Retry to the client whose Initial had `clientScid`/`originalDcid`: new SCID `retryScid`,
 * `token`, the 4 unused bits ("arbitrary", RFC 9000 §17.2.5: pass random bits), and the integrity
 * tag over the Retry pseudo-packet (RFC 9001 §5.8).
 */
export function buildRetry(
  clientScid: Uint8Array,
  originalDcid: Uint8Array,
  retryScid: Uint8Array,
  token: Uint8Array,
  unusedBits: number,
): Uint8Array {
  const packet = encodeRetry({
    dcid: clientScid,
    scid: retryScid,
    token,
    integrityTag: new Uint8Array(RETRY_INTEGRITY_TAG_LENGTH),
    unusedBits: unusedBits & 0x0f,
  });
  const body = packet.length - RETRY_INTEGRITY_TAG_LENGTH;
  packet.set(computeRetryTag(originalDcid, packet.subarray(0, body)), body);
  return packet;
}

/**
 * A server Initial holding one CONNECTION_CLOSE (0x1c) with `errorCode`, protected with the
 * Initial keys of `clientDcid` (the DCID of the Initial being answered, RFC 9001 §5.2), sent to
 * `clientScid` from `serverScid`. No state is created: RFC 9000 §8.1.2 notes such a server "does
 * not enter the closing period". CONNECTION_CLOSE is not ack-eliciting, so no padding to 1200
 * bytes is needed (§14.1); the packet stays far smaller than the client's 1200-byte Initial.
 */
export function buildInitialClose(
  clientDcid: Uint8Array,
  clientScid: Uint8Array,
  serverScid: Uint8Array,
  errorCode: number,
): Uint8Array {
  const payload = new ByteWriter(16);
  // CONNECTION_CLOSE { Type (i) = 0x1c, Error Code (i), Frame Type (i) = 0, Reason Phrase Length (i) = 0 }
  payload.varint(CONNECTION_CLOSE_TRANSPORT).varint(errorCode).varint(0).varint(0);
  const plain = payload.view();
  const pnLength = 1;
  const w = new ByteWriter(64 + clientScid.length + serverScid.length);
  const layout = writeLongHeader(w, {
    type: LongPacketType.Initial,
    dcid: clientScid,
    scid: serverScid,
    packetNumber: 0,
    pnLength,
    length: pnLength + plain.length + AEAD_TAG,
  });
  w.bytes(plain).zeros(AEAD_TAG);
  const packet = w.toBytes();
  const protector = PacketProtector.fromSecret(INITIAL_SUITE, initialSecrets(clientDcid).server);
  protector.seal(packet, layout.pnOffset, pnLength, 0, plain.length);
  return packet;
}
