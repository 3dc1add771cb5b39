/**
 * connect-udp-bind's relay strategy (connect-udp-listen): for an admitted bind request, opens
 * one unconnected UDP socket per address family the egress configuration allows, on an
 * ephemeral port, and answers 2xx with
 *
 *   connect-udp-bind: ?1                §2 "If the proxy supports bound UDP proxying, it returns
 *                                       the Connect-UDP-Bind response header field value set to
 *                                       true"
 *   proxy-public-address: "a:p", ...    §7: "MUST communicate the selected
 *                                       addresses and ports"; per family, the configured public
 *                                       addresses (NAT, load balancer) with the socket's port, or
 *                                       the address the socket is bound to, or (a wildcard) the
 *                                       default public address of that family
 *
 * then runs a {@link BindTunnel}. With a real target in the request (bind with fallback), Context
 * ID 0 goes to that target, so its family must have a socket. A limit on bound tunnels in total
 * (`maxTunnels`) answers 503 connection_limit_reached beyond it.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { type BindWire, bindCapsuleLimits } from '../bind/wire.js';
import { formatConnectUdpBind } from '../headers/connect-udp-bind.js';
import {
  formatProxyPublicAddress,
  PROXY_PUBLIC_ADDRESS_FIELD,
  type ProxyPublicAddress,
} from '../headers/proxy-public-address.js';
import { type Admitted, type Refusal, refusal } from './admission.js';
import { type BindSockets, BindTunnel } from './bind-tunnel.js';
import type { BoundSocket, BoundSocketFactory } from './bound-socket.js';
import type { PeerPolicyCache } from './peer-policy.js';
import type { PreparedRelay, RelayContext, RelayStrategy } from './strategy.js';
import type { TunnelSession } from './tunnel.js';
import type { UdpTarget } from './udp-socket.js';

/** Settings of bound tunnels. */
export interface BindRelayOptions {
  readonly proxyName: string;
  readonly socketFactory: BoundSocketFactory;
  readonly policy: PeerPolicyCache;
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  readonly queueLimit: number;
  readonly capsuleBacklogBytes: number;
  readonly largeDatagrams: 'capsule' | 'drop';
  /** Local address of each family's socket; false: that family is not offered. */
  readonly egress: { readonly ipv4: string | false; readonly ipv6: string | false };
  /** Addresses peers must use (IP literals), per listener; the sockets' ports are added. */
  readonly publicAddresses: readonly string[];
  /** Bound tunnels at once, at most. */
  readonly maxTunnels: number;
  /** Contexts per tunnel, at most. */
  readonly maxContexts: number;
  /** Proxy-side compression threshold (datagrams from one peer); 0: off. */
  readonly compressAfter: number;
  readonly maxUnackedAssigns: number;
  /** Compression capsule codepoints understood: the final ones, the legacy ones, or both. */
  readonly wire: BindWire | 'auto';
  /** Guess of a public address of a family, for sockets bound to a wildcard address. */
  readonly defaultPublicAddress?: (family: 4 | 6) => string | undefined;
}

export class BindStrategy implements RelayStrategy {
  readonly mode = 'bind' as const;
  readonly #opts: BindRelayOptions;
  #socketsOpen = 0;
  #tunnels = 0;

  constructor(options: BindRelayOptions) {
    this.#opts = options;
  }

  get socketsOpen(): number {
    return this.#socketsOpen;
  }

  /** Bound tunnels prepared or running. */
  get tunnels(): number {
    return this.#tunnels;
  }

  /** Capsule types the session must deliver (compression capsules of the wire forms served). */
  get capsules(): Array<[number, number]> {
    const w = this.#opts.wire;
    return bindCapsuleLimits(w === 'auto' ? ['final', 'legacy'] : [w]);
  }

