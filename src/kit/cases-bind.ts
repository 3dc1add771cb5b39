/**
 * connect-udp-bind cases (draft-ietf-masque-connect-udp-listen): the uncompressed context both
 * ways, a compressed context, a peer we never dialled (the reflector), proxy-assigned contexts, the
 * firewall property, the legacy codepoints. A proxy without bind is "unsupported".
 */

import type { MasqueBindOptions, MasqueBoundSocket } from '../client/bound-socket.js';
import type { MasqueClient } from '../client/client.js';
import { MasqueError, MasqueErrorCode } from '../client/errors.js';
import type { RemoteInfo } from '../client/udp-socket.js';
import { payloadOf, quiet, withClient } from './cases-udp.js';
import {
  type CaseOutcome,
  fail,
  hostPort,
  type InteropCase,
  type InteropContext,
  pass,
  unsupported,
} from './types.js';

/** The first datagram for which `match` holds, or undefined after `ms` (or when the tunnel ends). */
function nextMessage(
  sock: MasqueBoundSocket,
  ms: number,
  match: (msg: Buffer, rinfo: RemoteInfo) => boolean,
  resend?: () => void,
): Promise<{ msg: Buffer; rinfo: RemoteInfo } | undefined> {
  return new Promise((resolve) => {
    const send = (): void => {
      try {
        resend?.();
      } catch {
        done(undefined); // the tunnel closed under us
      }
    };
    const timer = setTimeout(() => done(undefined), ms);
    const retry = resend === undefined ? undefined : setInterval(send, Math.max(100, ms / 5));
    const on = (msg: Buffer, rinfo: RemoteInfo): void => {
      if (match(msg, rinfo)) done({ msg, rinfo });
    };
    const onError = (): void => done(undefined);
    const done = (v: { msg: Buffer; rinfo: RemoteInfo } | undefined): void => {
      clearTimeout(timer);
      if (retry !== undefined) clearInterval(retry);
      sock.off('message', on);
      sock.off('error', onError);
      resolve(v);
    };
    sock.on('message', on);
    sock.on('error', onError);
    if (resend !== undefined) send();
  });
}

/** Opens a bound socket; a proxy without bind gives its refusal (unsupported). */
async function bindOrUnsupported(
  client: MasqueClient,
  opts: MasqueBindOptions,
): Promise<MasqueBoundSocket | MasqueError> {
  try {
    return await client.bindUdp(opts);
  } catch (err) {
    // A proxy without bind answers `*`/`*` with an error status (ours: 501), or accepts without
    // `connect-udp-bind: ?1`, or (seen with a reference proxy) resets the request: each says it
    // does not offer bind.
    if (
      err instanceof MasqueError &&
      (err.code === MasqueErrorCode.BIND_UNSUPPORTED ||
        err.code === MasqueErrorCode.PROXY_REFUSED ||
        err.code === MasqueErrorCode.TUNNEL_RESET)
    ) {
      return err;
    }
    throw err;
  }
}

function bindCase(
  name: string,
  description: string,
  opts: MasqueBindOptions,
  body: (sock: MasqueBoundSocket, ctx: InteropContext) => Promise<CaseOutcome>,
): InteropCase {
  return {
    name,
    group: 'bind',
    description,
    run: (ctx) =>
      withClient(ctx, {}, async (client) => {
        const sock = await bindOrUnsupported(client, { timeout: ctx.timeoutMs, ...opts });
        if (sock instanceof MasqueError) {
          const why = sock.status === undefined ? sock.code : `status ${sock.status}`;
          return unsupported(`the proxy does not offer connect-udp-bind (${why})`);
        }
        quiet(sock);
        try {
          return await body(sock, ctx);
        } finally {
          sock.close();
        }
      }),
  };
}

/** Echo through the bound socket to the echo target, checked byte for byte. */
async function echoVia(
  sock: MasqueBoundSocket,
  ctx: InteropContext,
  seed: number,
): Promise<boolean> {
  const { host, port } = hostPort(ctx.echo);
  const payload = Buffer.from(payloadOf(100, seed));
  const got = await nextMessage(
    sock,
    ctx.timeoutMs,
    (m, r) => r.port === port && m.equals(payload),
    () => sock.send(payload, port, host),
  );
  return got !== undefined;
}

/**
 * Asks the reflector to send to our public address from a port we never dialled. `ok`: its
 * answer from the port we did dial came back (the request got there); `from`: where the
 * "reflected" datagram came from, if it arrived within `waitMs` of the "ok".
 */
