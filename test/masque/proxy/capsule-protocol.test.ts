/**
 * connect-udp always speaks the Capsule Protocol (RFC 9298 §3; RFC 9297 §3.2), whatever the
 * request's `capsule-protocol` header says (RFC 9297 §3.4 makes it a hint). A client written here
 * for the test, from the RFC text: it omits the header, offers no HTTP/3 datagrams (so every echo
 * must come back reliably, as DATAGRAM capsules), and frames its capsules by hand.
 */

import { H3Client } from 'masque/http3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EchoServer,
  echoServer,
  startTestProxy,
  type TestProxy,
  testCert,
} from './loopback.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** QUIC varint (RFC 9000 §16), written out here rather than taken from our codec. */
function varint(n: number): number[] {
  if (n < 0x40) return [n];
  if (n < 0x4000) return [0x40 | (n >> 8), n & 0xff];
  return [0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** A DATAGRAM capsule (type 0x00) carrying Context ID 0 and `payload` (RFC 9298 §5). */
function datagramCapsule(payload: Uint8Array): Uint8Array {
  const value = [0x00, ...payload]; // Context ID 0, then the UDP payload
  return Uint8Array.from([0x00, ...varint(value.length), ...value]);
}

/** Splits a capsule byte stream into DATAGRAM payloads (after the Context ID). */
class CapsuleReader {
  #buf: number[] = [];
  readonly payloads: Uint8Array[] = [];
  readonly otherTypes: number[] = [];

  push(chunk: Uint8Array): void {
    this.#buf.push(...chunk);
    for (;;) {
      const t = this.#read(0);
      if (t === undefined) return;
      const l = this.#read(t.next);
      if (l === undefined || this.#buf.length < l.next + l.value) return;
      const value = Uint8Array.from(this.#buf.slice(l.next, l.next + l.value));
      this.#buf = this.#buf.slice(l.next + l.value);
      if (t.value === 0) {
        expect(value[0]).toBe(0); // Context ID 0
        this.payloads.push(value.subarray(1));
      } else {
        this.otherTypes.push(t.value);
      }
    }
  }

  #read(at: number): { value: number; next: number } | undefined {
    if (this.#buf.length <= at) return undefined;
    const len = 1 << (this.#buf[at] >> 6);
    if (this.#buf.length < at + len) return undefined;
    let v = this.#buf[at] & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + this.#buf[at + i];
    return { value: v, next: at + len };
  }
}

async function setup(): Promise<{ proxy: TestProxy; echo: EchoServer; client: H3Client }> {
  const proxy = await startTestProxy();
  cleanup.push(() => proxy.proxy.close({ timeout: 500 }));
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const client = await H3Client.connect(
    { host: '127.0.0.1', port: proxy.proxy.port },
    {
      ca: [testCert.certPem],
      noSystemRoots: true,
      serverName: 'localhost',
      settings: { h3Datagram: false },
    },
  );
  cleanup.push(() => client.close({ timeout: 500 }));
  return { proxy, echo, client };
}

describe('connect-udp without the capsule-protocol header', () => {
  it('relays DATAGRAM capsules both ways and answers capsule-protocol: ?1', async () => {
    const { proxy, echo, client } = await setup();
    const tunnel = await client.connect(
      'connect-udp',
      `/.well-known/masque/udp/127.0.0.1/${echo.port}/`,
      undefined,
      { capsuleProtocol: false },
    );
    expect(tunnel.headers.some(([n]) => n === 'capsule-protocol')).toBe(false);
    expect(tunnel.header('capsule-protocol')).toBe('?1');
    const reader = new CapsuleReader();
    const allIn = new Promise<void>((resolve) => {
      tunnel.onData((chunk) => {
        reader.push(chunk);
        if (reader.payloads.length === 60) resolve();
      });
    });
    const sent: string[] = [];
    for (let i = 0; i < 60; i++) {
      // Small and 1300-byte payloads: the latter cannot ride a 1200-byte QUIC packet anyway.
      const size = i % 3 === 0 ? 1300 : 16 + i;
      const payload = new Uint8Array(size).fill(i);
      sent.push(`${size}:${i}`);
      // Written as tunnel bytes: the capsule framing is the test's own.
      tunnel.write(datagramCapsule(payload));
    }
    await allIn;
    const got = reader.payloads.map((p) => `${p.length}:${p[0]}`).sort();
    expect(got).toEqual(sent.sort());
    expect(reader.otherTypes).toEqual([]);
    expect(echo.received).toBe(60);
    expect(proxy.proxy.handler.stats().drops).toEqual({});
  });
});
