/**
 * Proves the tshark harness: quic-go client ↔ quic-go server on loopback with NSS key logs,
 * captured and dissected; every QUIC packet must decrypt and none may be malformed. The same
 * capture without keys must show undecryptable packets (the check can fail), and hand-made
 * packets (RFC 9001 Appendix A, corrupted, truncated) land in the right counters.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/wire/index.js';
import * as V from '../quic/packet/vectors.js';
import { writeUdpPcap } from './pcap.js';
import { processCommand } from './peer-process.js';
import {
  type QuicGoClientResult,
  type QuicGoExit,
  type QuicGoServer,
  runQuicGoClient,
  startQuicGoServer,
} from './quic-go-peer.js';
import {
  analyseQuicCapture,
  type Capture,
  captureFilter,
  captureLoopback,
  type QuicCaptureAnalysis,
  tsharkBinary,
} from './tshark.js';

let dir: string;
const servers: QuicGoServer[] = [];
let echo: QuicGoServer;
let h3: QuicGoServer;

beforeAll(async () => {
  tsharkBinary(); // a missing Debian package fails here, naming it
  dir = mkdtempSync(join(tmpdir(), 'tshark-interop-'));
  echo = await startQuicGoServer({
    mode: 'server',
    flags: { alpn: 'masque-interop', keylog: join(dir, 'echo-server.keys') },
  });
  servers.push(echo);
  h3 = await startQuicGoServer({
    mode: 'h3server',
    flags: { keylog: join(dir, 'h3-server.keys') },
  });
  servers.push(h3);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every protected packet decrypted, nothing malformed, no warnings. */
function expectClean(a: QuicCaptureAnalysis): void {
  expect(a.undecryptablePackets, JSON.stringify(a.expert)).toEqual([]);
  expect(a).toMatchObject({ undecryptable: 0, malformed: 0, nonQuicFrames: 0, expert: [] });
  expect(a.decrypted).toBe(a.packets - a.unprotected);
  expect(a.byKind.unknown.packets).toBe(0);
  for (const kind of ['initial', 'handshake', '1rtt'] as const) {
    expect(a.byKind[kind].packets, kind).toBeGreaterThan(0);
    expect(a.byKind[kind].decrypted, kind).toBe(a.byKind[kind].packets);
  }
}

describe('raw QUIC echo (streams + datagrams), captured on lo', () => {
  let cap: Capture<QuicGoClientResult & QuicGoExit>;

  beforeAll(async () => {
    cap = await captureLoopback({ ports: [echo.port], pcapFile: join(dir, 'echo.pcapng') }, () =>
      runQuicGoClient({
        mode: 'client',
        flags: {
          connect: `127.0.0.1:${echo.port}`,
          alpn: 'masque-interop',
          insecure: true,
          bytes: 200_000,
          streams: 3,
          datagrams: 20,
          keylog: join(dir, 'echo-client.keys'),
          timeout: '10s',
        },
        timeoutMs: 15_000,
      }),
    );
  }, 30_000);

  it('the scenario ran and tshark captured its datagrams', () => {
    expect(cap.value, cap.value.stderr).toMatchObject({ ok: true, streams_ok: 3 });
    expect(cap.capturedCount).toBeGreaterThan(100);
    expect(cap.pcapFile).toBe(join(dir, 'echo.pcapng'));
  });

  it('every packet decrypts with the client key log; none malformed', async () => {
    const a = await analyseQuicCapture(cap.pcapFile, join(dir, 'echo-client.keys'));
    expectClean(a);
    expect(a.datagrams).toBe(cap.capturedCount);
    expect(a.packets).toBeGreaterThanOrEqual(a.datagrams); // coalesced packets count one by one
    expect(a.unprotected).toBe(0);
  });

  it('the server key log alone (same secrets) decrypts it too, also with ports forced', async () => {
    const a = await analyseQuicCapture(cap.pcapFile, [join(dir, 'echo-server.keys')], {
      quicPorts: [echo.port],
    });
    expectClean(a);
  });

  it('without keys only the Initial packets decrypt (their keys come from the DCID)', async () => {
    const a = await analyseQuicCapture(cap.pcapFile);
    expect(a.byKind.initial.decrypted).toBe(a.byKind.initial.packets);
    expect(a.byKind.handshake.undecryptable).toBe(a.byKind.handshake.packets);
    expect(a.byKind['1rtt'].undecryptable).toBe(a.byKind['1rtt'].packets);
    expect(a.undecryptable).toBe(a.packets - a.byKind.initial.packets);
    expect(a.undecryptablePackets[0]?.message).toMatch(/Secrets are not available/);
    expect(a.malformed).toBe(0);
  });
});

