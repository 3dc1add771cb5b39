/**
 * Stateless resets in forwarded mode (quic-proxy §6.8): the token in ACK_TARGET_CID is the one our
 * endpoint derives for that target VCID, so once the mapping is gone (the tunnel closed), a
 * forwarded packet still carrying the VCID is answered with a stateless reset the client can
 * recognise (RFC 9000 §10.3: the last 16 bytes are the token).
 */
import { createSocket } from 'node:dgram';
import { H3Client } from 'masque/http3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
  quicProxyCapsuleLimits,
} from '../../../src/masque/capsules/quic-proxy.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { waitFor } from '../../support/wait.js';
import { echoServer, startTestProxy, testCert } from './loopback.js';

const cleanup: Array<() => Promise<unknown> | undefined> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('QUIC-aware: stateless resets for VCIDs no longer mapped (quic-proxy §6.8)', () => {
  it('a forwarded packet for a closed tunnel gets a reset ending with the ACK_TARGET_CID token', async () => {
    const proxy = await startTestProxy();
    cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
    const target = await echoServer();
    cleanup.push(() => target.close());
    const client = await H3Client.connect(
      { host: '127.0.0.1', port: proxy.proxy.port },
      { ca: [testCert.certPem], noSystemRoots: true, serverName: 'localhost' },
    );
    cleanup.push(() => client.close({ timeout: 500 }));
    const tunnel = await client.connect(
      'connect-udp',
      `/.well-known/masque/udp/127.0.0.1/${target.port}/`,
      [['proxy-quic-forwarding', '?1; accept-transform="identity"']],
      { knownCapsules: quicProxyCapsuleLimits('draft-09') },
    );
    const capsules: QuicProxyCapsule[] = [];
    tunnel.onCapsule((c) => {
      const d = decodeQuicProxyCapsule(Number(c.type), c.value, 'draft-09', 'client');
      if (d !== undefined) capsules.push(d);
    });
    const [type, value] = encodeQuicProxyCapsule(
      {
        kind: 'register_target_cid',
        reason: 0,
        cid: fromHex('7172737475767778'),
        token: new Uint8Array(0),
      },
      'draft-09',
    );
    tunnel.sendCapsule(type, value);
    await waitFor(() => capsules.some((c) => c.kind === 'ack_target_cid'));
    const ack = capsules.find((c) => c.kind === 'ack_target_cid') as {
      vcid: Uint8Array;
      token: Uint8Array;
    };
    expect(ack.token.length).toBe(16);
    tunnel.close();
    await waitFor(() => proxy.proxy.handler.stats().tunnelsActive === 0);

    // The mapping is gone: a packet with the VCID is for no connection of the proxy.
    const raw = createSocket('udp4');
    cleanup.push(() => new Promise<void>((r) => raw.close(() => r())));
    const replies: Uint8Array[] = [];
    raw.on('message', (m) => replies.push(new Uint8Array(m)));
    await new Promise<void>((r) => raw.bind(0, '127.0.0.1', () => r()));
    const packet = concatBytes(Uint8Array.of(0x41), ack.vcid, new Uint8Array(100).fill(7));
    await waitFor(() => {
      raw.send(packet, proxy.proxy.port, '127.0.0.1');
      return replies.length > 0;
    });
    const reset = replies[0];
    expect(reset.length).toBeLessThan(packet.length); // RFC 9000 §10.3.3: smaller than the trigger
    expect(toHex(reset.subarray(reset.length - 16))).toBe(toHex(ack.token));
  });
});
