/**
 * The target-facing sockets of QUIC-aware tunnels (quic-proxy §2.1, §4, §5.10). A tunnel whose
 * client allowed port sharing (`Proxy-QUIC-Port-Sharing: ?1`) may share one connected socket to
 * the same target address and port with other such tunnels; packets from the target are then
 * routed by the client CID they carry (the CID-mapping table), and packets with an unknown CID
 * "MUST be dropped" (§5). Without sharing, a tunnel has a socket of its own. QUIC-aware sockets
 * are never shared with plain connect-udp or bind flows (§5.10 "MUST NOT be reused across QUIC
 * and non-QUIC UDP proxy requests"): they live only here.
 */
import type { TunnelSocket, UdpSocketFactory, UdpTarget } from './udp-socket.js';

/** What a link delivers to: a QUIC-aware tunnel. */
export interface LinkUser {
  /** A datagram from the target (a fresh buffer the user may keep and modify). */
  fromTarget(msg: Buffer): void;
  /** The socket failed (e.g. ICMP unreachable). */
  linkFailed(err: Error): void;
}

/** One target-facing socket and the tunnels using it. */
export class TargetLink {
  /** The table key of this socket ("shared ip port" or "own N"). */
  readonly key: string;
  readonly shared: boolean;
  readonly target: UdpTarget;
  readonly socket: TunnelSocket;
  readonly users = new Set<LinkUser>();
  /** Routes a datagram on a shared socket to its user (by client CID), or undefined. */
  route: (msg: Buffer) => LinkUser | undefined = () => undefined;
  /** Datagrams from the target that no tunnel claimed (shared sockets: unknown CIDs). */
  unrouted = 0;

  constructor(key: string, shared: boolean, target: UdpTarget, socket: TunnelSocket) {
    this.key = key;
    this.shared = shared;
    this.target = target;
    this.socket = socket;
    socket.onMessage((msg) => {
      const user = this.shared ? this.route(msg) : this.users.values().next().value;
      if (user === undefined) this.unrouted++;
      else user.fromTarget(msg);
    });
    socket.onError((err) => {
      for (const u of [...this.users]) u.linkFailed(err);
    });
  }
}

/** Opens, shares and closes target links. */
export class TargetLinks {
  readonly #factory: UdpSocketFactory;
  readonly #shared = new Map<string, TargetLink>();
  #own = 0;
  #open = 0;

  constructor(factory: UdpSocketFactory) {
    this.#factory = factory;
  }

  /** Sockets open now. */
  get socketsOpen(): number {
    return this.#open;
  }

  /** A link to `target` for `user`: a shared one when `share`, else a new one. */
  async acquire(target: UdpTarget, share: boolean, user: LinkUser): Promise<TargetLink> {
    const sharedKey = `shared ${target.address} ${target.port}`;
    if (share) {
      const existing = this.#shared.get(sharedKey);
      if (existing !== undefined) {
        existing.users.add(user);
        return existing;
      }
    }
    const socket = await this.#factory.open(target);
    this.#open++;
    // A concurrent acquire may have opened the shared link meanwhile: use it, drop ours.
    const raced = share ? this.#shared.get(sharedKey) : undefined;
    if (raced !== undefined) {
      socket.close();
      this.#open--;
      raced.users.add(user);
      return raced;
    }
    const link = new TargetLink(share ? sharedKey : `own ${++this.#own}`, share, target, socket);
    link.users.add(user);
    if (share) this.#shared.set(sharedKey, link);
    return link;
  }

  /** `user` is done with `link`; the socket closes with its last user. */
  release(link: TargetLink, user: LinkUser): void {
    if (!link.users.delete(user) || link.users.size > 0) return;
    if (link.shared) this.#shared.delete(link.key);
    link.socket.close();
    this.#open--;
  }
}
