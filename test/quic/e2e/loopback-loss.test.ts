/**
 * Our client and server over real sockets through a seeded lossy relay (10% dropped each way,
 * handshake packets included; 5% reordered): the handshake completes and every stream byte
 * arrives (RFC 9002 §6 loss detection and PTO, RFC 9000 §13.3 retransmission).
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startClient, startServer, within } from './loopback.js';
import { startRelay } from './relay.js';

const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup.reverse()) await f();
});

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('loopback through a lossy relay, ours on both ends', () => {
  it('completes the handshake and echoes 3 × 512 KB at 10% loss', async () => {
    const server = await startServer();
    cleanup.push(() => server.close());
    const relay = await startRelay({ target: server.address, loss: 0.1, reorder: 0.05, seed: 5 });
    cleanup.push(() => relay.close());
    const client = await startClient();
    cleanup.push(() => client.close());
    const app = client.connect(relay.address);
    await within(app.handshake.promise, 20_000, 'handshake through the relay');
    const ok = await Promise.all(
      [0, 1, 2].map(async () => {
        const id = await app.openStream(true);
        const back = app.readAll(id);
        const data = randomBytes(512 * 1024);
        await app.write(id, data, true, client.kick);
        return sha256(await within(back, 40_000, `echo of stream ${id}`)) === sha256(data);
      }),
    );
    expect(ok).toEqual([true, true, true]);
    expect(relay.stats.dropped).toBeGreaterThan(20);
    expect(app.conn.stats.lostPackets + server.apps[0].conn.stats.lostPackets).toBeGreaterThan(0);
    app.conn.close(0);
    client.kick();
  }, 60_000);
});
