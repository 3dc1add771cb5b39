/**
 * Header validation for HTTP/3 messages (RFC 9114 §4.2, §4.3, §4.4; RFC 9220 / RFC 8441 §4 for
 * `:protocol`). Pure functions: each returns what the session needs from a valid section, or
 * throws a stream-scoped `H3Error` H3_MESSAGE_ERROR. RFC 9114 §4.1.2: "Malformed requests or
 * responses that are detected MUST be treated as a stream error of type H3_MESSAGE_ERROR."
 *
 * Cost: one pass over the section and one pass over each name and value (no regular
 * expressions, no allocation besides the result).
 */
import type { Field } from '../../qpack/field-lines.js';
import { H3Error, H3ErrorCode } from '../errors.js';

/** What a valid request header section says. */
export interface RequestInfo {
  /** `:method`. */
  readonly method: string;
  /** `:scheme` (absent for plain CONNECT). */
  readonly scheme: string | undefined;
  /** `:authority`. */
  readonly authority: string | undefined;
  /** `:path` (absent for plain CONNECT). */
  readonly path: string | undefined;
  /** `:protocol` of an extended CONNECT (RFC 9220). */
  readonly protocol: string | undefined;
  /** Declared content-length, or -1 when absent. */
  readonly contentLength: number;
}

/** What a valid response header section says. */
export interface ResponseInfo {
  /** `:status`, 100-599 (never 101). */
  readonly status: number;
  /** Declared content-length, or -1 when absent. */
  readonly contentLength: number;
}

function malformed(reason: string): H3Error {
  return new H3Error(H3ErrorCode.H3_MESSAGE_ERROR, `malformed message: ${reason}`, 'stream');
}

/**
 * RFC 9114 §4.2: "any message containing connection-specific fields MUST be treated as
 * malformed" (RFC 9110 §7.6.1 lists them); `te` is handled separately.
 */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** RFC 9110 §5.6.2 tchar, lowercase letters only (uppercase names are malformed, §4.2). */
const NAME_CHAR = (() => {
  const t = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") t[c.charCodeAt(0)] = 1;
  return t;
})();

/** Checks a regular field name; returns nothing, throws when malformed. */
function checkName(name: string): void {
  const n = name.length;
  if (n === 0) throw malformed('empty field name');
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) {
      // §4.2: "A request or response containing uppercase characters in field names MUST be
      // treated as malformed"; other non-tchar octets are "invalid characters" (§4.1.2).
      throw malformed(
        c >= 0x41 && c <= 0x5a ? `uppercase field name ${name}` : `invalid field name ${name}`,
      );
    }
  }
}

/**
 * RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are invalid and dangerous".
 * Characters above U+00FF cannot come out of QPACK; they are refused for outgoing sections.
 */
function checkValue(name: string, value: string): void {
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0xff) {
      throw malformed(`invalid character 0x${c.toString(16)} in the value of ${name}`);
    }
  }
}

/** A content-length value: one or more identical 1*DIGIT items (RFC 9110 §8.6). */
function parseContentLength(value: string, previous: number): number {
  let result = -1;
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item.length === 0 || item.length > 15) throw malformed(`content-length ${value}`);
    for (let i = 0; i < item.length; i++) {
      const c = item.charCodeAt(i);
      if (c < 0x30 || c > 0x39) throw malformed(`content-length ${value}`);
    }
    const n = Number(item);
    if (result !== -1 && n !== result) throw malformed(`conflicting content-length ${value}`);
    result = n;
  }
  if (previous !== -1 && previous !== result) throw malformed('conflicting content-length fields');
  return result;
}

