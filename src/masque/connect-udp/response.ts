/**
 * Response header sections of the connect-udp proxy (RFC 9298 §3.5). A success is a 2xx with
 * `capsule-protocol: ?1` ("the response SHALL meet the requirements of HTTP responses that start
 * the Capsule Protocol"); a rejection never carries Capsule-Protocol (RFC 9297 §3.4: it "MUST
 * NOT be used on HTTP responses with a status code that is both different from 101 and outside
 * the 2xx range") and may carry our Proxy-Status member (RFC 9209 §2).
 */
import type { ProxyStatusEntry } from '../headers/index.js';
import {
  CAPSULE_PROTOCOL_FIELD,
  formatCapsuleProtocol,
  formatProxyStatus,
  PROXY_STATUS_FIELD,
} from '../headers/index.js';

/** Options of {@link successResponseHeaders}. */
export interface SuccessResponseOptions {
  /** The status, 200 by default; must be 2xx. */
  status?: number;
  /** This proxy's Proxy-Status member name; without it no Proxy-Status is sent. */
  proxyName?: string;
  /** The `next-hop` parameter: the address and port the tunnel sends to. */
  nextHop?: string;
}

/** `:status 200`, `capsule-protocol: ?1` and, with a proxy name, `proxy-status`. */
export function successResponseHeaders(opts: SuccessResponseOptions = {}): Array<[string, string]> {
  const status = opts.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 299) {
    throw new RangeError(`a connect-udp success needs a 2xx status, not ${status}`);
  }
  const out: Array<[string, string]> = [
    [':status', String(status)],
    [CAPSULE_PROTOCOL_FIELD, formatCapsuleProtocol(true)],
  ];
  if (opts.proxyName !== undefined) {
    const entry: ProxyStatusEntry = { proxy: opts.proxyName };
    if (opts.nextHop !== undefined) entry.nextHop = opts.nextHop;
    out.push([PROXY_STATUS_FIELD, formatProxyStatus([entry])]);
  }
  return out;
}

/** Options of {@link rejectionResponseHeaders}. */
export interface RejectionResponseOptions {
  /** Our Proxy-Status member describing the error. */
  proxyStatus?: ProxyStatusEntry;
  /** Extra fields (e.g. `allow`, `proxy-authenticate`). */
  headers?: ReadonlyArray<readonly [string, string]>;
}

/** The header section of a failed request: `:status`, extra fields and `proxy-status`. */
export function rejectionResponseHeaders(
  status: number,
  opts: RejectionResponseOptions = {},
): Array<[string, string]> {
  if (!Number.isInteger(status) || status < 300 || status > 599) {
    throw new RangeError(`a rejection needs a 3xx-5xx status, not ${status}`);
  }
  const out: Array<[string, string]> = [[':status', String(status)]];
  for (const [name, value] of opts.headers ?? []) {
    if (name.toLowerCase() === CAPSULE_PROTOCOL_FIELD) continue;
    out.push([name, value]);
  }
  if (opts.proxyStatus !== undefined) {
    out.push([PROXY_STATUS_FIELD, formatProxyStatus([opts.proxyStatus])]);
  }
  return out;
}
