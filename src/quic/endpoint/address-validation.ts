/**
 * What the token of a client Initial proves (RFC 9000 §8.1), on top of `AddressTokens`
 * (src/quic/path/tokens.ts), which seals and opens the tokens.
 *
 * - Retry tokens are bound to the full "host:port" (§8.1.4 SHOULD) and to the Retry's SCID, which
 *   the retried Initial must carry as its DCID (§17.2.5.2: the client uses the Retry's SCID as
 *   the DCID of subsequent packets).
 * - NEW_TOKEN tokens are bound to the host only: the client's port rarely survives to the next
 *   connection (§8.1.3).
 */
import { bytesEqual } from '../../wire/index.js';
import type { AddressTokens } from '../path/index.js';

/** The verdict on an Initial's token. */
export type TokenVerdict =
  /** No token. */
  | { kind: 'none' }
  /** A valid Retry token: the client answered our Retry from the same address. */
  | { kind: 'retry'; originalDcid: Uint8Array; retryScid: Uint8Array }
  /** A valid NEW_TOKEN token: the address is validated (§8.1.3). */
  | { kind: 'new-token' }
  /**
   * A Retry token that does not validate. §8.1.2: the server "cannot send another Retry packet";
   * it SHOULD close with INVALID_TOKEN.
   */
  | { kind: 'invalid-retry' }
  /** Any other invalid token: §8.1.3 "proceed as if the client did not have a validated address". */
  | { kind: 'invalid' };

/**
 * The first byte of our tokens names their kind in clear (layout documented in
 * src/quic/path/tokens.ts); 0x01 is Retry. Only used to classify tokens that FAILED to open, so a
 * forged byte gains nothing: it can only make us refuse the attempt instead of answering Retry.
 */
const RETRY_TOKEN_KIND_BYTE = 0x01;

/** The host part of "host:port" or "[v6]:port" (the whole string when there is no port). */
export function addressHost(remote: string): string {
  if (remote.startsWith('[')) {
    const end = remote.indexOf(']');
    return end > 0 ? remote.slice(1, end) : remote;
  }
  const colon = remote.lastIndexOf(':');
  return colon > 0 && remote.indexOf(':') === colon ? remote.slice(0, colon) : remote;
}

/** Judges the token of an Initial with Destination Connection ID `dcid` from `remote`. */
export function judgeInitialToken(
  tokens: AddressTokens,
  token: Uint8Array,
  remote: string,
  dcid: Uint8Array,
  now: number,
): TokenVerdict {
  if (token.length === 0) return { kind: 'none' };
  const check = tokens.open(token, remote, now);
  if (check.ok) {
    const t = check.token;
    if (t.kind === 'retry') {
      if (t.originalDcid === undefined || t.retryScid === undefined)
        return { kind: 'invalid-retry' };
      if (!bytesEqual(t.retryScid, dcid)) return { kind: 'invalid-retry' };
      return { kind: 'retry', originalDcid: t.originalDcid, retryScid: t.retryScid };
    }
    return { kind: 'new-token' };
  }
  if (check.reason === 'address-mismatch') {
    const byHost = tokens.open(token, addressHost(remote), now);
    if (byHost.ok && byHost.token.kind === 'new-token') return { kind: 'new-token' };
  }
  return token[0] === RETRY_TOKEN_KIND_BYTE ? { kind: 'invalid-retry' } : { kind: 'invalid' };
}
