/**
 * From a validated target to the addresses the proxy may send to. RFC 9298 §3.1: "if the
 * target_host is a DNS name, the UDP proxy MUST perform DNS resolution before replying to the
 * HTTP request. If errors occur during this process, the UDP proxy MUST reject the request and
 * SHOULD send details using an appropriate Proxy-Status header field."
 *
 * Resolution goes through an injected {@link Resolver}; the adapter owns timeouts
 * (`resolver-system.ts`, `resolver-node.ts`), this module only maps outcomes. A and AAAA are asked in parallel (for
 * the families the proxy can route), every answer goes through the policy, and the allowed
 * addresses come back ordered by family preference, families alternating (default IPv6 first,
 * the Happy Eyeballs order of RFC 8305 §4; a failing family is simply skipped when the other one
 * answered). The relays try them in that order (`open-target.ts`).
 *
 * Failures, with RFC 9209 §2.3 error types and their recommended status codes:
 *   NXDOMAIN / SERVFAIL / REFUSED / FORMERR / NOTIMP  dns_error, rcode="..."   502
 *   no A or AAAA records (NODATA)                     dns_error, rcode="NOERROR" 502
 *   getaddrinfo found no address (EAI_NONAME)         dns_error, no rcode        502
 *   resolver timeout                                  dns_timeout               504
 *   every address denied by policy                    destination_ip_prohibited 502
 *   only addresses of a family the proxy cannot use   destination_ip_unroutable 502
 */
import type { ProxyErrorType, ProxyStatusEntry } from '../headers/index.js';
import { recommendedStatus } from '../headers/index.js';
import type { PolicyDecision, TargetPolicy } from './policy.js';
import { formatHostPort, type Target } from './target.js';

/**
 * DNS lookups. Implementations reject with an error whose `code` is one of Node's DNS error
 * codes (`ENOTFOUND`, `ENODATA`, `ESERVFAIL`, `EREFUSED`, `ETIMEOUT`, ...; see
 * {@link classifyDnsError}) and may carry `infoCode`, an RFC 8914 Extended DNS Error INFO-CODE.
 */
export interface Resolver {
  /** A records of `name`, as dotted quads. */
  resolve4(name: string): Promise<string[]>;
  /** AAAA records of `name`, as IPv6 text. */
  resolve6(name: string): Promise<string[]>;
}

/** A resolver failure, classified. */
export interface DnsFailure {
  /**
   * `nxdomain` and `rcode` carry an RCODE; `nodata` is NOERROR without addresses; `noname` is
   * getaddrinfo's "no address", which does not tell NXDOMAIN from NODATA.
   */
  kind: 'nxdomain' | 'noname' | 'rcode' | 'nodata' | 'timeout' | 'other';
  /** The DNS RCODE name (RFC 8499 §3), when known. */
  rcode?: string;
  /** RFC 8914 INFO-CODE, when the resolver supplied one. */
  infoCode?: number;
  /** The resolver's error code or message, for logs. */
  detail: string;
}

const RCODES: Record<string, string> = {
  ENOTFOUND: 'NXDOMAIN',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'REFUSED',
  EFORMERR: 'FORMERR',
  ENOTIMP: 'NOTIMP',
};

/** Maps a resolver rejection to a {@link DnsFailure}. */
export function classifyDnsError(err: unknown): DnsFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    infoCode?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const detail = code ?? (typeof e.message === 'string' ? e.message : String(err));
  const infoCode =
    typeof e.infoCode === 'number' && Number.isInteger(e.infoCode) && e.infoCode >= 0
      ? { infoCode: e.infoCode }
      : {};
  if (code === 'ETIMEOUT') return { kind: 'timeout', detail };
  if (code === 'EAI_NONAME') return { kind: 'noname', detail, ...infoCode };
  if (code === 'ENODATA') return { kind: 'nodata', rcode: 'NOERROR', detail, ...infoCode };
  if (code !== undefined && code in RCODES) {
    const rcode = RCODES[code];
    return { kind: rcode === 'NXDOMAIN' ? 'nxdomain' : 'rcode', rcode, detail, ...infoCode };
  }
  return { kind: 'other', detail, ...infoCode };
}

// Which failure explains an empty answer best when both families failed.
const RANK: Record<DnsFailure['kind'], number> = {
  nxdomain: 5,
  noname: 4,
  rcode: 3,
  timeout: 2,
  other: 1,
  nodata: 0,
};

/** One address to try. */
export interface ResolvedAddress {
  /** Canonical IP text (IPv4-mapped addresses as IPv4). */
  address: string;
  /** Address family. */
  family: 4 | 6;
}

/** Options of {@link resolveTarget}. */
export interface ResolveOptions {
  /** DNS lookups. */
  resolver: Resolver;
  /** Access control applied to every address. */
  policy: TargetPolicy;
  /** This proxy's member name in Proxy-Status. */
  proxyName: string;
  /** Family tried first; default `'ipv6'`. */
  prefer?: 'ipv4' | 'ipv6';
  /** Families the proxy can send on; default both. */
  families?: { ipv4?: boolean; ipv6?: boolean };
}

