/**
 * The MASQUE client SDK: one HTTP/3 connection to a connect-udp proxy, any number of UDP tunnels
 * over it (RFC 9298).
 *
 *   const client = await MasqueClient.connect(
 *     'https://127.0.0.1:4433/.well-known/masque/udp/{target_host}/{target_port}/',
 *     { ca: [certPem] },
 *   );
 *   const sock = await client.connectUdp('9.9.9.9', 53);
 *   sock.on('message', (msg) => ...);
 *   sock.send(query);
 *   await client.close();
 *
 * Chaining: `MasqueClient.connect(templateB, { via: sockA })` runs the QUIC connection to proxy B
 * (`sockA` from `connectUdp`, or from `connectQuic` so that proxy A forwards it in forwarded mode)
 * inside the tunnel `sockA` (opened through proxy A to proxy B's address), so B only sees A.
 *
 * No silent reconnection: when the connection closes, every socket emits `error`
 * (MASQUE_CONNECTION_CLOSED) then `close`, and `client.closed` settles.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import {
  createTransform,
  isSupportedTransform,
  supportedTransforms,
  transformNeedsKey,
} from '../../transforms/registry.js';
import { bindCapsuleLimits } from '../masque/bind/wire.js';
import { type QuicProxyProfile, quicProxyCapsuleLimits } from '../masque/capsules/quic-proxy.js';
import { ConnectUdpError } from '../masque/connect-udp/errors.js';
import { expandRequest, expandWildcardRequest } from '../masque/connect-udp/template-expand.js';
import { parseTemplate, type UriTemplate } from '../masque/connect-udp/uri-template.js';
import { CONNECT_UDP_PROTOCOL } from '../masque/connect-udp/validate-request.js';
import {
  CONNECT_UDP_BIND_FIELD,
  formatConnectUdpBind,
  PROXY_PUBLIC_ADDRESS_FIELD,
  type ProxyStatusEntry,
  parseConnectUdpBind,
  parseProxyPublicAddressLenient,
  parseProxyStatus,
} from '../masque/headers/index.js';
import {
  formatProxyQuicForwarding,
  parseProxyQuicForwarding,
} from '../masque/headers/proxy-quic-forwarding.js';
import type { QuicCloseInfo } from '../quic/api.js';
import type { AckFrequencyPolicy } from '../quic/connection/index.js';
import {
  type ClientConnectOptions,
  H3Client,
  type H3ClientOptions,
} from '../runtime/client/client.js';
import type { ClientResponse } from '../runtime/client/exchange.js';
import { H3HttpError } from '../runtime/h3/errors.js';
import { type HeadersInit, headerValues } from '../runtime/h3/headers.js';
import { formatAddress } from '../runtime/udp/address.js';
import type { PacketSeam } from '../runtime/udp/packet-seam.js';
import { type Random, randomBytes, systemRandom } from '../util/random.js';
import { CONNECTION_ATTEMPT_DELAY_MS, raceAttempts } from './attempts.js';
import {
  type BindTunnelStream,
  type MasqueBindOptions,
  MasqueBoundSocket,
} from './bound-socket.js';
import { MasqueError, MasqueErrorCode } from './errors.js';
import { H1Link } from './h1-link.js';
import { H2Link } from './h2-link.js';
import { type AddressLookup, proxyAddresses } from './proxy-addresses.js';
import { type ClientForwarding, QuicAwareSocket } from './quic-aware-socket.js';
import { alpnOf, dialTls } from './tls-dial.js';
import { TunnelDatagramSocket } from './tunnel-datagram-socket.js';
import { MasqueUdpSocket, type MasqueUdpSocketOptions } from './udp-socket.js';

/** Credentials for the proxy (sent as Proxy-Authorization, RFC 9110 §11.7.2). */
export type MasqueAuth = { bearer: string } | { username: string; password: string };

