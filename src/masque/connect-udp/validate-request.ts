/**
 * Validation of a connect-udp request over HTTP/3 (RFC 9298 §3.4, RFC 9220), as a pure function
 * that either returns the target or the status code to answer with. Checks, in order:
 *
 *   pseudo-header appears twice or is unknown                 400  (RFC 9114 §4.3.1 malformed)
 *   :method missing, or :protocol on a non-CONNECT request    400  (RFC 9220 §3 / RFC 8441 §4)
 *   :method is not CONNECT                                    405  + allow: CONNECT
 *   plain CONNECT (no :protocol)                              501  (we only proxy UDP)
 *   :protocol is not connect-udp                              501  (RFC 9220 §3: "SHOULD respond
 *                                                                   ... with a 501")
 *   :scheme, :path or :authority missing or empty             400  (RFC 9298 §3.4 "SHALL NOT be
 *                                                                   empty"; malformed)
 *   :scheme is not https                                      400
 *   :authority differs from the template's (strict mode)      421  (RFC 9110 §15.5.20)
 *   content-length, content-type or transfer-encoding         400  (RFC 9297 §3.2: "MUST treat
 *                                                                   the HTTP message as malformed")
 *   capsule-protocol not ?1 (only with requireCapsuleProtocol) 400
 *   :path does not address the template's resource            404
 *   target_host / target_port absent or empty                 400  (RFC 9298 §3 "MUST NOT be empty")
 *   exactly one of target_host / target_port is '*'           400  (connect-udp-listen §3 "MUST
 *                                                                   respond with an error and SHOULD
 *                                                                   use the 400")
 *   target_host / target_port invalid                         400
 *
 * Both variables '*' (percent-encoded as %2A, RFC 6570 §3.2.2) pass as `wildcard`: the request
 * asks for bind without a target (connect-udp-listen §3); whether the proxy binds is the mode
 * selection's decision (`src/masque/proxy/mode.ts`).
 *
 * Capsule-Protocol: connect-udp always uses the Capsule Protocol (RFC 9298 §3: "The resulting
 * UDP tunnels use the Capsule Protocol"), and RFC 9297 §3.4 only says endpoints SHOULD send the
 * header, so by default its absence (or a non-Boolean value, "handled as if the field were not
 * present") is accepted. `requireCapsuleProtocol` restores masque-go's stricter behaviour.
 */
import type { ProxyStatusEntry } from '../headers/index.js';
import { CAPSULE_PROTOCOL_FIELD, parseCapsuleProtocol } from '../headers/index.js';
import { ConnectUdpError, ConnectUdpErrorCode } from './errors.js';
import { parseTarget, type Target } from './target.js';
import { matchTemplate } from './template-match.js';
import { toTemplate, type UriTemplate } from './uri-template.js';

/** The HTTP upgrade token of RFC 9298 §5. */
export const CONNECT_UDP_PROTOCOL = 'connect-udp';

/** Stable reasons for a rejection, safe to match on and to count in metrics. */
export type RequestRejectReason =
  | 'PSEUDO_HEADER_INVALID'
  | 'METHOD_MISSING'
  | 'METHOD_NOT_CONNECT'
  | 'PROTOCOL_MISSING'
  | 'PROTOCOL_UNSUPPORTED'
  | 'SCHEME_MISSING'
  | 'SCHEME_NOT_HTTPS'
  | 'AUTHORITY_MISSING'
  | 'AUTHORITY_MISMATCH'
  | 'PATH_MISSING'
  | 'CONTENT_HEADER'
  | 'CAPSULE_PROTOCOL_MISSING'
  | 'PATH_NO_MATCH'
  | 'TARGET_MISSING'
  | 'TARGET_WILDCARD_PARTIAL'
  | 'TARGET_HOST_INVALID'
  | 'TARGET_PORT_INVALID';

/** Options of {@link validateConnectUdpRequest}. */
export interface ValidateRequestOptions {
  /** The proxy's URI template (parsed or text). */
  template: UriTemplate | string;
  /** Require `:authority` to equal the template's authority (421 otherwise). Default false. */
  strictAuthority?: boolean;
  /** Require `capsule-protocol: ?1` (400 otherwise). Default false. */
  requireCapsuleProtocol?: boolean;
  /** When set, 4xx rejections carry a Proxy-Status member with http_request_error. */
  proxyName?: string;
}

/** The outcome of {@link validateConnectUdpRequest}. */
export type ValidateRequestResult =
  | {
      /** The request is a well-formed connect-udp request for this proxy. */
      ok: true;
      /** The validated target, or undefined when both variables are '*' (`wildcard`). */
      target: Target | undefined;
      /** target_host and target_port are both '*' (a bind request without a target). */
      wildcard: boolean;
      /** Whether the client sent `capsule-protocol: ?1`. */
      capsuleProtocol: boolean;
      /** Every template variable the request defined, percent-decoded. */
      variables: ReadonlyMap<string, string>;
    }
  | {
      /** The request must be rejected. */
      ok: false;
      /** The status code to answer with. */
      status: number;
      /** Why, as a stable code. */
      reason: RequestRejectReason;
      /** Why, in words (for logs; never echoes more than a short excerpt of the input). */
      message: string;
      /** Extra response headers (e.g. `allow` on 405). */
      headers: Array<[string, string]>;
      /** Our Proxy-Status member, when `proxyName` was given and the status is 4xx. */
      proxyStatus?: ProxyStatusEntry;
    };