async function reflected(
  sock: MasqueBoundSocket,
  ctx: InteropContext,
  waitMs: number,
): Promise<{ ok: boolean; from: RemoteInfo | undefined }> {
  const refl = hostPort(ctx.reflector as string);
  const pub = sock.address();
  const text =
    pub.family === 'IPv6' ? `[${pub.address}]:${pub.port}` : `${pub.address}:${pub.port}`;
  let from: RemoteInfo | undefined;
  const onReflected = (m: Buffer, r: RemoteInfo): void => {
    if (m.toString() === 'reflected' && r.port !== refl.port) from ??= r;
  };
  sock.on('message', onReflected);
  try {
    const ok = await nextMessage(
      sock,
      ctx.timeoutMs,
      (m, r) => m.toString() === 'ok' && r.port === refl.port,
      () => sock.send(text, refl.port, refl.host),
    );
    if (ok !== undefined && from === undefined) {
      await nextMessage(sock, waitMs, () => from !== undefined);
    }
    return { ok: ok !== undefined, from };
  } finally {
    sock.off('message', onReflected);
  }
}

export const bindCases: InteropCase[] = [
  bindCase(
    'bind-uncompressed',
    'bind to */*: Proxy-Public-Address announced; an echo via the uncompressed context',
    { compressAfter: 0 },
    async (sock, ctx) => {
      if (sock.publicAddresses.length === 0) return fail('no Proxy-Public-Address');
      const a = sock.address();
      return (await echoVia(sock, ctx, 1))
        ? pass(`public ${a.address}:${a.port}; echo via the uncompressed context`)
        : fail('no echo through the uncompressed context');
    },
  ),
  bindCase(
    'bind-compressed',
    'a compressed context for the echo target (COMPRESSION_ASSIGN/ACK), then an echo on it',
    { compressAfter: 0 },
    async (sock, ctx) => {
      const { host, port } = hostPort(ctx.echo);
      sock.compress(host, port);
      if (!(await echoVia(sock, ctx, 2))) return fail('no echo');
      const s = sock.stats();
      return s.compressedReceived > 0
        ? pass(`${s.compressedSent} sent / ${s.compressedReceived} received compressed`)
        : fail('echoes arrived, but none on the compressed context');
    },
  ),
  bindCase(
    'bind-unknown-peer',
    "a peer we never dialled (the reflector's second port) reaches us at the public address",
    {},
    async (sock, ctx) => {
      if (ctx.reflector === undefined) return unsupported('no reflector given (--reflector)');
      const r = await reflected(sock, ctx, ctx.timeoutMs);
      if (!r.ok) return fail('no answer from the reflector');
      return r.from !== undefined
        ? pass(`datagram from ${r.from.address}:${r.from.port}`)
        : fail("nothing from the reflector's second port");
    },
  ),
  bindCase(
    'bind-proxy-contexts',
    'the proxy assigns its own (odd) contexts for a chatty peer, which we acknowledge',
    { compressAfter: 0 },
    async (sock, ctx) => {
      for (let i = 0; i < 40; i++)
        if (!(await echoVia(sock, ctx, 10 + i))) return fail('echo lost');
      const s = sock.stats();
      return s.compressedReceived > 0
        ? pass(`${s.compressedReceived} datagrams arrived on a proxy-assigned context`)
        : unsupported('the proxy assigned no context of its own (proxy-side compression is a MAY)');
    },
  ),
  bindCase(
    'bind-firewall',
    'without the uncompressed context, a peer without a compressed context does not get through',
    { uncompressed: false, compressAfter: 0 },
    async (sock, ctx) => {
      if (ctx.reflector === undefined) return unsupported('no reflector given (--reflector)');
      const refl = hostPort(ctx.reflector);
      sock.compress(refl.host, refl.port);
      const r = await reflected(sock, ctx, 500);
      if (!r.ok) return fail('no answer from the reflector on its compressed context');
      return r.from === undefined
        ? pass('the reflector answered on its compressed context; its second port was kept out')
        : fail(`a datagram from ${r.from.address}:${r.from.port} got through`);
    },
  ),
  bindCase(
    'bind-legacy',
    'the pre-10 codepoints (0x1C0FE323/0x1C0FE324, ACK by echo): a compressed echo',
    { wire: 'legacy', compressAfter: 0 },
    async (sock, ctx) => {
      const { host, port } = hostPort(ctx.echo);
      sock.compress(host, port);
      return (await echoVia(sock, ctx, 3))
        ? pass('echo with the legacy codepoints')
        : fail('no echo');
    },
  ),
];