/** The outcome of {@link resolveTarget}. */
export type ResolveResult =
  | {
      /** Resolution succeeded. */
      ok: true;
      /** Allowed addresses, preferred family first; never empty. */
      addresses: ResolvedAddress[];
      /** Our Proxy-Status member for the 2xx response, with `next-hop` = first address. */
      proxyStatus: ProxyStatusEntry;
    }
  | {
      /** The request must be rejected. */
      ok: false;
      /** The status code to answer with (RFC 9209 §2.3 recommendation). */
      status: number;
      /** The proxy error type. */
      error: ProxyErrorType;
      /** Our Proxy-Status member describing the failure. */
      proxyStatus: ProxyStatusEntry;
      /** Human-readable reason, for logs. */
      reason: string;
    };

function fail(
  proxy: string,
  error: ProxyErrorType,
  reason: string,
  extra: Partial<ProxyStatusEntry> = {},
): ResolveResult {
  return {
    ok: false,
    status: recommendedStatus(error) ?? 502,
    error,
    proxyStatus: { proxy, error, ...extra },
    reason,
  };
}

/** Resolves (if needed), filters and orders the target's addresses; never rejects. */
export async function resolveTarget(target: Target, opts: ResolveOptions): Promise<ResolveResult> {
  const v4ok = opts.families?.ipv4 !== false;
  const v6ok = opts.families?.ipv6 !== false;
  const proxy = opts.proxyName;
  let candidates: string[];
  if (target.host.kind === 'ip') {
    candidates = [target.host.address];
  } else {
    const name = target.host.name;
    const [a, aaaa] = await Promise.allSettled([
      v4ok ? opts.resolver.resolve4(name) : Promise.resolve([]),
      v6ok ? opts.resolver.resolve6(name) : Promise.resolve([]),
    ]);
    candidates = [];
    const failures: DnsFailure[] = [];
    for (const r of [a, aaaa]) {
      if (r.status === 'fulfilled') candidates.push(...r.value);
      else failures.push(classifyDnsError(r.reason));
    }
    if (candidates.length === 0) {
      const worst = failures.sort((x, y) => RANK[y.kind] - RANK[x.kind])[0] ?? {
        kind: 'nodata',
        rcode: 'NOERROR',
        detail: 'no address records',
      };
      if (worst.kind === 'timeout') return fail(proxy, 'dns_timeout', `DNS timeout for ${name}`);
      const extra: Partial<ProxyStatusEntry> = {};
      if (worst.rcode !== undefined) extra.rcode = worst.rcode;
      if (worst.infoCode !== undefined) extra.infoCode = worst.infoCode;
      if (worst.kind === 'other') extra.details = worst.detail;
      if (worst.kind === 'noname') extra.details = 'no address for the name';
      return fail(proxy, 'dns_error', `DNS error for ${name}: ${worst.detail}`, extra);
    }
  }

  const allowed: ResolvedAddress[] = [];
  let denied = 0;
  for (const address of candidates) {
    let decision: PolicyDecision;
    try {
      decision = opts.policy.check(address, target.port);
    } catch {
      continue; // not an IP address: a broken resolver answer is never used
    }
    if (!decision.allowed) {
      denied++;
      continue;
    }
    if (!allowed.some((x) => x.address === decision.address)) {
      allowed.push({ address: decision.address, family: decision.family });
    }
  }
  const where = formatHostPort(target.host, target.port);
  if (allowed.length === 0 && denied === 0) {
    return fail(proxy, 'dns_error', `${where}: no usable address in the answer`, {
      details: 'invalid address records',
    });
  }
  if (allowed.length === 0) {
    return fail(proxy, 'destination_ip_prohibited', `${where}: ${denied} address(es) denied`);
  }
  const routable = allowed.filter((x) => (x.family === 4 ? v4ok : v6ok));
  if (routable.length === 0) {
    return fail(proxy, 'destination_ip_unroutable', `${where}: no address in a usable family`);
  }
  const ordered = interleaveFamilies(routable, opts.prefer === 'ipv4' ? 4 : 6);
  const top = ordered[0];
  const nextHop = formatHostPort(
    { kind: 'ip', family: top.family, address: top.address },
    target.port,
  );
  return { ok: true, addresses: ordered, proxyStatus: { proxy, nextHop } };
}

/**
 * RFC 8305 §4: "Whichever address family is first in the list should be followed by an address
 * of the other address family" — alternating, a First Address Family Count of 1 — each family
 * keeping its own order. An attempt that fails then moves to the other family at once.
 */
export function interleaveFamilies(
  addresses: readonly ResolvedAddress[],
  first: 4 | 6,
): ResolvedAddress[] {
  const a = addresses.filter((x) => x.family === first);
  const b = addresses.filter((x) => x.family !== first);
  const out: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]);
    if (i < b.length) out.push(b[i]);
  }
  return out;
}
