/**
 * Factories that build `QuicConnection`s for a {@link QuicEndpoint}: they apply what the endpoint
 * decided (Retry outcome, CID length, stateless reset tokens) on top of the application's
 * configuration, so every connection of one endpoint issues CIDs the endpoint can parse and reset
 * tokens the endpoint can regenerate (RFC 9000 §10.3.2).
 */
import { type ClientConfig, QuicConnection, type ServerConfig } from '../connection/index.js';
import type { FactoryContext, ServerInitialInfo } from './types.js';

/** Options of {@link quicServerFactory}. */
export interface QuicServerFactoryOptions {
  /** Send a NEW_TOKEN token after the handshake (RFC 9000 §8.1.3), sealed by the endpoint. */
  issueNewTokens?: boolean;
}

/** Server connections from `base` (TLS credentials, ALPN, transport settings, random). */
export function quicServerFactory(
  base: ServerConfig,
  options: QuicServerFactoryOptions = {},
): (info: ServerInitialInfo, remote: string, now: number, ctx: FactoryContext) => QuicConnection {
  return (info, remote, now, ctx) => {
    const ep = ctx.endpoint;
    const steering = ep.cidSteering;
    const config: ServerConfig = {
      ...base,
      cidLength: ep.localCidLength,
      generateCid:
        base.generateCid ?? (steering && ((random) => steering.next(random, ep.localCidLength))),
      resetTokenFor: base.resetTokenFor ?? resetTokens(ep),
      keylog: base.keylog ?? ctx.keylog,
      qlog: base.qlog ?? ctx.qlog,
      // RFC 9000 §7.3: after a Retry, original_destination_connection_id is the client's first
      // DCID and retry_source_connection_id our Retry's SCID.
      originalDcid: info.retrySourceCid !== undefined ? info.originalDcid : undefined,
      retrySourceCid: info.retrySourceCid,
      addressValidated: info.addressValidated || base.addressValidated,
    };
    if (options.issueNewTokens && base.newToken === undefined) {
      config.newToken = (r) => ep.issueNewToken(r, now);
    }
    return QuicConnection.server(
      config,
      { dcid: info.dcid, scid: info.scid, token: info.token, version: info.version },
      remote,
      now,
    );
  };
}

/** Client connections: `config` completed with the endpoint's CID length and `remote`. */
export function quicClientFactory(): (
  config: Omit<ClientConfig, 'remote'> & { remote?: string },
  remote: string,
  now: number,
  ctx: FactoryContext,
) => QuicConnection {
  return (config, remote, now, ctx) =>
    QuicConnection.client(
      {
        ...config,
        remote,
        cidLength: ctx.endpoint.localCidLength,
        resetTokenFor: config.resetTokenFor ?? resetTokens(ctx.endpoint),
        keylog: config.keylog ?? ctx.keylog,
        qlog: config.qlog ?? ctx.qlog,
      },
      now,
    );
}

function resetTokens(
  ep: FactoryContext['endpoint'],
): ((cid: Uint8Array) => Uint8Array) | undefined {
  if (ep.resetTokenFor(new Uint8Array(0)) === undefined) return undefined;
  return (cid) => ep.resetTokenFor(cid) as Uint8Array;
}
