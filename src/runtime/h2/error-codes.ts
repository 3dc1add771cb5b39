/**
 * HTTP/3 and HTTP/2 stream error codes mapped by meaning (RFC 9114 §8.1, RFC 9113 §7), for
 * connect-udp tunnels carried over HTTP/2: one table for the proxy's and the SDK's adapters, so
 * both sides say the same thing about the same failure.
 */
import { H3ErrorCode } from '../../http3/errors.js';

/** HTTP/2 error codes (RFC 9113 §7). */
export const H2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** The HTTP/2 code for an HTTP/3 one, where the meanings match (RFC 9114 §8.1 / RFC 9113 §7). */
export function h2CodeOf(h3: number): number {
  switch (h3) {
    case H3ErrorCode.H3_NO_ERROR:
      return H2ErrorCode.NO_ERROR;
    case H3ErrorCode.H3_DATAGRAM_ERROR:
    case H3ErrorCode.H3_MESSAGE_ERROR:
      // RFC 9297 §3.3: a malformed capsule stream makes the stream malformed: PROTOCOL_ERROR.
      return H2ErrorCode.PROTOCOL_ERROR;
    case H3ErrorCode.H3_CONNECT_ERROR:
      return H2ErrorCode.CONNECT_ERROR;
    case H3ErrorCode.H3_EXCESSIVE_LOAD:
      return H2ErrorCode.ENHANCE_YOUR_CALM;
    case H3ErrorCode.H3_REQUEST_REJECTED:
      return H2ErrorCode.REFUSED_STREAM;
    case H3ErrorCode.H3_REQUEST_CANCELLED:
      return H2ErrorCode.CANCEL;
    default:
      return H2ErrorCode.INTERNAL_ERROR;
  }
}

/** The HTTP/3 code for an HTTP/2 one, by meaning (the inverse of {@link h2CodeOf}). */
export function h3CodeOf(h2: number): number {
  switch (h2) {
    case H2ErrorCode.NO_ERROR:
      return H3ErrorCode.H3_NO_ERROR;
    case H2ErrorCode.PROTOCOL_ERROR:
      return H3ErrorCode.H3_DATAGRAM_ERROR;
    case H2ErrorCode.REFUSED_STREAM:
      return H3ErrorCode.H3_REQUEST_REJECTED;
    case H2ErrorCode.CANCEL:
      return H3ErrorCode.H3_REQUEST_CANCELLED;
    case H2ErrorCode.CONNECT_ERROR:
      return H3ErrorCode.H3_CONNECT_ERROR;
    case H2ErrorCode.ENHANCE_YOUR_CALM:
      return H3ErrorCode.H3_EXCESSIVE_LOAD;
    default:
      return H3ErrorCode.H3_INTERNAL_ERROR;
  }
}
