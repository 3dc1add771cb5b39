/**
 * Plain connect-udp (RFC 9298): one connected UDP socket to the request's target, Context ID 0
 * relayed both ways by a {@link UdpTunnel}. The 2xx carries a Proxy-Status with `next-hop`
 * (RFC 9298 §3.5: "SHOULD include ... the IP address and port"); when no socket opens to any of
 * the target's addresses: 502 destination_ip_unroutable.
 */
import type { Logger } from 'pino';
import { successResponseHeaders } from '../connect-udp/response.js';
import { formatHostPort } from '../connect-udp/target.js';
import { type Admitted, type Refusal, refusal } from './admission.js';
import type { PreparedRelay, RelayContext, RelayStrategy } from './strategy.js';
import { type TunnelSession, UdpTunnel } from './tunnel.js';
import type { TunnelSocket, UdpSocketFactory, UdpTarget } from './udp-socket.js';

/** Per-tunnel settings of plain connect-udp. */
export interface PlainRelayOptions {
  readonly proxyName: string;
  readonly socketFactory: UdpSocketFactory;
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  readonly queueLimit: number;
  readonly capsuleBacklogBytes: number;
  readonly largeDatagrams: 'capsule' | 'drop';
}

export class PlainStrategy implements RelayStrategy {
  readonly mode = 'plain' as const;
  readonly #opts: PlainRelayOptions;
  #socketsOpen = 0;

  constructor(options: PlainRelayOptions) {
    this.#opts = options;
  }

  get socketsOpen(): number {
    return this.#socketsOpen;
  }

  async prepare(admitted: Admitted): Promise<PreparedRelay | Refusal> {
    const port = admitted.target?.port ?? 0;
    let opened: { socket: TunnelSocket; target: UdpTarget } | undefined;
    for (const a of admitted.addresses) {
      const target: UdpTarget = { address: a.address, family: a.family, port };
      try {
        opened = { socket: await this.#opts.socketFactory.open(target), target };
        break;
      } catch (err) {
        this.#opts.logger.debug({ err, target: a.address }, 'tunnel socket failed');
      }
    }
    if (opened === undefined) {
      return refusal(502, 'SOCKET_FAILED', {
        proxy: this.#opts.proxyName,
        error: 'destination_ip_unroutable',
        details: 'no socket could be opened to the target',
      });
    }
    this.#socketsOpen++;
    const { socket, target } = opened;
    const nextHop = formatHostPort(
      { kind: 'ip', family: target.family, address: target.address },
      target.port,
    );
    const headers = successResponseHeaders({ proxyName: this.#opts.proxyName, nextHop }).filter(
      ([name]) => !name.startsWith(':') && name !== 'capsule-protocol',
    );
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#socketsOpen--;
    };
    const o = this.#opts;
    return {
      ok: true,
      headers,
      describe: nextHop,
      start: (session: TunnelSession, ctx: RelayContext) =>
        new UdpTunnel(session, socket, target, {
          idleTimeoutMs: o.idleTimeoutMs,
          queueLimit: o.queueLimit,
          capsuleBacklogBytes: o.capsuleBacklogBytes,
          largeDatagrams: o.largeDatagrams,
          clock: ctx.clock,
          onClose: (t, reason, err) => {
            release();
            ctx.onClose(t, reason, err);
          },
        }),
      abandon: () => {
        socket.close();
        release();
      },
    };
  }
}
