/**
 * qlog events in the shape qvis reads (qlog 0.3, draft-ietf-quic-qlog-quic-events): packet
 * events carry `header.packet_type`, `header.packet_number`, `raw.length` and frames as objects
 * with `frame_type`; `recovery:metrics_updated` feeds qvis's congestion view.
 */
import type { Frame } from '../frames/index.js';
import type { QlogEvent } from './config.js';
import type { ConnectionCore } from './core.js';

/**
 * A frame as qlog shows it: its type (our frame kinds are the RFC 9000 names; qlog uses the same
 * names in lowercase), and the length of DATAGRAM, STREAM, CRYPTO and PADDING frames (with the
 * stream of a STREAM frame): enough to tell what a packet carried, e.g. a probe's padding or a
 * datagram's size.
 */
export interface QlogFrame {
  frame_type: string;
  length?: number;
  stream_id?: number;
}

/** The qlog summary of a frame sent or received. */
export function qlogFrame(f: Frame): QlogFrame {
  const frame_type = f.kind.toLowerCase();
  switch (f.kind) {
    case 'DATAGRAM':
    case 'CRYPTO':
      return { frame_type, length: f.data.length };
    case 'STREAM':
      return { frame_type, stream_id: f.streamId, length: f.data.length };
    case 'PADDING':
      return { frame_type, length: f.length };
    default:
      return { frame_type };
  }
}

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
  frames: readonly QlogFrame[],
  mtuProbe = false,
): QlogEvent {
  const data: Record<string, unknown> = {
    header: { packet_type: PACKET_TYPE[type] ?? type, packet_number: packetNumber },
    raw: { length },
    frames,
  };
  if (mtuProbe) data.is_mtu_probe_packet = true;
  return { time, name, data };
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
