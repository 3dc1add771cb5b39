/**
 * Request-target checks the server makes before routing, beyond what the session already treats
 * as malformed (RFC 9114 §4.3.1: missing or duplicate pseudo-header fields, userinfo, ...). A
 * failure is answered with 400 (Bad Request): RFC 9114 §4.1.2 lets a server "send an HTTP
 * response indicating the error prior to closing or resetting the stream", and RFC 9110 §15.5.1
 * is the status for a request the server cannot process because it is malformed.
 *
 * Pure functions: they return the status to answer with and a reason, or undefined.
 */

/** A refused request target. */
export interface TargetProblem {
  /** HTTP status to answer with. */
  readonly status: 400;
  /** Why, for logs and the response body. */
  readonly reason: string;
}

/** What the check reads from the request (pseudo-header fields as received). */
export interface RequestTarget {
  readonly method: string;
  readonly scheme?: string;
  readonly authority?: string;
  readonly path?: string;
  readonly protocol?: string;
}

function problem(reason: string): TargetProblem {
  return { status: 400, reason };
}

/** RFC 3986 unreserved / sub-delims / ":" "@" "/" "?" and "%" (escapes checked separately). */
const PATH_CHAR = (() => {
  const t = new Uint8Array(128);
  const allowed =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%";
  for (const c of allowed) t[c.charCodeAt(0)] = 1;
  return t;
})();

/** reg-name characters of RFC 3986 §3.2.2 (unreserved / sub-delims / pct-encoded). */
const HOST_CHAR = (() => {
  const t = new Uint8Array(128);
  const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%";
  for (const c of allowed) t[c.charCodeAt(0)] = 1;
  return t;
})();

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * `:path` of an "http"/"https" request: origin-form, `absolute-path [ "?" query ]` (RFC 9114
 * §4.3.1, RFC 9110 §7.1), or `*` for OPTIONS. No fragment, no spaces or controls, valid escapes.
 */
export function checkPath(path: string, method: string): string | undefined {
  if (path === '*') return method === 'OPTIONS' ? undefined : '":path" of "*" outside OPTIONS';
  if (path.charCodeAt(0) !== 0x2f) return '":path" does not start with "/"';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 128 || PATH_CHAR[c] === 0) {
      return `":path" has the invalid character 0x${c.toString(16)}`;
    }
    if (c === 0x25 && !(isHex(path.charCodeAt(i + 1)) && isHex(path.charCodeAt(i + 2)))) {
      return '":path" has a bad percent-escape';
    }
  }
  return undefined;
}

/** `:authority`: `host [ ":" port ]` with host a reg-name, IPv4 or bracketed IPv6 literal. */
export function checkAuthority(authority: string): string | undefined {
  let host = authority;
  let port: string | undefined;
  if (authority.charCodeAt(0) === 0x5b) {
    const close = authority.indexOf(']');
    if (close < 0) return '":authority" has an unclosed IP literal';
    const literal = authority.slice(1, close);
    if (literal.length === 0 || !/^[0-9A-Fa-f:.]+$/.test(literal)) {
      return '":authority" has a bad IP literal';
    }
    const rest = authority.slice(close + 1);
    if (rest.length > 0) {
      if (rest.charCodeAt(0) !== 0x3a) return '":authority" has junk after the IP literal';
      port = rest.slice(1);
    }
    host = '';
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      port = authority.slice(colon + 1);
    }
    if (host.length === 0) return '":authority" has an empty host';
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c >= 128 || HOST_CHAR[c] === 0) {
        return `":authority" has the invalid character 0x${c.toString(16)}`;
      }
    }
  }
  if (port !== undefined && port.length > 0) {
    if (!/^[0-9]{1,5}$/.test(port) || Number(port) > 65535) return '":authority" has a bad port';
  }
  return undefined;
}

/**
 * The 400 to answer with, or undefined. Plain CONNECT (no `:protocol`) carries only
 * `:authority`, which must then name a port (RFC 9114 §4.4: "the host and port").
 */
export function checkRequestTarget(req: RequestTarget): TargetProblem | undefined {
  if (req.method === 'CONNECT' && req.protocol === undefined) {
    const a = req.authority ?? '';
    const err = checkAuthority(a);
    if (err !== undefined) return problem(err);
    if (!/:[0-9]+$/.test(a)) return problem('CONNECT ":authority" without a port');
    return undefined;
  }
  const scheme = req.scheme ?? '';
  // We are an HTTP/3 origin: only "https" (and "http", RFC 9114 §3.1.2 optional) targets.
  if (scheme !== 'https' && scheme !== 'http') return problem(`unsupported ":scheme" ${scheme}`);
  if (req.protocol !== undefined && scheme !== 'https') {
    // RFC 9298 §3.4: for connect-udp the ":scheme" "SHALL be 'https'"; likewise for ours.
    return problem('extended CONNECT ":scheme" must be "https"');
  }
  if (req.authority !== undefined) {
    const err = checkAuthority(req.authority);
    if (err !== undefined) return problem(err);
  }
  const err = checkPath(req.path ?? '', req.method);
  return err === undefined ? undefined : problem(err);
}
