/**
 * Proxy-Public-Address (connect-udp-listen §"The Proxy-Public-Address Response Header Field"):
 * a List whose members are Strings, each an address and port from RFC 3986 §3.2:
 *
 *   ip-port-tuple = DQUOTE ( IP-literal / IPv4address ) ":" port DQUOTE
 *
 * e.g. `"192.0.2.45:54321", "[2001:db8::1234]:54321"`. IPv6 sits in brackets. Member parameters
 * carry nothing defined and are ignored.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { FieldValue, HeaderResult } from '../../fields/result.js';
import { fail, HeaderFormatError, ok } from '../../fields/result.js';
import {
  asString,
  combineFieldLines,
  parseListField,
  serializeListField,
} from '../../fields/sf.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const PROXY_PUBLIC_ADDRESS_FIELD = 'proxy-public-address';

/** One public (address, port) the proxy bound for the tunnel. */
export interface ProxyPublicAddress {
  /** 4 for an IPv4address, 6 for an IPv6 IP-literal. */
  family: 4 | 6;
  /** The address text without brackets, as received. */
  ip: string;
  /** The UDP port, 1..65535. */
  port: number;
}

/**
 * Parses one `ip-port-tuple` string. Decisions beyond the grammar: IPvFuture literals and IPv6
 * zone identifiers are refused (neither names a reachable public address), and the port must be
 * 1..65535 (RFC 3986 allows `*DIGIT`, but an empty or zero port cannot be a bound port).
 */
export function parseIpPortTuple(text: string): HeaderResult<ProxyPublicAddress> {
  const m = /^(?:\[([^\]]*)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  if (m === null) return fail(`"${text}" is not an ip-port tuple`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return fail(`port ${m[3]} out of range`);
  if (m[1] !== undefined) {
    if (m[1].includes('%') || !isIPv6(m[1])) return fail(`"${m[1]}" is not an IPv6 address`);
    return ok({ family: 6, ip: m[1], port });
  }
  // RFC 3986 IPv4address: dotted decimal without leading zeros, which isIPv4 also requires.
  if (!isIPv4(m[2])) return fail(`"${m[2]}" is not an IPv4 address`);
  return ok({ family: 4, ip: m[2], port });
}

/**
 * Parses the field. An absent field is `{ ok: true, value: [] }`; the caller decides whether an
 * empty list is acceptable (a successful bind response MUST list at least one address).
 */
export function parseProxyPublicAddress(value: FieldValue): HeaderResult<ProxyPublicAddress[]> {
  const text = combineFieldLines(value);
  if (text === undefined) return ok([]);
  const list = parseListField(text);
  if (!list.ok) return list;
  const out: ProxyPublicAddress[] = [];
  for (const member of list.value) {
    const str = Array.isArray(member[0]) ? undefined : asString(member[0]);
    if (str === undefined) return fail('a member is not a String');
    const addr = parseIpPortTuple(str);
    if (!addr.ok) return addr;
    out.push(addr.value);
  }
  return ok(out);
}

/** One `ip-port-tuple` string; throws HeaderFormatError for an invalid address or port. */
export function formatIpPortTuple(addr: ProxyPublicAddress): string {
  const text = addr.family === 6 ? `[${addr.ip}]:${addr.port}` : `${addr.ip}:${addr.port}`;
  const back = parseIpPortTuple(text);
  if (!back.ok || back.value.family !== addr.family || !Number.isInteger(addr.port)) {
    throw new HeaderFormatError(`cannot express ${addr.ip} port ${addr.port} (IPv${addr.family})`);
  }
  return text;
}

/** Serializes the field; throws HeaderFormatError for an empty list (the field needs a member). */
export function formatProxyPublicAddress(addrs: readonly ProxyPublicAddress[]): string {
  if (addrs.length === 0) {
    throw new HeaderFormatError('Proxy-Public-Address needs at least one address');
  }
  return serializeListField(addrs.map((a) => [formatIpPortTuple(a), new Map()]));
}

/**
 * Reads the field as a client should from any proxy: strictly first, then leniently for proxies
 * of the drafts before -10 (still deployed), which send the members as bare tokens
 * (`192.0.2.1:4321, [2001:db8::1]:4321`) or a mix: each comma-separated member, quotes and
 * parameters stripped, that is an ip-port tuple is kept, the others skipped. Never fails; absent
 * or unreadable gives `[]`.
 */
export function parseProxyPublicAddressLenient(value: FieldValue): ProxyPublicAddress[] {
  const strict = parseProxyPublicAddress(value);
  if (strict.ok) return strict.value;
  const text = combineFieldLines(value) ?? '';
  const out: ProxyPublicAddress[] = [];
  for (const raw of text.split(',')) {
    const member = raw
      .split(';')[0]
      .trim()
      .replace(/^"(.*)"$/, '$1');
    const addr = parseIpPortTuple(member);
    if (addr.ok) out.push(addr.value);
  }
  return out;
}
