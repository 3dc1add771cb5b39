/**
 * Proxy-Status (RFC 9209 §2): a List, one member per intermediary (first = closest to the
 * origin), each a String or Token naming it, with parameters (§2.1) and the extra parameters of
 * its error type (§2.3):
 *
 *   ExampleCDN; error=dns_error; rcode="NXDOMAIN"; next-hop=resolver.example
 *
 * "Unrecognised parameters MUST be ignored" (§2.1), and "if an extra parameter is used with a
 * proxy error type for which it is not defined, it will be ignored" (§2.1.1): extra parameters
 * are read only for the error type that defines them. A recognised parameter of the wrong type
 * fails the whole field.
 */
import { type BareItem, isValidTokenStr, type List, type Parameters } from 'structured-headers';
import type { FieldValue, HeaderResult } from '../../fields/result.js';
import { fail, HeaderFormatError, ok } from '../../fields/result.js';
import {
  asBytes,
  asInteger,
  asString,
  asStringOrToken,
  asToken,
  checkedInteger,
  checkedString,
  combineFieldLines,
  parseListField,
  serializeListField,
  token,
  tokenOrString,
} from '../../fields/sf.js';
import type { ProxyErrorType } from './proxy-error-types.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const PROXY_STATUS_FIELD = 'proxy-status';

/** One intermediary's member of the Proxy-Status list. */
export interface ProxyStatusEntry {
  /** The intermediary's name (String or Token on the wire; a Token is sent when valid). */
  proxy: string;
  /** `error`: a registered proxy error type, or an unregistered one kept as received. */
  error?: ProxyErrorType | (string & {});
  /** `next-hop` (String or Token): the intermediary or origin selected for the request. */
  nextHop?: string;
  /** `next-protocol`: the ALPN protocol ID used to the next hop (Token or Byte Sequence). */
  nextProtocol?: Uint8Array;
  /** `received-status` (Integer): the status code received from the next hop. */
  receivedStatus?: number;
  /** `details` (String): free-form additional information. */
  details?: string;
  /** `rcode` (String), dns_error: the DNS RCODE. */
  rcode?: string;
  /** `info-code` (Integer), dns_error: the Extended DNS Error INFO-CODE. */
  infoCode?: number;
  /** `alert-id` (Integer), tls_alert_received. */
  alertId?: number;
  /** `alert-message` (Token or String), tls_alert_received. */
  alertMessage?: string;
  /** `status-code` (Integer), http_request_error. */
  statusCode?: number;
  /** `status-phrase` (String), http_request_error. */
  statusPhrase?: string;
  /** `header-section-size` (Integer), http_response_header_section_size. */
  headerSectionSize?: number;
  /** `header-name` (String), http_response_header_size. */
  headerName?: string;
  /** `header-size` (Integer), http_response_header_size. */
  headerSize?: number;
  /** `body-size` (Integer), http_response_body_size. */
  bodySize?: number;
  /** `trailer-section-size` (Integer), http_response_trailer_section_size. */
  trailerSectionSize?: number;
  /** `trailer-name` (String), http_response_trailer_size. */
  trailerName?: string;
  /** `trailer-size` (Integer), http_response_trailer_size. */
  trailerSize?: number;
  /** `coding` (Token), http_response_transfer_coding / http_response_content_coding. */
  coding?: string;
}

type Kind = 'string' | 'token' | 'stringOrToken' | 'integer';
type TextField =
  | 'nextHop'
  | 'details'
  | 'rcode'
  | 'alertMessage'
  | 'statusPhrase'
  | 'headerName'
  | 'trailerName'
  | 'coding';
type IntField =
  | 'receivedStatus'
  | 'infoCode'
  | 'alertId'
  | 'statusCode'
  | 'headerSectionSize'
  | 'headerSize'
  | 'bodySize'
  | 'trailerSectionSize'
  | 'trailerSize';

interface ParamSpec {
  key: string;
  field: TextField | IntField;
  kind: Kind;
  /** For extra parameters: the error types that define them (RFC 9209 §2.3). */
  errors?: readonly ProxyErrorType[];
}

/** Every parameter except `error` and `next-protocol`, in serialization order. */
const PARAMS: readonly ParamSpec[] = [
  { key: 'next-hop', field: 'nextHop', kind: 'stringOrToken' },
  { key: 'received-status', field: 'receivedStatus', kind: 'integer' },
  { key: 'details', field: 'details', kind: 'string' },
  { key: 'rcode', field: 'rcode', kind: 'string', errors: ['dns_error'] },
  { key: 'info-code', field: 'infoCode', kind: 'integer', errors: ['dns_error'] },
  { key: 'alert-id', field: 'alertId', kind: 'integer', errors: ['tls_alert_received'] },
  {
    key: 'alert-message',
    field: 'alertMessage',
    kind: 'stringOrToken',
    errors: ['tls_alert_received'],
  },
  { key: 'status-code', field: 'statusCode', kind: 'integer', errors: ['http_request_error'] },
  { key: 'status-phrase', field: 'statusPhrase', kind: 'string', errors: ['http_request_error'] },
  {
    key: 'header-section-size',
    field: 'headerSectionSize',
    kind: 'integer',
    errors: ['http_response_header_section_size'],
  },
  {
    key: 'header-name',
    field: 'headerName',
    kind: 'string',
    errors: ['http_response_header_size'],
  },
  {
    key: 'header-size',
    field: 'headerSize',
    kind: 'integer',
    errors: ['http_response_header_size'],
  },
  { key: 'body-size', field: 'bodySize', kind: 'integer', errors: ['http_response_body_size'] },
  {
    key: 'trailer-section-size',
    field: 'trailerSectionSize',
    kind: 'integer',
    errors: ['http_response_trailer_section_size'],
  },
  {
    key: 'trailer-name',
    field: 'trailerName',
    kind: 'string',
    errors: ['http_response_trailer_size'],
  },
  {
    key: 'trailer-size',
    field: 'trailerSize',
    kind: 'integer',
    errors: ['http_response_trailer_size'],
  },
  {
    key: 'coding',
    field: 'coding',
    kind: 'token',
    errors: ['http_response_transfer_coding', 'http_response_content_coding'],
  },
];

