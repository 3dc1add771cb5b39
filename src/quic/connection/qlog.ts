/**
 * qlog events in the shape qvis reads (qlog 0.3, draft-ietf-quic-qlog-quic-events): packet
 * events carry `header.packet_type`, `header.packet_number`, `raw.length` and frames as objects
 * with `frame_type`; `recovery:metrics_updated` feeds qvis's congestion view.
 */
import type { QlogEvent } from './config.js';
import type { ConnectionCore } from './core.js';

const PACKET_TYPE: Record<string, string> = {
  initial: 'initial',
  handshake: 'handshake',
  '0rtt': '0RTT',
  '1rtt': '1RTT',
};

/** A `transport:packet_sent` or `transport:packet_received` event. */
export function qlogPacket(
  name: 'transport:packet_sent' | 'transport:packet_received',
  time: number,
  type: string,
  packetNumber: number,
  length: number,
  frameKinds: readonly string[],
): QlogEvent {
  return {
    time,
    name,
    data: {
      header: { packet_type: PACKET_TYPE[type] ?? type, packet_number: packetNumber },
      raw: { length },
      // Our frame kinds are the RFC 9000 names; qlog uses the same names in lowercase.
      frames: frameKinds.map((k) => ({ frame_type: k.toLowerCase() })),
    },
  };
}

/** `recovery:metrics_updated` after an acknowledgment changed the congestion state. */
export function qlogMetrics(c: ConnectionCore, time: number): QlogEvent {
  const rtt = c.loss.rtt;
  return {
    time,
    name: 'recovery:metrics_updated',
    data: {
      congestion_window: c.loss.congestion.window(),
      bytes_in_flight: c.loss.bytesInFlight,
      smoothed_rtt: rtt.smoothed,
      min_rtt: rtt.min,
      latest_rtt: rtt.latest,
      rtt_variance: rtt.variance,
    },
  };
}
