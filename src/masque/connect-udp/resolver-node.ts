/**
 * The {@link Resolver} of `dns.mode: "dns"`: Node's c-ares stub resolver (`node:dns/promises`
 * `Resolver`), which queries DNS servers directly (no /etc/hosts, no getaddrinfo) and owns the
 * timeout; it knows RCODEs, which getaddrinfo does not. The default is `resolver-system.ts`.
 * Its rejections carry Node's DNS error codes, which `classifyDnsError` maps.
 */
import { Resolver as DnsResolver } from 'node:dns/promises';
import type { Resolver } from './resolve.js';

/** Options of {@link createNodeResolver}. */
export interface NodeResolverOptions {
  /** Per-query timeout in milliseconds (c-ares doubles it on each retry); default 5000. */
  timeoutMs?: number;
  /** Attempts per server; default 2. */
  tries?: number;
  /** Servers (`1.1.1.1`, `[2001:db8::1]:53`, `127.0.0.1:5353`); default: the system's. */
  servers?: readonly string[];
}

/** A {@link Resolver} over `node:dns/promises`. */
export function createNodeResolver(options: NodeResolverOptions = {}): Resolver {
  const dns = new DnsResolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
  if (options.servers !== undefined && options.servers.length > 0) {
    dns.setServers([...options.servers]);
  }
  return {
    resolve4: (name) => dns.resolve4(name),
    resolve6: (name) => dns.resolve6(name),
  };
}
