/**
 * Client-side expansion of a connect-udp URI Template (RFC 9298 §3: "the client SHALL perform
 * URI Template expansion to determine the path and query of its request"), through the
 * `url-template` package, one expression at a time.
 */
import { parseTemplate as parseUrlTemplate } from 'url-template';
import { parseTargetHost, parseTargetPort } from './target.js';
import {
  parseTemplate,
  TARGET_HOST_VAR,
  TARGET_PORT_VAR,
  toTemplate,
  type UriTemplate,
} from './uri-template.js';

/**
 * RFC 9298 §2's default template for clients that only know the proxy's host and port:
 * `https://$AUTHORITY/.well-known/masque/udp/{target_host}/{target_port}/`.
 */
export function defaultTemplate(authority: string): string {
  const raw = `https://${authority}/.well-known/masque/udp/{target_host}/{target_port}/`;
  parseTemplate(raw);
  return raw;
}

/** The pseudo-header values of a connect-udp request (RFC 9298 §3.4). */
export interface ExpandedRequest {
  /** `:scheme`, always `https`. */
  scheme: string;
  /** `:authority`: the template's authority. */
  authority: string;
  /** `:path`: the expanded path and query, without any fragment. */
  path: string;
}

/**
 * Expands the path and query (client side). `host` is a DNS name, an IPv4 literal or an IPv6
 * literal (with or without brackets; zone identifiers are refused); `extra` gives values for the
 * template's other variables (absent ones are undefined and expand to nothing). RFC 9298 §3: "if
 * target_host contains an IPv6 literal, the colons MUST be percent-encoded"; simple and form-style
 * expansion already encode ":" as "%3A", and with the lenient "+" operator the colons are
 * encoded before expansion.
 */
export function expandRequest(
  template: UriTemplate | string,
  host: string,
  port: number | string,
  extra: Readonly<Record<string, string>> = {},
): ExpandedRequest {
  const target = parseTargetHost(host);
  const hostText = target.kind === 'ip' && target.family === 6 ? unbracket(host) : host;
  const portNum = parseTargetPort(String(port));
  return expandWith(template, {
    ...extra,
    [TARGET_HOST_VAR]: hostText,
    [TARGET_PORT_VAR]: String(portNum),
  });
}

/**
 * Expands the path and query of a bind request without a target (connect-udp-listen §2): both
 * target variables are '*', which "MUST be percent-encoded before sending, per Section 3.2.2 of
 * RFC 6570" (%2A). Simple, path and form-style expansion encode it already; reserved ("+") and
 * fragment ("#") expansion would not, so it is encoded before them.
 */
export function expandWildcardRequest(
  template: UriTemplate | string,
  extra: Readonly<Record<string, string>> = {},
): ExpandedRequest {
  return expandWith(template, { ...extra, [TARGET_HOST_VAR]: '*', [TARGET_PORT_VAR]: '*' });
}

function expandWith(
  template: UriTemplate | string,
  values: Readonly<Record<string, string>>,
): ExpandedRequest {
  const t = toTemplate(template);
  let path = '';
  for (const part of t.parts) {
    if (part.kind === 'literal') {
      path += part.text;
      continue;
    }
    const context: Record<string, string> = {};
    for (const v of part.variables) {
      const value = values[v];
      if (value === undefined) continue;
      const reserved = part.operator === '+' || part.operator === '#';
      const isTarget = v === TARGET_HOST_VAR || v === TARGET_PORT_VAR;
      context[v] =
        reserved && isTarget ? value.replaceAll(':', '%3A').replaceAll('*', '%2A') : value;
    }
    path += parseUrlTemplate(part.text).expand(context);
  }
  return { scheme: t.scheme, authority: t.authority, path };
}

/** Expands the whole template into an absolute URI (client side); see {@link expandRequest}. */
export function expandTemplate(
  template: UriTemplate | string,
  host: string,
  port: number | string,
  extra: Readonly<Record<string, string>> = {},
): string {
  const t = toTemplate(template);
  const req = expandRequest(t, host, port, extra);
  const fragment = t.fragment === undefined ? '' : `#${t.fragment}`;
  return `${req.scheme}://${req.authority}${req.path}${fragment}`;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