function appliesTo(spec: ParamSpec, error: string | undefined): boolean {
  return spec.errors === undefined || (error !== undefined && spec.errors.some((e) => e === error));
}

function readParam(kind: Kind, v: BareItem): string | number | undefined {
  switch (kind) {
    case 'string':
      return asString(v);
    case 'token':
      return asToken(v);
    case 'stringOrToken':
      return asStringOrToken(v);
    case 'integer':
      return asInteger(v);
  }
}

function writeParam(spec: ParamSpec, v: string | number): BareItem {
  switch (spec.kind) {
    case 'string':
      return checkedString(String(v));
    case 'token':
      return token(String(v), spec.key);
    case 'stringOrToken':
      return tokenOrString(String(v));
    case 'integer':
      return checkedInteger(Number(v), spec.key);
  }
}

/** Decodes a Token's ASCII text or a Byte Sequence into ALPN bytes. */
function readNextProtocol(v: BareItem): Uint8Array | undefined {
  const tok = asToken(v);
  if (tok !== undefined) return Uint8Array.from(tok, (c) => c.charCodeAt(0));
  return asBytes(v);
}

function parseMember(bare: BareItem, params: Parameters): HeaderResult<ProxyStatusEntry> {
  // §2: "Each member of the List ... MUST have a type of either String or Token."
  const proxy = asStringOrToken(bare);
  if (proxy === undefined) return fail('a member is not a String or Token');
  const entry: ProxyStatusEntry = { proxy };
  if (params.has('error')) {
    // §2.1.1 says Token; RFC 9209's own example sends a String (error="http_protocol_error"),
    // so both are accepted.
    const error = asStringOrToken(params.get('error')!);
    if (error === undefined) return fail('error is not a Token');
    entry.error = error;
  }
  if (params.has('next-protocol')) {
    const alpn = readNextProtocol(params.get('next-protocol')!);
    if (alpn === undefined) return fail('next-protocol is not a Token or Byte Sequence');
    entry.nextProtocol = alpn;
  }
  const fields = entry as unknown as Record<string, string | number>;
  for (const spec of PARAMS) {
    if (!params.has(spec.key) || !appliesTo(spec, entry.error)) continue;
    const v = readParam(spec.kind, params.get(spec.key)!);
    if (v === undefined) return fail(`${spec.key} has the wrong type`);
    fields[spec.field] = v;
  }
  return ok(entry);
}

/** Parses the field. An absent field is an empty list. */
export function parseProxyStatus(value: FieldValue): HeaderResult<ProxyStatusEntry[]> {
  const text = combineFieldLines(value);
  if (text === undefined) return ok([]);
  const list = parseListField(text);
  if (!list.ok) return list;
  const out: ProxyStatusEntry[] = [];
  for (const [bare, params] of list.value) {
    if (Array.isArray(bare)) return fail('a member is an Inner List');
    const entry = parseMember(bare, params);
    if (!entry.ok) return entry;
    out.push(entry.value);
  }
  return ok(out);
}

function formatMember(entry: ProxyStatusEntry): [BareItem, Parameters] {
  const params: Parameters = new Map();
  if (entry.error !== undefined) params.set('error', token(entry.error, 'error'));
  if (entry.nextProtocol !== undefined) {
    const alpn = entry.nextProtocol;
    const text = Buffer.from(alpn.buffer, alpn.byteOffset, alpn.byteLength).toString('latin1');
    // §2.1.3: "If the protocol identifier is able to be expressed as a Token using ASCII
    // encoding, that form MUST be used."
    params.set('next-protocol', isValidTokenStr(text) ? token(text, 'next-protocol') : alpn);
  }
  const fields = entry as unknown as Record<string, string | number | undefined>;
  for (const spec of PARAMS) {
    const v = fields[spec.field];
    if (v === undefined) continue;
    if (!appliesTo(spec, entry.error)) {
      throw new HeaderFormatError(`${spec.key} is only defined for ${spec.errors!.join(', ')}`);
    }
    params.set(spec.key, writeParam(spec, v));
  }
  return [tokenOrString(entry.proxy), params];
}

/**
 * Serializes members in order. Throws HeaderFormatError for an empty list, a name or error that
 * cannot be carried, or an extra parameter set for an error type that does not define it.
 */
export function formatProxyStatus(entries: readonly ProxyStatusEntry[]): string {
  if (entries.length === 0) throw new HeaderFormatError('Proxy-Status needs at least one member');
  const list: List = entries.map(formatMember);
  return serializeListField(list);
}

/**
 * Adds our member after the existing ones (§2: intermediaries "SHOULD preserve the existing
 * members"). Existing field lines are kept verbatim, unknown parameters included, when they parse
 * as a List; a malformed existing value is dropped.
 */
export function appendProxyStatus(existing: FieldValue, entry: ProxyStatusEntry): string {
  const ours = formatProxyStatus([entry]);
  const text = combineFieldLines(existing);
  if (text === undefined) return ours;
  const list = parseListField(text);
  if (!list.ok || list.value.length === 0) return ours;
  return `${text.trim()}, ${ours}`;
}
