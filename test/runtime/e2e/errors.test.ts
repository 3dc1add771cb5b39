/**
 * Refusals and shutdown over loopback: unknown `:protocol` and plain CONNECT get 501, malformed
 * targets 400; a server's graceful close sends GOAWAY, lets requests in flight finish and the
 * client closes with H3_NO_ERROR; a close that times out ends what is left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { H3ErrorCode } from '../../../src/http3/errors.js';
import { H3HttpError } from '../../../src/runtime/server/index.js';
import { closeAll, connectClient, startServer, waitFor } from './setup.js';

afterEach(closeAll);

describe('refusals', () => {
  it('an extended CONNECT with an unknown :protocol is answered 501 (RFC 9220 §3)', async () => {
    const server = await startServer();
    server.handleConnect('known', (s) => s.accept());
    const client = await connectClient(server);
    const err = await client.connect('websocket', '/chat').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(H3HttpError);
    expect(err).toMatchObject({ code: 'CONNECT_REFUSED', status: 501 });
    // The registered protocol still works on the same connection.
    expect((await client.connect('known', '/')).status).toBe(200);
  });

  it('a plain CONNECT (no :protocol) is answered 501: this server is no TCP proxy', async () => {
    const server = await startServer();
    const client = await connectClient(server);
    const res = await client.request({ method: 'CONNECT', authority: 'example.com:443' });
    expect(res.status).toBe(501);
  });

  it.each([
    ['a relative :path', { path: 'relative/path' }],
    ['a :path with a space', { path: '/a b' }],
    ['a :path with a fragment', { path: '/page#frag' }],
    ['a :path with a bad escape', { path: '/%zz' }],
    ['"*" outside OPTIONS', { path: '*' }],
    ['an unsupported :scheme', { scheme: 'ftp' }],
    ['an :authority with a bad port', { authority: 'localhost:99999' }],
    ['an :authority with a space', { authority: 'bad host' }],
  ])('%s is answered 400', async (_, init) => {
    const server = await startServer();
    let reached = false;
    server.onRequest((_req, res) => {
      reached = true;
      res.end();
    });
    const client = await connectClient(server);
    const res = await client.request(init);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/scheme|authority|path/);
    expect(reached).toBe(false);
  });

  it('OPTIONS * is a valid target', async () => {
    const server = await startServer();
    server.onRequest((req, res) => res.end(req.path));
    const client = await connectClient(server);
    const res = await client.request({ method: 'OPTIONS', path: '*' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('*');
  });
});

describe('server close', () => {
  it('a request the server has not seen when it sends GOAWAY is reported REJECTED (retryable)', async () => {
    const server = await startServer();
    let reached = 0;
    server.onRequest((_req, res) => {
      reached++;
      res.end();
    });
    const client = await connectClient(server);
    // Sent in the same tick as the close: the server's GOAWAY says it processes none of them.
    const pending = client.request({ path: '/racing' }).catch((e: unknown) => e);
    await server.close({ timeout: 2000 });
    const err = await pending;
    // Either outcome is legal; the race is decided by which packet wins on loopback.
    if (reached === 0) expect(err).toMatchObject({ code: 'REJECTED' });
    else expect(err).not.toBeInstanceOf(Error);
  });

  it('GOAWAY: the request in flight completes, new ones are refused, the client closes cleanly', async () => {
    const server = await startServer();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = false;
    server.onRequest(async (_req, res) => {
      started = true;
      await gate;
      res.end('finished after GOAWAY');
    });
    const client = await connectClient(server);
    const pending = client.request({ path: '/slow' });
    await waitFor(() => started);
    const closing = server.close({ timeout: 5000 });
    await waitFor(() => client.goaway !== undefined);
    // RFC 9114 §5.2: no new requests after GOAWAY.
    await expect(client.request({ path: '/late' })).rejects.toMatchObject({
      code: 'CLIENT_CLOSED',
    });
    release();
    const res = await pending;
    expect(await res.text()).toBe('finished after GOAWAY');
    // The client closes with H3_NO_ERROR once its last request is done; the server's close ends.
    const info = await client.closed;
    expect(info).toMatchObject({ errorCode: H3ErrorCode.H3_NO_ERROR, app: true, byPeer: false });
    await closing;
    expect(server.stats().connections).toBe(0);
  });

  it('when the timeout expires, remaining requests fail with the connection close', async () => {
    const server = await startServer();
    let started = false;
    server.onRequest(() => {
      started = true; // and never answers
    });
    const client = await connectClient(server);
    const pending = client.request({ path: '/never' }).catch((e: unknown) => e);
    await waitFor(() => started);
    // The handler never answers: close() returning at all shows the timeout ended the wait.
    await server.close({ timeout: 100 });
    expect(await pending).toMatchObject({ code: 'CONNECTION_CLOSED' });
    const info = await client.closed;
    expect(info).toMatchObject({ errorCode: H3ErrorCode.H3_NO_ERROR, byPeer: true });
  });

  it('the client’s own close with nothing in flight closes at once with H3_NO_ERROR', async () => {
    const server = await startServer();
    const client = await connectClient(server);
    await client.close();
    const info = await client.closed;
    expect(info).toMatchObject({ errorCode: H3ErrorCode.H3_NO_ERROR, byPeer: false });
    await waitFor(() => server.stats().connections === 0);
    await expect(client.request({ path: '/' })).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });
});
