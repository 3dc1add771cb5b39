/** The sans-IO TLS 1.3 handshake for QUIC: key schedule, client and server sessions, tickets. */
export { createTlsClient, TlsClient } from './client.js';
export { loadServerCredential, type ServerCredential, selectCredential } from './credential.js';
export {
  type GroupName,
  generateKeyShare,
  isSupportedGroup,
  type KeyShare,
  SUPPORTED_GROUPS,
} from './key-exchange.js';
export * from './key-schedule.js';
export { createTlsServer, TlsServer } from './server.js';
export { KeylogLabel, TlsSession } from './session.js';
export {
  openTicket,
  type StoredTicket,
  sealTicket,
  TICKET_KEY_LENGTH,
  type TicketState,
} from './ticket.js';
export { Transcript } from './transcript.js';
export type * from './types.js';
