/**
 * The anti-amplification limit (RFC 9000 §8, §8.1): before a peer's address is validated, "an
 * endpoint MUST limit the amount of data it sends to the unvalidated address to three times the
 * amount of data received from that address". One instance per (path, unvalidated address).
 * Counts are UDP payload bytes; §8.1 counts every datagram attributed to the connection, even
 * ones whose packets were all discarded.
 */

/** The factor of §8 / §8.1. */
export const AMPLIFICATION_FACTOR = 3;

export class AmplificationLimit {
  #received = 0;
  #sent = 0;
  #validated: boolean;

  /** `validated`: start validated (a client towards its server, a token that proved the address). */
  constructor(validated = false) {
    this.#validated = validated;
  }

  /** True once the address was validated; the limit no longer applies. */
  get validated(): boolean {
    return this.#validated;
  }

  /** UDP payload bytes received from the address. */
  get bytesReceived(): number {
    return this.#received;
  }

  /** UDP payload bytes sent to the address. */
  get bytesSent(): number {
    return this.#sent;
  }

  /** Marks the address validated (Handshake packet processed, token or path validation, §8). */
  setValidated(): void {
    this.#validated = true;
  }

  /** A datagram of `bytes` arrived from the address. */
  onReceived(bytes: number): void {
    this.#received += bytes;
  }

  /** A datagram of `bytes` was sent to the address. */
  onSent(bytes: number): void {
    this.#sent += bytes;
  }

  /** Bytes that may still be sent now (+Infinity once validated). */
  remaining(): number {
    if (this.#validated) return Number.POSITIVE_INFINITY;
    return Math.max(0, AMPLIFICATION_FACTOR * this.#received - this.#sent);
  }

  /** True when a datagram of `bytes` fits under the limit. */
  canSend(bytes: number): boolean {
    return this.#validated || this.#sent + bytes <= AMPLIFICATION_FACTOR * this.#received;
  }
}
