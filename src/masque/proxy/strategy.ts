/**
 * One connect-udp session, a relay strategy per mode (the shape of neqo's extended CONNECT: one
 * session type, one strategy per protocol). The handler admits a request (`admission.ts`),
 * checks its limits, then asks the strategy of the admitted mode to prepare the relay; it answers
 * 2xx with the headers the strategy gives and only then starts the relay, so nothing reaches the
 * client before its response.
 *
 * Plain connect-udp is `plain-strategy.ts`; bind and QUIC-aware register theirs the same way.
 */
import type { Clock } from '../../util/clock.js';
import type { Admitted, Refusal } from './admission.js';
import type { RelayMode } from './mode.js';
import type { TunnelCloseReason, TunnelCounters, TunnelSession } from './tunnel.js';

/** A running relay, as the handler accounts for it. */
export interface Relay {
  /** Counters since it started (batched into the metrics). */
  readonly counters: TunnelCounters;
  /** Closes it (once; later calls do nothing). */
  close(reason: TunnelCloseReason, error?: Error): void;
}

/** What a strategy gets besides the request. */
export interface RelayContext {
  readonly clock: Clock;
  /** Called once when the relay ends, after its sockets are closed. */
  readonly onClose: (relay: Relay, reason: TunnelCloseReason, error?: Error) => void;
}

/** A relay ready to start once the request is answered. */
export interface PreparedRelay {
  readonly ok: true;
  /** Response header fields to add to the 2xx (`:status` and `capsule-protocol` excluded). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Where it goes, for logs ("host:port", or a description). */
  readonly describe: string;
  /** Starts relaying (after the 2xx was sent). */
  start(session: TunnelSession, ctx: RelayContext): Relay;
  /** The request went away (or the proxy is closing) before the start: release what was opened. */
  abandon(): void;
}

/** One mode's relay. */
export interface RelayStrategy {
  readonly mode: RelayMode;
  /** Sockets this strategy holds open (prepared and running relays). */
  readonly socketsOpen: number;
  /** Capsule types (and largest lengths) the session must deliver to this mode's relays. */
  readonly capsules?: ReadonlyArray<readonly [type: number, maxLength: number]>;
  /** Opens what the relay needs (sockets...) or refuses. Never rejects. */
  prepare(admitted: Admitted): Promise<PreparedRelay | Refusal>;
}
