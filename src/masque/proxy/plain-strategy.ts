/**
 * Plain connect-udp (RFC 9298): one connected UDP socket to the request's target, Context ID 0
 * relayed both ways by a {@link UdpTunnel}. The 2xx carries a Proxy-Status with `next-hop`
 * (RFC 9298 §3.5: "SHOULD include ... the IP address and port"). The target's addresses are
 * tried in turn (`open-target.ts`, RFC 8305 §4 order); when no socket opens to any of them: 502
 * destination_ip_unroutable.
 */
import type { Logger } from 'pino';
import { successResponseHeaders } from '../connect-udp/response.js';
import { formatHostPort } from '../connect-udp/target.js';
import { type Admitted, type Refusal, refusal } from './admission.js';
import { describeAttempts, openFirstReachable } from './open-target.js';
import type { PreparedRelay, RelayContext, RelayStrategy } from './strategy.js';
import { type TunnelSession, UdpTunnel } from './tunnel.js';
import type { UdpSocketFactory, UdpTarget } from './udp-socket.js';

/** "[2001:db8::1]:53" / "192.0.2.1:53". */
function formatUdpTarget(target: UdpTarget): string {
  return formatHostPort(
    { kind: 'ip', family: target.family, address: target.address },
    target.port,
  );
}

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
    const o = this.#opts;
    const r = await openFirstReachable(admitted.addresses, port, (target) =>
      o.socketFactory.open(target),
    );
    if (!r.ok) {
      o.logger.debug({ attempts: describeAttempts(r.failed) }, 'no tunnel socket opened');
      return refusal(502, 'SOCKET_FAILED', {
        proxy: o.proxyName,
        error: 'destination_ip_unroutable',
        details: 'no socket could be opened to the target',
      });
    }
    const { value: socket, target } = r;
    if (r.failed.length > 0) {
      // Not silent: a family that fails on this host is worth an operator's look.
      o.logger.info(
        { attempts: describeAttempts(r.failed), nextHop: formatUdpTarget(target) },
        'target reached on a later address',
      );
    }
    this.#socketsOpen++;
    const nextHop = formatUdpTarget(target);
    const headers = successResponseHeaders({ proxyName: this.#opts.proxyName, nextHop }).filter(
      ([name]) => !name.startsWith(':') && name !== 'capsule-protocol',
    );
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#socketsOpen--;
    };
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
