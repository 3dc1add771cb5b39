/**
 * The QUIC-aware tunnel without sockets: a fake session (the client's capsules), a fake packet
 * seam (the proxy's socket: claims and raw sends) and a fake target socket. What the loopback
 * tests cannot easily show: client migration.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeQuicProxyCapsule,
  encodeQuicProxyCapsule,
  type QuicProxyCapsule,
} from '../../../src/masque/capsules/quic-proxy.js';
import { QuicAwareTunnel } from '../../../src/masque/proxy/quic-aware-tunnel.js';
import { TargetLink } from '../../../src/masque/proxy/target-link.js';
import { CidMappingTable } from '../../../src/masque/quic-aware/cid-table.js';
import { VcidGenerator } from '../../../src/masque/quic-aware/vcid.js';
import type { ClaimedCidHandler } from '../../../src/quic/endpoint/index.js';
import type { PacketSeam } from '../../../src/runtime/udp/packet-seam.js';
import { ManualClock } from '../../../src/util/clock.js';
import { SeededRandom } from '../../../src/util/random.js';
import { concatBytes, fromHex, toHex } from '../../../src/wire/index.js';
import { createTransform } from '../../../transforms/registry.js';
import { FakeSession, FakeSocket } from './fakes.js';

class FakePackets implements PacketSeam {
  readonly localCidLength = 8;
  readonly claims = new Map<string, ClaimedCidHandler>();
  readonly sent: Array<{ data: Uint8Array; to: string }> = [];
  claimCid(cid: Uint8Array, h: ClaimedCidHandler): void {
    this.claims.set(toHex(cid), h);
  }
  unclaimCid(cid: Uint8Array): void {
    this.claims.delete(toHex(cid));
  }
  isCidRouted(cid: Uint8Array): boolean {
    return this.claims.has(toHex(cid));
  }
  sendRaw(data: Uint8Array, to: string): void {
    this.sent.push({ data: data.slice(), to });
  }
}

const CID = fromHex('c1c2c3c4c5c6c7c8');
const TCID = fromHex('7172737475767778');

function setup() {
  const session = new FakeSession([], '192.0.2.7:5000');
  const packets = new FakePackets();
  const target = { address: '198.51.100.1', family: 4 as const, port: 443 };
  const socket = new FakeSocket(target);
  const link = new TargetLink('own 1', false, target, socket);
  let remote = '192.0.2.7:5000';
  const identity = createTransform('identity');
  const tunnel = new QuicAwareTunnel(session, {
    idleTimeoutMs: 60_000,
    queueLimit: 64,
    capsuleBacklogBytes: 65_536,
    largeDatagrams: 'capsule',
    clock: new ManualClock(0),
    profiles: ['draft-09'],
    forwarding: { toClient: identity, fromClient: identity },
    table: new CidMappingTable(),
    link,
    packets,
    clientAddress: remote,
    currentClientAddress: () => remote,
    vcids: new VcidGenerator({ random: new SeededRandom(5) }),
    releaseLink: () => {},
  });
  link.users.add(tunnel);
  const send = (c: QuicProxyCapsule) =>
    session.deliverCapsule(...encodeQuicProxyCapsule(c, 'draft-09'));
  const received = () =>
    session.capsules
      .map((c) => decodeQuicProxyCapsule(c.type, c.value, 'draft-09', 'client'))
      .filter((c) => c !== undefined);
  return { session, packets, socket, tunnel, send, received, move: (to: string) => (remote = to) };
}

describe('QUIC-aware tunnel: client migration (quic-proxy §6.5, 09-delta §2)', () => {
  it('a new client address removes the forwarding rules; a re-registration forwards on the new path', () => {
    const { packets, socket, tunnel, send, received, move } = setup();
    send({ kind: 'register_client_cid', reason: 0, cid: CID });
    const vc = (received().find((c) => c.kind === 'ack_client_cid') as { vcid: Uint8Array }).vcid;
    send({ kind: 'ack_client_vcid', cid: CID, vcid: vc, token: new Uint8Array(0) });
    send({ kind: 'register_target_cid', reason: 0, cid: TCID, token: new Uint8Array(0) });
    const vt = (received().find((c) => c.kind === 'ack_target_cid') as { vcid: Uint8Array }).vcid;
    const fromTarget = concatBytes(Uint8Array.of(0x41), CID, new Uint8Array(40).fill(1));
    socket.receive(fromTarget);
    expect(packets.sent.map((s) => s.to)).toEqual(['192.0.2.7:5000']);
    expect(packets.claims.has(toHex(vt))).toBe(true);

    move('192.0.2.7:6000'); // the client migrated
    socket.receive(fromTarget);
    expect(packets.sent).toHaveLength(1); // not forwarded: tunnelled instead
    expect(tunnel.migrations).toBe(1);
    expect(packets.claims.has(toHex(vt))).toBe(false); // no forwarding from the client either
    expect(tunnel.registrations.active).toBe(2); // the registrations remain

    // Re-registration on the new path: new VCIDs, forwarding to the new address.
    send({ kind: 'register_client_cid', reason: 0, cid: CID });
    const acks = received().filter((c) => c.kind === 'ack_client_cid') as Array<{
      vcid: Uint8Array;
    }>;
    const vc2 = acks[acks.length - 1].vcid;
    expect(toHex(vc2)).not.toBe(toHex(vc));
    send({ kind: 'ack_client_vcid', cid: CID, vcid: vc2, token: new Uint8Array(0) });
    socket.receive(fromTarget);
    expect(packets.sent.at(-1)?.to).toBe('192.0.2.7:6000');
    expect(toHex(packets.sent.at(-1)?.data.subarray(1, 9) as Uint8Array)).toBe(toHex(vc2));
  });

  it('a forwarded packet from the old address after a move is dropped as wrong_path', () => {
    const { packets, socket, tunnel, send, received, move } = setup();
    send({ kind: 'register_target_cid', reason: 0, cid: TCID, token: new Uint8Array(0) });
    const vt = (received().find((c) => c.kind === 'ack_target_cid') as { vcid: Uint8Array }).vcid;
    const handler = packets.claims.get(toHex(vt)) as ClaimedCidHandler;
    const pkt = () => concatBytes(Uint8Array.of(0x41), vt, new Uint8Array(40).fill(2));
    handler(pkt(), '192.0.2.7:5000', 0);
    expect(socket.sent).toHaveLength(1);
    move('192.0.2.7:6000');
    handler(pkt(), '192.0.2.7:5000', 0);
    expect(socket.sent).toHaveLength(1);
    expect(tunnel.counters.drops.get('wrong_path')).toBe(1);
    expect(tunnel.migrations).toBe(1);
  });
});

describe('QUIC-aware tunnel: tunnelled packets to the target', () => {
  it('leave at once where the socket takes them (no queue slot held); a failure is counted', () => {
    const { session, socket, tunnel } = setup();
    socket.sendsAtOnce = true;
    session.deliver(fromHex('00 40aabbcc'));
    session.deliver(fromHex('00 40ddeeff'));
    expect(socket.sent.map((b) => [...b])).toEqual([
      [0x40, 0xaa, 0xbb, 0xcc],
      [0x40, 0xdd, 0xee, 0xff],
    ]);
    expect(tunnel.pending).toBe(0);
    socket.sendsAtOnce = Object.assign(new Error('EMSGSIZE'), { code: 'EMSGSIZE' });
    session.deliver(fromHex('00 40010203'));
    expect(tunnel.counters.drops.get('send_error')).toBe(1);
    expect(tunnel.pending).toBe(0);
    // Without it, the socket's queued send (and its callback) as before.
    socket.sendsAtOnce = false;
    socket.holdSends = true;
    session.deliver(fromHex('00 40040506'));
    expect(tunnel.pending).toBe(1);
    expect(socket.sent.length).toBe(3);
  });
});
