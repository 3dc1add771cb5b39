/**
 * The typed error of the connect-udp core. Thrown by the template, target and rule parsers; the
 * request validator catches it at one boundary and turns it into an HTTP status.
 */

/** Stable codes, safe to match on. */
export const ConnectUdpErrorCode = {
  /** A URI Template that is malformed or breaks RFC 9298 §2. */
  TEMPLATE_INVALID: 'TEMPLATE_INVALID',
  /** A target_host that is not an IPv6address, IPv4address or DNS name (RFC 9298 §3). */
  TARGET_HOST_INVALID: 'TARGET_HOST_INVALID',
  /** A target_port that is not an integer in 1..65535 (RFC 9298 §3). */
  TARGET_PORT_INVALID: 'TARGET_PORT_INVALID',
  /** A target access rule (`CIDR[:PORTS]`) that cannot be parsed. */
  TARGET_RULE_INVALID: 'TARGET_RULE_INVALID',
} as const;

export type ConnectUdpErrorCodeValue =
  (typeof ConnectUdpErrorCode)[keyof typeof ConnectUdpErrorCode];

/** Thrown for invalid configuration or request input; `message` says what is wrong. */
export class ConnectUdpError extends Error {
  override readonly name = 'ConnectUdpError';
  /** Which kind of input was rejected. */
  readonly code: ConnectUdpErrorCodeValue;

  constructor(code: ConnectUdpErrorCodeValue, message: string) {
    super(message);
    this.code = code;
  }
}
