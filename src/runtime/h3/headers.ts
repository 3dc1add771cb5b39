/**
 * Header helpers for the request API: what users may pass (a field list or a record), lookups in
 * a received section, and the Capsule-Protocol check (RFC 9297 §3.4).
 */
import { parseCapsuleProtocol } from '../../capsule/header.js';
import type { H3Headers } from '../../http3/session/index.js';

/** Headers as a user passes them: `[name, value]` pairs, or a record (arrays repeat a name). */
export type HeadersInit = H3Headers | Readonly<Record<string, string | readonly string[]>>;

/** The field list of `init` (names are lowercased by the session when sent). */
export function toFields(init: HeadersInit | undefined): H3Headers {
  if (init === undefined) return [];
  if (Array.isArray(init)) return init as H3Headers;
  const out: H3Headers = [];
  for (const [name, value] of Object.entries(init as Record<string, string | string[]>)) {
    if (typeof value === 'string') out.push([name, value]);
    else for (const v of value) out.push([name, v]);
  }
  return out;
}

/** The first value of `name` (lowercase) in a received section, or undefined. */
export function headerValue(headers: H3Headers, name: string): string | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i][0] === name) return headers[i][1];
  return undefined;
}

/** Every value of `name` (lowercase), in order. */
export function headerValues(headers: H3Headers, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i++) if (headers[i][0] === name) out.push(headers[i][1]);
  return out;
}

/**
 * True when the section says `capsule-protocol: ?1`. RFC 9297 §3.4: a value that is not a
 * Boolean "MUST be handled as if the field were not present".
 */
export function capsuleProtocolOn(headers: H3Headers): boolean {
  const values = headerValues(headers, 'capsule-protocol');
  if (values.length === 0) return false;
  const r = parseCapsuleProtocol(values);
  return r.ok && r.value;
}
