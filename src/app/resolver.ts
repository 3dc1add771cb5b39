/** The proxy's {@link Resolver} as the configuration's `dns` section describes it. */
import type { ProxyConfig } from '../config/schema.js';
import type { Resolver } from '../masque/connect-udp/resolve.js';
import { createNodeResolver } from '../masque/connect-udp/resolver-node.js';
import { createSystemResolver } from '../masque/connect-udp/resolver-system.js';

/** getaddrinfo ("system", the default) or c-ares asking DNS servers ("dns"). */
export function resolverFor(dns: ProxyConfig['dns']): Resolver {
  if (dns.mode === 'system') return createSystemResolver({ timeoutMs: dns.timeoutMs });
  return createNodeResolver({ timeoutMs: dns.timeoutMs, tries: dns.tries, servers: dns.servers });
}