const PSEUDO = new Set([':method', ':protocol', ':scheme', ':path', ':authority']);
const CONTENT_HEADERS = new Set(['content-length', 'content-type', 'transfer-encoding']);

/** Lowercases and drops the default port, so `Proxy.Example:443` equals `proxy.example`. */
export function normalizeAuthority(authority: string): string {
  const a = authority.toLowerCase();
  return a.endsWith(':443') ? a.slice(0, -4) : a;
}

/** Validates a request header section (name, value pairs as received). */
export function validateConnectUdpRequest(
  headers: ReadonlyArray<readonly [string, string]>,
  opts: ValidateRequestOptions,
): ValidateRequestResult {
  const reject = (
    status: number,
    reason: RequestRejectReason,
    message: string,
    extra: Array<[string, string]> = [],
  ): ValidateRequestResult => {
    const out: ValidateRequestResult = { ok: false, status, reason, message, headers: extra };
    if (opts.proxyName !== undefined && status >= 400 && status < 500) {
      out.proxyStatus = {
        proxy: opts.proxyName,
        error: 'http_request_error',
        statusCode: status,
        details: reason,
      };
    }
    return out;
  };

  const pseudo = new Map<string, string>();
  const capsule: string[] = [];
  const content: string[] = [];
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':')) {
      if (!PSEUDO.has(name)) return reject(400, 'PSEUDO_HEADER_INVALID', `unknown ${name}`);
      if (pseudo.has(name)) return reject(400, 'PSEUDO_HEADER_INVALID', `${name} appears twice`);
      pseudo.set(name, value);
    } else if (CONTENT_HEADERS.has(name)) {
      content.push(name); // reported after the method and pseudo-header checks
    } else if (name === CAPSULE_PROTOCOL_FIELD) {
      capsule.push(value);
    }
  }
  const method = pseudo.get(':method');
  const protocol = pseudo.get(':protocol');
  if (method === undefined || method === '') return reject(400, 'METHOD_MISSING', 'no :method');
  if (method !== 'CONNECT') {
    if (protocol !== undefined) {
      return reject(400, 'METHOD_NOT_CONNECT', ':protocol is only allowed on CONNECT');
    }
    return reject(405, 'METHOD_NOT_CONNECT', `method ${method.slice(0, 16)} not allowed`, [
      ['allow', 'CONNECT'],
    ]);
  }
  if (protocol === undefined) {
    return reject(501, 'PROTOCOL_MISSING', 'plain CONNECT is not supported; use connect-udp');
  }
  if (protocol !== CONNECT_UDP_PROTOCOL) {
    return reject(501, 'PROTOCOL_UNSUPPORTED', `:protocol ${protocol.slice(0, 32)} not supported`);
  }
  const scheme = pseudo.get(':scheme');
  const path = pseudo.get(':path');
  const authority = pseudo.get(':authority');
  if (scheme === undefined || scheme === '') return reject(400, 'SCHEME_MISSING', 'no :scheme');
  if (path === undefined || path === '') return reject(400, 'PATH_MISSING', 'no :path');
  if (authority === undefined || authority === '') {
    return reject(400, 'AUTHORITY_MISSING', 'no :authority');
  }
  if (scheme !== 'https') return reject(400, 'SCHEME_NOT_HTTPS', ':scheme must be https');
  const template = toTemplate(opts.template);
  if (
    opts.strictAuthority === true &&
    normalizeAuthority(authority) !== normalizeAuthority(template.authority)
  ) {
    return reject(421, 'AUTHORITY_MISMATCH', `:authority is not ${template.authority}`);
  }
  if (content.length > 0) {
    return reject(400, 'CONTENT_HEADER', `${content[0]} is not allowed with the Capsule Protocol`);
  }
  const cp = parseCapsuleProtocol(capsule.length === 0 ? undefined : capsule);
  const capsuleProtocol = cp.ok && cp.value;
  if (opts.requireCapsuleProtocol === true && !capsuleProtocol) {
    return reject(400, 'CAPSULE_PROTOCOL_MISSING', 'capsule-protocol: ?1 is required');
  }
  const match = matchTemplate(template, path);
  if (match === null) return reject(404, 'PATH_NO_MATCH', ':path does not match the template');
  if (!match.target_host || !match.target_port) {
    return reject(400, 'TARGET_MISSING', 'target_host and target_port MUST NOT be empty');
  }
  const hostStar = match.target_host === '*';
  const portStar = match.target_port === '*';
  if (hostStar && portStar) {
    return {
      ok: true,
      target: undefined,
      wildcard: true,
      capsuleProtocol,
      variables: match.variables,
    };
  }
  if (hostStar || portStar) {
    return reject(400, 'TARGET_WILDCARD_PARTIAL', "only one of target_host and target_port is '*'");
  }
  try {
    const target = parseTarget(match.target_host, match.target_port);
    return { ok: true, target, wildcard: false, capsuleProtocol, variables: match.variables };
  } catch (e) {
    if (!(e instanceof ConnectUdpError)) throw e;
    const reason =
      e.code === ConnectUdpErrorCode.TARGET_PORT_INVALID
        ? 'TARGET_PORT_INVALID'
        : 'TARGET_HOST_INVALID';
    return reject(400, reason, e.message);
  }
}
