/**
 * Target access rules, as written on the command line (`--allow-target`, `--deny-target`) and in
 * the configuration file:
 *
 *   rule  = ipv4 [ "/" len ] [ ":" ports ]
 *         / "[" ipv6 "]" [ "/" len ] [ ":" ports ]
 *         / ipv6 [ "/" len ]                      ; bare IPv6: no ports (the colons would clash)
 *   ports = range *( "," range )
 *   range = port [ "-" port ]                     ; 1..65535, from <= to
 *
 * Examples: `127.0.0.0/8:5353,8000-8100`, `10.1.2.3`, `[::1]/128:53`, `[fd00::]/8`,
 * `2001:db8::/32`. A missing length means one address (/32 or /128). Host bits set after the
 * prefix (`10.0.0.1/8`) are refused rather than silently cleared.
 */
import { Address4, Address6 } from 'ip-address';
import { ConnectUdpError, ConnectUdpErrorCode } from './errors.js';
import { canonicalIPv6, isStrictIPv4 } from './target.js';

/** One access-control rule. */
export interface TargetRule {
  /** What a match does. */
  readonly action: 'allow' | 'deny';
  /** The block, canonical CIDR text (`10.0.0.0/8`, `2001:db8::/32`). */
  readonly cidr: string;
  /** Address family of the block. */
  readonly family: 4 | 6;
  /** Inclusive port ranges; absent means every port. */
  readonly ports?: ReadonlyArray<readonly [number, number]>;
}

function ruleError(text: string, why: string): ConnectUdpError {
  return new ConnectUdpError(
    ConnectUdpErrorCode.TARGET_RULE_INVALID,
    `target rule "${text}": ${why} (syntax: CIDR[:PORTS], IPv6 in brackets, e.g. 10.0.0.0/8:53,8000-8100 or [::1]/128:53)`,
  );
}

function parsePort(rule: string, text: string): number {
  if (!/^[0-9]{1,5}$/.test(text)) throw ruleError(rule, `"${text}" is not a port number`);
  const port = Number(text);
  if (port < 1 || port > 65535) throw ruleError(rule, `port ${text} is not in 1..65535`);
  return port;
}

/** Parses `PORTS` (`53,8000-8100`) into inclusive ranges. */
export function parsePortRanges(rule: string, text: string): Array<[number, number]> {
  if (text.length === 0) throw ruleError(rule, 'empty port list after ":"');
  return text.split(',').map((item) => {
    const dash = item.indexOf('-');
    if (dash < 0) {
      const p = parsePort(rule, item);
      return [p, p];
    }
    const from = parsePort(rule, item.slice(0, dash));
    const to = parsePort(rule, item.slice(dash + 1));
    if (from > to) throw ruleError(rule, `port range ${item} is reversed`);
    return [from, to];
  });
}

function parseLength(rule: string, text: string | undefined, max: number): number {
  if (text === undefined) return max;
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) > max) {
    throw ruleError(rule, `prefix length "/${text}" is not in 0..${max}`);
  }
  return Number(text);
}

/** Splits the rule into address, optional length and optional port list. */
function split(text: string): { addr: string; len?: string; ports?: string; v6: boolean } {
  if (text.startsWith('[')) {
    const m = /^\[([^\]]*)\](?:\/([^:]*))?(?::(.*))?$/.exec(text);
    if (m === null) throw ruleError(text, 'unbalanced brackets');
    return { addr: m[1], len: m[2], ports: m[3], v6: true };
  }
  const colons = text.split(':').length - 1;
  if (colons >= 2) {
    const slash = text.indexOf('/');
    return slash < 0
      ? { addr: text, v6: true }
      : { addr: text.slice(0, slash), len: text.slice(slash + 1), v6: true };
  }
  const m = /^([^/:]*)(?:\/([^:]*))?(?::(.*))?$/.exec(text);
  if (m === null) throw ruleError(text, 'cannot split address, length and ports');
  return { addr: m[1], len: m[2], ports: m[3], v6: false };
}

/** Parses one rule; throws {@link ConnectUdpError} TARGET_RULE_INVALID. */
export function parseTargetRule(text: string, action: 'allow' | 'deny'): TargetRule {
  const parts = split(text.trim());
  let cidr: string;
  let family: 4 | 6;
  if (parts.v6) {
    if (parts.addr.includes('%')) throw ruleError(text, 'zone identifiers are not supported');
    if (!Address6.isValid(parts.addr) || parts.addr.includes('/')) {
      throw ruleError(text, `"${parts.addr}" is not an IPv6 address`);
    }
    const len = parseLength(text, parts.len, 128);
    const addr = canonicalIPv6(parts.addr);
    const net = new Address6(`${addr}/${len}`);
    const start = net.startAddress().correctForm();
    if (start !== addr) throw ruleError(text, `host bits set; did you mean ${start}/${len}?`);
    cidr = `${addr}/${len}`;
    family = 6;
  } else {
    if (!isStrictIPv4(parts.addr)) throw ruleError(text, `"${parts.addr}" is not an IPv4 address`);
    const len = parseLength(text, parts.len, 32);
    const start = new Address4(`${parts.addr}/${len}`).startAddress().correctForm();
    if (start !== parts.addr) throw ruleError(text, `host bits set; did you mean ${start}/${len}?`);
    cidr = `${parts.addr}/${len}`;
    family = 4;
  }
  const rule: TargetRule = { action, cidr, family };
  if (parts.ports === undefined) return rule;
  return { ...rule, ports: parsePortRanges(text, parts.ports) };
}

/** The rule in the syntax {@link parseTargetRule} reads. */
export function formatTargetRule(rule: TargetRule): string {
  const base = rule.family === 6 ? `[${rule.cidr.replace('/', ']/')}` : rule.cidr;
  if (rule.ports === undefined) return base;
  const ports = rule.ports.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
  return `${base}:${ports}`;
}
