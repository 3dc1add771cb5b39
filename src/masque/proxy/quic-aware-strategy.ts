/**
 * QUIC-aware proxying's relay strategy (quic-proxy §3, §4, §5.10): for an admitted request with
 * `Proxy-QUIC-Forwarding`, picks the transform, opens (or shares) the target-facing socket, and
 * answers 2xx with
 *
 *   Proxy-QUIC-Forwarding: ?1; transform="…"; scramble-key=:…:   forwarding accepted (§3: "MUST
 *                               include a transform parameter"; our own key for scramble-dt)
 *   Proxy-QUIC-Forwarding: ?0   the client asked ?0, no offered transform is acceptable, or
 *                               forwarding is off by policy (§3 "MUST omit this parameter and set
 *                               the header field value to ?0")
 *   Proxy-QUIC-Port-Sharing: ?1 / ?0   whether this tunnel's target socket may be shared (§4
 *                               "SHOULD send ... ?0" when not supported)
 *   Proxy-Status: next-hop      §6.6 "SHOULD send the Proxy-Status header ... next-hop"
 *
 * then runs a {@link QuicAwareTunnel}. A request whose target is this proxy's own listening
 * address is refused (502 proxy_loop_detected, RFC 9209 §2.3.4): forwarding to ourselves is the
 * simplest loop.
 *
 * The strategy needs the proxy's packet seam (claims, raw sends) and reset-token derivation: the
 * handler gives them through {@link QuicAwareStrategy.attach} when it registers on a server.
 */
import type { Logger } from 'pino';
import {
  createTransform,
  negotiateTransform,
  transformNeedsKey,
} from '../../../transforms/registry.js';
import type { PacketSeam } from '../../runtime/udp/packet-seam.js';
import { type Random, randomBytes } from '../../util/random.js';
import type { QuicProxyProfile } from '../capsules/quic-proxy.js';
import { quicProxyCapsuleLimits } from '../capsules/quic-proxy.js';
import { successResponseHeaders } from '../connect-udp/response.js';
import { formatHostPort } from '../connect-udp/target.js';
import { formatProxyQuicForwarding } from '../headers/proxy-quic-forwarding.js';
import { formatProxyQuicPortSharing } from '../headers/proxy-quic-port-sharing.js';
import { CidMappingTable } from '../quic-aware/cid-table.js';
import type { VcidGenerator } from '../quic-aware/vcid.js';
import { type Admitted, type Refusal, refusal } from './admission.js';
import { describeAttempts, openFirstReachable } from './open-target.js';
import { type ForwardingTransforms, QuicAwareTunnel } from './quic-aware-tunnel.js';
import type { PreparedRelay, RelayContext, RelayStrategy } from './strategy.js';
import { TargetLinks } from './target-link.js';
import type { TunnelSession } from './tunnel.js';
import type { UdpSocketFactory } from './udp-socket.js';

/** What the strategy needs from the server it serves on. */
export interface QuicAwareServerSide {
  readonly packets: PacketSeam;
  /** Our Stateless Reset Token for a CID (the endpoint's key), if resets are on. */
  readonly resetTokenFor?: (cid: Uint8Array) => Uint8Array | undefined;
  /** Whether `address`:`port` is one of our own listening addresses. */
  readonly isOwnAddress: (address: string, port: number) => boolean;
}

/** Settings of QUIC-aware tunnels. */
export interface QuicAwareRelayOptions {
  readonly proxyName: string;
  readonly socketFactory: UdpSocketFactory;
  readonly logger: Logger;
  readonly random: Random;
  readonly vcids: VcidGenerator;
  readonly idleTimeoutMs: number;
  readonly queueLimit: number;
  readonly capsuleBacklogBytes: number;
  readonly largeDatagrams: 'capsule' | 'drop';
  /** Wire profiles accepted (the first capsule picks one); default all three. */
  readonly profiles: readonly QuicProxyProfile[];
  /** Forwarded mode on offer. */
  readonly forwarding: boolean;
  /** Transforms we accept, in our preference (default scramble-dt, identity). */
  readonly transforms?: readonly string[];
  /** Share target-facing sockets when clients permit it. */
  readonly portSharing: boolean;
  readonly minCidLength?: number;
  readonly maxActive?: number;
  readonly reregistrationIsFree?: boolean;
}

