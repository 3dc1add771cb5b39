/**
 * Connect-UDP-Bind (connect-udp-listen §"The Connect-UDP-Bind Header Field"): a Boolean Item;
 * the extension is enabled once an endpoint has both sent and received it set to true. "Any
 * other value type MUST be handled as if the field were not present" (several field lines make
 * it a List, hence ignored); "Receivers MUST ignore unknown parameters."
 */
import type { FieldValue, HeaderResult } from '../../fields/result.js';
import { parseBooleanItemField } from '../../fields/sf.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const CONNECT_UDP_BIND_FIELD = 'connect-udp-bind';

/** False when absent; `{ ok: false }` for a non-Boolean value (treat as absent). */
export function parseConnectUdpBind(value: FieldValue): HeaderResult<boolean> {
  return parseBooleanItemField(value);
}

/** `?1` or `?0`. */
export function formatConnectUdpBind(value = true): string {
  return value ? '?1' : '?0';
}
