/**
 * Backpressure that is true to the transport: a response written faster than the peer's QUIC
 * flow-control credit allows is held by the session (`bufferedAmount`), `write` says so, and
 * `drained()` resolves as credit returns; a streamed request body is pulled no faster than the
 * connection carries it. Plus the body caps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectClient, pattern, sha256, startServer, waitFor } from './setup.js';

afterEach(closeAll);

const KiB = 1024;

describe('backpressure', () => {
  it('res.write returns false once the transport refuses bytes; drained() resolves as credit returns', async () => {
    const server = await startServer();
    const body = pattern(2048 * KiB, 5);
    const seen: { first: boolean; buffered: number; drainedAfter: number } = {
      first: true,
      buffered: 0,
      drainedAfter: -1,
    };
    server.onRequest(async (_req, res) => {
      res.writeHead(200);
      seen.first = res.write(body);
      // The client's stream window (64 KiB) is all QUIC takes at once: the rest waits in the session.
      seen.buffered = res.bufferedAmount;
      await res.drained();
      seen.drainedAfter = res.bufferedAmount;
      res.end();
    });
    const client = await connectClient(server, {
      transport: { initialMaxStreamDataBidiLocal: 64 * KiB },
    });
    const res = await client.request({ path: '/big' });
    expect(sha256(await res.bytes())).toBe(sha256(body));
    expect(seen.first).toBe(false);
    // Exactly the bytes QUIC refused: the body plus the HEADERS and DATA frame headers (a few
    // bytes) minus the 64 KiB window.
    expect(seen.buffered).toBeGreaterThan(body.length - 64 * KiB);
    expect(seen.buffered).toBeLessThan(body.length - 64 * KiB + 16);
    expect(seen.drainedAfter).toBeLessThanOrEqual(256 * KiB);
  });

  it('a streamed request body is pulled no faster than the connection carries it', async () => {
    const server = await startServer({
      transport: { initialMaxStreamDataBidiRemote: 64 * KiB },
    });
    let received = 0;
    server.onRequest(async (req, res) => {
      for await (const chunk of req) received += chunk.length;
      res.end(String(received));
    });
    const client = await connectClient(server);
    let yielded = 0;
    let maxAhead = 0;
    async function* chunks() {
      for (let i = 0; i < 64; i++) {
        maxAhead = Math.max(maxAhead, yielded - received);
        yielded += 64 * KiB;
        yield pattern(64 * KiB, i);
      }
    }
    const res = await client.request({ method: 'POST', path: '/up', body: chunks() });
    expect(await res.text()).toBe(String(64 * 64 * KiB));
    // Without backpressure the generator would run 4 MiB ahead at once.
    expect(maxAhead).toBeLessThan(1024 * KiB);
    expect(maxAhead).toBeGreaterThan(0);
  });

  it('req.bytes() refuses a body above its cap with BODY_TOO_LARGE', async () => {
    const server = await startServer();
    let code = '';
    server.onRequest(async (req, res) => {
      try {
        await req.bytes(1000);
      } catch (err) {
        code = (err as { code: string }).code;
      }
      res.writeHead(413);
      res.end();
    });
    const client = await connectClient(server);
    const res = await client.request({ method: 'POST', path: '/', body: pattern(5000, 1) });
    expect(res.status).toBe(413);
    expect(code).toBe('BODY_TOO_LARGE');
  });

  it('an unread request body beyond maxBufferedBody aborts the request with H3_EXCESSIVE_LOAD', async () => {
    const server = await startServer({ maxBufferedBody: 32 * KiB });
    server.onRequest(() => {
      // Never reads the body, never answers.
    });
    const client = await connectClient(server);
    const err = await client
      .request({ method: 'POST', path: '/', body: pattern(256 * KiB, 2) })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STREAM_RESET', h3Code: 0x107 });
  });

  it('a client that stops reading a download cancels it; the server sees res.aborted', async () => {
    const server = await startServer();
    let aborted = false;
    let written = 0;
    server.onRequest(async (_req, res) => {
      res.writeHead(200);
      const chunk = pattern(64 * KiB, 1);
      // An endless download: only the client's cancellation stops it.
      while (!res.aborted && written < 512 * 1024 * KiB) {
        written += chunk.length;
        if (!res.write(chunk)) await res.drained();
      }
      aborted = res.aborted;
    });
    const client = await connectClient(server);
    const res = await client.request({ path: '/endless' });
    let got = 0;
    for await (const chunk of res) {
      got += chunk.length;
      if (got > 256 * KiB) break;
    }
    await waitFor(() => aborted);
    expect(written).toBeLessThan(64 * 1024 * KiB);
  });
});