/** Options of {@link MasqueClient.connect}. */
export interface MasqueClientOptions {
  /** Extra trust anchors (PEM) for the proxy's certificate. */
  ca?: string[];
  /** SHA-256 pins of the proxy's SPKI (base64 or hex). */
  pinnedSha256?: string[];
  /** Accept any certificate. Development only; must be `true` explicitly. */
  insecure?: true;
  /** TLS server name (default: the template's host). */
  serverName?: string;
  /** Proxy credentials. */
  auth?: MasqueAuth;
  /** Handshake deadline (ms). Default 10,000. */
  connectTimeout?: number;
  /** Deadline of each connect-udp request (ms). Default 10,000. */
  tunnelTimeout?: number;
  /** Reach the proxy through this tunnel instead of a UDP socket (proxy chaining). */
  via?: MasqueUdpSocket | QuicAwareSocket;
  /** Options of every socket. */
  socket?: MasqueUdpSocketOptions;
  /** NSS key log file (SSLKEYLOGFILE) for Wireshark. */
  keylogFile?: string;
  /** Write a qlog file per QUIC connection to the proxy in this folder (qvis). */
  qlogDir?: string;
  /**
   * Ceiling of path MTU discovery for the QUIC packets to the proxy (1200-65527; default 1452):
   * they start at 1200 bytes and grow as the path allows, so that 1200-byte UDP payloads fit one
   * QUIC datagram (see `MasqueUdpSocket.maxDatagramPayload`). Ignored with `via`.
   */
  maxUdpPayload?: number;
  /**
   * QUIC keep-alive interval to the proxy in ms (default 15,000; 0 turns it off), so quiet
   * tunnels survive the connection's idle timeout.
   */
  keepAlive?: number;
  /**
   * What the client asks of a proxy supporting the ACK frequency extension
   * (draft-ietf-quic-ack-frequency-14); default `{}`, `false` asks nothing.
   */
  ackFrequency?: AckFrequencyPolicy | false;
  /**
   * How tunnel datagrams travel: `'auto'` (default) as QUIC DATAGRAM frames when both sides
   * negotiate HTTP/3 datagrams, else as DATAGRAM capsules; `'capsule'` never offers HTTP/3
   * datagrams (no SETTINGS_H3_DATAGRAM), so both directions use DATAGRAM capsules on the stream
   * (RFC 9297 §3.5), even with a proxy that offers datagrams. For interop testing.
   */
  datagrams?: 'auto' | 'capsule';
  /**
   * How to reach the proxy: `'h3'` (default) HTTP/3 over QUIC; `'h2'` HTTP/2 over TCP (RFC 8441,
   * for networks that block UDP: datagrams travel as DATAGRAM capsules; no QUIC-aware proxying);
   * `'h1'` HTTP/1.1 over TCP (RFC 9298 §3.3 Upgrade, one TLS connection per tunnel, for networks
   * that pass only HTTP/1.1; otherwise as `'h2'`); `'auto'` tries HTTP/3 and, if it has not
   * connected within `h3HeadStart` ms, races HTTP/2 beside it (Happy Eyeballs style), keeping
   * whichever connects first (it never picks HTTP/1.1).
   */
  transport?: 'h3' | 'h2' | 'h1' | 'auto';
  /** With `transport: 'auto'`: how long HTTP/3 goes alone first (ms). Default 300. */
  h3HeadStart?: number;
  /**
   * A proxy named by a host name with IPv6 and IPv4 addresses: QUIC handshakes to its addresses
   * race RFC 8305 §5 style. The first address (of the `prefer`red family, default IPv6) goes
   * alone for `attemptDelayMs` (default 250, RFC 8305 §8), then the next (of the other family)
   * starts beside it, and so on; a failed attempt starts the next at once; the first handshake
   * to complete wins and the others are closed. `false`: one address, the first the system gives.
   */
  happyEyeballs?: false | { prefer?: 'ipv6' | 'ipv4'; attemptDelayMs?: number };
  /** How the proxy's host name is resolved (default the system's resolver, `getaddrinfo`). */
  lookup?: AddressLookup;
  logger?: Logger;
}

