/**
 * IP addresses as raw bytes (4 for IPv4, 16 for IPv6) for the connect-udp-bind wire formats, with
 * conversions to and from text. Text is validated with `node:net`; IPv6 text is written in the
 * RFC 5952 form (lower case, longest run of two or more zero groups as "::").
 */
import { isIPv4, isIPv6 } from 'node:net';

/** IP Version field values of connect-udp-bind; 0 means "no address" (an uncompressed context). */
export type IpVersion = 4 | 6;

/** Address length in bytes for an IP version. */
export function ipAddressLength(version: IpVersion): 4 | 16 {
  return version === 4 ? 4 : 16;
}

/** The IP version of a 4- or 16-byte address; undefined for any other length. */
export function ipVersionOf(address: Uint8Array): IpVersion | undefined {
  return address.length === 4 ? 4 : address.length === 16 ? 6 : undefined;
}

/** Parses IPv4 dotted-quad or IPv6 text (brackets and zone IDs not accepted) to bytes. */
export function ipToBytes(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split('.'), Number);
  if (!isIPv6(text) || text.includes('%')) throw new TypeError(`not an IP address: ${text}`);
  let head = text;
  let tail4: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Trailing embedded IPv4 (::ffff:192.0.2.1): two groups.
    tail4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const groups = (s: string | undefined): number[] =>
    s ? s.split(':').map((g) => Number.parseInt(g, 16)) : [];
  const l = groups(left);
  const r = groups(right);
  const all = right === undefined ? l : [...l, ...new Array(8 - l.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail4.length === 4) out.set(tail4, 12);
  return out;
}

/** Formats a 4- or 16-byte address as text. */
export function bytesToIp(address: Uint8Array): string {
  if (address.length === 4) return address.join('.');
  if (address.length !== 16)
    throw new TypeError(`an IP address has 4 or 16 bytes, not ${address.length}`);
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((address[i] << 8) | address[i + 1]);
  // RFC 5952 §4.2: compress the longest run of at least two zero groups (the first on a tie).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
