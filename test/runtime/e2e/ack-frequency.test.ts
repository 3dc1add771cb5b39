/**
 * The `ackFrequency` option reaches the server's QUIC connections over real loopback: by default
 * the server asks a client that advertised min_ack_delay for fewer ACKs (an ACK_FREQUENCY frame in
 * its qlog, draft-ietf-quic-ack-frequency-14); with `ackFrequency: false` it never does.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connectClient, pattern, startServer, waitFor } from './setup.js';

afterEach(closeAll);

/** Frame types of the packets the server sent, from its qlog files in `dir`. */
function sentFrameTypes(dir: string): string[] {
  const types: string[] = [];
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\u001e')) {
      if (line.trim() === '') continue;
      const rec = JSON.parse(line) as {
        name?: string;
        data?: { frames?: { frame_type: string }[] };
      };
      if (rec.name !== 'transport:packet_sent') continue;
      for (const f of rec.data?.frames ?? []) types.push(f.frame_type);
    }
  }
  return types;
}

async function serverFrames(ackFrequency: false | undefined): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'masque-af-'));
  try {
    const server = await startServer({ qlogDir: dir, ackFrequency });
    const body = pattern(200_000, 1);
    server.onRequest((_req, res) => res.end(body));
    const client = await connectClient(server);
    const res = await client.request({ path: '/' });
    expect((await res.bytes()).length).toBe(body.length);
    await client.close({ timeout: 200 });
    await server.close({ timeout: 200 });
    await waitFor(() => readdirSync(dir).length > 0, 2_000);
    return sentFrameTypes(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ackFrequency option of the HTTP/3 server', () => {
  it('by default the server sends ACK_FREQUENCY to a client that supports it', async () => {
    const types = await serverFrames(undefined);
    expect(types).toContain('stream');
    expect(types).toContain('ack_frequency');
  });

  it('ackFrequency: false sends none', async () => {
    const types = await serverFrames(false);
    expect(types).toContain('stream');
    expect(types).not.toContain('ack_frequency');
  });
});
