/**
 * The steering program (src/runtime/udp/reuseport-steering.ts). Its logic, on any machine, through
 * a classic BPF interpreter: long and short headers reach the worker their DCID's last byte names,
 * a worker without a socket and a truncated datagram get the kernel's fallback. Then the kernel's
 * own behaviour, which ReuseportGroup mirrors: on Node >= 22.12 (node:dgram binds with
 * SO_REUSEPORT) four sockets share a port, the program attached through the native addon steers
 * each datagram to its socket, and after one socket closes (the last takes its place) and a new
 * one binds (appended) the program rebuilt from the group still steers every datagram right. On
 * Node 20 (no reusePort) the kernel refuses the program on a socket with no group. CI runs this
 * file on both runtimes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../../src/crypto/native.js';
import { socketFd } from '../../../src/runtime/udp/datagram-socket.js';
import {
  encodeProgram,
  ReuseportGroup,
  STEER_FALLBACK,
  steeringProgram,
} from '../../../src/runtime/udp/reuseport-steering.js';
import { runCbpf } from '../../support/cbpf.js';
import { waitFor } from '../../support/wait.js';

const [MAJOR, MINOR] = process.versions.node.split('.').map(Number);
const REUSE_PORT = MAJOR > 22 || (MAJOR === 22 && MINOR >= 12);

/** A short-header packet (RFC 9000 §17.3) to an 8-byte DCID ending in `last`. */
function short(last: number): Uint8Array {
  const p = new Uint8Array(40).fill(0x11);
  p[0] = 0x40;
  p[8] = last;
  return p;
}

/** A long-header Initial (§17.2.2) with a DCID of `len` bytes ending in `last`. */
function long(last: number, len = 8): Uint8Array {
  const p = new Uint8Array(1200).fill(0x22);
  p.set([0xc0, 0, 0, 0, 1, len], 0);
  p[5 + len] = last;
  return p;
}

describe('steeringProgram (interpreted)', () => {
  it('steers long and short headers by their DCID last byte, worker by worker', () => {
    const program = steeringProgram(8, 3, [2, 0, 1]);
    for (let b = 0; b < 256; b++) {
      expect(runCbpf(program, short(b))).toBe([2, 0, 1][b % 3]);
      expect(runCbpf(program, long(b))).toBe([2, 0, 1][b % 3]);
      expect(runCbpf(program, long(b, 20))).toBe([2, 0, 1][b % 3]);
    }
  });

  it('a worker with no socket now, and a datagram too short to read, fall back', () => {
    const program = steeringProgram(8, 2, [undefined, 0]);
    expect(runCbpf(program, short(4))).toBe(STEER_FALLBACK);
    expect(runCbpf(program, short(5))).toBe(0);
    expect(runCbpf(program, Uint8Array.of(0x40, 1, 2))).toBe(0);
    expect(runCbpf(program, Uint8Array.of(0xc0, 0, 0, 0, 1, 20, 1))).toBe(0);
  });

  it('encodes struct sock_filter: 8 bytes per instruction; refuses impossible layouts', () => {
    const program = steeringProgram(8, 2, [0, 1]);
    const bytes = encodeProgram(program);
    expect(bytes.length).toBe(program.length * 8);
    expect(() => steeringProgram(0, 2, [])).toThrow(RangeError);
    expect(() => steeringProgram(21, 2, [])).toThrow(RangeError);
    expect(() => steeringProgram(8, 257, [])).toThrow(RangeError);
  });
});

describe('ReuseportGroup', () => {
  it('appends on bind and moves the last socket into a closed one’s place', () => {
    const g = new ReuseportGroup();
    for (const w of [0, 1, 2, 3]) g.joined(w);
    expect(g.slots(4)).toEqual([0, 1, 2, 3]);
    g.left(1);
    expect(g.slots(4)).toEqual([0, undefined, 2, 1]);
    g.joined(1);
    expect(g.slots(4)).toEqual([0, 3, 2, 1]);
    g.left(1); // the last one: nothing moves
    expect(g.slots(4)).toEqual([0, undefined, 2, 1]);
    expect(() => g.joined(0)).toThrow(/twice/);
  });
});

async function bindShared(port: number): Promise<Socket> {
  const s = createSocket({ type: 'udp4', reusePort: true } as Parameters<typeof createSocket>[0]);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve());
  });
  return s;
}

describe('the kernel runs it', () => {
  const addon = loadNativeAddon();

  /** Node < 22.12 cannot bind a group: the kernel must refuse the program on a lone socket. */
  async function lone(): Promise<void> {
    expect(addon?.attachReuseportCbpf).toBeTypeOf('function');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const rc = addon?.attachReuseportCbpf?.(
      socketFd(s) as number,
      encodeProgram(steeringProgram(8, 2, [0, 1])),
    );
    s.close();
    expect(rc).toBe(-22); // EINVAL
  }

  // One test for either runtime, so that neither run reports a skip.
  it(
    REUSE_PORT
      ? 'Node >= 22.12: four sockets on a port, one closes, one joins, every datagram reaches its worker'
      : 'Node < 22.12: a socket with no SO_REUSEPORT group refuses the program',
    async () => {
      if (!REUSE_PORT) return lone();
      const attach = addon?.attachReuseportCbpf;
      expect(attach).toBeTypeOf('function');
      const probe = createSocket('udp4');
      await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
      const port = probe.address().port;
      probe.close();
      const sockets: (Socket | undefined)[] = [];
      const got: number[][] = [[], [], [], []];
      const group = new ReuseportGroup();
      const join = async (w: number): Promise<void> => {
        const s = await bindShared(port);
        s.on('message', (m) => got[w].push(m[0] & 0x80 ? m[13] : m[8]));
        sockets[w] = s;
        group.joined(w);
      };
      const steer = (): void => {
        const live = sockets.find((s) => s !== undefined) as Socket;
        const program = encodeProgram(steeringProgram(8, 4, group.slots(4)));
        expect(attach?.(socketFd(live) as number, program)).toBe(0);
      };
      const client = createSocket('udp4');
      const sendAll = async (bytes: number[]): Promise<void> => {
        for (const g of got) g.length = 0;
        for (const b of bytes) {
          client.send(b % 2 === 0 ? short(b) : long(b), port, '127.0.0.1');
        }
        await waitFor(() => got.reduce((n, g) => n + g.length, 0) === bytes.length, {
          what: 'every datagram received',
        });
      };
      try {
        for (const w of [0, 1, 2, 3]) await join(w);
        steer();
        const bytes = Array.from({ length: 64 }, (_, i) => (i * 37) % 256);
        await sendAll(bytes);
        for (const w of [0, 1, 2, 3]) expect(got[w]).toEqual(bytes.filter((b) => b % 4 === w));
        // Worker 1 exits: worker 3's socket takes its index (a model that shifted instead of
        // swapping would put worker 2 and 3 wrong here).
        await new Promise<void>((r) => sockets[1]?.close(() => r()));
        sockets[1] = undefined;
        group.left(1);
        steer();
        await sendAll(bytes.filter((b) => b % 4 !== 1));
        for (const w of [0, 2, 3]) expect(got[w]).toEqual(bytes.filter((b) => b % 4 === w));
        // Its replacement binds: appended at the end.
        await join(1);
        steer();
        await sendAll(bytes);
        for (const w of [0, 1, 2, 3]) expect(got[w]).toEqual(bytes.filter((b) => b % 4 === w));
      } finally {
        client.close();
        for (const s of sockets) s?.close();
      }
    },
  );
});
