/**
 * Connection migration as the receiving endpoint sees it (RFC 9000 §9.3): a non-probing packet
 * from a new address moves the connection there; the new path is limited by anti-amplification
 * until PATH_CHALLENGE/PATH_RESPONSE validates it (§8.2), and the old path is kept so a failed
 * validation can fall back to it (§9.3.2).
 */
import { PathValidator } from '../path/index.js';
import { type ConnectionCore, PathState } from './core.js';
import { syncPmtu } from './pmtu.js';

/** The peer's address changed to `remote` (a NAT rebinding or a migration). */
export function onPathChange(
  c: ConnectionCore,
  remote: string,
  datagramSize: number,
  now: number,
): void {
  // RFC 9000 §9: migration before the handshake is confirmed is not allowed; a client follows
  // only its server's preferred address, which this stack does not offer.
  if (c.role === 'client' || !c.handshakeConfirmed) return;
  const previous = c.path;
  // RFC 9000 §14.2: a new address pair has its own PMTU: packets there start at BASE_PLPMTU.
  const next = new PathState(remote, false, c.newPmtud());
  // RFC 9000 §9.3: the datagram that triggered the migration counts toward the new path's limit.
  next.amp.onReceived(datagramSize);
  next.validator = new PathValidator(c.random);
  next.validator.start(now, c.pto());
  c.previousPath = previous.amp.validated ? previous : c.previousPath;
  c.path = next;
  syncPmtu(c, now);
}

/** Path validation timers (RFC 9000 §8.2.4): a failed validation returns to the old path. */
export function onPathTimers(c: ConnectionCore, now: number): void {
  const v = c.path.validator;
  if (v === undefined) return;
  if (!v.onTimeout(now)) return;
  c.path.validator = undefined;
  // RFC 9000 §9.3.2: if validation of the new address fails, revert to the last validated one.
  if (c.previousPath !== undefined) {
    c.path = c.previousPath;
    c.previousPath = undefined;
    syncPmtu(c, now);
  }
}