export class QuicAwareStrategy implements RelayStrategy {
  readonly mode = 'quic-aware' as const;
  readonly #o: QuicAwareRelayOptions;
  readonly #links: TargetLinks;
  readonly table = new CidMappingTable<QuicAwareTunnel>();
  #server: QuicAwareServerSide | undefined;

  constructor(options: QuicAwareRelayOptions) {
    this.#o = options;
    this.#links = new TargetLinks(options.socketFactory);
  }

  get socketsOpen(): number {
    return this.#links.socketsOpen;
  }

  get capsules(): Array<[number, number]> {
    return this.#o.profiles.flatMap((p) => quicProxyCapsuleLimits(p));
  }

  /** Connects the strategy to the server's socket (done by `ConnectUdpHandler.register`). */
  attach(server: QuicAwareServerSide): void {
    // Target VCIDs are claimed on the server's socket, which parses short headers with its CID
    // length: a QUIC-LB layout longer than that could not be recognised.
    const need = this.#o.vcids.minLength;
    if (need > server.packets.localCidLength) {
      throw new RangeError(
        `QUIC-LB VCIDs need ${need} bytes but the server's connection IDs are ${server.packets.localCidLength}`,
      );
    }
    this.#server = server;
  }

  async prepare(admitted: Admitted): Promise<PreparedRelay | Refusal> {
    const o = this.#o;
    const server = this.#server;
    if (server === undefined || admitted.target === undefined || admitted.addresses.length === 0) {
      return refusal(503, 'QUIC_AWARE_UNAVAILABLE', {
        proxy: o.proxyName,
        error: 'proxy_internal_error',
        details: 'QUIC-aware proxying is not attached to a server',
      });
    }
    const port = admitted.target.port;
    // A name that resolves to us is a loop whichever of its addresses would be tried.
    if (admitted.addresses.some((a) => server.isOwnAddress(a.address, port))) {
      return refusal(502, 'LOOP', {
        proxy: o.proxyName,
        error: 'proxy_loop_detected',
        details: 'the target is this proxy',
      });
    }
    const share = o.portSharing && admitted.portSharing === true;
    const forwarding = this.#negotiate(admitted);
    let tunnel: QuicAwareTunnel | undefined;
    const pending: Buffer[] = [];
    const user = {
      fromTarget: (msg: Buffer) => {
        if (tunnel === undefined) {
          if (pending.length < 64) pending.push(msg);
        } else tunnel.fromTarget(msg);
      },
      linkFailed: (err: Error) => tunnel?.linkFailed(err),
    };
    const opened = await openFirstReachable(admitted.addresses, port, (t) =>
      this.#links.acquire(t, share, user),
    );
    if (!opened.ok) {
      o.logger.debug(
        { attempts: describeAttempts(opened.failed) },
        'QUIC-aware target socket failed',
      );
      return refusal(502, 'SOCKET_FAILED', {
        proxy: o.proxyName,
        error: 'destination_ip_unroutable',
        details: 'no socket could be opened to the target',
      });
    }
    const { value: link, target } = opened;
    if (opened.failed.length > 0) {
      o.logger.info(
        {
          attempts: describeAttempts(opened.failed),
          nextHop: formatHostPort(
            { kind: 'ip', family: target.family, address: target.address },
            port,
          ),
        },
        'target reached on a later address',
      );
    }
    if (share) link.route = (msg) => this.#route(link.key, msg);
    const nextHop = formatHostPort(
      { kind: 'ip', family: target.family, address: target.address },
      target.port,
    );
    const headers: Array<[string, string]> = successResponseHeaders({
      proxyName: o.proxyName,
      nextHop,
    }).filter(([name]) => !name.startsWith(':') && name !== 'capsule-protocol');
    headers.push(['proxy-quic-forwarding', forwarding.header]);
    headers.push(['proxy-quic-port-sharing', formatProxyQuicPortSharing(share)]);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#links.release(link, user);
    };
    return {
      ok: true,
      headers,
      describe: `${nextHop} (QUIC-aware${forwarding.transforms ? ', forwarded' : ''})`,
      start: (session: TunnelSession, ctx: RelayContext) => {
        tunnel = new QuicAwareTunnel(session, {
          idleTimeoutMs: o.idleTimeoutMs,
          queueLimit: o.queueLimit,
          capsuleBacklogBytes: o.capsuleBacklogBytes,
          largeDatagrams: o.largeDatagrams,
          clock: ctx.clock,
          profiles: o.profiles,
          forwarding: forwarding.transforms,
          table: this.table,
          link,
          packets: server.packets,
          clientAddress: (session as { remoteAddress?: string }).remoteAddress ?? '',
          currentClientAddress: currentRemote(session),
          vcids: o.vcids,
          resetTokenFor: server.resetTokenFor,
          // Short CIDs only risk conflicts on a shared socket (§5.8); on its own socket a tunnel
          // may register any, zero-length included (quic-go clients use those).
          minCidLength: share ? o.minCidLength : 0,
          clientCidLength: outerPeerCidLength(session),
          maxActive: o.maxActive,
          reregistrationIsFree: o.reregistrationIsFree,
          releaseLink: release,
          onClose: (t, reason, err) => ctx.onClose(t, reason, err),
        });
        for (const m of pending.splice(0)) tunnel.fromTarget(m);
        return tunnel;
      },
      abandon: release,
    };
  }

  #route(key: string, msg: Buffer): QuicAwareTunnel | undefined {
    if ((msg[0] & 0x80) !== 0) {
      // Long header: DCID Length at byte 5, the DCID after it (RFC 8999 §5.1).
      if (msg.length < 6 || msg.length < 6 + msg[5]) return undefined;
      const probe = Buffer.allocUnsafe(1 + msg[5]);
      probe[0] = 0;
      msg.copy(probe, 1, 6, 6 + msg[5]);
      const r = this.table.routeFromTarget(key, probe);
      return r !== undefined && r.cidLength === msg[5] ? r.owner : undefined;
    }
    return this.table.routeFromTarget(key, msg)?.owner;
  }

  #negotiate(admitted: Admitted): { header: string; transforms: ForwardingTransforms | undefined } {
    const o = this.#o;
    const q = admitted.quic;
    const off = { header: formatProxyQuicForwarding({ enabled: false }), transforms: undefined };
    if (!o.forwarding || q === undefined || !q.enabled) return off;
    const name = negotiateTransform(q.acceptTransforms ?? [], o.transforms);
    if (name === undefined) return off;
    if (!transformNeedsKey(name)) {
      const t = createTransform(name);
      return {
        header: formatProxyQuicForwarding({ enabled: true, transform: name }),
        transforms: { toClient: t, fromClient: t },
      };
    }
    // §6.3.2: "If either side receives a scramble transform without the scramble-key
    // parameter, forwarded mode MUST be disabled."
    if (q.scrambleKey === undefined) return off;
    const ours = randomBytes(o.random, 32);
    return {
      header: formatProxyQuicForwarding({ enabled: true, transform: name, scrambleKey: ours }),
      transforms: {
        toClient: createTransform(name, { key: ours }),
        fromClient: createTransform(name, { key: q.scrambleKey }),
      },
    };
  }
}