/** Regular-field checks shared by every section; returns content-length (-1 when absent). */
function checkRegular(
  name: string,
  value: string,
  kind: 'request' | 'response' | 'trailers',
  contentLength: number,
): number {
  checkName(name);
  checkValue(name, value);
  if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific field ${name}`);
  if (name === 'te') {
    // §4.2: TE "MAY be present in an HTTP/3 request header; when it is, it MUST NOT contain any
    // value other than 'trailers'". Elsewhere it is connection-specific.
    if (kind !== 'request' || value.trim().toLowerCase() !== 'trailers') {
      throw malformed(`te: ${value}`);
    }
  }
  if (name === 'content-length' && kind !== 'trailers') {
    return parseContentLength(value, contentLength);
  }
  return contentLength;
}

/**
 * Validates a request header section. `extendedConnect` says whether we advertised
 * SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (server) or the peer did (client, for outgoing requests).
 */
export function validateRequestHeaders(
  fields: readonly Field[],
  extendedConnect: boolean,
): RequestInfo {
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let protocol: string | undefined;
  let host: string | undefined;
  let contentLength = -1;
  let regular = false;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (name.charCodeAt(0) === 0x3a) {
      // §4.3: "All pseudo-header fields MUST appear in the header section before regular header
      // fields" and each required one exactly once.
      if (regular) throw malformed(`pseudo-header ${name} after a regular field`);
      checkValue(name, value);
      if (value.length === 0) throw malformed(`empty ${name}`);
      switch (name) {
        case ':method':
          if (method !== undefined) throw malformed('duplicate :method');
          method = value;
          break;
        case ':scheme':
          if (scheme !== undefined) throw malformed('duplicate :scheme');
          scheme = value;
          break;
        case ':authority':
          if (authority !== undefined) throw malformed('duplicate :authority');
          authority = value;
          break;
        case ':path':
          if (path !== undefined) throw malformed('duplicate :path');
          path = value;
          break;
        case ':protocol':
          // RFC 8441 §4 (via RFC 9220 §3): a :protocol the recipient did not enable is malformed.
          if (!extendedConnect) throw malformed(':protocol without extended CONNECT');
          if (protocol !== undefined) throw malformed('duplicate :protocol');
          protocol = value;
          break;
        default:
          // §4.3: "Endpoints MUST treat a request or response that contains undefined or invalid
          // pseudo-header fields as malformed" (:status included: response-only).
          throw malformed(`pseudo-header ${name} in a request`);
      }
      continue;
    }
    regular = true;
    contentLength = checkRegular(name, value, 'request', contentLength);
    if (name === 'host') {
      if (host !== undefined) throw malformed('duplicate host');
      host = value;
    }
  }
  if (method === undefined) throw malformed('missing :method');
  if (method === 'CONNECT' && protocol === undefined) {
    // §4.4: ":scheme and :path pseudo-header fields are omitted"; :authority carries the target.
    if (scheme !== undefined || path !== undefined) throw malformed('CONNECT with :scheme/:path');
    if (authority === undefined) throw malformed('CONNECT without :authority');
  } else {
    if (protocol !== undefined && method !== 'CONNECT') {
      throw malformed(`:protocol with method ${method}`);
    }
    // §4.3.1: "All HTTP/3 requests MUST include exactly one value for the :method, :scheme, and
    // :path pseudo-header fields, unless the request is a CONNECT request"; RFC 8441 §4 keeps
    // :scheme and :path (and :authority) for extended CONNECT.
    if (scheme === undefined) throw malformed('missing :scheme');
    if (path === undefined) throw malformed('missing :path');
    if (protocol !== undefined && authority === undefined) {
      throw malformed('extended CONNECT without :authority');
    }
    if (scheme === 'http' || scheme === 'https') {
      // §4.3.1: such requests "MUST contain either an :authority pseudo-header field or a Host
      // header field ... If both fields are present, they MUST contain the same value", and the
      // authority "MUST NOT include the deprecated userinfo subcomponent".
      if (authority === undefined && (host === undefined || host.length === 0)) {
        throw malformed('missing :authority and host');
      }
      if (authority?.includes('@')) throw malformed('userinfo in :authority');
    }
  }
  if (authority !== undefined && host !== undefined && authority !== host) {
    throw malformed(':authority and host differ');
  }
  return { method, scheme, authority, path, protocol, contentLength };
}

/** Validates a response header section (RFC 9114 §4.3.2). */
export function validateResponseHeaders(fields: readonly Field[]): ResponseInfo {
  let status = -1;
  let contentLength = -1;
  let regular = false;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (name.charCodeAt(0) === 0x3a) {
      if (regular) throw malformed(`pseudo-header ${name} after a regular field`);
      if (name !== ':status') throw malformed(`pseudo-header ${name} in a response`);
      if (status !== -1) throw malformed('duplicate :status');
      status = parseStatus(value);
      continue;
    }
    regular = true;
    contentLength = checkRegular(name, value, 'response', contentLength);
  }
  // §4.3.2: ":status ... MUST be included in all responses; otherwise, the response is malformed".
  if (status === -1) throw malformed('missing :status');
  return { status, contentLength };
}

function parseStatus(value: string): number {
  if (value.length !== 3) throw malformed(`:status ${value}`);
  let n = 0;
  for (let i = 0; i < 3; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) throw malformed(`:status ${value}`);
    n = n * 10 + (c - 0x30);
  }
  if (n < 100 || n > 599) throw malformed(`:status ${value}`);
  // §4.5: "HTTP/3 does not support ... the 101 (Switching Protocols) informational status code".
  if (n === 101) throw malformed(':status 101');
  return n;
}

/** Validates a trailer section: §4.3 "Pseudo-header fields MUST NOT appear in trailer sections". */
export function validateTrailers(fields: readonly Field[]): void {
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i];
    if (name.charCodeAt(0) === 0x3a) throw malformed(`pseudo-header ${name} in trailers`);
    checkRegular(name, value, 'trailers', -1);
  }
}

/** The decoded size of a section as RFC 9114 §4.2.2 counts it (name + value + 32 per field). */
export function fieldSectionSize(fields: readonly Field[]): number {
  let size = 0;
  for (let i = 0; i < fields.length; i++) size += fields[i][0].length + fields[i][1].length + 32;
  return size;
}

/**
 * Outgoing sections: names lowercased (§4.2: "Characters in field names MUST be converted to
 * lowercase prior to their encoding"). Returns `fields` itself when nothing changes.
 */
export function lowercaseNames(fields: readonly Field[]): Field[] {
  let out: Field[] | undefined;
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i][0];
    let upper = false;
    for (let k = 0; k < name.length; k++) {
      const c = name.charCodeAt(k);
      if (c >= 0x41 && c <= 0x5a) {
        upper = true;
        break;
      }
    }
    if (!upper) continue;
    out ??= fields.slice() as Field[];
    out[i] = [name.toLowerCase(), fields[i][1]];
  }
  return out ?? (fields as Field[]);
}
