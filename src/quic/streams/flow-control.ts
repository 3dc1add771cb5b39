/**
 * Flow-control credit (RFC 9000 §4.1-§4.2).
 *
 * - {@link ReceiveWindow}: the receiver's advertised limit and when to raise it, shared by the
 *   stream level (MAX_STREAM_DATA) and the connection level (MAX_DATA).
 * - {@link ConnectionSendFlow}: the peer's MAX_DATA and DATA_BLOCKED signalling.
 * - {@link ConnectionRecvFlow}: the sum of the highest offsets received on all streams checked
 *   against our MAX_DATA, and MAX_DATA updates as the application consumes.
 */
import { TransportError, TransportErrorCode } from '../errors.js';
import { FrameType } from '../frames/types.js';

/**
 * An advertised receive limit that moves forward as data is consumed. An update is due when the
 * credit left (`limit - consumed`) falls below half the window; the new limit is
 * `consumed + window`. With a time source, the window doubles (up to `maxWindow`) when updates
 * come less than two round trips apart, i.e. when the window, not the application, is the
 * bottleneck (the autotuning RFC 9000 §4.2 suggests).
 */
export class ReceiveWindow {
  #limit: number;
  #window: number;
  readonly #maxWindow: number;
  #consumed = 0;
  #lastUpdate = Number.NaN;

  /**
   * @param initialLimit limit already advertised (transport parameter)
   * @param maxWindow largest window autotuning may reach (default: no growth)
   */
  constructor(initialLimit: number, maxWindow = initialLimit) {
    this.#limit = initialLimit;
    this.#window = initialLimit;
    this.#maxWindow = Math.max(maxWindow, initialLimit);
  }

  /** The limit advertised so far. */
  get limit(): number {
    return this.#limit;
  }

  /** Current window size (grows with autotuning). */
  get window(): number {
    return this.#window;
  }

  /** Bytes consumed (read by the application or discarded). */
  get consumed(): number {
    return this.#consumed;
  }

  consume(bytes: number): void {
    this.#consumed += bytes;
  }

  /** True when the credit left has fallen below half the window. */
  get updateDue(): boolean {
    return this.#limit - this.#consumed < this.#window / 2;
  }

  /**
   * Raises the limit when an update is due; returns true when it did. Pass `now` and `rtt`
   * (milliseconds) to enable window growth.
   */
  update(now?: number, rtt?: number): boolean {
    if (!this.updateDue) return false;
    if (now !== undefined && rtt !== undefined && this.#window < this.#maxWindow) {
      if (now - this.#lastUpdate < 2 * rtt) {
        this.#window = Math.min(this.#window * 2, this.#maxWindow);
      }
      this.#lastUpdate = now;
    }
    const next = Math.min(this.#consumed + this.#window, Number.MAX_SAFE_INTEGER);
    if (next <= this.#limit) return false;
    this.#limit = next;
    return true;
  }
}

/** The peer's connection-level limit on the stream data we send (MAX_DATA). */
export class ConnectionSendFlow {
  #limit: number;
  #used = 0;
  #blockedAt = -1;
  #blockedPending = false;

  /** @param initialLimit the peer's initial_max_data */
  constructor(initialLimit = 0) {
    this.#limit = initialLimit;
  }

  get limit(): number {
    return this.#limit;
  }

  /** New stream bytes sent so far (sum of the streams' sent ends). */
  get used(): number {
    return this.#used;
  }

  /** New bytes that may still be sent. */
  get available(): number {
    return this.#limit - this.#used;
  }

  /** MAX_DATA (or initial_max_data): only increases count. Returns true when the limit grew. */
  onMaxData(limit: number): boolean {
    if (limit <= this.#limit) return false;
    this.#limit = limit;
    this.#blockedPending = false;
    return true;
  }

  /** Charges `bytes` of new stream data. Exceeding the limit is a bug of the caller. */
  consume(bytes: number): void {
    if (bytes > this.available) {
      throw new TransportError(TransportErrorCode.INTERNAL_ERROR, 'connection credit overdrawn');
    }
    this.#used += bytes;
  }

  /**
   * Data waits and no credit is left: queue a DATA_BLOCKED once per limit (RFC 9000 §4.1, "A
   * sender SHOULD send a STREAM_DATA_BLOCKED or DATA_BLOCKED frame").
   */
  blocked(): void {
    if (this.available > 0 || this.#blockedAt === this.#limit) return;
    this.#blockedAt = this.#limit;
    this.#blockedPending = true;
  }

  /** The limit for a DATA_BLOCKED frame, once; -1 when none is pending. */
  pollDataBlocked(): number {
    if (!this.#blockedPending) return -1;
    this.#blockedPending = false;
    return this.#blockedAt;
  }

  /** A DATA_BLOCKED(`limit`) was lost: resend only if still blocked at that limit. */
  onDataBlockedLost(limit: number): void {
    if (limit === this.#limit && this.#blockedAt === limit && this.available === 0) {
      this.#blockedPending = true;
    }
  }
}

/** Our connection-level limit on the stream data the peer sends (MAX_DATA). */
export class ConnectionRecvFlow {
  readonly #window: ReceiveWindow;
  #received = 0;
  #pending = false;

  /**
   * @param initialLimit our initial_max_data
   * @param maxWindow largest window autotuning may reach (default: no growth)
   */
  constructor(initialLimit: number, maxWindow = initialLimit) {
    this.#window = new ReceiveWindow(initialLimit, maxWindow);
  }

  /** Limit advertised to the peer. */
  get limit(): number {
    return this.#window.limit;
  }

  /** Sum over all streams of the highest offset received (final size once known). */
  get received(): number {
    return this.#received;
  }

  get consumed(): number {
    return this.#window.consumed;
  }

  get window(): number {
    return this.#window.window;
  }

  /**
   * Counts `bytes` by which some stream's highest received offset grew. RFC 9000 §19.9: "An
   * endpoint MUST terminate a connection with an error of type FLOW_CONTROL_ERROR if it receives
   * more data than the maximum data value that it has sent."
   */
  onReceived(bytes: number, frameType: number = FrameType.STREAM): void {
    this.#received += bytes;
    if (this.#received > this.#window.limit) {
      throw new TransportError(
        TransportErrorCode.FLOW_CONTROL_ERROR,
        `connection data ${this.#received} exceeds MAX_DATA ${this.#window.limit}`,
        frameType,
      );
    }
  }

  /** The application consumed (or gave up on) `bytes`. */
  onConsumed(bytes: number): void {
    this.#window.consume(bytes);
  }

  /**
   * The new limit for a MAX_DATA frame when one is due (decided now, so consumption since the
   * last call is batched), else -1. `now` and `rtt` enable window growth.
   */
  pollMaxData(now?: number, rtt?: number): number {
    const raised = this.#window.update(now, rtt);
    if (!raised && !this.#pending) return -1;
    this.#pending = false;
    return this.#window.limit;
  }

  /** A MAX_DATA(`limit`) was lost: resend if it is still the latest limit. */
  onMaxDataLost(limit: number): void {
    if (limit === this.#window.limit) this.#pending = true;
  }

  /**
   * DATA_BLOCKED(`limit`) from the peer: if our limit is already higher, the update was lost or
   * is in flight, so send the current one again.
   */
  onDataBlocked(limit: number): void {
    if (this.#window.limit > limit) this.#pending = true;
  }
}
