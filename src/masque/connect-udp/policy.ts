/**
 * Target access control. Rules are checked in order and the first match wins; without a match,
 * special-purpose destinations (see `special-ranges.ts`) are denied and everything else is
 * allowed. A denial carries the Proxy-Status error `destination_ip_prohibited` (RFC 9209 §2.3.5:
 * "The intermediary is configured to prohibit connections to the next-hop IP address").
 *
 * Embedded IPv4 addresses:
 * - an IPv4-mapped address (`::ffff:a.b.c.d`) is judged as the IPv4 address it is, by every rule
 *   and by the default;
 * - a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address is matched by IPv6 rules; IPv4 `deny`
 *   rules also apply to its embedded IPv4 address (so a denied IPv4 block cannot be reached
 *   through a translator), IPv4 `allow` rules do not; by default it is special when its
 *   embedded IPv4 address is.
 */
import { Address4, Address6 } from 'ip-address';
import {
  embeddedIPv4,
  type SpecialRange,
  specialRangeOf4,
  specialRangeOf6,
} from './special-ranges.js';
import { canonicalIPv6, isStrictIPv4 } from './target.js';
import type { TargetRule } from './target-rule.js';

/** The outcome of a policy check. */
export interface PolicyDecision {
  /** Whether the proxy may send to the address and port. */
  allowed: boolean;
  /** Set when denied: the RFC 9209 proxy error type to report. */
  error?: 'destination_ip_prohibited';
  /** What decided: a rule, the special-purpose default, or the public default. */
  by: 'rule' | 'special' | 'default';
  /** The rule that matched (by = 'rule'). */
  rule?: TargetRule;
  /** The special range the address is in (by = 'special'). */
  special?: SpecialRange;
  /** The address as judged: canonical text, IPv4-mapped addresses as IPv4. */
  address: string;
  /** Family of {@link address}. */
  family: 4 | 6;
}

/** Options of {@link TargetPolicy}. */
export interface TargetPolicyOptions {
  /** Allow special-purpose destinations by default (tests, labs). Off by default. */
  allowSpecial?: boolean;
}

interface CompiledRule {
  rule: TargetRule;
  net: Address4 | Address6;
}

/** An ordered rule list plus the special-purpose default; immutable and reusable. */
export class TargetPolicy {
  readonly #rules: readonly CompiledRule[];
  readonly #allowSpecial: boolean;

  constructor(rules: readonly TargetRule[] = [], options: TargetPolicyOptions = {}) {
    this.#rules = rules.map((rule) => ({
      rule,
      net: rule.family === 4 ? new Address4(rule.cidr) : new Address6(rule.cidr),
    }));
    this.#allowSpecial = options.allowSpecial === true;
  }

  /** The rules in evaluation order. */
  get rules(): readonly TargetRule[] {
    return this.#rules.map((r) => r.rule);
  }

  /**
   * Judges a destination. `address` is an IPv4 dotted quad or an IPv6 address (no brackets, no
   * zone); anything else throws a TypeError, since callers pass validated or resolved addresses.
   */
  check(address: string, port: number): PolicyDecision {
    let v4: Address4 | undefined;
    let v6: Address6 | undefined;
    if (isStrictIPv4(address)) {
      v4 = new Address4(address);
    } else if (Address6.isValid(address) && !address.includes('/') && !address.includes('%')) {
      v6 = new Address6(address);
      if (v6.isHostInSubnet(new Address6('::ffff:0:0/96'))) {
        v4 = v6.to4();
        v6 = undefined;
      }
    } else {
      throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
    }
    const judged = v4 !== undefined ? v4.correctForm() : canonicalIPv6(address);
    const family: 4 | 6 = v4 !== undefined ? 4 : 6;
    const inner = v6 !== undefined ? embeddedIPv4(v6) : undefined;

    for (const c of this.#rules) {
      if (!portMatches(c.rule, port)) continue;
      let hit = false;
      if (c.net instanceof Address4) {
        hit =
          v4?.isHostInSubnet(c.net) === true ||
          (c.rule.action === 'deny' && inner?.isHostInSubnet(c.net) === true);
      } else {
        hit = v6?.isHostInSubnet(c.net) === true;
      }
      if (!hit) continue;
      const allowed = c.rule.action === 'allow';
      return decide(allowed, { by: 'rule', rule: c.rule, address: judged, family });
    }
    const special = v4 !== undefined ? specialRangeOf4(v4) : specialRangeOf6(v6!);
    if (special !== undefined && !this.#allowSpecial) {
      return decide(false, { by: 'special', special, address: judged, family });
    }
    return { allowed: true, by: 'default', address: judged, family };
  }
}

function decide(allowed: boolean, d: Omit<PolicyDecision, 'allowed' | 'error'>): PolicyDecision {
  return allowed ? { allowed, ...d } : { allowed, error: 'destination_ip_prohibited', ...d };
}

function portMatches(rule: TargetRule, port: number): boolean {
  if (rule.ports === undefined) return true;
  return rule.ports.some(([from, to]) => port >= from && port <= to);
}
