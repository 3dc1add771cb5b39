/**
 * What a sent packet carried, as far as acknowledgment and loss matter (RFC 9002 §2: "frames, not
 * packets, are retransmitted"). Each record names what to regenerate on loss: data ranges are
 * resent as data, control frames are re-queued so that the LATEST value goes out (RFC 9000 §13.3:
 * "a new frame with the most recent value"), and PADDING, PING, ACK, PATH_* and DATAGRAM are not
 * repeated at all (a PMTU probe's fate is reported to the path's PMTU discovery instead).
 */
import type { PmtuDiscovery } from '../path/index.js';
import type { SentPacket } from '../recovery/index.js';

export type SentRecord =
  | {
      readonly kind: 'stream';
      readonly id: number;
      readonly offset: number;
      readonly length: number;
      readonly fin: boolean;
    }
  | { readonly kind: 'crypto'; readonly offset: number; readonly length: number }
  | { readonly kind: 'reset-stream'; readonly id: number }
  | { readonly kind: 'stop-sending'; readonly id: number }
  | { readonly kind: 'max-data'; readonly limit: number }
  | { readonly kind: 'max-stream-data'; readonly id: number; readonly limit: number }
  | { readonly kind: 'max-streams'; readonly bidi: boolean; readonly limit: number }
  | { readonly kind: 'data-blocked'; readonly limit: number }
  | { readonly kind: 'stream-data-blocked'; readonly id: number; readonly limit: number }
  | { readonly kind: 'streams-blocked'; readonly bidi: boolean; readonly limit: number }
  | { readonly kind: 'new-cid'; readonly seq: number }
  | { readonly kind: 'retire-cid'; readonly seq: number }
  | { readonly kind: 'handshake-done' }
  | { readonly kind: 'new-token'; readonly token: Uint8Array }
  /** An ACK_FREQUENCY frame: a loss sends a fresh one (draft-ietf-quic-ack-frequency-14 §4). */
  | { readonly kind: 'ack-frequency'; readonly seq: number }
  /** A PMTU probe's PING (RFC 9000 §14.4): its fate goes to the path's discovery, never resent. */
  | {
      readonly kind: 'pmtu-probe';
      readonly pmtud: PmtuDiscovery;
      readonly id: number;
      readonly size: number;
    };

/** What the connection attaches to each sent packet. */
export interface SentInfo {
  /** Frames to act on when the packet is acknowledged or lost. */
  readonly records: SentRecord[];
  /** 1-RTT write key generation the packet was sealed with (-1 for long headers). */
  readonly keyGen: number;
  /** True when the packet carried an ACK frame (ack-of-ack pruning, RFC 9000 §13.2.4). */
  readonly hasAck: boolean;
}

export type ConnSentPacket = SentPacket<SentInfo>;
