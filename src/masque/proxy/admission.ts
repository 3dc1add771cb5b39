/**
 * Admission of a connect-udp request: everything decided from the request itself, before any
 * proxy state is touched, as one function of the header section and injected services (DNS, the
 * authenticator, the target policy). No socket, no clock: tests drive it with a table resolver.
 * In this order:
 *
 *   credentials missing or wrong         407  + Proxy-Authenticate (RFC 9110 §15.5.8),
 *                                             http_request_denied (RFC 9209 §2.3.17)
 *   request malformed / wrong path       400 / 404 / 405 / 421 / 501 as `validateConnectUdpRequest`
 *                                             says (http_request_error on 4xx)
 *   mode                                 see `mode.ts`: 400 for '*' without bind, 501 for bind
 *                                             to '*' when bind is not offered
 *   DNS failure                          502 dns_error (rcode) / 504 dns_timeout (RFC 9298 §3.1
 *                                             "MUST perform DNS resolution before replying")
 *   target denied by policy              502 destination_ip_prohibited
 *
 * Bind to `*`/`*` resolves nothing here: its destinations come with each datagram or capsule and
 * are checked against the policy there. Bind with a real target resolves and checks that target
 * as plain connect-udp does: Context ID 0 keeps RFC 9298's meaning (connect-udp-listen §3).
 */
import type { Authenticator } from '../connect-udp/auth.js';
import type { TargetPolicy } from '../connect-udp/policy.js';
import { type ResolvedAddress, type Resolver, resolveTarget } from '../connect-udp/resolve.js';
import type { Target } from '../connect-udp/target.js';
import type { UriTemplate } from '../connect-udp/uri-template.js';
import { validateConnectUdpRequest } from '../connect-udp/validate-request.js';
import type { ProxyQuicForwarding } from '../headers/proxy-quic-forwarding.js';
import type { ProxyStatusEntry } from '../headers/proxy-status.js';
import { chooseMode, type RelayMode, requestedMode } from './mode.js';

/** What admission needs besides the request. */
export interface AdmissionContext {
  readonly template: UriTemplate | string;
  /** Our Proxy-Status member name. */
  readonly proxyName: string;
  readonly auth: Authenticator;
  readonly policy: TargetPolicy;
  readonly resolver: Resolver;
  readonly prefer?: 'ipv4' | 'ipv6';
  /**
   * Pass on every allowed address, so a relay whose socket cannot open to one tries the next
   * (RFC 8305 §4 order, `open-target.ts`); false: the first address only. Default true.
   */
  readonly fallback?: boolean;
  readonly families?: { ipv4?: boolean; ipv6?: boolean };
  readonly strictAuthority?: boolean;
  readonly requireCapsuleProtocol?: boolean;
  /** Modes served (a relay strategy exists and is enabled); plain always is. */
  readonly offered: ReadonlySet<RelayMode>;
}

/** A request refused: answer with `status`, `headers` and our Proxy-Status entry. */
export interface Refusal {
  readonly ok: false;
  readonly status: number;
  /** Stable reason code (metrics, logs). */
  readonly reason: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly proxyStatus: ProxyStatusEntry | undefined;
}

/** A request admitted: which relay serves it and where it goes. */
export interface Admitted {
  readonly ok: true;
  readonly mode: RelayMode;
  /** The request asked for a mode not offered, and `mode` ('plain') serves it instead. */
  readonly fellBack: boolean;
  /** The URI's target, undefined for bind to '*'/'*'. */
  readonly target: Target | undefined;
  /** Allowed addresses of `target`, preferred first (empty for bind). */
  readonly addresses: readonly ResolvedAddress[];
  /** QUIC-aware: the client's Proxy-QUIC-Forwarding. */
  readonly quic?: ProxyQuicForwarding;
  /** QUIC-aware: the client permits target-facing port sharing. */
  readonly portSharing?: boolean;
  /** The Basic user-id, when Basic authentication was used. */
  readonly user?: string;
}

export type Admission = Admitted | Refusal;

/** Builds a refusal (also used by the handler for its own limits). */
export function refusal(
  status: number,
  reason: string,
  proxyStatus: ProxyStatusEntry | undefined,
  headers: ReadonlyArray<readonly [string, string]> = [],
): Refusal {
  return { ok: false, status, reason, headers, proxyStatus };
}

/** Decides on a connect-udp request (see module header). Never rejects. */
export async function admit(
  headers: ReadonlyArray<readonly [string, string]>,
  ctx: AdmissionContext,
): Promise<Admission> {
  const proxy = ctx.proxyName;
  const auth = ctx.auth.check(headers);
  if (!auth.ok) {
    return refusal(
      auth.status,
      `AUTH_${auth.reason}`,
      { proxy, error: 'http_request_denied', details: 'proxy authentication required' },
      auth.headers,
    );
  }
  const v = validateConnectUdpRequest(headers, {
    template: ctx.template,
    proxyName: proxy,
    strictAuthority: ctx.strictAuthority,
    requireCapsuleProtocol: ctx.requireCapsuleProtocol,
  });
  if (!v.ok) return refusal(v.status, v.reason, v.proxyStatus, v.headers);
  const mode = chooseMode(requestedMode(headers), v.wildcard, ctx.offered);
  if (!mode.ok) {
    return refusal(mode.status, mode.reason, {
      proxy,
      error: 'http_request_error',
      statusCode: mode.status,
      details: mode.reason,
    });
  }
  const user = auth.user === undefined ? {} : { user: auth.user };
  const quic = mode.quic === undefined ? {} : { quic: mode.quic, portSharing: mode.portSharing };
  const base = { ok: true as const, mode: mode.mode, fellBack: mode.fellBack, ...quic, ...user };
  // Bind to '*'/'*' has no target; bind with a real target resolves it for Context ID 0.
  if (v.target === undefined) return { ...base, target: undefined, addresses: [] };
  const target: Target = v.target;
  const r = await resolveTarget(target, {
    resolver: ctx.resolver,
    policy: ctx.policy,
    proxyName: proxy,
    prefer: ctx.prefer,
    families: ctx.families,
  });
  if (!r.ok) return refusal(r.status, r.error, r.proxyStatus);
  const addresses = ctx.fallback === false ? r.addresses.slice(0, 1) : r.addresses;
  return { ...base, target, addresses };
}
