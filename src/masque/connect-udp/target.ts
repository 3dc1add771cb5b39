/**
 * The target of a connect-udp request (RFC 9298 §3), validated and normalised:
 *
 *   target_host = IPv6address / IPv4address / reg-name
 *   target_port = port
 *
 * Values arrive percent-decoded. Decisions beyond the ABNF, each conservative:
 * - IPv6 zone identifiers are refused: "IPv6 scoped addressing zone identifiers are not
 *   supported". A bracketed IPv6 literal (`[2001:db8::1]`, the RFC 3986 IP-literal form) is
 *   accepted as well, since it is unambiguous; the ABNF names the bare IPv6address form.
 * - IPv4 literals are strict dotted-quad without leading zeros (RFC 3986 dec-octet), so "010.1.1.1"
 *   or "127.1" is never read the way inet_aton would.
 * - reg-name must be a DNS host name (RFC 1123 §2.1 / RFC 952 letters, digits, hyphens; labels of
 *   1-63 characters, 253 in all, one trailing dot allowed and dropped), and its last label must
 *   not be all digits, so nothing that looks like a number is sent to the resolver.
 * - target_port: 1-5 decimal digits (RFC 3986 `port = *DIGIT`, so leading zeros are allowed),
 *   value 1..65535: "target_port MUST represent an integer between 1 and 65535 inclusive".
 */
import { isIPv6 } from 'node:net';
import { Address6 } from 'ip-address';
import { ConnectUdpError, ConnectUdpErrorCode } from './errors.js';

/** A validated target host. */
export type TargetHost =
  | {
      /** An IP literal. */
      kind: 'ip';
      /** Address family. */
      family: 4 | 6;
      /** Canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6 without brackets. */
      address: string;
    }
  | {
      /** A DNS name to resolve before answering (RFC 9298 §3.1). */
      kind: 'dns';
      /** Lowercase, without a trailing dot. */
      name: string;
    };

/** A validated target: host and UDP port. */
export interface Target {
  /** Where to send. */
  host: TargetHost;
  /** The UDP port, 1..65535. */
  port: number;
}

const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function show(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(cut);
}

function hostError(value: string, why: string): ConnectUdpError {
  return new ConnectUdpError(
    ConnectUdpErrorCode.TARGET_HOST_INVALID,
    `target_host ${show(value)}: ${why}`,
  );
}

/** True for a strict RFC 3986 IPv4address. */
export function isStrictIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** Canonical RFC 5952 text of a valid IPv6 address (no zone, no brackets). */
export function canonicalIPv6(text: string): string {
  return new Address6(text).correctForm();
}

/**
 * Validates a percent-decoded target_host; throws {@link ConnectUdpError} TARGET_HOST_INVALID.
 */
export function parseTargetHost(value: string): TargetHost {
  if (value.length === 0) throw hostError(value, 'MUST NOT be empty (RFC 9298 §3)');
  if (IPV4.test(value)) return { kind: 'ip', family: 4, address: value };
  let v6 = value;
  const bracketed = value.startsWith('[') && value.endsWith(']');
  if (bracketed) v6 = value.slice(1, -1);
  if (v6.includes(':') || bracketed) {
    if (v6.includes('%')) {
      throw hostError(value, 'IPv6 zone identifiers are not supported (RFC 9298 §3)');
    }
    if (!isIPv6(v6)) throw hostError(value, 'not a valid IPv6 address');
    return { kind: 'ip', family: 6, address: canonicalIPv6(v6) };
  }
  return { kind: 'dns', name: parseDnsName(value) };
}

function parseDnsName(value: string): string {
  if (/[^\x21-\x7e]/.test(value)) {
    throw hostError(value, 'a DNS name must be printable ASCII (use A-labels for IDNs)');
  }
  let name = value.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0 || name.length > 253) {
    throw hostError(value, 'a DNS name must be 1..253 characters');
  }
  const labels = name.split('.');
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw hostError(
        value,
        `label ${show(label)} is not a host name label (letters, digits, inner hyphens, 1-63 characters)`,
      );
    }
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    throw hostError(value, 'neither an IPv4 address nor a DNS name (all-numeric last label)');
  }
  return name;
}

/** Validates a percent-decoded target_port; throws {@link ConnectUdpError} TARGET_PORT_INVALID. */
export function parseTargetPort(value: string): number {
  if (!/^[0-9]{1,5}$/.test(value)) {
    throw new ConnectUdpError(
      ConnectUdpErrorCode.TARGET_PORT_INVALID,
      `target_port ${show(value)}: must be 1 to 5 decimal digits (RFC 9298 §3)`,
    );
  }
  const port = Number(value);
  if (port < 1 || port > 65535) {
    throw new ConnectUdpError(
      ConnectUdpErrorCode.TARGET_PORT_INVALID,
      `target_port ${show(value)}: MUST be an integer between 1 and 65535 (RFC 9298 §3)`,
    );
  }
  return port;
}

/** Validates both variables; throws {@link ConnectUdpError}. */
export function parseTarget(host: string, port: string): Target {
  return { host: parseTargetHost(host), port: parseTargetPort(port) };
}

/** `host:port`, IPv6 in brackets: for logs and the Proxy-Status `next-hop` parameter. */
export function formatHostPort(host: TargetHost, port: number): string {
  if (host.kind === 'dns') return `${host.name}:${port}`;
  return host.family === 6 ? `[${host.address}]:${port}` : `${host.address}:${port}`;
}
