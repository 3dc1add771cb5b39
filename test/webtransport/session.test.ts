/**
 * WebTransport sessions on our H3Server over loopback QUIC, driven by our H3Client acting as a
 * WebTransport client by hand (extended CONNECT `:protocol webtransport`, then streams with the
 * 0x41 / 0x54 headers through the session's extension hooks). Narratives: the echo endpoint
 * echoes streams, datagrams and resets; a close capsule ends the session and its streams
 * (WT_SESSION_GONE); a stream that arrives before its session is held; a bad Session ID closes
 * the connection with H3_ID_ERROR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../src/http3/errors.js';
import type { ClientConnectSession } from '../../src/runtime/client/connect.js';
import { H3Client } from '../../src/runtime/client/index.js';
import { H3Server } from '../../src/runtime/server/index.js';
import { generateDevCert } from '../../src/tls/certs/index.js';
import { systemRandom } from '../../src/util/random.js';
import {
  decodeCloseSessionValue,
  encodeCloseSession,
  encodeWtStreamHeader,
  serveWebTransport,
  serveWebTransportEcho,
  type WebTransportCloseInfo,
  type WebTransportError,
  type WebTransportSession,
  WT_BIDI_SIGNAL,
  WT_UNI_STREAM_TYPE,
  WtErrorCode,
  WtStreamSink,
  webTransportCodeToHttp,
  webTransportSessionOptions,
} from '../../src/webtransport/index.js';
import { concatBytes, fromHex } from '../../src/wire/hex.js';
import { waitFor } from '../support/wait.js';

const cert = generateDevCert({ random: systemRandom });
let server: H3Server;
const custom: WebTransportSession[] = [];
const customStreams: Array<{ session: number; bytes: string }> = [];
/** IDs of the streams the /custom handler was handed, as soon as it has them. */
const customOpened: number[] = [];

beforeAll(async () => {
  server = await H3Server.listen({
    listen: '127.0.0.1:0',
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    settings: webTransportSessionOptions(),
  });
  serveWebTransportEcho(server, '/echo');
  serveWebTransport(server, '/custom', async (session) => {
    custom.push(session);
    session.accept();
    for await (const s of session.incomingBidirectionalStreams()) {
      customOpened.push(s.streamId);
      const bytes = await s.readable.bytes();
      customStreams.push({ session: session.sessionId, bytes: new TextDecoder().decode(bytes) });
      s.writable.end();
    }
  });
});

afterAll(async () => {
  await server.close({ timeout: 200 });
});

async function client(): Promise<H3Client> {
  return H3Client.connect(
    { host: '127.0.0.1', port: server.port },
    {
      ca: [cert.certPem],
      noSystemRoots: true,
      serverName: 'localhost',
      settings: { extensionBidiSignals: [WT_BIDI_SIGNAL], extensionUniTypes: [WT_UNI_STREAM_TYPE] },
    },
  );
}

function open(c: H3Client, path: string): Promise<ClientConnectSession> {
  return c.connect(
    'webtransport',
    path,
    { origin: 'https://localhost' },
    { capsuleProtocol: false },
  );
}

/** Opens a WebTransport stream from the client side for session `cs`. */
function stream(cs: ClientConnectSession, bidirectional: boolean): WtStreamSink {
  const d = cs.driver;
  const id = d.session.openExtensionStream(
    bidirectional,
    encodeWtStreamHeader(bidirectional, cs.streamId),
  );
  d.kick();
  return WtStreamSink.outgoing(d, id, bidirectional, {});
}

function pattern(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 7 + (i >> 10)) & 0xff);
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms)),
  ]);
}