/** An extended CONNECT session as the SDK's sockets use it (`ClientConnectSession` fits). */
export interface ClientTunnel extends BindTunnelStream {
  /** The 2xx status. */
  readonly status: number | undefined;
  readonly responseHeaders: ReadonlyArray<readonly [string, string]>;
  header(name: string): string | undefined;
}

/**
 * What the SDK needs of a connection to the proxy: an `H3Client` (over UDP, or over a tunnel), or
 * an `H2Link` / `H1Link` (HTTP/2 or HTTP/1.1 over TCP, where UDP is blocked: no packet seam, no
 * plain requests).
 */
interface H3Link {
  readonly datagramsEnabled: boolean;
  readonly closed: Promise<QuicCloseInfo>;
  readonly peerSettings: { readonly enableConnectProtocol: boolean } | undefined;
  readonly peerMaxStreamsBidi: number | undefined;
  connect(
    protocol: string,
    path: string,
    headers?: HeadersInit,
    options?: ClientConnectOptions,
  ): Promise<ClientTunnel>;
  request?(init: {
    method?: string;
    path?: string;
    headers?: HeadersInit;
  }): Promise<ClientResponse>;
  /** The socket of the connection (forwarded mode sends and receives beside it). */
  readonly packets?: PacketSeam;
  /** The proxy's address as the connection uses it. */
  readonly remoteAddress?: string;
  close(options?: { timeout?: number }): Promise<void>;
}

function authorization(auth: MasqueAuth | undefined): Array<[string, string]> {
  if (auth === undefined) return [];
  if ('bearer' in auth) return [['proxy-authorization', `Bearer ${auth.bearer}`]];
  const basic = Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64');
  return [['proxy-authorization', `Basic ${basic}`]];
}

function proxyStatusOf(headers: ReadonlyArray<readonly [string, string]> | undefined) {
  if (headers === undefined) return [];
  const values = headerValues(headers as Array<[string, string]>, 'proxy-status');
  if (values.length === 0) return [];
  const r = parseProxyStatus(values);
  return r.ok ? r.value : [];
}

