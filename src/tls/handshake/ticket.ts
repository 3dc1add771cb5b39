/**
 * Stateless session tickets (RFC 9846 §4.6.1: the ticket "may be either a database lookup key
 * or a self-encrypted and self-authenticated value"). The server seals what it needs to resume
 * under its ticket key with AES-256-GCM; the client stores the ticket with its own view of the
 * session ({@link StoredTicket}).
 *
 *   ticket    = format(1) = 1 | nonce(12) | AEAD(key, nonce, aad = format, state) (tag 16)
 *   state     = version(1) = 1 | suite(2) | issued_at_ms(8) | lifetime_s(4) | age_add(4)
 *               | psk<0..255> | alpn<0..255> | server_name<0..2^16-1>
 */
import { CipherSuite, createAead, isCryptoError } from '../../crypto/index.js';
import { type Random, randomBytes } from '../../util/random.js';
import { ByteReader, ByteWriter, CodecError } from '../../wire/index.js';

/** What the server needs to accept a ticket. */
export interface TicketState {
  /** Cipher suite of the original connection (the PSK's hash is its hash). */
  readonly suite: number;
  /** The resumption PSK (RFC 9846 §4.6.1). */
  readonly psk: Uint8Array;
  /** Server time the ticket was issued, ms. */
  readonly issuedAt: number;
  /** ticket_lifetime, seconds. */
  readonly lifetime: number;
  /** ticket_age_add. */
  readonly ageAdd: number;
  /** ALPN protocol negotiated on the original connection. */
  readonly alpn: Uint8Array;
  /** SNI of the original connection ('' if none). */
  readonly serverName: string;
}

/**
 * What the client keeps from a NewSessionTicket to resume later (emitted by the `ticket` event,
 * passed back as `TlsClientConfig.resumption`). Holds a secret: store it like a key.
 */
export interface StoredTicket {
  /** The opaque ticket (PSK identity). */
  readonly ticket: Uint8Array;
  /** The resumption PSK derived from this ticket's nonce. */
  readonly psk: Uint8Array;
  /** Cipher suite of the connection that issued it. */
  readonly suite: number;
  /** ticket_age_add from the server. */
  readonly ageAdd: number;
  /** ticket_lifetime in seconds. */
  readonly lifetime: number;
  /** Client time the ticket was received, ms (the start of its age). */
  readonly receivedAt: number;
  /** SNI the ticket was issued for (RFC 9846 §4.6.1: resume only for the same server). */
  readonly serverName: string;
  /** ALPN protocol of the original connection. */
  readonly alpn: string;
  /** max_early_data_size (0xffffffff in QUIC when 0-RTT is allowed, RFC 9001 §4.6.1), if any. */
  readonly maxEarlyDataSize?: number;
}

const FORMAT = 1;
const STATE_VERSION = 1;
const NONCE_LENGTH = 12;
const AAD = Uint8Array.of(FORMAT);

/** Ticket keys are 32 bytes (AES-256-GCM). */
export const TICKET_KEY_LENGTH = 32;

/** Seals `state` under `key` into an opaque ticket. */
export function sealTicket(key: Uint8Array, random: Random, state: TicketState): Uint8Array {
  const w = new ByteWriter(128);
  w.u8(STATE_VERSION)
    .u16(state.suite)
    .u64(BigInt(Math.max(0, Math.floor(state.issuedAt))))
    .u32(state.lifetime)
    .u32(state.ageAdd)
    .vec8(state.psk)
    .vec8(state.alpn)
    .vec16(new TextEncoder().encode(state.serverName));
  const nonce = randomBytes(random, NONCE_LENGTH);
  const sealed = createAead(CipherSuite.TLS_AES_256_GCM_SHA384, key).seal(nonce, AAD, w.toBytes());
  const out = new Uint8Array(1 + NONCE_LENGTH + sealed.length);
  out[0] = FORMAT;
  out.set(nonce, 1);
  out.set(sealed, 1 + NONCE_LENGTH);
  return out;
}

/**
 * Opens a ticket; undefined for anything that is not a ticket sealed under `key` (RFC 9846
 * §4.2.11: unknown PSKs "SHOULD simply be ignored").
 */
export function openTicket(key: Uint8Array, ticket: Uint8Array): TicketState | undefined {
  if (ticket.length < 1 + NONCE_LENGTH + 16 || ticket[0] !== FORMAT) return undefined;
  try {
    const aead = createAead(CipherSuite.TLS_AES_256_GCM_SHA384, key);
    const plain = aead.open(
      ticket.subarray(1, 1 + NONCE_LENGTH),
      AAD,
      ticket.subarray(1 + NONCE_LENGTH),
    );
    const r = new ByteReader(plain);
    if (r.u8() !== STATE_VERSION) return undefined;
    const suite = r.u16();
    const issuedAt = Number(r.u64());
    const lifetime = r.u32();
    const ageAdd = r.u32();
    const psk = r.vec8();
    const alpn = r.vec8();
    const serverName = new TextDecoder().decode(r.vec16());
    r.expectEnd('ticket state');
    return { suite, psk, issuedAt, lifetime, ageAdd, alpn, serverName };
  } catch (err) {
    if (isCryptoError(err) || err instanceof CodecError) return undefined;
    throw err;
  }
}