describe('HTTP/3, captured on lo', () => {
  it('h3client GET /bytes/N against h3server: all packets decrypt', async () => {
    const cap = await captureLoopback({ ports: [h3.port] }, () =>
      runQuicGoClient({
        mode: 'h3client',
        flags: {
          url: `https://127.0.0.1:${h3.port}/bytes/300000`,
          insecure: true,
          keylog: join(dir, 'h3-client.keys'),
          timeout: '10s',
        },
        timeoutMs: 15_000,
      }),
    );
    try {
      expect(cap.value, cap.value.stderr).toMatchObject({ ok: true, body_bytes: 300_000 });
      const a = await analyseQuicCapture(cap.pcapFile, [
        join(dir, 'h3-client.keys'),
        join(dir, 'h3-server.keys'),
      ]);
      expectClean(a);
    } finally {
      rmSync(join(cap.pcapFile, '..'), { recursive: true, force: true });
    }
  }, 30_000);
});

/** Pids of live processes whose command line mentions `text` (to catch leaked dumpcaps). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => processCommand(Number(d))?.includes(text) === true)
    .map(Number);
}

describe('captureLoopback', () => {
  it('stops tshark and its dumpcap, and rethrows, when the scenario fails at once', async () => {
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `fail-${i}.pcapng`);
      await expect(
        captureLoopback({ ports: [h3.port], pcapFile: file, settleMs: 0 }, async () => {
          throw new Error('scenario broke');
        }),
      ).rejects.toThrow('scenario broke');
      expect(processesMentioning(file)).toEqual([]);
    }
  }, 30_000);

  it('a capture that cannot start fails with the message of tshark', async () => {
    await expect(
      captureLoopback({ ports: [h3.port], iface: 'no-such-if0' }, async () => 'never'),
    ).rejects.toThrow(/tshark exited \(code \d+\): tshark -i no-such-if0[\s\S]*no-such-if0/);
  });

  it('leaves no capture process behind after a normal run', () => {
    expect(processesMentioning(join(dir, 'echo.pcapng'))).toEqual([]);
  });

  it('builds the capture filter from the ports', () => {
    expect(captureFilter([443, 4433])).toBe('udp port 443 or udp port 4433');
    expect(() => captureFilter([])).toThrow(RangeError);
  });
});

describe('analyseQuicCapture on hand-made packets', () => {
  const c = { src: '127.0.0.1', dst: '127.0.0.1', sport: 50_000, dport: 4433 };
  const s = { src: '127.0.0.1', dst: '127.0.0.1', sport: 4433, dport: 50_000 };
  const clientInitial = fromHex(V.CLIENT_INITIAL_PROTECTED);
  const corrupted = clientInitial.slice();
  corrupted[600] ^= 0x01; // inside the AEAD-protected payload
  // Version Negotiation (RFC 9000 §17.2.1): 1xxxxxxx, version 0, DCID, SCID, versions.
  const vn = fromHex(`80${'00000000'}08${'0000000000000001'}08${V.CLIENT_DCID}00000001ff00001d`);

  it('RFC 9001 A.2/A.3 Initials decrypt, Retry and VN are unprotected, bad ones are counted', async () => {
    const file = join(dir, 'synthetic.pcap');
    writeUdpPcap(file, [
      { ...c, payload: clientInitial }, // 1: decrypts (Initial keys from the DCID)
      { ...s, payload: fromHex(V.SERVER_INITIAL_PROTECTED) }, // 2: decrypts
      { ...s, payload: fromHex(V.RETRY) }, // 3: unprotected
      { ...s, payload: vn }, // 4: unprotected
      { ...c, payload: corrupted }, // 5: AEAD failure
      { ...c, payload: clientInitial.subarray(0, 100) }, // 6: payload truncated: AEAD failure
      { ...c, payload: fromHex(V.SHORT_PACKET_PROTECTED) }, // 7: 1-RTT, no key
      { ...c, payload: clientInitial.subarray(0, 9) }, // 8: header cut inside the DCID
    ]);
    const a = await analyseQuicCapture(file, undefined, { quicPorts: [4433] });
    expect(a).toMatchObject({
      datagrams: 8,
      nonQuicFrames: 0,
      packets: 7, // the malformed frame has no packet tree
      decrypted: 2,
      unprotected: 2,
      undecryptable: 3,
      malformed: 1,
      malformedFrames: [8],
    });
    expect(a.byKind.initial).toEqual({ packets: 4, decrypted: 2, undecryptable: 2 });
    expect(a.byKind.retry.packets).toBe(1);
    expect(a.byKind.version_negotiation.packets).toBe(1);
    expect(a.byKind['1rtt']).toEqual({ packets: 1, decrypted: 0, undecryptable: 1 });
    expect(a.undecryptablePackets.map((p) => [p.frame, p.kind])).toEqual([
      [5, 'initial'],
      [6, 'initial'],
      [7, '1rtt'],
    ]);
    expect(a.undecryptablePackets[0].message).toMatch(/Decryption failed/);
    expect(a.expert).toContainEqual({
      message: 'Malformed Packet (Exception occurred)',
      severity: 'error',
      count: 1,
    });
  }, 20_000);
});
