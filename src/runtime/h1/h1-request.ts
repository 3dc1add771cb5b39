/**
 * An HTTP/1.1 request as a connect-udp request (RFC 9298 §3.3), as a pure function: either not a
 * connect-udp request at all (the listener answers 404 with Alt-Svc), a malformed one (400, "MUST
 * respond with an error and SHOULD use the 400 (Bad Request) status code"), or the header section
 * the connect-udp handler reads, in the extended CONNECT form every version shares (RFC 9298 §3.1:
 * "the request encoding differs by version"): `:method CONNECT`, `:protocol connect-udp`,
 * `:scheme`, `:authority`, `:path`, then the other fields. The handler then checks the rest
 * (template, target, Capsule-Protocol, content fields, credentials) as it does for HTTP/2 and /3.
 *
 * Our readings (drafts/rfc9298-http1.md):
 * - A connect-udp request is one whose Upgrade lists the token `connect-udp`, compared
 *   case-insensitively (RFC 9110 §7.8 protocol names are tokens); other tokens beside it are
 *   allowed (the server picks one of those offered, RFC 9110 §7.8).
 * - Upgrade in an HTTP/1.0 request is ignored (RFC 9110 §7.8 "MUST ignore"): not connect-udp.
 * - Connection must list the `upgrade` option, case-insensitively (RFC 9110 §7.6.1: a list, so
 *   `keep-alive, Upgrade` qualifies).
 * - Exactly one non-empty Host; an absolute-form target (as in RFC 9298's example) gives the
 *   authority and scheme instead, Host being ignored (RFC 9112 §3.2.2).
 */

/** Why an HTTP/1.1 connect-udp request is malformed (RFC 9298 §3.3). */
export type H1RejectReason =
  | 'H1_METHOD_NOT_GET'
  | 'H1_CONNECTION_NOT_UPGRADE'
  | 'H1_HOST_INVALID'
  | 'H1_TARGET_FORM';

/** The parts of a parsed HTTP/1.1 request this needs (node's IncomingMessage fits). */
export interface H1RequestHead {
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion: string;
  /** Names and values alternating, as received. */
  readonly rawHeaders: readonly string[];
}

export type H1Classification =
  | { readonly kind: 'other' }
  | {
      readonly kind: 'malformed';
      readonly reason: H1RejectReason;
      readonly message: string;
      /** The request-target, for the log. */
      readonly path: string | undefined;
    }
  | { readonly kind: 'connect-udp'; readonly headers: Array<[string, string]> };

/** The upgrade token of RFC 9298 §5. */
const TOKEN = 'connect-udp';
/** Fields the request line and the upgrade mechanism stand for in the extended CONNECT form. */
const FOLDED = new Set(['host', 'connection', 'upgrade', 'keep-alive']);
/** absolute-form (RFC 9112 §3.2.2): scheme "://" authority, then path and query. */
const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)$/;

/** Comma-separated list members, trimmed and lowercased (RFC 9110 §5.6.1). */
function members(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const m of v.split(',')) {
      const t = m.trim().toLowerCase();
      if (t !== '') out.push(t);
    }
  }
  return out;
}

/** Classifies an HTTP/1.1 request (see the module header). */
export function classifyH1Request(req: H1RequestHead): H1Classification {
  const upgrade: string[] = [];
  const connection: string[] = [];
  const hosts: string[] = [];
  const rest: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name === 'upgrade') upgrade.push(value);
    else if (name === 'connection') connection.push(value);
    else if (name === 'host') hosts.push(value);
    if (!FOLDED.has(name)) rest.push([name, value]);
  }
  // RFC 9110 §7.8: "A server MUST ignore an Upgrade header field that is received in an
  // HTTP/1.0 request."
  if (req.httpVersion !== '1.1' || !members(upgrade).includes(TOKEN)) return { kind: 'other' };
  const target = req.url ?? '';
  const malformed = (reason: H1RejectReason, message: string): H1Classification => ({
    kind: 'malformed',
    reason,
    message,
    path: target.slice(0, 256),
  });
  // RFC 9298 §3.3: "the method SHALL be "GET"" ... "A UDP proxying request that does not conform
  // to these restrictions is malformed."
  if (req.method !== 'GET') return malformed('H1_METHOD_NOT_GET', 'the method must be GET');
  if (!members(connection).includes('upgrade')) {
    return malformed('H1_CONNECTION_NOT_UPGRADE', 'Connection must contain "Upgrade"');
  }
  // RFC 9298 §3.3: "a single Host header field".
  if (hosts.length !== 1 || hosts[0]?.trim() === '') {
    return malformed('H1_HOST_INVALID', 'exactly one non-empty Host is required');
  }
  let scheme = 'https';
  let authority = (hosts[0] as string).trim();
  let path = target;
  if (!target.startsWith('/')) {
    const m = ABSOLUTE.exec(target);
    if (m === null) {
      return malformed('H1_TARGET_FORM', 'the request-target must be origin-form or absolute-form');
    }
    scheme = (m[1] as string).toLowerCase();
    authority = m[2] as string;
    path = m[3] === '' ? '/' : (m[3] as string);
  }
  return {
    kind: 'connect-udp',
    headers: [
      [':method', 'CONNECT'],
      [':protocol', TOKEN],
      [':scheme', scheme],
      [':authority', authority],
      [':path', path],
      ...rest,
    ],
  };
}
