/**
 * Where a client connects: a URL or `{ host, port }`, resolved to the IP literal the UDP adapter
 * needs ("host:port", "[v6]:port"), plus the names TLS and `:authority` use.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A server to connect to. */
export type ClientTarget = string | URL | { host: string; port?: number };

/** A resolved target. */
export interface ResolvedTarget {
  /** Host as given (name or literal, without brackets). */
  readonly host: string;
  readonly port: number;
  /** "ip:port" or "[ip6]:port", for `UdpEndpoint.connect`. */
  readonly remote: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** `:authority` of our requests: host, bracketed when IPv6, with the port unless 443. */
  readonly authority: string;
}

/**
 * Parses and resolves a target (DNS only when the host is a name). With `remote`, nothing is
 * looked up: the caller's socket delivers datagrams itself (a connect-udp tunnel, where the proxy
 * resolves the name) and `remote` is only the address label the connection uses. With
 * `address` (an IP literal), nothing is looked up either: the caller chose the address (RFC 8305
 * attempts), while TLS and `:authority` keep the host.
 */
export async function resolveTarget(
  target: ClientTarget,
  remote?: string,
  address?: string,
): Promise<ResolvedTarget> {
  let host: string;
  let port: number;
  if (typeof target === 'string' || target instanceof URL) {
    const url = typeof target === 'string' ? new URL(target) : target;
    if (url.protocol !== 'https:') throw new RangeError(`unsupported URL scheme ${url.protocol}`);
    host = url.hostname;
    port = url.port === '' ? 443 : Number(url.port);
  } else {
    host = target.host;
    port = target.port ?? 443;
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new RangeError(`bad port ${port}`);
  }
  let ip = host;
  let family = isIP(host);
  if (remote !== undefined) {
    const hostPart = family === 6 ? `[${host}]` : host;
    return {
      host,
      port,
      family: remote.startsWith('[') ? 6 : 4,
      remote,
      authority: port === 443 ? hostPart : `${hostPart}:${port}`,
    };
  }
  if (address !== undefined) {
    family = isIP(address);
    if (family === 0) throw new RangeError(`address ${address} is not an IP address`);
    ip = address;
  } else if (family === 0) {
    const r = await lookup(host);
    ip = r.address;
    family = r.family;
  }
  const v6 = family === 6;
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;
  return {
    host,
    port,
    family: v6 ? 6 : 4,
    remote: v6 ? `[${ip}]:${port}` : `${ip}:${port}`,
    authority: port === 443 ? hostPart : `${hostPart}:${port}`,
  };
}
