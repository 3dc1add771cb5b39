/**
 * One entry point for every handshake message: encode to framed bytes (header included, ready for
 * the CRYPTO stream and the transcript) and decode a body by its msg_type (RFC 9846 §4).
 */
import type { ByteWriter } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import { HandshakeType } from '../constants.js';
import {
  type Certificate,
  type CertificateVerify,
  decodeCertificateBody,
  decodeCertificateVerifyBody,
  encodeCertificateBody,
  encodeCertificateVerifyBody,
} from './certificate.js';
import { type ClientHello, decodeClientHelloBody, encodeClientHelloBody } from './client-hello.js';
import {
  type CertificateRequest,
  decodeCertificateRequestBody,
  decodeEncryptedExtensionsBody,
  type EncryptedExtensions,
  encodeCertificateRequestBody,
  encodeEncryptedExtensionsBody,
} from './encrypted-extensions.js';
import { decodeFinishedBody, encodeFinishedBody, type Finished } from './finished.js';
import { frameHandshake, type RawHandshake } from './framing.js';
import {
  decodeEndOfEarlyDataBody,
  decodeKeyUpdateBody,
  type EndOfEarlyData,
  encodeKeyUpdateBody,
  type KeyUpdate,
} from './key-update.js';
import {
  decodeNewSessionTicketBody,
  encodeNewSessionTicketBody,
  type NewSessionTicket,
} from './new-session-ticket.js';
import {
  decodeServerHelloBody,
  encodeServerHelloBody,
  type HelloRetryRequest,
  type ServerHello,
} from './server-hello.js';

/** Every handshake message this codec knows, tagged by `kind`. */
export type HandshakeMessage =
  | ClientHello
  | ServerHello
  | HelloRetryRequest
  | EncryptedExtensions
  | CertificateRequest
  | Certificate
  | CertificateVerify
  | Finished
  | NewSessionTicket
  | KeyUpdate
  | EndOfEarlyData;

/** msg_type of each message kind (a HelloRetryRequest is a server_hello on the wire). */
export const HANDSHAKE_TYPE_OF: Readonly<Record<HandshakeMessage['kind'], number>> = {
  client_hello: HandshakeType.client_hello,
  server_hello: HandshakeType.server_hello,
  hello_retry_request: HandshakeType.server_hello,
  encrypted_extensions: HandshakeType.encrypted_extensions,
  certificate_request: HandshakeType.certificate_request,
  certificate: HandshakeType.certificate,
  certificate_verify: HandshakeType.certificate_verify,
  finished: HandshakeType.finished,
  new_session_ticket: HandshakeType.new_session_ticket,
  key_update: HandshakeType.key_update,
  end_of_early_data: HandshakeType.end_of_early_data,
};

function writeBody(w: ByteWriter, msg: HandshakeMessage): void {
  switch (msg.kind) {
    case 'client_hello':
      encodeClientHelloBody(w, msg);
      return;
    case 'server_hello':
    case 'hello_retry_request':
      encodeServerHelloBody(w, msg);
      return;
    case 'encrypted_extensions':
      encodeEncryptedExtensionsBody(w, msg);
      return;
    case 'certificate_request':
      encodeCertificateRequestBody(w, msg);
      return;
    case 'certificate':
      encodeCertificateBody(w, msg);
      return;
    case 'certificate_verify':
      encodeCertificateVerifyBody(w, msg);
      return;
    case 'finished':
      encodeFinishedBody(w, msg);
      return;
    case 'new_session_ticket':
      encodeNewSessionTicketBody(w, msg);
      return;
    case 'key_update':
      encodeKeyUpdateBody(w, msg);
      return;
    case 'end_of_early_data':
      return;
  }
}

/**
 * Encodes a message with its 4-byte header. Throws `TlsAlertError('internal_error')` for values
 * the format cannot carry.
 */
export function encodeHandshake(msg: HandshakeMessage): Uint8Array {
  return frameHandshake(HANDSHAKE_TYPE_OF[msg.kind], (w) => writeBody(w, msg));
}

/** What a body decoder needs beyond the bytes. */
export interface DecodeHandshakeOptions {
  /** Hash.length of the negotiated cipher suite; required to decode Finished (§4.4.4). */
  readonly hashLength?: number;
}

/**
 * Decodes a message body by msg_type. Throws `TlsAlertError`: decode_error for malformed bytes,
 * illegal_parameter for forbidden values, unexpected_message for a type that is not a TLS 1.3
 * handshake message.
 */
export function decodeHandshake(
  type: number,
  body: Uint8Array,
  options: DecodeHandshakeOptions = {},
): HandshakeMessage {
  switch (type) {
    case HandshakeType.client_hello:
      return decodeClientHelloBody(body);
    case HandshakeType.server_hello:
      return decodeServerHelloBody(body);
    case HandshakeType.encrypted_extensions:
      return decodeEncryptedExtensionsBody(body);
    case HandshakeType.certificate_request:
      return decodeCertificateRequestBody(body);
    case HandshakeType.certificate:
      return decodeCertificateBody(body);
    case HandshakeType.certificate_verify:
      return decodeCertificateVerifyBody(body);
    case HandshakeType.finished:
      if (options.hashLength === undefined) {
        throw new TlsAlertError('internal_error', 'Finished decoded without a hash length');
      }
      return decodeFinishedBody(body, options.hashLength);
    case HandshakeType.new_session_ticket:
      return decodeNewSessionTicketBody(body);
    case HandshakeType.key_update:
      return decodeKeyUpdateBody(body);
    case HandshakeType.end_of_early_data:
      return decodeEndOfEarlyDataBody(body);
    default:
      // Includes message_hash (254), which only ever exists inside the transcript, and the
      // TLS 1.2 types reserved in RFC 9846 §B.3.
      throw new TlsAlertError('unexpected_message', `handshake message type ${type}`);
  }
}

/** Decodes a message cut by {@link HandshakeReader} or {@link parseHandshake}. */
export function decodeRawHandshake(
  msg: RawHandshake,
  options: DecodeHandshakeOptions = {},
): HandshakeMessage {
  return decodeHandshake(msg.type, msg.body, options);
}
