/**
 * Capsule-Protocol (RFC 9297 §3.4): an Item whose value "MUST be a Boolean; any other value type
 * MUST be handled as if the field were not present". Parameters are ignored ("Receivers MUST
 * ignore unknown parameters"), and a false value means the same as an absent field.
 */
import type { FieldValue, HeaderResult } from '../fields/result.js';
import { parseBooleanItemField } from '../fields/sf.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const CAPSULE_PROTOCOL_FIELD = 'capsule-protocol';

/**
 * `{ ok: true, value }` for an absent field (false) or a Boolean; `{ ok: false }` for anything
 * else, which the caller treats as absent (i.e. the Capsule Protocol is not in use).
 */
export function parseCapsuleProtocol(value: FieldValue): HeaderResult<boolean> {
  return parseBooleanItemField(value);
}

/** `?1` or `?0`. Endpoints normally send only `?1`: false is the same as omitting the field. */
export function formatCapsuleProtocol(value = true): string {
  return value ? '?1' : '?0';
}
