/**
 * The seam between the connection and TLS (RFC 9001 §4.1): the connection hands TLS the CRYPTO
 * bytes of each encryption level in order, and polls events back: bytes to send at a level,
 * secrets as they become available, completion, tickets and key log lines. TLS failures are
 * thrown as errors carrying an `alert` number, which the connection turns into CRYPTO_ERROR
 * (0x100 + alert, RFC 9001 §4.8).
 */
import type { CipherSuite } from '../../crypto/suites.js';
import { TlsAlertError } from '../../tls/alert.js';
import { createTlsClient, createTlsServer } from '../../tls/handshake/index.js';
import type { TlsClientConfig, TlsServerConfig } from '../../tls/handshake/types.js';
import type { Random } from '../../util/random.js';

/** TLS client options a connection passes through (ALPN and transport parameters are its own). */
export type TlsClientOptions = Omit<TlsClientConfig, 'alpn' | 'transportParameters'>;
/** TLS server options a connection passes through. */
export type TlsServerOptions = Omit<TlsServerConfig, 'alpn' | 'transportParameters'>;

/** TLS encryption levels as RFC 9001 §4 names them (0-RTT is not used yet). */
export type TlsLevel = 'initial' | 'handshake' | 'application';

/** What a TLS session reports. */
export type TlsEvent =
  /** Handshake bytes to carry in CRYPTO frames at `level`. */
  | { kind: 'send'; level: TlsLevel; data: Uint8Array }
  /** A traffic secret for one direction of a level (installed in RFC 9001 §4.1.4 order). */
  | {
      kind: 'keys';
      level: 'handshake' | 'application' | 'early';
      direction: 'read' | 'write';
      suite: CipherSuite;
      secret: Uint8Array;
    }
  /** The handshake completed: the negotiated ALPN and the peer's raw transport parameters. */
  | { kind: 'complete'; alpn: string; peerTransportParams: Uint8Array; resumed: boolean }
  /** A session ticket (client side), opaque to the connection. */
  | { kind: 'ticket'; ticket: unknown }
  /** One NSS key log line. */
  | { kind: 'keylog'; line: string };

/** The session object the connection drives. */
export interface TlsSessionLike {
  /** CRYPTO stream bytes of `level`, in order. Throws on a TLS failure (see module header). */
  receive(level: TlsLevel, data: Uint8Array, now: number): void;
  /** Next event, or undefined. */
  poll(): TlsEvent | undefined;
}

/** What the connection gives a TLS factory. */
export interface TlsSessionParams {
  role: 'client' | 'server';
  /** Role-specific options from the connection config, passed through untouched. */
  options: TlsClientOptions | TlsServerOptions;
  /** ALPN list from the connection config. */
  alpn: readonly string[];
  /** Our encoded transport parameters (quic_transport_parameters extension, RFC 9001 §8.2). */
  transportParams: Uint8Array;
  /**
   * Server side: called with the client's raw transport parameters before the server answers, so
   * the connection can validate them; throwing aborts the handshake with that error.
   */
  onPeerTransportParams?: (raw: Uint8Array) => void;
  now: number;
  random: Random;
}

/** Builds a TLS session for a connection. */
export type TlsFactory = (params: TlsSessionParams) => TlsSessionLike;

/** The TLS alert number carried by an error, when it is a TLS failure. */
export function alertOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const alert = (err as { alert?: unknown }).alert;
  return typeof alert === 'number' && Number.isInteger(alert) && alert >= 0 && alert < 256
    ? alert
    : undefined;
}

/**
 * The project's TLS 1.3 sessions (`src/tls/handshake`). The client's ClientHello is produced at
 * once; the server hands the client's transport parameters to `onPeerTransportParams` before it
 * answers with ours.
 */
export const defaultTlsFactory: TlsFactory = (p) => {
  if (p.role === 'client') {
    const client = createTlsClient(
      {
        ...(p.options as TlsClientOptions),
        alpn: p.alpn,
        transportParameters: p.transportParams,
      },
      p.random,
    );
    client.start(p.now);
    return client;
  }
  const onPeer = p.onPeerTransportParams;
  const ours = p.transportParams;
  return createTlsServer(
    {
      ...(p.options as TlsServerOptions),
      alpn: p.alpn,
      transportParameters: (clientParams) => {
        onPeer?.(clientParams);
        return ours;
      },
    },
    p.random,
  );
};

/**
 * What a server's TLS session becomes once its handshake is complete and its last flight (the
 * session tickets) was polled: nothing more happens in TLS, so the session, with its transcript,
 * key schedule and message readers, is let go (an idle connection's memory; issue 10). A client
 * sends no valid post-handshake message in QUIC (RFC 9001 §6: no KeyUpdate; §4.4: no
 * post-handshake authentication), so any CRYPTO byte at the application level is an
 * unexpected_message (RFC 9846 §6.2), as the full session would have said once the message ended.
 */
export const SERVER_TLS_DONE: TlsSessionLike = {
  receive(level: TlsLevel, data: Uint8Array): void {
    if (data.length === 0) return;
    throw new TlsAlertError('unexpected_message', `CRYPTO data at ${level} after the handshake`);
  },
  poll: () => undefined,
};
