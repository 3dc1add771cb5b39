import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SOCKET_BUFFER_BYTES,
  nodeUdpSocketFactory,
} from '../../../src/masque/proxy/udp-socket.js';
import { bindUdpSocket } from '../../../src/runtime/udp/datagram-socket.js';

/** The kernel's cap on SO_RCVBUF (a buffer is granted up to it, doubled for bookkeeping). */
const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));

describe('UDP socket buffers', () => {
  it('tunnel sockets ask for 4 MiB buffers (granted up to net.core.rmem_max)', async () => {
    const sock = await nodeUdpSocketFactory().open({ address: '127.0.0.1', family: 4, port: 9 });
    try {
      const granted = Math.min(DEFAULT_SOCKET_BUFFER_BYTES, rmemMax) * 2;
      expect(sock.recvBufferSize).toBe(granted);
    } finally {
      sock.close();
    }
  });

  it('the endpoint socket too, and it counts the sends the kernel refuses', async () => {
    const s = await bindUdpSocket('127.0.0.1:0', pino({ level: 'silent' }));
    try {
      expect(s.sendErrors).toBe(0);
      // Larger than any UDP datagram: EMSGSIZE, counted instead of only logged.
      s.send(new Uint8Array(70_000), 9, '127.0.0.1');
      await expect.poll(() => s.sendErrors).toBe(1);
    } finally {
      await s.close();
    }
  });
});
