import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../../src/crypto/native.js';
import {
  DEFAULT_SOCKET_BUFFER_BYTES,
  nodeUdpSocketFactory,
} from '../../../src/masque/proxy/udp-socket.js';
import { bindUdpSocket } from '../../../src/runtime/udp/datagram-socket.js';

/** Whether tunnel sockets send at once here (addon in use, Linux). */
const NATIVE = nativeBinding()?.send !== undefined;

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

describe("tunnel socket trySend (the addon's send on the connected socket)", () => {
  async function target() {
    const sock = createSocket('udp4');
    const got: Buffer[] = [];
    sock.on('message', (m) => got.push(m));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return { sock, got, port: sock.address().port };
  }

  it("sends a slice at once where the addon is loaded, and queues behind node's sends", async () => {
    const t = await target();
    const sock = await nodeUdpSocketFactory().open({
      address: '127.0.0.1',
      family: 4,
      port: t.port,
    });
    try {
      const bytes = Uint8Array.of(7, 1, 2, 7);
      expect(sock.trySend?.(bytes, 1, 2)).toBe(NATIVE);
      if (!NATIVE) sock.send(bytes.slice(1, 3), () => {});
      // One through node: until its callback runs, trySend declines (order).
      let called = false;
      sock.send(Uint8Array.of(3), () => {
        called = true;
      });
      expect(sock.trySend?.(Uint8Array.of(4), 0, 1)).toBe(false);
      await expect.poll(() => called).toBe(true);
      expect(sock.trySend?.(Uint8Array.of(5), 0, 1)).toBe(NATIVE);
      if (!NATIVE) sock.send(Uint8Array.of(5), () => {});
      await expect.poll(() => t.got.length).toBe(3);
      expect(t.got.map((b) => [...b])).toEqual([[1, 2], [3], [5]]);
      sock.close();
      expect(sock.trySend?.(Uint8Array.of(6), 0, 1)).toBe(false); // closed: send reports it
    } finally {
      sock.close();
      t.sock.close();
    }
  });

  it('datagrams from the target arrive whole and in order, each its own Buffer (drained or not)', async () => {
    const t = await target();
    const sock = await nodeUdpSocketFactory().open({
      address: '127.0.0.1',
      family: 4,
      port: t.port,
    });
    const got: Buffer[] = [];
    sock.onMessage((m) => got.push(m));
    try {
      // Find the tunnel socket's port from the target's side, then answer with a burst.
      sock.send(Uint8Array.of(0), () => {});
      await expect.poll(() => t.got.length).toBe(1);
      const [, port] = /:(\d+)$/.exec(sock.localAddress) as RegExpExecArray;
      for (let i = 0; i < 50; i++) {
        t.sock.send(new Uint8Array(10 + i * 97).fill(i), Number(port), '127.0.0.1');
      }
      await expect.poll(() => got.length).toBe(50);
      got.forEach((m, i) => {
        expect(Buffer.isBuffer(m)).toBe(true);
        expect(m.length).toBe(10 + i * 97);
        expect(m.every((b) => b === i)).toBe(true);
      });
    } finally {
      sock.close();
      t.sock.close();
    }
  });

  it('an ICMP port unreachable comes back as ECONNREFUSED (no addon: trySend declines)', async () => {
    if (!NATIVE) {
      const sock = await nodeUdpSocketFactory().open({ address: '127.0.0.1', family: 4, port: 9 });
      expect(sock.trySend?.(Uint8Array.of(1), 0, 1)).toBe(false);
      sock.close();
      return;
    }
    const t = await target();
    const port = t.port;
    await new Promise<void>((r) => t.sock.close(() => r())); // nobody listens there now
    const sock = await nodeUdpSocketFactory().open({ address: '127.0.0.1', family: 4, port });
    const errors: string[] = [];
    sock.onError((err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message));
    try {
      expect(sock.trySend?.(Uint8Array.of(1), 0, 1)).toBe(true);
      // The kernel's ICMP error is read by whichever comes first: our next send, or node's reader.
      await expect
        .poll(() => {
          const r = sock.trySend?.(Uint8Array.of(2), 0, 1);
          if (r instanceof Error) errors.push((r as NodeJS.ErrnoException).code ?? r.message);
          return errors;
        })
        .toContain('ECONNREFUSED');
    } finally {
      sock.close();
    }
  });
});
