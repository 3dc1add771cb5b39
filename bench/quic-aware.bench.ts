/**
 * QUIC-aware proxying's packet path at the proxy: 1200-byte QUIC short-header packets echoed by a
 * target that answers to the client's CID, through the proxy
 *   - tunnelled (Context ID 0 HTTP datagrams, no registrations used),
 *   - forwarded with the identity transform,
 *   - forwarded with scramble-dt,
 * beside the plain node:dgram relay, in one run (window 32, one flow). The client side is written
 * here with hand-made packets (the proxy never decrypts forwarded packets, so their bytes are
 * ours to pick), so the figures are the proxy's path, not a QUIC stack's.
 */
import { createSocket, type Socket } from 'node:dgram';
import { H3Client } from '../src/http3-api.js';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
  quicProxyCapsuleLimits,
} from '../src/masque/capsules/quic-proxy.js';
import { parseProxyQuicForwarding } from '../src/masque/headers/proxy-quic-forwarding.js';
import { createTransform } from '../transforms/registry.js';
import { startBenchProxy } from './bench-proxy.js';
import type { BenchRow } from './harness.js';
import type { BenchModule } from './types.js';
import { bind, closeAll, plainRelay, SIZE, type WindowResult, windowed } from './udp-relay.js';

const CLIENT_CID = Buffer.from('c1c2c3c4c5c6c7c8', 'hex');
const TARGET_CID = Buffer.from('7172737475767778', 'hex');
const KEY = new Uint8Array(32).fill(0x42);

/** A QUIC target stand-in: echoes each short-header packet back addressed to the client CID. */
async function quicEcho(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  const port = await bind(socket);
  socket.on('message', (m, r) => {
    CLIENT_CID.copy(m, 1);
    socket.send(m, r.port, r.address);
  });
  return { socket, port };
}

function row(name: string, r: WindowResult): BenchRow {
  const perSec = (r.echoes * 1000) / r.elapsedMs;
  const cpuUs = (r.cpuMs * 1000) / Math.max(1, r.echoes);
  return {
    name,
    nsPerOp: 1e9 / perSec,
    opsPerSec: perSec,
    note: `${Math.round(perSec).toLocaleString('en-US')} echoes/s, ${cpuUs.toFixed(0)} µs CPU per echo (whole process)`,
  };
}

async function throughProxy(
  port: number,
  ca: string,
  target: number,
  mode: 'tunnelled' | 'identity' | 'scramble-dt',
): Promise<WindowResult> {
  const client = await H3Client.connect(
    { host: '127.0.0.1', port },
    { ca: [ca], noSystemRoots: true, serverName: 'localhost' },
  );
  try {
    const accept = mode === 'identity' ? 'identity' : 'scramble-dt';
    const key = Buffer.from(KEY).toString('base64');
    const tunnel = await client.connect(
      'connect-udp',
      `/.well-known/masque/udp/127.0.0.1/${target}/`,
      [['proxy-quic-forwarding', `?1; accept-transform="${accept}"; scramble-key=:${key}:`]],
      { knownCapsules: quicProxyCapsuleLimits('draft-09') },
    );
    const answer = parseProxyQuicForwarding(tunnel.header('proxy-quic-forwarding'), 'response');
    const proxyKey = answer.ok ? answer.value?.scrambleKey : undefined;
    const capsules: QuicProxyCapsule[] = [];
    const got = new Promise<void>((resolve) => {
      tunnel.onCapsule((c) => {
        const d = decodeQuicProxyCapsule(Number(c.type), c.value, 'draft-09', 'client');
        if (d !== undefined) capsules.push(d);
        if (capsules.some((x) => x.kind === 'ack_target_cid')) resolve();
      });
    });
    const send = (c: QuicProxyCapsule): void => {
      const [type, value] = encodeQuicProxyCapsule(c, 'draft-09');
      tunnel.sendCapsule(type, value);
    };
    const packet = new Uint8Array(SIZE);
    packet[0] = 0x41;
    for (let i = 9; i < SIZE; i++) packet[i] = i & 0xff;
    if (mode === 'tunnelled') {
      packet.set(TARGET_CID, 1);
      const dgram = new Uint8Array(1 + SIZE);
      dgram.set(packet, 1);
      return await windowed(
        () => tunnel.sendDatagram(dgram),
        1,
        (onEcho) => tunnel.onDatagram(() => onEcho()),
      );
    }
    send({ kind: 'register_client_cid', reason: 0, cid: CLIENT_CID });
    send({ kind: 'register_target_cid', reason: 0, cid: TARGET_CID, token: new Uint8Array(0) });
    await got;
    const vc = (capsules.find((c) => c.kind === 'ack_client_cid') as { vcid: Uint8Array }).vcid;
    const vt = (capsules.find((c) => c.kind === 'ack_target_cid') as { vcid: Uint8Array }).vcid;
    const enc = createTransform(mode, { key: KEY });
    const dec = createTransform(mode, { key: proxyKey ?? KEY });
    let onEcho: () => void = () => {};
    client.packets.claimCid(vc, (d) => {
      dec.decode(d, vc.length);
      onEcho();
    });
    send({ kind: 'ack_client_vcid', cid: CLIENT_CID, vcid: vc, token: new Uint8Array(0) });
    packet.set(vt, 1);
    const proxyAddress = `127.0.0.1:${port}`;
    const out = new Uint8Array(SIZE);
    return await windowed(
      () => {
        out.set(packet);
        enc.encode(out, vt.length);
        client.packets.sendRaw(out.slice(), proxyAddress);
      },
      1,
      (f) => {
        onEcho = f;
      },
    );
  } finally {
    await client.close({ timeout: 200 });
  }
}

const bench: BenchModule = {
  title: 'QUIC-aware proxying: 1200-byte QUIC packets echoed over loopback (window 32, 1 flow)',
  baseline: 'plain node:dgram relay',
  async run() {
    const target = await quicEcho();
    const { proxy, cert } = await startBenchProxy(1452);
    const rows: BenchRow[] = [];
    try {
      rows.push(row('plain node:dgram relay', await plainRelay(1, target.port)));
      for (const mode of ['tunnelled', 'identity', 'scramble-dt'] as const) {
        const name = mode === 'tunnelled' ? 'tunnelled (HTTP datagrams)' : `forwarded, ${mode}`;
        rows.push(row(name, await throughProxy(proxy.port, cert.certPem, target.port, mode)));
      }
    } finally {
      await proxy.close({ timeout: 500 });
      await closeAll([target.socket]);
    }
    const base = rows[0].opsPerSec;
    for (const r of rows.slice(1)) r.note += `; ${(r.opsPerSec / base).toFixed(2)} of the relay`;
    return rows;
  },
};

export default bench;