function timeoutAfter<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new MasqueError(MasqueErrorCode.TIMEOUT, `${what} took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export class MasqueClient {
  /** The proxy's URI template. */
  readonly template: UriTemplate;
  readonly #h3: H3Link;
  readonly #opts: MasqueClientOptions;
  /** The transport in use. */
  readonly transport: 'h3' | 'h2' | 'h1';
  readonly #sockets = new Set<MasqueUdpSocket | MasqueBoundSocket>();
  #closing: Promise<void> | undefined;

  private constructor(template: UriTemplate, h3: H3Link, opts: MasqueClientOptions) {
    this.template = template;
    this.#h3 = h3;
    this.#opts = opts;
    this.transport = h3 instanceof H2Link ? 'h2' : h3 instanceof H1Link ? 'h1' : 'h3';
  }

  /** Connects to the proxy named by `template` (RFC 9298 §2). */
  static async connect(template: string, options: MasqueClientOptions = {}): Promise<MasqueClient> {
    let t: UriTemplate;
    try {
      t = parseTemplate(template);
    } catch (err) {
      if (!(err instanceof ConnectUdpError)) throw err;
      throw new MasqueError(MasqueErrorCode.INVALID_ARGUMENT, err.message, { cause: err });
    }
    if (
      options.datagrams !== undefined &&
      options.datagrams !== 'auto' &&
      options.datagrams !== 'capsule'
    ) {
      throw new MasqueError(
        MasqueErrorCode.INVALID_ARGUMENT,
        `datagrams must be 'auto' or 'capsule', not ${String(options.datagrams)}`,
      );
    }
    const url = new URL(`https://${t.authority}/`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? 443 : Number(url.port);
    const timeout = options.connectTimeout ?? 10_000;
    const transport = options.transport ?? 'h3';
    if (transport !== 'h3' && transport !== 'h2' && transport !== 'h1' && transport !== 'auto') {
      throw new MasqueError(
        MasqueErrorCode.INVALID_ARGUMENT,
        `transport must be 'h3', 'h2', 'h1' or 'auto', not ${String(transport)}`,
      );
    }
    const viaH3 = (): Promise<H3Link> => MasqueClient.#h3Link(url, host, port, options, timeout);
    const viaH2 = (): Promise<H3Link> =>
      H2Link.connect(url, {
        ca: options.ca,
        insecure: options.insecure,
        serverName: options.serverName,
        connectTimeout: timeout,
      });
    const viaH1 = (): Promise<H3Link> =>
      H1Link.connect(url, {
        ca: options.ca,
        insecure: options.insecure,
        serverName: options.serverName,
        connectTimeout: timeout,
      });
    // `auto`'s TCP side: one TLS connection offering both; the proxy's ALPN choice decides.
    const viaTcp = async (): Promise<H3Link> => {
      const tls = { ca: options.ca, insecure: options.insecure, serverName: options.serverName };
      const socket = await dialTls(url, { ...tls, connectTimeout: timeout }, ['h2', 'http/1.1']);
      return alpnOf(socket) === 'h2'
        ? H2Link.connect(url, { ...tls, connectTimeout: timeout, socket })
        : H1Link.fromSocket(url, { ...tls, connectTimeout: timeout }, socket);
    };
    let h3: H3Link;
    try {
      h3 =
        transport === 'h3' || options.via !== undefined
          ? await viaH3()
          : transport === 'h2'
            ? await viaH2()
            : transport === 'h1'
              ? await viaH1()
              : await happyEyeballs(viaH3, viaTcp, options.h3HeadStart ?? 300);
    } catch (err) {
      if (err instanceof H3HttpError && err.code === 'TIMEOUT') {
        throw new MasqueError(MasqueErrorCode.TIMEOUT, err.message, { cause: err });
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new MasqueError(MasqueErrorCode.CONNECT_FAILED, `cannot reach the proxy: ${message}`, {
        cause: err,
      });
    }
    if (h3.peerSettings?.enableConnectProtocol !== true) {
      await h3.close();
      throw new MasqueError(
        MasqueErrorCode.NOT_SUPPORTED,
        'the proxy does not offer extended CONNECT (RFC 9220 §3)',
      );
    }
    return new MasqueClient(t, h3, options);
  }

  /** HTTP/3 to the proxy (over UDP, or over `via`). */
  static async #h3Link(
    url: URL,
    host: string,
    port: number,
    options: MasqueClientOptions,
    timeout: number,
  ): Promise<H3Link> {
    // Through another tunnel (proxy chaining) the QUIC datagrams ride that tunnel, and the
    // remote address is only a label: the outer proxy resolves and reaches the host.
    const tunnel =
      options.via === undefined
        ? undefined
        : /^[0-9.]+$/.test(host) || host.includes(':')
          ? formatAddress(host, port)
          : '192.0.2.1:443';
    const common: H3ClientOptions = {
      ...(options.via !== undefined && tunnel !== undefined
        ? options.via instanceof QuicAwareSocket
          ? // A QUIC-aware tunnel to proxy B: the connection to B is itself forwarded by A.
            { socket: options.via, remote: options.via.remote }
          : { socket: new TunnelDatagramSocket(options.via, tunnel), remote: tunnel }
        : { maxUdpPayload: options.maxUdpPayload }),
      ca: options.ca,
      insecure: options.insecure,
      pinnedSha256: options.pinnedSha256,
      serverName: options.serverName,
      keepAlive: options.keepAlive ?? 15_000,
      ackFrequency: options.ackFrequency,
      connectTimeout: timeout,
      logger: options.logger,
      keylogFile: options.keylogFile,
      qlogDir: options.qlogDir,
      // RFC 9297 §2.1.1: without our SETTINGS_H3_DATAGRAM neither side may send datagrams.
      settings: { h3Datagram: options.datagrams !== 'capsule' },
    };
    const connect = (address?: string): Promise<H3Client> =>
      H3Client.connect(url, address === undefined ? common : { ...common, address });
    // A host name with both families: RFC 8305 §5 staggered handshakes (`attempts.ts`).
    const he = options.happyEyeballs;
    if (options.via === undefined && he !== false && isIP(host) === 0) {
      const addresses = await proxyAddresses(host, options.lookup, he?.prefer);
      if (new Set(addresses.map((a) => a.family)).size > 1) {
        return await raceAttempts(
          addresses.map((a) => () => connect(a.address)),
          {
            delayMs: he?.attemptDelayMs ?? CONNECTION_ATTEMPT_DELAY_MS,
            dispose: (late) => void late.close(),
          },
        );
      }
      if (addresses.length > 0) return await connect(addresses[0].address);
    }
    return await connect();
  }

  /** True when QUIC DATAGRAM frames carry the tunnels' datagrams (else DATAGRAM capsules). */
  get datagramsEnabled(): boolean {
    return this.#h3.datagramsEnabled;
  }

  /** Settles when the connection to the proxy is closed. */
  get closed(): Promise<QuicCloseInfo> {
    return this.#h3.closed;
  }

  /** Open tunnels. */
  get sockets(): ReadonlySet<MasqueUdpSocket | MasqueBoundSocket> {
    return this.#sockets;
  }

  /**
   * Opens a UDP tunnel to `host:port` (a DNS name, which the proxy resolves, or an IP literal).
   * Rejects with MASQUE_AUTH_REQUIRED (407), MASQUE_PROXY_REFUSED (any other non-2xx; see
   * `status` and `proxyStatus`), MASQUE_TIMEOUT, MASQUE_CONNECTION_CLOSED or MASQUE_CLOSED.
   */
  async connectUdp(
    host: string,
    port: number,
    options: MasqueUdpSocketOptions & { timeout?: number } = {},
  ): Promise<MasqueUdpSocket> {
    if (this.#closing !== undefined) {
      throw new MasqueError(MasqueErrorCode.CLOSED, 'the client is closed');
    }
    const { path, authority } = this.#expand(host, port);
    const ms = options.timeout ?? this.#opts.tunnelTimeout ?? 10_000;
    const session = await this.#open(`${host}:${port}`, path, authority, [], ms);
    const sock = new MasqueUdpSocket(
      session,
      { host, port },
      proxyStatusOf(session.responseHeaders),
      {
        ...this.#opts.socket,
        ...options,
      },
    );
    this.#sockets.add(sock);
    sock.once('close', () => this.#sockets.delete(sock));
    return sock;
  }

  /**
   * Binds a UDP socket on the proxy (connect-udp-bind, draft-ietf-masque-connect-udp-listen):
   * peers reach it at `sock.address()`, and it sends to any peer. Without `fallback` the request
   * names no target (`*`/`*`); a proxy without bind refuses it (our proxy answers 501) or accepts
   * without `connect-udp-bind: ?1`: both reject with MASQUE_BIND_UNSUPPORTED. With `fallback`, a
   * proxy without bind serves plain connect-udp to that target and the socket says `bound: false`.
   * Resolves once the uncompressed context is answered; otherwise rejects as `connectUdp` does.
   */
  async bindUdp(options: MasqueBindOptions = {}): Promise<MasqueBoundSocket> {
    if (this.#closing !== undefined) {
      throw new MasqueError(MasqueErrorCode.CLOSED, 'the client is closed');
    }
    const wire = options.wire ?? 'final';
    if (wire !== 'final' && wire !== 'legacy') {
      throw new MasqueError(
        MasqueErrorCode.INVALID_ARGUMENT,
        `wire must be 'final' or 'legacy', not ${String(wire)}`,
      );
    }
    const fb = options.fallback;
    let path: string;
    let authority: string;
    try {
      ({ path, authority } =
        fb === undefined
          ? expandWildcardRequest(this.template)
          : expandRequest(this.template, fb.host, fb.port));
    } catch (err) {
      if (!(err instanceof ConnectUdpError)) throw err;
      throw new MasqueError(MasqueErrorCode.INVALID_ARGUMENT, err.message, { cause: err });
    }
    const what = fb === undefined ? 'bind' : `bind with fallback to ${fb.host}:${fb.port}`;
    const ms = options.timeout ?? this.#opts.tunnelTimeout ?? 10_000;
    const started = performance.now();
    let session: ClientTunnel;
    try {
      session = await this.#open(
        what,
        path,
        authority,
        [[CONNECT_UDP_BIND_FIELD, formatConnectUdpBind(true)]],
        ms,
        bindCapsuleLimits([wire]),
      );
    } catch (err) {
      // Our proxy answers 501 to */* when it does not offer bind (RFC 9110 §15.6.2).
      if (fb === undefined && err instanceof MasqueError && err.status === 501) {
        throw new MasqueError(
          MasqueErrorCode.BIND_UNSUPPORTED,
          `the proxy does not offer bind: ${err.message}`,
          {
            status: err.status,
            proxyStatus: err.proxyStatus,
            cause: err,
          },
        );
      }
      throw err;
    }
    const echo = parseConnectUdpBind(
      headerValues(session.responseHeaders as Array<[string, string]>, CONNECT_UDP_BIND_FIELD),
    );
    const publicAddresses = parseProxyPublicAddressLenient(
      headerValues(session.responseHeaders as Array<[string, string]>, PROXY_PUBLIC_ADDRESS_FIELD),
    );
    // §6: bind is on once both sides sent `?1`. Proxies before -10 may leave out the echo but
    // send Proxy-Public-Address: taken as bound.
    const bound = (echo.ok && echo.value) || publicAddresses.length > 0;
    if (!bound && fb === undefined) {
      session.close();
      throw new MasqueError(
        MasqueErrorCode.BIND_UNSUPPORTED,
        `the proxy accepted the bind request with ${session.status} but without connect-udp-bind: ?1`,
        { status: session.status },
      );
    }
    const sock = new MasqueBoundSocket(
      session,
      { bound, publicAddresses, fallback: fb },
      { ...this.#opts.socket, ...options, wire },
    );
    this.#sockets.add(sock);
    sock.once('close', () => this.#sockets.delete(sock));
    try {
      await timeoutAfter(
        Math.max(1, ms - (performance.now() - started)),
        `${what}: the uncompressed context`,
        sock.ready,
      );
    } catch (err) {
      sock.close();
      throw err;
    }
    return sock;
  }

  /**
   * Opens a QUIC-aware tunnel to `host:port` (draft-ietf-masque-quic-proxy) and returns the
   * datagram socket a QUIC connection to that target runs over:
   *
   *   const sock = await client.connectQuic('example.com', 443);
   *   const h3 = await H3Client.connect({ host: 'example.com', port: 443 },
   *     { socket: sock, remote: sock.remote });
   *
   * `forwarding` (default true) asks for forwarded mode with `transforms` (default scramble-dt,
   * then identity); `portSharing` (default false) lets the proxy share its target socket (only
   * safe when every client CID is registered before use; see `QuicAwareSocket`). `profile` picks
   * the capsule wire format (default draft-09). Without `Proxy-QUIC-Forwarding` in the answer the
   * proxy does not do QUIC-aware proxying: the socket still works, tunnelled only.
   */
  async connectQuic(
    host: string,
    port: number,
    options: {
      forwarding?: boolean;
      transforms?: readonly string[];
      portSharing?: boolean;
      profile?: QuicProxyProfile;
      timeout?: number;
      random?: Random;
    } = {},
  ): Promise<QuicAwareSocket> {
    if (this.#closing !== undefined) {
      throw new MasqueError(MasqueErrorCode.CLOSED, 'the client is closed');
    }
    const { path, authority } = this.#expand(host, port);
    const outer = this.#h3.packets;
    const proxyAddress = this.#h3.remoteAddress;
    if (outer === undefined || proxyAddress === undefined) {
      // quic-proxy §6: forwarded mode shares the client's QUIC 4-tuple with the proxy.
      throw new MasqueError(
        MasqueErrorCode.NOT_SUPPORTED,
        `QUIC-aware proxying needs HTTP/3 to the proxy, not ${this.transport === 'h1' ? 'HTTP/1.1' : 'HTTP/2'}`,
      );
    }
    const profile = options.profile ?? 'draft-09';
    const wantForwarding = options.forwarding !== false;
    const transforms = options.transforms ?? supportedTransforms();
    const ourKey = randomBytes(options.random ?? systemRandom, 32);
    const headers: Array<[string, string]> = [
      [
        'proxy-quic-forwarding',
        wantForwarding
          ? formatProxyQuicForwarding({
              enabled: true,
              acceptTransforms: [...transforms],
              scrambleKey: transforms.some(transformNeedsKey) ? ourKey : undefined,
            })
          : formatProxyQuicForwarding({ enabled: false }),
      ],
      ['proxy-quic-port-sharing', options.portSharing === true ? '?1' : '?0'],
    ];
    const ms = options.timeout ?? this.#opts.tunnelTimeout ?? 10_000;
    const session = await this.#open(
      `${host}:${port} (QUIC-aware)`,
      path,
      authority,
      headers,
      ms,
      quicProxyCapsuleLimits(profile),
    );
    let forwarding: ClientForwarding | undefined;
    const answer = parseProxyQuicForwarding(session.header('proxy-quic-forwarding'), 'response');
    const a = answer.ok ? answer.value : undefined;
    if (wantForwarding && a?.enabled === true && a.transform !== undefined) {
      if (!transforms.includes(a.transform) || !isSupportedTransform(a.transform)) {
        // quic-proxy §3: "If the client receives a transform that it did not advertise support
        // for, it MUST abort the request."
        session.abort();
        throw new MasqueError(
          MasqueErrorCode.PROXY_REFUSED,
          `the proxy chose transform "${a.transform}", which we did not offer`,
        );
      }
      if (!transformNeedsKey(a.transform)) {
        const t = createTransform(a.transform);
        forwarding = { send: t, receive: t };
      } else if (a.scrambleKey !== undefined) {
        forwarding = {
          send: createTransform(a.transform, { key: ourKey }),
          receive: createTransform(a.transform, { key: a.scrambleKey }),
        };
      }
    }
    const isLiteral = /^[0-9.]+$/.test(host) || host.includes(':');
    return new QuicAwareSocket(session, {
      remote: isLiteral ? formatAddress(host, port) : '192.0.2.1:443',
      profile,
      forwarding,
      outer,
      proxyAddress,
      supported: a !== undefined,
    });
  }

  /** The request's path and authority for `host:port`; a bad target is INVALID_ARGUMENT. */
  #expand(host: string, port: number): { path: string; authority: string } {
    try {
      return expandRequest(this.template, host, port);
    } catch (err) {
      if (!(err instanceof ConnectUdpError)) throw err;
      throw new MasqueError(MasqueErrorCode.INVALID_ARGUMENT, err.message, { cause: err });
    }
  }

  /** Sends one connect-udp request and waits (at most `ms`) for its 2xx, as a MasqueError on failure. */
  async #open(
    what: string,
    path: string,
    authority: string,
    headers: Array<[string, string]>,
    ms: number,
    knownCapsules?: Array<[number, number]>,
  ): Promise<ClientTunnel> {
    let waitingForCredit = false;
    const opening = this.#h3
      // RFC 9298 §3: the tunnel uses the Capsule Protocol whatever the response's header says.
      .connect(CONNECT_UDP_PROTOCOL, path, [...authorization(this.#opts.auth), ...headers], {
        authority,
        capsuleProtocol: 'always',
        knownCapsules,
        onStreamWait: (waiting) => {
          waitingForCredit = waiting;
        },
      })
      .catch((err: unknown) => {
        throw translate(err, what);
      });
    try {
      return await timeoutAfter(ms, `connect-udp to ${what}`, opening);
    } catch (err) {
      // A late 2xx after our timeout opens nothing: end it at once.
      void opening.then(
        (s) => s.close(),
        () => {},
      );
      if (waitingForCredit && err instanceof MasqueError && err.code === MasqueErrorCode.TIMEOUT) {
        const limit = this.#h3.peerMaxStreamsBidi;
        throw new MasqueError(
          MasqueErrorCode.STREAM_LIMIT,
          `connect-udp to ${what}: no stream credit from the proxy within ${ms} ms ` +
            `(it allows ${limit ?? 'a limited number of'} concurrent requests on this connection, all in use)`,
        );
      }
      throw err;
    }
  }

  /** Closes every tunnel, then the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const socks = [...this.#sockets];
      for (const s of socks) s.close();
      await Promise.race([
        Promise.all(socks.map((s) => s.closed)),
        new Promise((r) => setTimeout(r, 1000).unref()),
      ]);
      // Requests still unanswered (timed-out tunnels) get a short grace, not the default 2 s.
      await this.#h3.close({ timeout: 500 });
    })();
    return this.#closing;
  }

  /** A plain HTTP/3 request to the proxy (e.g. its status endpoint). */
  request(init: {
    method?: string;
    path?: string;
    headers?: HeadersInit;
  }): Promise<ClientResponse> {
    if (this.#h3.request === undefined) {
      return Promise.reject(
        new MasqueError(MasqueErrorCode.NOT_SUPPORTED, 'plain requests need HTTP/3 to the proxy'),
      );
    }
    return this.#h3.request(init);
  }
}

