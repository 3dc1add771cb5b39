/**
 * QUIC-aware cases (draft-ietf-masque-quic-proxy): an HTTP/3 GET from our H3Client to the HTTP/3
 * target through `connectQuic`: CID registration with tunnelled packets only, forwarded mode with
 * identity and with scramble-dt, and each capsule wire profile. A proxy that does not answer
 * Proxy-QUIC-Forwarding (or does not acknowledge registrations) is "unsupported".
 */
import type { MasqueClient } from '../client/client.js';
import type { QuicAwareSocket } from '../client/quic-aware-socket.js';
import { TunnelDatagramSocket } from '../client/tunnel-datagram-socket.js';
import type { QuicProxyProfile } from '../masque/capsules/quic-proxy.js';
import { H3Client } from '../runtime/client/client.js';
import { withClient } from './cases-udp.js';
import {
  type CaseOutcome,
  fail,
  hostPort,
  type InteropCase,
  type InteropContext,
  pass,
  unsupported,
} from './types.js';

async function getHello(sock: QuicAwareSocket, ctx: InteropContext): Promise<number> {
  const { host, port } = hostPort(ctx.h3Target as string);
  const h3 = await H3Client.connect(
    { host, port },
    {
      socket: sock,
      remote: sock.remote,
      ca: ctx.h3Ca,
      insecure: ctx.h3Ca === undefined ? true : undefined,
      serverName: 'localhost',
      connectTimeout: ctx.timeoutMs,
    },
  );
  // Two requests: the second one rides forwarded mode once the registrations are answered.
  return twoGets(h3);
}

/** `GET /hello` twice, then the connection closed; the first status that is not 200, or 200. */
async function twoGets(h3: H3Client): Promise<number> {
  try {
    for (let i = 0; i < 2; i++) {
      const res = await h3.request({ path: '/hello' });
      await res.bytes();
      if (res.status !== 200) return res.status;
    }
    return 200;
  } finally {
    await h3.close({ timeout: 200 });
  }
}

function quicCase(
  name: string,
  description: string,
  opts: { forwarding: boolean; transforms?: string[]; profile?: QuicProxyProfile },
  judge: (sock: QuicAwareSocket) => CaseOutcome,
): InteropCase {
  return {
    name,
    group: 'quic-aware',
    description,
    run: async (ctx) => {
      if (ctx.h3Target === undefined) return unsupported('no HTTP/3 target given (--h3-target)');
      return withClient(ctx, {}, async (client: MasqueClient) => {
        const { host, port } = hostPort(ctx.h3Target as string);
        const sock = await client.connectQuic(host, port, {
          forwarding: opts.forwarding,
          transforms: opts.transforms,
          profile: opts.profile,
          timeout: ctx.timeoutMs,
        });
        try {
          if (!sock.supported) return unsupported('no Proxy-QUIC-Forwarding in the answer (§3)');
          const status = await getHello(sock, ctx);
          if (status !== 200) return fail(`GET /hello answered ${status}`);
          if (sock.stats.acks === 0) return unsupported('no registration was acknowledged');
          return judge(sock);
        } finally {
          await sock.close();
        }
      });
    },
  };
}

const forwardedJudge =
  (transform: string) =>
  (sock: QuicAwareSocket): CaseOutcome => {
    if (!sock.forwarding)
      return unsupported(`the proxy did not accept forwarded mode with ${transform}`);
    const s = sock.stats;
    return s.forwardedIn > 0 && s.forwardedOut > 0
      ? pass(`${s.forwardedOut} packets forwarded out, ${s.forwardedIn} in (${transform})`)
      : fail(`forwarding accepted but ${s.forwardedOut} out / ${s.forwardedIn} in`);
  };

/**
 * QUIC inside a plain connect-udp tunnel, RFC 9298's own use: our H3Client over the tunnel's
 * datagrams, two GETs. Needs no extension, so every proxy should pass it; the inner connection
 * keeps its packets to 1200 bytes so they fit a QUIC DATAGRAM frame on any proxy (see
 * `H3Client.connect`).
 */
const h3InTunnel: InteropCase = {
  name: 'udp-h3-in-tunnel',
  group: 'connect-udp',
  description: 'HTTP/3 to the HTTP/3 target inside a plain connect-udp tunnel (QUIC in QUIC)',
  run: async (ctx) => {
    if (ctx.h3Target === undefined) return unsupported('no HTTP/3 target given (--h3-target)');
    return withClient(ctx, {}, async (client: MasqueClient) => {
      const { host, port } = hostPort(ctx.h3Target as string);
      const tunnel = await client.connectUdp(host, port);
      tunnel.on('error', () => {});
      const label = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      try {
        const h3 = await H3Client.connect(
          { host, port },
          {
            socket: new TunnelDatagramSocket(tunnel, label),
            remote: label,
            ca: ctx.h3Ca,
            insecure: ctx.h3Ca === undefined ? true : undefined,
            serverName: 'localhost',
            connectTimeout: ctx.timeoutMs,
          },
        );
        const status = await twoGets(h3);
        return status === 200
          ? pass('two HTTP/3 GETs answered 200 through the tunnel')
          : fail(`GET /hello answered ${status}`);
      } catch (err) {
        return fail(`HTTP/3 inside the tunnel: ${(err as Error).message}`);
      } finally {
        tunnel.close();
      }
    });
  },
};

export const quicCases: InteropCase[] = [
  h3InTunnel,
  quicCase(
    'quic-registration',
    'Proxy-QUIC-Forwarding ?0: CIDs registered and acknowledged, every packet tunnelled',
    { forwarding: false },
    (sock) =>
      pass(
        `${sock.stats.acks} registrations acknowledged, ${sock.stats.tunnelledIn} packets tunnelled in`,
      ),
  ),
  quicCase(
    'quic-forwarded-identity',
    'forwarded mode with the identity transform: 1-RTT packets outside the tunnel both ways',
    { forwarding: true, transforms: ['identity'] },
    forwardedJudge('identity'),
  ),
  quicCase(
    'quic-forwarded-scramble',
    'forwarded mode with scramble-dt both ways',
    { forwarding: true, transforms: ['scramble-dt'] },
    forwardedJudge('scramble-dt'),
  ),
  ...(['draft-08', 'draft-07'] as const).map((profile) =>
    quicCase(
      `quic-profile-${profile.slice(6)}`,
      `the ${profile} capsule codepoints (0xffe${profile === 'draft-08' ? 7 : 6}xx), forwarded with scramble-dt`,
      { forwarding: true, transforms: ['scramble-dt'], profile },
      forwardedJudge(`scramble-dt, ${profile}`),
    ),
  ),
];
