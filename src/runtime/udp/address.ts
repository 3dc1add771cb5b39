/**
 * Address strings as the sans-IO layers use them: "127.0.0.1:4433" and "[::1]:4433". IPv4-mapped
 * IPv6 addresses ("::ffff:127.0.0.1", seen on dual-stack sockets) are written in their IPv4 form,
 * so one peer always has one address string whatever the socket family.
 */
import { isIP } from 'node:net';

/** A parsed "host:port". */
export interface ParsedAddress {
  /** IP literal (no brackets) or a host name. */
  host: string;
  port: number;
  /** 4 or 6 for IP literals, 0 for host names. */
  family: 0 | 4 | 6;
}

const MAPPED_V4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** Parses "host:port" or "[v6]:port". Throws RangeError for anything else. */
export function parseAddress(address: string): ParsedAddress {
  let host: string;
  let portText: string;
  if (address.startsWith('[')) {
    const end = address.indexOf(']');
    if (end < 0 || address[end + 1] !== ':') throw new RangeError(`bad address "${address}"`);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
    if (isIP(host) !== 6) throw new RangeError(`bad IPv6 address "${address}"`);
  } else {
    const colon = address.lastIndexOf(':');
    if (colon <= 0) throw new RangeError(`address "${address}" has no port`);
    host = address.slice(0, colon);
    portText = address.slice(colon + 1);
    if (host.includes(':')) throw new RangeError(`IPv6 address "${address}" needs brackets`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new RangeError(`bad port in "${address}"`);
  }
  const mapped = MAPPED_V4.exec(host);
  if (mapped) host = mapped[1];
  const family = isIP(host) as 0 | 4 | 6;
  return { host, port: Number(portText), family };
}

/** Formats a host and port; IPv6 literals get brackets, IPv4-mapped ones become IPv4. */
export function formatAddress(host: string, port: number): string {
  const mapped = MAPPED_V4.exec(host);
  if (mapped) return `${mapped[1]}:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
