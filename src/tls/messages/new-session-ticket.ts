/**
 * NewSessionTicket (RFC 9846 §4.6.1):
 *
 *   struct {
 *       uint32 ticket_lifetime;
 *       uint32 ticket_age_add;
 *       opaque ticket_nonce<0..255>;
 *       opaque ticket<1..2^16-1>;
 *       Extension extensions<0..2^16-1>;
 *   } NewSessionTicket;
 */
import { ByteReader, type ByteWriter } from '../../wire/index.js';
import { decodeGuard, TlsAlertError } from '../alert.js';
import { checkUint, readOpaque, writeOpaque } from '../codec.js';
import { readExtensions, writeExtensions } from '../extensions/block.js';
import type { Extension } from '../extensions/types.js';

/** RFC 9846 §4.6.1: "Servers MUST NOT use any value greater than 604800 seconds (7 days)." */
export const MAX_TICKET_LIFETIME = 604_800;

/** A decoded NewSessionTicket message. */
export interface NewSessionTicket {
  readonly kind: 'new_session_ticket';
  /** Lifetime in seconds; a client never uses a ticket beyond 7 days, whatever this says. */
  readonly ticketLifetime: number;
  /** uint32 added to the ticket age in the client's pre_shared_key. */
  readonly ticketAgeAdd: number;
  /** Per-ticket nonce for the resumption PSK derivation, 0..255 bytes. */
  readonly ticketNonce: Uint8Array;
  /** The opaque ticket (the PSK identity), 1..65535 bytes. */
  readonly ticket: Uint8Array;
  /** Extensions (early_data carries max_early_data_size). */
  readonly extensions: readonly Extension[];
}

export function decodeNewSessionTicketBody(body: Uint8Array): NewSessionTicket {
  return decodeGuard('NewSessionTicket', () => {
    const r = new ByteReader(body);
    const ticketLifetime = r.u32();
    const ticketAgeAdd = r.u32();
    const ticketNonce = readOpaque(r, 1, 0, 0xff, 'ticket_nonce');
    const ticket = readOpaque(r, 2, 1, 0xffff, 'ticket');
    const extensions = readExtensions(r, 'new_session_ticket');
    r.expectEnd('NewSessionTicket');
    return {
      kind: 'new_session_ticket',
      ticketLifetime,
      ticketAgeAdd,
      ticketNonce,
      ticket,
      extensions,
    };
  });
}

export function encodeNewSessionTicketBody(w: ByteWriter, msg: NewSessionTicket): void {
  checkUint(msg.ticketLifetime, 0xffff_ffff, 'ticket_lifetime');
  if (msg.ticketLifetime > MAX_TICKET_LIFETIME) {
    throw new TlsAlertError('internal_error', `ticket_lifetime ${msg.ticketLifetime} above 7 days`);
  }
  checkUint(msg.ticketAgeAdd, 0xffff_ffff, 'ticket_age_add');
  w.u32(msg.ticketLifetime);
  w.u32(msg.ticketAgeAdd);
  writeOpaque(w, 1, msg.ticketNonce, 0, 0xff, 'ticket_nonce');
  writeOpaque(w, 2, msg.ticket, 1, 0xffff, 'ticket');
  writeExtensions(w, msg.extensions, 'new_session_ticket');
}