/** Every failure of opening a tunnel as a MasqueError, the one error type of the SDK. */
function translate(err: unknown, what: string): MasqueError {
  if (err instanceof MasqueError) return err;
  if (!(err instanceof H3HttpError)) {
    const message = err instanceof Error ? err.message : String(err);
    return new MasqueError(MasqueErrorCode.INTERNAL, `connect-udp to ${what}: ${message}`, {
      cause: err,
    });
  }
  if (err.code === 'CONNECT_REFUSED') {
    const status = err.status ?? 0;
    const proxyStatus: ProxyStatusEntry[] = proxyStatusOf(err.headers);
    const detail = proxyStatus.find((e) => e.error !== undefined)?.error;
    const text = `the proxy refused ${what} with ${status}${detail ? ` (${detail})` : ''}`;
    return new MasqueError(
      status === 407 ? MasqueErrorCode.AUTH_REQUIRED : MasqueErrorCode.PROXY_REFUSED,
      text,
      { status, proxyStatus, cause: err },
    );
  }
  if (err.code === 'CONNECTION_CLOSED') {
    return new MasqueError(MasqueErrorCode.CONNECTION_CLOSED, err.message, {
      h3Code: err.h3Code,
      cause: err,
    });
  }
  if (err.code === 'CLIENT_CLOSED') {
    return new MasqueError(MasqueErrorCode.CLOSED, err.message, { cause: err });
  }
  return new MasqueError(MasqueErrorCode.TUNNEL_RESET, err.message, {
    h3Code: err.h3Code,
    cause: err,
  });
}

/**
 * HTTP/3 first; if it has not connected within `headStart` ms (or has failed), TCP races beside
 * it (HTTP/2, or HTTP/1.1 when that is all the proxy offers; RFC 8305 style, `attempts.ts`); the
 * first to connect wins and the other is closed once it connects. Fails only when both fail
 * (with the last error).
 */
function happyEyeballs(
  h3: () => Promise<H3Link>,
  tcp: () => Promise<H3Link>,
  headStart: number,
): Promise<H3Link> {
  return raceAttempts([h3, tcp], { delayMs: headStart, dispose: (l) => void l.close() });
}
