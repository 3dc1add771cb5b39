/**
 * Our client and our server over real loopback UDP: 50 MB on one bidirectional stream, the
 * server answers with the SHA-256 of what it received, the client compares it with its own.
 * Then a clean close that the server sees as the peer's application close.
 */
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { type OurClient, type OurServer, startClient, startServer, within } from './loopback.js';

const MB = 1024 * 1024;
const TOTAL_MB = 50;

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

describe('loopback, our client ↔ our server', () => {
  it('moves 50 MB on one stream, verified by SHA-256', async () => {
    const server: OurServer = await startServer({ app: 'sha256' });
    cleanup.push(() => server.close());
    const client: OurClient = await startClient();
    cleanup.push(() => client.close());

    const app = client.connect(server.address);
    expect(await within(app.handshake.promise, 10_000, 'handshake')).toBe('masque-interop');
    const id = await app.openStream(true);
    const answer = app.readAll(id);

    const hash = createHash('sha256');
    const t0 = performance.now();
    for (let i = 0; i < TOTAL_MB; i++) {
      const chunk = randomBytes(MB);
      hash.update(chunk);
      await within(app.write(id, chunk, i === TOTAL_MB - 1, client.kick), 60_000, `chunk ${i}`);
    }
    const digest = await within(answer, 120_000, 'server digest');
    const seconds = (performance.now() - t0) / 1000;
    expect(Buffer.from(digest).toString('hex')).toBe(hash.digest('hex'));

    const stats = app.conn.stats;
    // Figures for the report (vitest prints stdout of passing tests with --reporter=verbose).
    process.stdout.write(
      `loopback 50 MB: ${seconds.toFixed(2)} s, ${(TOTAL_MB / seconds).toFixed(2)} MB/s, ` +
        `lost ${stats.lostPackets}, pto ${stats.ptoCount}, srtt ${stats.smoothedRtt.toFixed(1)} ms\n`,
    );
    expect(stats.undecryptable).toBe(0);
    expect(server.apps).toHaveLength(1);

    const serverClosed = server.apps[0].closed.promise;
    app.conn.close(0x77, 'done');
    client.kick();
    const info = await within(serverClosed, 10_000, 'server sees the close');
    expect(info).toMatchObject({ errorCode: 0x77, app: true, byPeer: true, cause: 'close' });
  }, 240_000);
});
