/**
 * Opening the target-facing socket of a tunnel when the name gave several addresses (RFC 8305,
 * read for UDP; drafts/rfc8305.md): the addresses come ordered with families alternating, the
 * preferred one first (`interleaveFamilies`, RFC 8305 §4); each is tried in turn, and an address
 * whose socket cannot be opened or connected for a reason of the network (no route, no such
 * address family, no usable source address) gives way to the next, so a host whose IPv6 (or IPv4)
 * is broken still serves the name over the other family instead of failing the tunnel.
 *
 * Only a socket that fails to open can be noticed: UDP has no handshake, so a path that accepts
 * datagrams and loses them looks like a working one. The attempts are sequential, not raced
 * (RFC 8305 §5's Connection Attempt Delay): a UDP connect() answers at once, from the routing
 * table, so there is nothing to wait for.
 *
 * An error that another address would not cure (EMFILE: out of descriptors) ends the attempts.
 * With `dns.fallback: false` admission passes on the first address only.
 */
import type { ResolvedAddress } from '../connect-udp/resolve.js';
import type { UdpTarget } from './udp-socket.js';

/**
 * Errors of socket(), bind() or connect() that belong to one address or family: the next
 * address may work.
 */
export const FALLBACK_ERRORS: ReadonlySet<string> = new Set([
  'EADDRNOTAVAIL', // no local address of this family (IPv6 disabled on every interface)
  'ENETUNREACH', // no route to the network
  'EHOSTUNREACH', // no route to the host
  'EAFNOSUPPORT', // the kernel has no such family
  'EPROTONOSUPPORT',
  'EACCES', // a filter (seccomp, SELinux, firewall) refuses this family or destination
  'EPERM',
  'EINVAL', // e.g. an IPv6 scope this host does not have
]);

/** One attempt that failed. */
export interface FailedAttempt {
  readonly target: UdpTarget;
  readonly error: Error;
}

/** The outcome of {@link openFirstReachable}. */
export type OpenOutcome<T> =
  | { ok: true; value: T; target: UdpTarget; failed: FailedAttempt[] }
  | { ok: false; failed: FailedAttempt[] };

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Opens `open(target)` for the first address that works (see module header). Never rejects. */
export async function openFirstReachable<T>(
  addresses: readonly ResolvedAddress[],
  port: number,
  open: (target: UdpTarget) => Promise<T>,
): Promise<OpenOutcome<T>> {
  const failed: FailedAttempt[] = [];
  for (const a of addresses) {
    const target: UdpTarget = { address: a.address, family: a.family, port };
    try {
      return { ok: true, value: await open(target), target, failed };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      failed.push({ target, error });
      const code = errorCode(err);
      if (code === undefined || !FALLBACK_ERRORS.has(code)) break;
    }
  }
  return { ok: false, failed };
}

/** The failed attempts for a log line: "[::1]:53 ENETUNREACH". */
export function describeAttempts(failed: readonly FailedAttempt[]): string[] {
  return failed.map(({ target, error }) => {
    const where = target.family === 6 ? `[${target.address}]` : target.address;
    return `${where}:${target.port} ${errorCode(error) ?? error.message}`;
  });
}