describe('the echo endpoint', () => {
  it('answers 200 with sec-webtransport-http3-draft: draft02', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      expect(cs.status).toBe(200);
      expect(cs.header('sec-webtransport-http3-draft')).toBe('draft02');
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('echoes 200 kB on a bidirectional stream, FIN included', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      const s = stream(cs, true);
      const data = pattern(200_000);
      for (let at = 0; at < data.length; at += 16_384) {
        if (!s.send!.write(data.subarray(at, at + 16_384))) await s.send!.drained();
      }
      s.send!.end();
      // A hang guard only: on a loaded 2-core machine this echo has taken 4.5 s.
      const back = await within(s.recv!.bytes(), 20_000, 'echo');
      expect(back).toEqual(data);
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('echoes datagrams (quarter stream ID of the CONNECT stream, no context ID)', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      const it = cs.datagrams()[Symbol.asyncIterator]();
      // Datagrams are unreliable (RFC 9221), even over loopback: resend until an echo is back.
      const echo = it.next();
      const send = () => cs.sendDatagram(fromHex('0102030405'));
      send();
      const resend = setInterval(send, 200);
      try {
        expect((await within(echo, 5000, 'datagram echo')).value).toEqual(fromHex('0102030405'));
      } finally {
        clearInterval(resend);
      }
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('echoes a unidirectional stream on a server stream of the same session', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      const incoming = new Promise<{ session: bigint; sink: WtStreamSink }>((resolve) => {
        cs.driver.onExtensionStream = (ev) => {
          WtStreamSink.incoming(cs.driver, ev.streamId, ev.bidirectional, {}, (session, sink) =>
            resolve({ session, sink }),
          );
        };
      });
      const out = stream(cs, false);
      out.send!.write(new TextEncoder().encode('one way'));
      out.send!.end();
      const { session, sink } = await within(incoming, 5000, 'server stream');
      expect(session).toBe(BigInt(cs.streamId));
      expect(sink.streamId & 3).toBe(3); // server-initiated unidirectional
      expect(new TextDecoder().decode(await sink.recv!.bytes())).toBe('one way');
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('echoes a reset with the same application code (draft §4.4 mapping)', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      const s = stream(cs, true);
      const chunks = s.recv![Symbol.asyncIterator]();
      s.send!.write(fromHex('aabb'));
      // The echo of the data shows the server has the stream in the session: reset it now.
      let echoed = 0;
      while (echoed < 2) echoed += (await within(chunks.next(), 5000, 'data echo')).value.length;
      s.send!.reset(77);
      const err = await within(
        chunks.next().then(
          () => undefined,
          (e: WebTransportError) => e,
        ),
        5000,
        'reset echo',
      );
      expect(err).toMatchObject({
        code: 'STREAM_RESET',
        applicationCode: 77,
        h3Code: webTransportCodeToHttp(77),
      });
    } finally {
      await c.close({ timeout: 100 });
    }
  });
});

describe('closing a session', () => {
  it('CLOSE_WEBTRANSPORT_SESSION from the client ends it and resets its streams', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/custom');
      const session = custom[custom.length - 1];
      const s = stream(cs, true);
      s.send!.write(fromHex('01'));
      const reading = s.recv!.bytes().then(
        () => undefined,
        (err: WebTransportError) => err,
      );
      // Close once the server's session has the stream (its streams are what the close resets).
      await waitFor(() => customOpened.includes(s.streamId), { what: 'the stream at the server' });
      cs.write(encodeCloseSession({ code: 3, reason: 'client is done' }));
      cs.close();
      const info: WebTransportCloseInfo = await within(session.closed, 5000, 'close');
      expect(info).toEqual({ kind: 'closed', code: 3, reason: 'client is done', byPeer: true });
      // draft §6: the session's streams are reset with WT_SESSION_GONE.
      expect(await within(reading, 5000, 'stream end')).toMatchObject({
        code: 'STREAM_RESET',
        h3Code: WtErrorCode.WT_SESSION_GONE,
      });
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('close() from the server sends the capsule and ends the CONNECT stream', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/custom');
      const session = custom[custom.length - 1];
      session.close({ code: 0xfffffffe, reason: 'maintenance' });
      const parts: Uint8Array[] = [];
      for await (const chunk of cs.data()) parts.push(chunk);
      const bytes = concatBytes(...parts);
      // Type 0x2843 (68 43), length 4 + 11, then the value.
      expect(bytes.subarray(0, 3)).toEqual(fromHex('68430f'));
      expect(decodeCloseSessionValue(bytes.subarray(3))).toEqual({
        code: 0xfffffffe,
        reason: 'maintenance',
      });
      expect((await session.closed).byPeer).toBe(false);
    } finally {
      await c.close({ timeout: 100 });
    }
  });
});

describe('streams and sessions arriving out of order', () => {
  it('a stream that arrives before its CONNECT is held, then handed to the session', async () => {
    const c = await client();
    try {
      // After a first session the server's connection knows WebTransport.
      const h3 = (await open(c, '/echo')).driver;
      // The next bidirectional stream carries data for the CONNECT that will follow it.
      const id = h3.session.openExtensionStream(true, new Uint8Array(0));
      h3.session.writeExtensionStream(id, encodeWtStreamHeader(true, id + 4));
      h3.session.writeExtensionStream(id, new TextEncoder().encode('early'), true);
      h3.kick();
      await Promise.resolve(); // kick() sends in a microtask, queued before this one
      // Send the CONNECT only once the server acknowledged the early stream: it has it first.
      await waitFor(() => c.connection.stats.bytesInFlight === 0, {
        what: 'the early stream acked',
      });
      const before = customStreams.length;
      const cs = await open(c, '/custom');
      expect(cs.streamId).toBe(id + 4);
      await waitFor(() => customStreams.length > before, { what: 'the held stream' });
      expect(customStreams[before]).toEqual({ session: id + 4, bytes: 'early' });
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('a Session ID that is not a client bidirectional stream closes with H3_ID_ERROR', async () => {
    const c = await client();
    try {
      const cs = await open(c, '/echo');
      const d = cs.driver;
      const id = d.session.openExtensionStream(true, fromHex('404102'));
      d.session.writeExtensionStream(id, fromHex('00'), true);
      d.kick();
      const info = await within(c.closed, 5000, 'connection close');
      expect(info).toMatchObject({ errorCode: H3ErrorCode.H3_ID_ERROR, byPeer: true });
    } finally {
      await c.close({ timeout: 100 });
    }
  });

  it('a path without a WebTransport handler is refused with 404', async () => {
    const c = await client();
    try {
      await expect(open(c, '/nowhere')).rejects.toThrow(/404/);
    } finally {
      await c.close({ timeout: 100 });
    }
  });
});
