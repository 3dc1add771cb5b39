/**
 * Address blocks a UDP proxy must not reach by default: the IANA IPv4 and IPv6 Special-Purpose
 * Address Registries (RFC 6890, updated by RFC 8190), plus multicast (RFC 5771, RFC 4291 §2.7)
 * and the deprecated site-local block (RFC 3879). Blocks the registries mark as globally
 * reachable (e.g. AS112 anycast, 2620:4f:8000::/48) are left out unless they sit inside a wider
 * non-global block; the list is meant for "is this a private, local or reserved destination".
 */
import { Address4, Address6 } from 'ip-address';

/** One special-purpose block. */
export interface SpecialRange {
  /** The block in CIDR notation. */
  readonly cidr: string;
  /** What the registry calls it. */
  readonly name: string;
  /** Where it is defined. */
  readonly ref: string;
}

/** IPv4 special-purpose and multicast blocks. */
export const SPECIAL_IPV4: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', name: '"This network"', ref: 'RFC 791 §3.2' },
  { cidr: '10.0.0.0/8', name: 'Private-Use', ref: 'RFC 1918' },
  { cidr: '100.64.0.0/10', name: 'Shared Address Space', ref: 'RFC 6598' },
  { cidr: '127.0.0.0/8', name: 'Loopback', ref: 'RFC 1122 §3.2.1.3' },
  { cidr: '169.254.0.0/16', name: 'Link Local', ref: 'RFC 3927' },
  { cidr: '172.16.0.0/12', name: 'Private-Use', ref: 'RFC 1918' },
  { cidr: '192.0.0.0/24', name: 'IETF Protocol Assignments', ref: 'RFC 6890 §2.1' },
  { cidr: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', ref: 'RFC 5737' },
  { cidr: '192.88.99.0/24', name: 'Deprecated 6to4 Relay Anycast', ref: 'RFC 7526' },
  { cidr: '192.168.0.0/16', name: 'Private-Use', ref: 'RFC 1918' },
  { cidr: '198.18.0.0/15', name: 'Benchmarking', ref: 'RFC 2544' },
  { cidr: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', ref: 'RFC 5737' },
  { cidr: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', ref: 'RFC 5737' },
  { cidr: '224.0.0.0/4', name: 'Multicast', ref: 'RFC 5771' },
  { cidr: '240.0.0.0/4', name: 'Reserved', ref: 'RFC 1112 §4' },
  { cidr: '255.255.255.255/32', name: 'Limited Broadcast', ref: 'RFC 919 §7' },
];

/** IPv6 special-purpose, multicast and deprecated blocks. */
export const SPECIAL_IPV6: readonly SpecialRange[] = [
  { cidr: '::/128', name: 'Unspecified Address', ref: 'RFC 4291' },
  { cidr: '::1/128', name: 'Loopback Address', ref: 'RFC 4291' },
  { cidr: '::/96', name: 'IPv4-Compatible (deprecated)', ref: 'RFC 4291 §2.5.5.1' },
  { cidr: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat. (local use)', ref: 'RFC 8215' },
  { cidr: '100::/64', name: 'Discard-Only Address Block', ref: 'RFC 6666' },
  { cidr: '2001::/23', name: 'IETF Protocol Assignments', ref: 'RFC 2928' },
  { cidr: '2001:db8::/32', name: 'Documentation', ref: 'RFC 3849' },
  { cidr: '3fff::/20', name: 'Documentation', ref: 'RFC 9637' },
  { cidr: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', ref: 'RFC 9602' },
  { cidr: 'fc00::/7', name: 'Unique-Local', ref: 'RFC 4193' },
  { cidr: 'fe80::/10', name: 'Link-Local Unicast', ref: 'RFC 4291' },
  { cidr: 'fec0::/10', name: 'Site-Local (deprecated)', ref: 'RFC 3879' },
  { cidr: 'ff00::/8', name: 'Multicast', ref: 'RFC 4291 §2.7' },
];

/**
 * IPv6 blocks that embed an IPv4 address in their last 32 bits (or, for 6to4, in bits 16-47):
 * an address there is special when its embedded IPv4 address is. ::ffff:0:0/96 is IPv4-mapped
 * (RFC 4291 §2.5.5.2; a dual-stack socket sends to the IPv4 address itself), 64:ff9b::/96 the
 * NAT64 well-known prefix (RFC 6052 §2.1), 2002::/16 6to4 (RFC 3056 §2).
 */
export const EMBEDDING_IPV6 = {
  mapped: new Address6('::ffff:0:0/96'),
  nat64: new Address6('64:ff9b::/96'),
  sixToFour: new Address6('2002::/16'),
} as const;

const V4 = SPECIAL_IPV4.map((r) => ({ range: r, net: new Address4(r.cidr) }));
const V6 = SPECIAL_IPV6.map((r) => ({ range: r, net: new Address6(r.cidr) }));

/** The IPv4 address an IPv6 address stands for: v4-mapped, NAT64 or 6to4; else undefined. */
export function embeddedIPv4(addr: Address6): Address4 | undefined {
  if (addr.isHostInSubnet(EMBEDDING_IPV6.mapped)) return addr.to4();
  if (addr.isHostInSubnet(EMBEDDING_IPV6.nat64)) return addr.to4();
  if (addr.isHostInSubnet(EMBEDDING_IPV6.sixToFour)) {
    return Address4.fromBigInt((addr.bigInt() >> 80n) & 0xffffffffn);
  }
  return undefined;
}

/** The special range containing an IPv4 address, if any. */
export function specialRangeOf4(addr: Address4): SpecialRange | undefined {
  return V4.find((e) => addr.isHostInSubnet(e.net))?.range;
}

/**
 * The special range containing an IPv6 address, if any. For v4-mapped, NAT64 and 6to4
 * addresses the embedded IPv4 address is checked as well: `::ffff:127.0.0.1` and
 * `64:ff9b::10.0.0.1` are as special as the IPv4 addresses they reach.
 */
export function specialRangeOf6(addr: Address6): SpecialRange | undefined {
  const inner = embeddedIPv4(addr);
  if (inner !== undefined) {
    const v4 = specialRangeOf4(inner);
    // A v4-mapped address is exactly its IPv4 address: nothing else to check.
    if (v4 !== undefined || addr.isHostInSubnet(EMBEDDING_IPV6.mapped)) return v4;
  }
  return V6.find((e) => addr.isHostInSubnet(e.net))?.range;
}
