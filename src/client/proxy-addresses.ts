/**
 * The proxy's addresses in the order the SDK tries them (RFC 8305 §4: families alternating, the
 * preferred one first), from the system resolver (getaddrinfo, /etc/hosts included) or the
 * caller's lookup.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { interleaveFamilies, type ResolvedAddress } from '../masque/connect-udp/resolve.js';

/** Every address of a name, as `dns.promises.lookup(name, { all: true })` answers. */
export type AddressLookup = (
  host: string,
) => Promise<ReadonlyArray<{ address: string; family: number }>>;

/** The system's resolver. */
export const systemLookup: AddressLookup = (host) => dnsLookup(host, { all: true });

/** `host`'s addresses, each once, families alternating from `prefer` (default IPv6). */
export async function proxyAddresses(
  host: string,
  lookup: AddressLookup = systemLookup,
  prefer: 'ipv6' | 'ipv4' = 'ipv6',
): Promise<ResolvedAddress[]> {
  const seen = new Set<string>();
  const list: ResolvedAddress[] = [];
  for (const a of await lookup(host)) {
    if ((a.family !== 4 && a.family !== 6) || seen.has(a.address)) continue;
    seen.add(a.address);
    list.push({ address: a.address, family: a.family });
  }
  return interleaveFamilies(list, prefer === 'ipv4' ? 4 : 6);
}