/**
 * Whether `address`:`port` reaches the server bound at `bound` ("host:port" / "[v6]:port"): same
 * port, and the address is the bound one, a loopback address, or (for a wildcard bind) any
 * address of this host.
 */
export function ownAddressCheck(bound: string, localAddresses: ReadonlySet<string>) {
  const port = Number(bound.slice(bound.lastIndexOf(':') + 1));
  const host = bound.slice(0, bound.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  const wildcard = host === '0.0.0.0' || host === '::';
  return (address: string, p: number): boolean => {
    if (p !== port) return false;
    if (address === host || address.startsWith('127.') || address === '::1') return true;
    return wildcard && localAddresses.has(address);
  };
}

/** The length of the client's CIDs on its connection to us, when the session can tell. */
function outerPeerCidLength(session: TunnelSession): number | undefined {
  const driver = (session as { driver?: { connection?: { peerCid?: Uint8Array } } }).driver;
  return driver?.connection?.peerCid?.length;
}

/** The connection's current client address, when the session can tell (it follows migration). */
function currentRemote(session: TunnelSession): (() => string) | undefined {
  const conn = (session as { driver?: { connection?: { remote?: string } } }).driver?.connection;
  if (conn === undefined || typeof conn.remote !== 'string') return undefined;
  return () => conn.remote as string;
}
