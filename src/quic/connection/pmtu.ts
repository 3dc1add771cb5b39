/**
 * The connection's side of path MTU discovery (RFC 9000 §14.2-§14.4). Each path owns a
 * `PmtuDiscovery` (src/quic/path/pmtud.ts) that decides; this file starts it, hands it the fate
 * of probes and packets, and makes the connection follow its PLPMTU: congestion control's
 * max_datagram_size (RFC 9002 §7.2), `maxDatagramPayload` with a `max-datagram-payload` event,
 * and a `connectivity:mtu_updated` qlog event. Probes themselves are built by `send.ts`.
 */
import type { ConnectionCore } from './core.js';
import type { ConnSentPacket } from './sent-info.js';

/** The handshake is confirmed, or a new path validated: probing may begin (RFC 9000 §14.3.1). */
export function startPmtud(c: ConnectionCore, now: number): void {
  if (c.reportedDatagramPayload === 0) c.reportedDatagramPayload = maxDatagramPayload(c);
  c.path.pmtud.start(now);
  syncPmtu(c, now);
}

/** Packets newly acknowledged by one ACK frame. */
export function onPmtuAcked(
  c: ConnectionCore,
  acked: readonly ConnSentPacket[],
  now: number,
): void {
  const d = c.path.pmtud;
  for (let i = 0; i < acked.length; i++) {
    const p = acked[i];
    if (!p.inFlight) continue;
    if (p.mtuProbe) {
      const r = p.info.records[0];
      if (r?.kind === 'pmtu-probe') r.pmtud.onProbeAcked(r.id, p.size, p.timeSent, now);
    } else {
      d.onPacketAcked(p.size, p.timeSent, now);
    }
  }
  syncPmtu(c, now);
}

/** Reused by {@link onPmtuLost}; loss processing is not reentrant. */
const scratchLost: ConnSentPacket[] = [];

/** Packets declared lost together (one ACK frame or one loss timer: one loss event). */
export function onPmtuLost(c: ConnectionCore, lost: readonly ConnSentPacket[], now: number): void {
  const others = scratchLost;
  others.length = 0;
  for (let i = 0; i < lost.length; i++) {
    const p = lost[i];
    if (p.mtuProbe) {
      const r = p.info.records[0];
      if (r?.kind === 'pmtu-probe') r.pmtud.onProbeLost(r.id, now);
    } else if (p.inFlight) {
      others.push(p);
    }
  }
  if (others.length > 0) c.path.pmtud.onPacketsLost(others, now);
  others.length = 0;
  syncPmtu(c, now);
}

/** PMTU_RAISE_TIMER of the current path, when armed. */
export function pmtuDeadline(c: ConnectionCore): number | undefined {
  return c.path.pmtud.deadline();
}

export function onPmtuTimer(c: ConnectionCore, now: number): void {
  c.path.pmtud.onTimeout(now);
}

/**
 * Makes the connection follow the current path's PLPMTU after anything that may have moved it
 * (a probe acknowledged, a black hole, a path change, the peer's limit).
 */
export function syncPmtu(c: ConnectionCore, now: number): void {
  const d = c.path.pmtud;
  const size = d.current;
  if (size === c.appliedPmtu) return;
  const old = c.appliedPmtu;
  c.appliedPmtu = size;
  // RFC 9002 §7.2: the window is counted in datagrams of the new size.
  c.loss.congestion.setMaxDatagramSize(size);
  c.qlog?.({
    time: now,
    name: 'connectivity:mtu_updated',
    data: { old, new: size, done: d.searchComplete },
  });
  if (c.reportedDatagramPayload === 0) return; // Not started: the getter tells.
  const payload = maxDatagramPayload(c);
  if (payload === c.reportedDatagramPayload) return;
  c.reportedDatagramPayload = payload;
  c.emit({ type: 'max-datagram-payload', size: payload });
}

/** Largest DATAGRAM frame a 1-RTT packet can carry on the current path. */
export function maxDatagramFrameRoom(c: ConnectionCore): number {
  const dcid = c.peerCids.current?.cid.length ?? 20;
  // Short header (1 + DCID + up to 4 bytes of packet number) and the AEAD tag.
  return c.maxUdpPayload - (1 + dcid + 4) - 16;
}

/** Largest payload `sendDatagram` accepts now; 0 when the peer does not accept datagrams. */
export function maxDatagramPayload(c: ConnectionCore): number {
  const peerMax = c.peerParams?.maxDatagramFrameSize ?? 0;
  if (peerMax === 0) return 0;
  // A DATAGRAM frame with a Length field: type (1), Length (1 byte below 64, else 2), data.
  const room = Math.min(peerMax, maxDatagramFrameRoom(c));
  if (room - 3 >= 64) return room - 3;
  return Math.max(0, Math.min(63, room - 2));
}
