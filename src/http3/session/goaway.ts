/**
 * GOAWAY bookkeeping (RFC 9114 §5.2, §7.2.6): identifiers sent and received, each only allowed
 * to shrink. Identifiers are exact `bigint`s (a server may announce 2^62 - 4).
 */
import { H3Error, H3ErrorCode } from '../errors.js';
import type { H3Role } from './types.js';

/** §5.2: "the maximum possible value (2^62-4 for servers, 2^62-1 for clients)". */
export const GOAWAY_MAX_SERVER = (1n << 62n) - 4n;
export const GOAWAY_MAX_CLIENT = (1n << 62n) - 1n;

export class GoawayState {
  readonly #role: H3Role;
  /** Lowest identifier the peer announced, if any. */
  received: bigint | undefined;
  /** Lowest identifier we announced, if any. */
  sent: bigint | undefined;

  constructor(role: H3Role) {
    this.#role = role;
  }

  /** Validates and records a received GOAWAY identifier. */
  receive(id: bigint): void {
    if (this.#role === 'client' && id % 4n !== 0n) {
      // §7.2.6: "A client MUST treat receipt of a GOAWAY frame containing a stream ID of any
      // other type as a connection error of type H3_ID_ERROR."
      throw new H3Error(H3ErrorCode.H3_ID_ERROR, `GOAWAY with stream ID ${id}`);
    }
    if (this.received !== undefined && id > this.received) {
      // §5.2: "Receiving a GOAWAY containing a larger identifier than previously received MUST be
      // treated as a connection error of type H3_ID_ERROR."
      throw new H3Error(
        H3ErrorCode.H3_ID_ERROR,
        `GOAWAY ${id} above the previous ${this.received}`,
      );
    }
    this.received = id;
  }

  /**
   * The identifier to send now for `wanted`: never above one sent before (§5.2: "the identifier in
   * each frame MUST NOT be greater than the identifier in any previous frame").
   */
  next(wanted: bigint): bigint {
    const id = this.sent !== undefined && wanted > this.sent ? this.sent : wanted;
    this.sent = id;
    return id;
  }
}