  async prepare(admitted: Admitted): Promise<PreparedRelay | Refusal> {
    const o = this.#opts;
    if (this.#tunnels >= o.maxTunnels) {
      return refusal(503, 'BIND_TUNNELS', {
        proxy: o.proxyName,
        error: 'connection_limit_reached',
        details: `at most ${o.maxTunnels} bound tunnels`,
      });
    }
    this.#tunnels++;
    let fallback: UdpTarget | undefined;
    const first = admitted.addresses[0];
    if (admitted.target !== undefined && first !== undefined) {
      fallback = { address: first.address, family: first.family, port: admitted.target.port };
    }
    const sockets: { v4?: BoundSocket; v6?: BoundSocket } = {};
    for (const [family, address] of [
      [4, o.egress.ipv4],
      [6, o.egress.ipv6],
    ] as const) {
      if (address === false) continue;
      try {
        const s = await o.socketFactory.open(family, address);
        this.#socketsOpen++;
        if (family === 4) sockets.v4 = s;
        else sockets.v6 = s;
      } catch (err) {
        o.logger.debug({ err, family, address }, 'bind socket failed');
      }
    }
    const opened = [sockets.v4, sockets.v6].filter((s) => s !== undefined);
    const fallbackFamily = fallback === undefined ? undefined : fallback.family === 4 ? 'v4' : 'v6';
    if (opened.length === 0 || (fallbackFamily !== undefined && !sockets[fallbackFamily])) {
      this.#release(opened);
      return refusal(502, 'SOCKET_FAILED', {
        proxy: o.proxyName,
        error: 'destination_ip_unroutable',
        details: 'no socket could be bound',
      });
    }
    const publics = opened.flatMap((s) => this.#publicAddresses(s));
    const headers: Array<[string, string]> = [
      ['connect-udp-bind', formatConnectUdpBind(true)],
      [PROXY_PUBLIC_ADDRESS_FIELD, formatProxyPublicAddress(publics)],
    ];
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#release(opened);
    };
    const describe = publics.map((p) =>
      p.family === 6 ? `[${p.ip}]:${p.port}` : `${p.ip}:${p.port}`,
    );
    return {
      ok: true,
      headers,
      describe: `bind ${describe.join(' ')}`,
      start: (session: TunnelSession, ctx: RelayContext) =>
        new BindTunnel(session, sockets as BindSockets, {
          idleTimeoutMs: o.idleTimeoutMs,
          queueLimit: o.queueLimit,
          capsuleBacklogBytes: o.capsuleBacklogBytes,
          largeDatagrams: o.largeDatagrams,
          clock: ctx.clock,
          maxContexts: o.maxContexts,
          compressAfter: o.compressAfter,
          maxUnackedAssigns: o.maxUnackedAssigns,
          wire: o.wire,
          responseBacklogBytes: o.capsuleBacklogBytes,
          fallback,
          policy: o.policy,
          onClose: (t, reason, err) => {
            release();
            ctx.onClose(t, reason, err);
          },
        }),
      abandon: release,
    };
  }

  #release(opened: BoundSocket[]): void {
    for (const s of opened) s.close();
    this.#socketsOpen -= opened.length;
    this.#tunnels--;
  }

  #publicAddresses(s: BoundSocket): ProxyPublicAddress[] {
    const o = this.#opts;
    const mine = o.publicAddresses.filter((a) => (a.includes(':') ? 6 : 4) === s.family);
    if (mine.length > 0) return mine.map((ip) => ({ family: s.family, ip, port: s.port }));
    const wildcard = s.address === '0.0.0.0' || s.address === '::';
    const ip = wildcard
      ? (o.defaultPublicAddress?.(s.family) ?? interfaceAddress(s.family))
      : s.address;
    return [{ family: s.family, ip, port: s.port }];
  }
}

/**
 * A public address of the family from the host's interfaces: the first global one, else the
 * loopback address (a proxy on a laptop), so the header always names something.
 */
export function interfaceAddress(family: 4 | 6): string {
  const want = family === 4 ? 'IPv4' : 'IPv6';
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family === want && !i.internal && !(family === 6 && i.address.startsWith('fe80'))) {
        return i.address;
      }
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}
