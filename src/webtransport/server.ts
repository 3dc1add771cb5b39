/**
 * WebTransport on our `H3Server`: the session options a server needs (`webTransportSessionOptions`,
 * passed to `H3Server.listen({ settings })`), a path router for `:protocol webtransport`
 * (`serveWebTransport`) and an echo endpoint (`serveWebTransportEcho`).
 *
 *   const server = await H3Server.listen({ ..., settings: webTransportSessionOptions() });
 *   serveWebTransportEcho(server, '/echo');
 */

import type { H3SessionOptions } from '../http3/session/index.js';
import { DatagramTooLargeError } from '../quic/api.js';
import type { H3Server } from '../runtime/server/server.js';
import type { ServerConnectSession } from '../runtime/server/server-connect.js';
import { WT_KNOWN_CAPSULES } from './capsules.js';
import { WT_BIDI_SIGNAL, WT_PROTOCOL, WT_UNI_STREAM_TYPE, WtSetting } from './constants.js';
import { WebTransportError } from './errors.js';
import { WebTransportSession, type WebTransportSessionOptions } from './session.js';
import type { WebTransportReceiveStream, WebTransportSendStream } from './streams.js';

/**
 * HTTP/3 session options for a WebTransport server: extended CONNECT and HTTP/3 datagrams on,
 * SETTINGS_ENABLE_WEBTRANSPORT = 1 (the draft-02 setting Chromium 156 requires, see
 * `constants.ts`), and the 0x41 / 0x54 stream hooks. The server's QUIC transport must offer
 * max_datagram_frame_size > 0 (H3Server's default does).
 */
export function webTransportSessionOptions(): H3SessionOptions {
  return {
    enableConnectProtocol: true,
    h3Datagram: true,
    extraSettings: [{ id: BigInt(WtSetting.ENABLE_WEBTRANSPORT), value: 1n }],
    extensionBidiSignals: [WT_BIDI_SIGNAL],
    extensionUniTypes: [WT_UNI_STREAM_TYPE],
  };
}

/** A WebTransport handler: answers with `session.accept()` or `session.reject(status)`. */
export type WebTransportHandler = (session: WebTransportSession) => void | Promise<void>;

interface Route {
  readonly handler: WebTransportHandler;
  readonly options: WebTransportSessionOptions;
}

const routers = new WeakMap<H3Server, Map<string, Route>>();

/**
 * Serves WebTransport sessions whose `:path` (without its query) is `path`. Requests for other
 * paths get 404. The server must have been started with {@link webTransportSessionOptions}.
 */
export function serveWebTransport(
  server: H3Server,
  path: string,
  handler: WebTransportHandler,
  options: WebTransportSessionOptions = {},
): void {
  let routes = routers.get(server);
  if (routes === undefined) {
    const table = new Map<string, Route>();
    routes = table;
    routers.set(server, table);
    // The CONNECT stream carries capsules whether or not `capsule-protocol` is sent (Chromium
    // does not send it).
    server.handleConnect(WT_PROTOCOL, (connect) => route(table, connect), {
      capsuleProtocol: 'always',
      knownCapsules: WT_KNOWN_CAPSULES,
    });
  }
  routes.set(path, { handler, options });
}

function route(routes: Map<string, Route>, connect: ServerConnectSession): void | Promise<void> {
  const q = connect.path.indexOf('?');
  const r = routes.get(q < 0 ? connect.path : connect.path.slice(0, q));
  if (r === undefined) {
    connect.reject(404);
    return;
  }
  return r.handler(new WebTransportSession(connect, r.options));
}

/**
 * An echo endpoint: every datagram is sent back, every bidirectional stream's bytes and FIN are
 * written back on the same stream, and every unidirectional stream is echoed on a new
 * unidirectional stream of ours. A peer's reset is echoed as a reset with the same code.
 */
export function serveWebTransportEcho(
  server: H3Server,
  path: string,
  options: WebTransportSessionOptions = {},
): void {
  serveWebTransport(server, path, (session) => echoSession(session), options);
}

/** Accepts `session` and echoes everything on it (see {@link serveWebTransportEcho}). */
export function echoSession(session: WebTransportSession): void {
  session.accept();
  session.onDatagram((payload) => {
    try {
      session.sendDatagram(payload);
    } catch (err) {
      // A datagram that fits one way may not fit the other; unreliable by nature.
      if (!(err instanceof DatagramTooLargeError)) throw err;
    }
  });
  void (async () => {
    for await (const s of session.incomingBidirectionalStreams()) void pipe(s.readable, s.writable);
  })();
  void (async () => {
    for await (const r of session.incomingUnidirectionalStreams()) {
      let w: WebTransportSendStream;
      try {
        w = session.createUnidirectionalStream();
      } catch (err) {
        if (!(err instanceof WebTransportError)) throw err;
        r.stop(0);
        continue;
      }
      void pipe(r, w);
    }
  })();
}

/** Copies `r` to `w` with backpressure; a reset of `r` becomes a reset of `w`. */
export async function pipe(r: WebTransportReceiveStream, w: WebTransportSendStream): Promise<void> {
  try {
    for await (const chunk of r) {
      if (!w.write(chunk)) await w.drained();
    }
    w.end();
  } catch (err) {
    if (!(err instanceof WebTransportError)) throw err;
    w.reset(err.applicationCode ?? 0);
  }
}
