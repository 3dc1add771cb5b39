/**
 * The default {@link Resolver}: names resolved as the operating system resolves them, through
 * getaddrinfo (`dns.lookup`), which reads /etc/hosts and follows nsswitch.conf — so `localhost`
 * and a name an operator pinned in /etc/hosts work, as they do for every other program on the
 * host. `resolver-node.ts` (c-ares, DNS servers only) stays selectable by `dns.mode: "dns"`.
 *
 * getaddrinfo answers less than DNS does, and its errors are relabelled for `classifyDnsError`:
 *
 *   ENOTFOUND (EAI_NONAME / EAI_NODATA)  EAI_NONAME: no address, NXDOMAIN and NODATA alike
 *                                        (getaddrinfo cannot tell which), no RCODE is claimed
 *   EAI_AGAIN, EAI_FAIL, others          kept as they are (dns_error with the code as details)
 *   no answer within `timeoutMs`         ETIMEOUT (dns_timeout, 504)
 *
 * getaddrinfo has no timeout of its own and cannot be cancelled: a lookup that hangs keeps one
 * libuv thread-pool thread (4 by default, `UV_THREADPOOL_SIZE`) until the system resolver gives
 * up; the request is answered 504 at `timeoutMs` regardless. So that clients asking for names
 * that hang cannot take every thread from the rest of the proxy (files, scrypt for basic auth),
 * at most `maxInFlight` lookups run at once (default 2); the others wait their turn within their
 * own `timeoutMs`, and one that times out waiting is never started.
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Resolver } from './resolve.js';

/** `dns.promises.lookup` with `all: true` and a family: what the system resolver calls. */
export type SystemLookup = (
  name: string,
  options: { all: true; family: 4 | 6 },
) => Promise<LookupAddress[]>;

/** Options of {@link createSystemResolver}. */
export interface SystemResolverOptions {
  /** How long a lookup may take before it fails as ETIMEOUT (ms); default 5000. */
  timeoutMs?: number;
  /** The lookup (tests inject one); default `dns.promises.lookup`. */
  lookup?: SystemLookup;
  /** Lookups running at once (default 2: half of libuv's default thread pool). */
  maxInFlight?: number;
}

function relabel(err: unknown): unknown {
  const e = err as { code?: unknown } | null;
  if (e !== null && typeof e === 'object' && e.code === 'ENOTFOUND') {
    return Object.assign(new Error(`getaddrinfo: no address (${String(e.code)})`), {
      code: 'EAI_NONAME',
      cause: err,
    });
  }
  return err;
}

/** A {@link Resolver} over getaddrinfo (see module header). */
export function createSystemResolver(options: SystemResolverOptions = {}): Resolver {
  const timeoutMs = options.timeoutMs ?? 5000;
  const lookup: SystemLookup = options.lookup ?? ((name, o) => dnsLookup(name, o));
  const maxInFlight = Math.max(1, options.maxInFlight ?? 2);
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    inFlight--;
    waiting.shift()?.();
  };
  const ask = (name: string, family: 4 | 6): Promise<string[]> =>
    new Promise<string[]>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(
          Object.assign(new Error(`getaddrinfo ${name}: no answer within ${timeoutMs} ms`), {
            code: 'ETIMEOUT',
          }),
        );
      }, timeoutMs);
      const start = (): void => {
        // Timed out while waiting: give the turn to the next one without running.
        if (done) {
          waiting.shift()?.();
          return;
        }
        inFlight++;
        lookup(name, { all: true, family }).then(
          (list) => {
            release();
            clearTimeout(timer);
            // getaddrinfo may list an address once per socket type; the family is what was asked.
            resolve([...new Set(list.filter((a) => a.family === family).map((a) => a.address))]);
          },
          (err: unknown) => {
            release();
            clearTimeout(timer);
            reject(relabel(err));
          },
        );
      };
      if (inFlight < maxInFlight) start();
      else waiting.push(start);
    });
  return { resolve4: (name) => ask(name, 4), resolve6: (name) => ask(name, 6) };
}
