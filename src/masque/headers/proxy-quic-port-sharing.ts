/**
 * Proxy-QUIC-Port-Sharing (quic-proxy §"Proxy-QUIC-Port-Sharing Header"): an Item whose "value
 * MUST be a Boolean". `?1` lets the proxy share target-facing 4-tuples with other proxied QUIC
 * connections; an absent field or `?0` prohibits it. Parameters are ignored.
 */
import type { FieldValue, HeaderResult } from '../../fields/result.js';
import { parseBooleanItemField } from '../../fields/sf.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const PROXY_QUIC_PORT_SHARING_FIELD = 'proxy-quic-port-sharing';

/** False when absent; `{ ok: false }` for a non-Boolean value (treat as no port sharing). */
export function parseProxyQuicPortSharing(value: FieldValue): HeaderResult<boolean> {
  return parseBooleanItemField(value);
}

/** `?1` or `?0` (a proxy that does not support port sharing SHOULD send `?0`). */
export function formatProxyQuicPortSharing(value: boolean): string {
  return value ? '?1' : '?0';
}
