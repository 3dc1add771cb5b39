/**
 * connect-udp cases (RFC 9298): echoes of several sizes, DATAGRAM capsules only, many tunnels on
 * one connection, Proxy-Status on a refusal, an IPv6 target.
 */
import { join } from 'node:path';
import { MasqueClient } from '../client/client.js';
import { MasqueError } from '../client/errors.js';
import type { MasqueUdpSocket } from '../client/udp-socket.js';
import {
  type CaseOutcome,
  fail,
  hostPort,
  type InteropCase,
  type InteropContext,
  pass,
  unsupported,
} from './types.js';

/**
 * Sends `payload` and waits for the same bytes back (resent a few times: UDP may lose one).
 * False when none came back in `ms`, or the tunnel ended (its error is in `lastError`).
 */
export async function echoOnce(
  sock: MasqueUdpSocket,
  payload: Uint8Array,
  ms: number,
): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const send = (): void => {
      try {
        sock.send(payload);
      } catch {
        done(false); // the tunnel closed under us
      }
    };
    const timer = setTimeout(() => done(false), ms);
    const retry = setInterval(send, Math.max(100, ms / 5));
    const onMessage = (m: Buffer): void => {
      if (m.length === payload.length && Buffer.compare(m, Buffer.from(payload)) === 0) done(true);
    };
    const onError = (): void => done(false);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      clearInterval(retry);
      sock.off('message', onMessage);
      sock.off('error', onError);
      resolve(ok);
    };
    sock.on('message', onMessage);
    sock.on('error', onError);
    send();
  });
}

/** Errors of a case's socket end its echo waits (see echoOnce); none may go unhandled. */
function quiet<T extends { on(event: 'error', fn: (err: Error) => void): unknown }>(sock: T): T {
  sock.on('error', () => {});
  return sock;
}

function payloadOf(size: number, seed: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (seed + i * 31) & 0xff;
  return p;
}

async function withClient<T>(
  ctx: InteropContext,
  extra: Partial<InteropContext['client']>,
  fn: (c: MasqueClient) => Promise<T>,
): Promise<T> {
  const debug =
    ctx.debugDir === undefined || ctx.caseName === undefined
      ? {}
      : {
          keylogFile: join(ctx.debugDir, `${ctx.caseName}.keys`),
          qlogDir: join(ctx.debugDir, ctx.caseName),
        };
  const client = await MasqueClient.connect(ctx.template, {
    ...ctx.client,
    ...debug,
    connectTimeout: ctx.timeoutMs,
    tunnelTimeout: ctx.timeoutMs,
    ...extra,
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function echoCase(
  name: string,
  description: string,
  size: number,
  extra: Partial<InteropContext['client']> = {},
): InteropCase {
  return {
    name,
    group: 'connect-udp',
    description,
    run: (ctx) =>
      withClient(ctx, extra, async (client): Promise<CaseOutcome> => {
        const { host, port } = hostPort(ctx.echo);
        const sock = quiet(await client.connectUdp(host, port));
        const ok = await echoOnce(sock, payloadOf(size, 7), ctx.timeoutMs);
        const how = client.datagramsEnabled ? 'QUIC DATAGRAM frames' : 'DATAGRAM capsules';
        return ok
          ? pass(`${size}-byte echo over ${how}`)
          : fail(`no ${size}-byte echo from ${ctx.echo}`);
      }),
  };
}

export const udpCases: InteropCase[] = [
  echoCase('udp-small', 'a 32-byte datagram through a connect-udp tunnel and back', 32),
  echoCase('udp-1200', 'a 1200-byte datagram (the size QUIC itself needs) and back', 1200),
  echoCase(
    'udp-capsules',
    'no HTTP/3 datagrams negotiated: DATAGRAM capsules on the stream (RFC 9297 §3.5)',
    200,
    { datagrams: 'capsule' },
  ),
  echoCase('udp-large', 'an 8000-byte datagram (beyond one QUIC packet: capsule fallback)', 8000),
  {
    name: 'udp-h2',
    group: 'connect-udp',
    description: 'connect-udp over HTTP/2 on TCP (RFC 8441; for networks that block UDP)',
    run: async (ctx) => {
      let client: MasqueClient;
      try {
        client = await MasqueClient.connect(ctx.template, {
          ...ctx.client,
          transport: 'h2',
          connectTimeout: ctx.timeoutMs,
          tunnelTimeout: ctx.timeoutMs,
        });
      } catch (err) {
        if (err instanceof MasqueError)
          return unsupported(`no HTTP/2 extended CONNECT: ${err.message}`);
        throw err;
      }
      try {
        const { host, port } = hostPort(ctx.echo);
        const sock = quiet(await client.connectUdp(host, port));
        return (await echoOnce(sock, payloadOf(500, 9), ctx.timeoutMs))
          ? pass('500-byte echo as DATAGRAM capsules over HTTP/2')
          : fail('no echo over HTTP/2');
      } finally {
        await client.close();
      }
    },
  },
  {
    name: 'udp-many-tunnels',
    group: 'connect-udp',
    description: '16 tunnels on one connection, each echoing its own payload',
    run: (ctx) =>
      withClient(ctx, {}, async (client) => {
        const { host, port } = hostPort(ctx.echo);
        const socks = await Promise.all(
          Array.from({ length: 16 }, async () => quiet(await client.connectUdp(host, port))),
        );
        const oks = await Promise.all(
          socks.map((s, i) => echoOnce(s, payloadOf(64, i), ctx.timeoutMs)),
        );
        const n = oks.filter(Boolean).length;
        return n === 16 ? pass('16 tunnels, 16 echoes') : fail(`${n} of 16 tunnels echoed`);
      }),
  },
  {
    name: 'udp-refusal-status',
    group: 'connect-udp',
    description: 'a target that cannot resolve is refused with a Proxy-Status (RFC 9209)',
    run: (ctx) =>
      withClient(ctx, {}, async (client) => {
        try {
          await client.connectUdp('masque-interop.invalid', 443);
          return fail('a tunnel to masque-interop.invalid was opened');
        } catch (err) {
          if (!(err instanceof MasqueError)) throw err;
          const ps = err.proxyStatus?.[0];
          if (err.status === undefined) return fail(`${err.code}: ${err.message}`);
          if (ps === undefined) return fail(`status ${err.status} without Proxy-Status`);
          return pass(`status ${err.status}, Proxy-Status error=${ps.error ?? '(none)'}`);
        }
      }),
  },
  {
    name: 'udp-ipv6',
    group: 'connect-udp',
    description: 'an echo target on an IPv6 address',
    run: async (ctx) => {
      if (ctx.echo6 === undefined) return unsupported('no IPv6 echo target given (--echo6)');
      return withClient(ctx, {}, async (client) => {
        const { host, port } = hostPort(ctx.echo6 as string);
        const sock = quiet(await client.connectUdp(host, port));
        return (await echoOnce(sock, payloadOf(100, 3), ctx.timeoutMs))
          ? pass(`echo from [${host}]:${port}`)
          : fail(`no echo from [${host}]:${port}`);
      });
    },
  },
];

export { payloadOf, quiet, withClient };
