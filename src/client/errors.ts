/**
 * The one error type SDK users see. `code` is a stable string to match on; `status` and
 * `proxyStatus` carry what the proxy answered (RFC 9209 Proxy-Status, parsed) when it refused.
 */
import type { ProxyStatusEntry } from '../masque/headers/index.js';

/** Stable codes of {@link MasqueError}. */
export const MasqueErrorCode = {
  /** The proxy answered the connect-udp request with a non-2xx status other than 407. */
  PROXY_REFUSED: 'MASQUE_PROXY_REFUSED',
  /** The proxy asked for credentials (407), or refused the ones sent. */
  AUTH_REQUIRED: 'MASQUE_AUTH_REQUIRED',
  /** Connecting to the proxy or opening a tunnel took longer than the timeout. */
  TIMEOUT: 'MASQUE_TIMEOUT',
  /**
   * The tunnel could not even be requested in time: every stream the proxy allows on this
   * connection was in use (QUIC stream credit, RFC 9000 §4.6).
   */
  STREAM_LIMIT: 'MASQUE_STREAM_LIMIT',
  /** The QUIC / HTTP/3 connection to the proxy could not be established. */
  CONNECT_FAILED: 'MASQUE_CONNECT_FAILED',
  /** The proxy does not offer extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 9220 §3). */
  NOT_SUPPORTED: 'MASQUE_NOT_SUPPORTED',
  /** The connection to the proxy closed; every tunnel on it is gone. */
  CONNECTION_CLOSED: 'MASQUE_CONNECTION_CLOSED',
  /** The proxy reset the tunnel's stream (e.g. the target became unreachable). */
  TUNNEL_RESET: 'MASQUE_TUNNEL_RESET',
  /** The URI template or the target is invalid (RFC 9298 §2, §3). */
  INVALID_ARGUMENT: 'MASQUE_INVALID_ARGUMENT',
  /** A UDP payload above 65527 bytes (RFC 9298 §5). */
  PAYLOAD_TOO_LARGE: 'MASQUE_PAYLOAD_TOO_LARGE',
  /**
   * The proxy does not offer connect-udp-bind (connect-udp-listen): it refused a bind request
   * without a target (our proxy answers 501), or accepted it without `connect-udp-bind: ?1`; or a
   * socket that fell back to plain connect-udp was asked to reach another peer.
   */
  BIND_UNSUPPORTED: 'MASQUE_BIND_UNSUPPORTED',
  /** The proxy broke the protocol (e.g. a malformed compression capsule): the tunnel was reset. */
  PROTOCOL_ERROR: 'MASQUE_PROTOCOL_ERROR',
  /** The socket or client is closed. */
  CLOSED: 'MASQUE_CLOSED',
  /** An unexpected failure inside the SDK (a bug worth reporting): `cause` has the original. */
  INTERNAL: 'MASQUE_INTERNAL',
} as const;

export type MasqueErrorCodeValue = (typeof MasqueErrorCode)[keyof typeof MasqueErrorCode];

export class MasqueError extends Error {
  override readonly name = 'MasqueError';
  readonly code: MasqueErrorCodeValue;
  /** The proxy's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** The proxy's Proxy-Status members, parsed (empty when absent or unparsable). */
  readonly proxyStatus: readonly ProxyStatusEntry[];
  /** The HTTP/3 error code of a reset or connection close. */
  readonly h3Code: number | undefined;

  constructor(
    code: MasqueErrorCodeValue,
    message: string,
    extra: {
      status?: number;
      proxyStatus?: readonly ProxyStatusEntry[];
      h3Code?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = extra.status;
    this.proxyStatus = extra.proxyStatus ?? [];
    this.h3Code = extra.h3Code;
  }
}
