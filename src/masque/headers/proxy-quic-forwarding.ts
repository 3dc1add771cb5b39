/**
 * Proxy-QUIC-Forwarding (quic-proxy §"Proxy-QUIC-Forwarding Header"): an Item whose "value MUST
 * be a Boolean", with parameters (quic-proxy §"Proxy QUIC Forwarding Parameter Names"):
 *
 *   accept-transform  String: transform names, comma-separated, descending preference (client)
 *   transform         String: the one transform the proxy selected (proxy)
 *   scramble-key      Byte Sequence: the sender's 32-byte scramble key (quic-proxy §"The
 *                     scramble transform")
 *
 * e.g. `?1;accept-transform="scramble-dt,identity";scramble-key=:...:`. Unknown parameters are
 * ignored (RFC 9651 §3.1.2 extensibility; the registry may grow).
 */
import type { FieldValue, HeaderResult } from '../../fields/result.js';
import { fail, HeaderFormatError, ok } from '../../fields/result.js';
import {
  asBytes,
  asString,
  checkedString,
  combineFieldLines,
  parseItemField,
  serializeItemField,
} from '../../fields/sf.js';

/** The field name as sent in HTTP/3 (lowercase). */
export const PROXY_QUIC_FORWARDING_FIELD = 'proxy-quic-forwarding';

/** Length of the `scramble-key` parameter. */
export const SCRAMBLE_KEY_BYTES = 32;

/** The typed value of a Proxy-QUIC-Forwarding field. */
export interface ProxyQuicForwarding {
  /**
   * `?1`: forwarded mode wanted (request) or supported with a selected transform (response).
   * `?0`: CID capsules only, e.g. for port sharing, without forwarding.
   */
  enabled: boolean;
  /** `accept-transform`: the client's transform names in descending preference. */
  acceptTransforms?: string[];
  /** `transform`: the transform the proxy selected. */
  transform?: string;
  /** `scramble-key`: the sender's 32-byte key, used by the receiver to unscramble. */
  scrambleKey?: Uint8Array;
}

/**
 * Which message is being parsed, to apply the role rules of quic-proxy §"Proxy-QUIC-Forwarding
 * Header": in a request the proxy ignores `transform`, in a response the client ignores
 * `accept-transform`.
 */
export type ProxyQuicForwardingRole = 'request' | 'response';

function splitTransformList(list: string): string[] {
  const names: string[] = [];
  for (const part of list.split(',')) {
    const name = part.trim();
    if (name.length > 0) names.push(name);
  }
  return names;
}

/**
 * Parses the field. `{ ok: true, value: undefined }` when the field is absent, and also when
 * `role` is `'request'` and the value is `?1` without `accept-transform`: "it MUST ignore the
 * header and respond as if the client had not sent the Proxy-QUIC-Forwarding header". Without a
 * `role`, every known parameter is returned. `{ ok: false }` for a non-Boolean value, a known
 * parameter of the wrong type, or a `scramble-key` that is not 32 bytes.
 */
export function parseProxyQuicForwarding(
  value: FieldValue,
  role?: ProxyQuicForwardingRole,
): HeaderResult<ProxyQuicForwarding | undefined> {
  const text = combineFieldLines(value);
  if (text === undefined) return ok(undefined);
  const item = parseItemField(text);
  if (!item.ok) return item;
  const [bare, params] = item.value;
  if (typeof bare !== 'boolean') return fail('value is not a Boolean');
  const out: ProxyQuicForwarding = { enabled: bare };

  // "servers MUST ignore receipt of a transform parameter"
  if (role !== 'response' && params.has('accept-transform')) {
    const list = asString(params.get('accept-transform')!);
    if (list === undefined) return fail('accept-transform is not a String');
    out.acceptTransforms = splitTransformList(list);
  }
  // "Clients MUST ignore receipt of an accept-transform parameter"
  if (role !== 'request' && params.has('transform')) {
    const name = asString(params.get('transform')!);
    if (name === undefined) return fail('transform is not a String');
    out.transform = name;
  }
  if (params.has('scramble-key')) {
    const key = asBytes(params.get('scramble-key')!);
    if (key === undefined) return fail('scramble-key is not a Byte Sequence');
    if (key.length !== SCRAMBLE_KEY_BYTES) {
      return fail(`scramble-key is ${key.length} bytes, not ${SCRAMBLE_KEY_BYTES}`);
    }
    out.scrambleKey = key;
  }
  if (role === 'request' && out.enabled && out.acceptTransforms === undefined) {
    return ok(undefined);
  }
  return ok(out);
}

function checkTransformName(name: string): string {
  checkedString(name);
  if (name.length === 0 || name.includes(',') || name.trim() !== name) {
    throw new HeaderFormatError(`"${name}" cannot be listed in accept-transform`);
  }
  return name;
}

/**
 * Serializes the field, parameters in the order accept-transform, transform, scramble-key.
 * Throws HeaderFormatError for a key that is not 32 bytes or a name that cannot be carried.
 */
export function formatProxyQuicForwarding(value: ProxyQuicForwarding): string {
  const params = new Map<string, string | Uint8Array>();
  if (value.acceptTransforms !== undefined) {
    params.set('accept-transform', value.acceptTransforms.map(checkTransformName).join(','));
  }
  if (value.transform !== undefined) params.set('transform', checkedString(value.transform));
  if (value.scrambleKey !== undefined) {
    if (value.scrambleKey.length !== SCRAMBLE_KEY_BYTES) {
      throw new HeaderFormatError(`scramble-key must be ${SCRAMBLE_KEY_BYTES} bytes`);
    }
    params.set('scramble-key', value.scrambleKey);
  }
  return serializeItemField(value.enabled, params);
}
