/**
 * Which relay a connect-udp request gets. Bind (connect-udp-listen) and QUIC-aware proxying
 * (quic-proxy) both arrive as `:protocol connect-udp`; the request header fields tell them apart:
 *
 *   Connect-UDP-Bind: ?1              bind (connect-udp-listen §6, "Any other value type MUST be
 *                                     handled as if the field were not present")
 *   Proxy-QUIC-Forwarding: ?1 / ?0    QUIC-aware (quic-proxy §3); ?1 without accept-transform
 *                                     "MUST ignore the header", as the parser does
 *   neither                           plain (RFC 9298)
 *
 * A mode the proxy does not offer (disabled, or not built) is handled as both drafts allow a
 * proxy without the extension to: the header is ignored and the request served as plain
 * connect-udp, and the response, without the extension's header field, tells the client so
 * (connect-udp-listen §2: a real target "would accept fallback to unextended UDP proxying";
 * quic-proxy §3: "If the client does not receive this header in responses, the client SHALL
 * assume that the proxy does not support this extension"). Bind to `*`/`*` has no fallback: 501.
 *
 * Both headers on one request is a combination neither draft defines; we serve bind and ignore
 * Proxy-QUIC-Forwarding (QUIC-aware proxying maps one target's CIDs; a bound tunnel has many
 * targets). See drafts/connect-udp-listen.md.
 */
import type { FieldValue } from '../../fields/result.js';
import { CONNECT_UDP_BIND_FIELD, parseConnectUdpBind } from '../headers/connect-udp-bind.js';
import {
  PROXY_QUIC_FORWARDING_FIELD,
  type ProxyQuicForwarding,
  parseProxyQuicForwarding,
} from '../headers/proxy-quic-forwarding.js';
import {
  PROXY_QUIC_PORT_SHARING_FIELD,
  parseProxyQuicPortSharing,
} from '../headers/proxy-quic-port-sharing.js';

/** The relay strategies of a connect-udp session. */
export type RelayMode = 'plain' | 'bind' | 'quic-aware';

/** What the request asks for, read from its header fields. */
export interface RequestedMode {
  /** `Connect-UDP-Bind: ?1`. */
  readonly bind: boolean;
  /** A valid `Proxy-QUIC-Forwarding` (forwarding wanted or not), else undefined. */
  readonly quic: ProxyQuicForwarding | undefined;
  /** `Proxy-QUIC-Port-Sharing: ?1` (quic-proxy §4); anything else is "not permitted". */
  readonly portSharing?: boolean;
}

/** The mode chosen for a request. */
export type ModeDecision =
  | {
      readonly ok: true;
      readonly mode: RelayMode;
      /** True when the request asked for a mode we do not offer and plain serves it instead. */
      readonly fellBack: boolean;
      /** QUIC-aware: the client's Proxy-QUIC-Forwarding. */
      readonly quic?: ProxyQuicForwarding;
      /** QUIC-aware: the client permits target-facing port sharing (quic-proxy §4). */
      readonly portSharing?: boolean;
    }
  | { readonly ok: false; readonly status: 400 | 501; readonly reason: string };

function fieldValue(headers: ReadonlyArray<readonly [string, string]>, name: string): FieldValue {
  const values: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === name) values.push(v);
  return values.length === 0 ? undefined : values;
}

/** Reads the mode header fields (malformed values count as absent, as both drafts say). */
export function requestedMode(headers: ReadonlyArray<readonly [string, string]>): RequestedMode {
  const bind = parseConnectUdpBind(fieldValue(headers, CONNECT_UDP_BIND_FIELD));
  const quic = parseProxyQuicForwarding(
    fieldValue(headers, PROXY_QUIC_FORWARDING_FIELD),
    'request',
  );
  const sharing = parseProxyQuicPortSharing(fieldValue(headers, PROXY_QUIC_PORT_SHARING_FIELD));
  return {
    bind: bind.ok && bind.value,
    quic: quic.ok ? quic.value : undefined,
    portSharing: sharing.ok && sharing.value === true,
  };
}

/**
 * Chooses the relay for a validated request. `wildcard`: target_host and target_port are both
 * '*'. `offered`: the modes this proxy serves (plain always).
 */
export function chooseMode(
  requested: RequestedMode,
  wildcard: boolean,
  offered: ReadonlySet<RelayMode>,
): ModeDecision {
  if (requested.bind) {
    if (offered.has('bind')) return { ok: true, mode: 'bind', fellBack: false };
    if (wildcard) return { ok: false, status: 501, reason: 'BIND_NOT_OFFERED' };
    return { ok: true, mode: 'plain', fellBack: true };
  }
  // '*' means something only with Connect-UDP-Bind; without it there is no target.
  if (wildcard) return { ok: false, status: 400, reason: 'TARGET_WILDCARD_WITHOUT_BIND' };
  if (requested.quic !== undefined) {
    if (offered.has('quic-aware')) {
      return {
        ok: true,
        mode: 'quic-aware',
        fellBack: false,
        quic: requested.quic,
        portSharing: requested.portSharing === true,
      };
    }
    return { ok: true, mode: 'plain', fellBack: true };
  }
  return { ok: true, mode: 'plain', fellBack: false };
}
