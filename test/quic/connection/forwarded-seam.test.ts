/**
 * The forwarded-mode seam (draft-ietf-masque-quic-proxy §6): an unmodified QuicConnection pair
 * whose 1-RTT packets travel with Virtual Connection IDs between the client and a proxy.
 *
 *   client conn --seal--> [client shim: server CID -> target VCID (12 B)] --wire-->
 *     [proxy: target VCID -> server CID (8 B)] --> server
 *   server --seal--> [proxy: client CID (8 B) -> client VCID (16 B)] --wire-->
 *     [client shim: client VCID -> client CID] --open--> client conn
 *
 * Packet protection covers the DCID (RFC 9001 §5.3), so each side seals and opens with the real
 * CID and the swap happens outside the AEAD. Nothing in the connection is changed for this: the
 * shim only uses `pollTransmit`/`receive`, `peerCid` and `pollCidEvent`/`localCids`.
 *
 * The HTTP/3 tunnel itself is not modelled: packets the proxy does not forward (long headers,
 * short headers before forwarding is set up) pass unchanged, standing in for "tunnelled". The
 * capsule exchanges (REGISTER_*_CID / ACK_*_CID / ACK_CLIENT_VCID / CLOSE_*_CID, quic-proxy §5)
 * are method calls on the proxy that answer at once.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { QuicAppEvent } from '../../../src/quic/api.js';
import type { QuicConnection } from '../../../src/quic/connection/index.js';
import { dcidOf, rewriteShortHeaderDcid } from '../../../src/quic/packet/dcid-rewrite.js';
import { isLongHeader } from '../../../src/quic/packet/index.js';
import {
  Delay,
  type LinkElement,
  Network,
  type SimDatagram,
  type SimNode,
} from '../../../src/sim/index.js';
import { randomBytes, SeededRandom } from '../../../src/util/random.js';
import { bytesEqual, toHex } from '../../../src/wire/index.js';
import {
  CLIENT_ADDR,
  ClientNode,
  clientConfig,
  SERVER_ADDR,
  ServerNode,
  StreamCollector,
  serverConfig,
  T0,
} from './harness.js';

/** Length of the CIDs both endpoints issue. */
const CID_LENGTH = 8;
/** The proxy's target VCIDs: longer than the server's CIDs, so every packet grows by 4 bytes. */
const TARGET_VCID_LENGTH = 12;
/**
 * The proxy's client VCIDs. quic-proxy §2.2: "the proxy MUST choose a client VCID that is at
 * least as long as the original client CID".
 */
const CLIENT_VCID_LENGTH = 16;

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * The forwarding tables of a proxy, and its two directions as link elements. Keyed by VCID
 * (client to target) and by client CID (target to client), as quic-proxy §2.2 describes.
 */
class ForwardingProxy {
  /** target VCID (hex) -> target CID: restores what the client sent. */
  readonly targetByVcid = new Map<string, Uint8Array>();
  /** client CID (hex) -> client VCID: hides the client CID on the proxy-client link. */
  readonly vcidByClientCid = new Map<string, Uint8Array>();
  readonly #random = new SeededRandom(77);
  forwardedToTarget = 0;
  forwardedToClient = 0;
  /** Short-header packets from the client with no known VCID (passed on as "tunnelled"). */
  tunnelledShortFromClient = 0;
  /** Fault injection: the next forwarded packet is restored to this CID instead. */
  misrouteNext: Uint8Array | undefined;
  /** Fault injection: the next forwarded packet keeps its VCID. */
  skipRestoreNext = false;

  /** REGISTER_TARGET_CID answered by ACK_TARGET_CID: a fresh target VCID for `targetCid`. */
  registerTargetCid(targetCid: Uint8Array): Uint8Array {
    const vcid = randomBytes(this.#random, TARGET_VCID_LENGTH);
    this.targetByVcid.set(toHex(vcid), targetCid.slice());
    return vcid;
  }

  /** CLOSE_TARGET_CID. */
  closeTargetVcid(vcid: Uint8Array): void {
    this.targetByVcid.delete(toHex(vcid));
  }

  /** REGISTER_CLIENT_CID answered by ACK_CLIENT_CID (the client's ACK_CLIENT_VCID is implied). */
  registerClientCid(clientCid: Uint8Array): Uint8Array {
    const vcid = randomBytes(this.#random, CLIENT_VCID_LENGTH);
    this.vcidByClientCid.set(toHex(clientCid), vcid);
    return vcid;
  }

  /** CLOSE_CLIENT_CID. */
  closeClientCid(clientCid: Uint8Array): void {
    this.vcidByClientCid.delete(toHex(clientCid));
  }

  readonly fromClient: LinkElement = {
    process: (d) => {
      const data = d.data;
      if (data.length === 0 || isLongHeader(data[0])) return [[0, d]]; // never forwarded
      if (data.length <= TARGET_VCID_LENGTH) return [[0, d]];
      const vcid = dcidOf(data, TARGET_VCID_LENGTH);
      const target = this.targetByVcid.get(toHex(vcid));
      if (target === undefined) {
        this.tunnelledShortFromClient++;
        return [[0, d]];
      }
      this.forwardedToTarget++;
      if (this.skipRestoreNext) {
        this.skipRestoreNext = false;
        return [[0, d]];
      }
      const real = this.misrouteNext ?? target;
      this.misrouteNext = undefined;
      return [[0, { ...d, data: rewriteShortHeaderDcid(data, TARGET_VCID_LENGTH, real) }]];
    },
  };

  readonly fromTarget: LinkElement = {
    process: (d) => {
      const data = d.data;
      if (data.length <= CID_LENGTH || isLongHeader(data[0])) return [[0, d]];
      const vcid = this.vcidByClientCid.get(toHex(dcidOf(data, CID_LENGTH)));
      if (vcid === undefined) return [[0, d]];
      this.forwardedToClient++;
      return [[0, { ...d, data: rewriteShortHeaderDcid(data, CID_LENGTH, vcid) }]];
    },
  };
}

/**
 * The client endpoint's half of forwarded mode, around an unmodified connection: after sealing,
 * the server CID becomes the target VCID; before opening, a client VCID becomes the client CID.
 * The tables follow the connection through `peerCid` and `pollCidEvent`.
 */
class ForwardingClient implements SimNode {
  readonly addresses: readonly string[];
  forwarding = false;
  rewrittenOut = 0;
  restoredIn = 0;
  /** Short-header packets received in forwarded mode without a known client VCID. */
  unknownIn = 0;
  /** Target CIDs registered so far, in order, with their VCIDs. */
  readonly targetRegistrations: { cid: Uint8Array; vcid: Uint8Array }[] = [];
  /** client VCID (hex) -> client CID. */
  readonly clientCidByVcid = new Map<string, Uint8Array>();
  readonly #vcidByClientCid = new Map<string, Uint8Array>();

  constructor(
    readonly inner: ClientNode,
    readonly proxy: ForwardingProxy,
  ) {
    this.addresses = inner.addresses;
  }

  get conn(): QuicConnection {
    return this.inner.conn;
  }

  /** The target VCID in use, for the server CID the connection currently sends to. */
  get targetVcid(): Uint8Array | undefined {
    return this.targetRegistrations.at(-1)?.vcid;
  }

  /** Turns forwarded mode on: registers the current CIDs of both directions. */
  enable(): void {
    // Pending events describe changes already visible in `localCids`: start from that snapshot.
    while (this.conn.pollCidEvent() !== undefined);
    for (const cid of this.conn.localCids) this.#addClientCid(cid);
    this.forwarding = true;
    this.#followPeerCid();
  }

  receive(d: SimDatagram, now: number): void {
    let data = d.data;
    if (this.forwarding && data.length > CLIENT_VCID_LENGTH && !isLongHeader(data[0])) {
      const cid = this.clientCidByVcid.get(toHex(dcidOf(data, CLIENT_VCID_LENGTH)));
      if (cid !== undefined) {
        data = rewriteShortHeaderDcid(data, CLIENT_VCID_LENGTH, cid);
        this.restoredIn++;
      } else this.unknownIn++;
    }
    this.inner.receive({ ...d, data }, now);
  }

  transmit(now: number): SimDatagram[] {
    const out = this.inner.transmit(now);
    if (!this.forwarding) return out;
    this.#followClientCids();
    this.#followPeerCid();
    const current = this.targetRegistrations.at(-1);
    for (const d of out) {
      // quic-proxy §6.1: long header packets are never forwarded (they stay in the tunnel).
      if (current === undefined || isLongHeader(d.data[0])) continue;
      if (!bytesEqual(dcidOf(d.data, current.cid.length), current.cid)) continue;
      d.data = rewriteShortHeaderDcid(d.data, current.cid.length, current.vcid);
      this.rewrittenOut++;
    }
    return out;
  }

  nextTimeout(): number | undefined {
    return this.inner.nextTimeout();
  }

  timeout(now: number): void {
    this.inner.timeout(now);
  }

  /** A new server CID in use: register it, close the VCID of the one it replaced. */
  #followPeerCid(): void {
    const peer = this.conn.peerCid;
    const current = this.targetRegistrations.at(-1);
    if (peer === undefined || (current !== undefined && bytesEqual(current.cid, peer))) return;
    this.targetRegistrations.push({ cid: peer.slice(), vcid: this.proxy.registerTargetCid(peer) });
    if (current !== undefined) this.proxy.closeTargetVcid(current.vcid);
  }

  #followClientCids(): void {
    for (let e = this.conn.pollCidEvent(); e !== undefined; e = this.conn.pollCidEvent()) {
      if (e.type === 'cid-added') this.#addClientCid(e.cid);
      else {
        const vcid = this.#vcidByClientCid.get(toHex(e.cid));
        this.proxy.closeClientCid(e.cid);
        this.#vcidByClientCid.delete(toHex(e.cid));
        if (vcid !== undefined) this.clientCidByVcid.delete(toHex(vcid));
      }
    }
  }

  #addClientCid(cid: Uint8Array): void {
    const vcid = this.proxy.registerClientCid(cid);
    this.#vcidByClientCid.set(toHex(cid), vcid);
    this.clientCidByVcid.set(toHex(vcid), cid.slice());
  }
}

/** Records the short-header DCIDs seen at one point of the path (first `dcidLength` bytes). */
class Tap implements LinkElement {
  readonly dcids: string[] = [];
  /** Largest short-header datagram seen. */
  maxSize = 0;
  recording = false;
  constructor(readonly dcidLength: number) {}

  process(d: SimDatagram): Array<[number, SimDatagram]> {
    if (this.recording && !isLongHeader(d.data[0])) {
      this.dcids.push(toHex(dcidOf(d.data, this.dcidLength)));
      this.maxSize = Math.max(this.maxSize, d.data.length);
    }
    return [[0, d]];
  }
}

/** Writes `data` on a stream as flow control allows, resuming on stream-writable. */
class Upload {
  off = 0;
  constructor(
    readonly conn: QuicConnection,
    readonly id: number,
    readonly data: Uint8Array,
  ) {
    this.pump();
  }

  pump(): void {
    while (this.off < this.data.length) {
      const n = this.conn.writeStream(this.id, this.data.subarray(this.off), true);
      if (n === 0) return;
      this.off += n;
    }
  }
}

function payload(seed: number, n: number): Uint8Array {
  const d = new Uint8Array(n);
  new SeededRandom(seed).fill(d);
  return d;
}

interface Setup {
  net: Network;
  client: ForwardingClient;
  server: ServerNode;
  proxy: ForwardingProxy;
  /** client -> proxy, proxy -> target, target -> proxy, proxy -> client. */
  taps: { clientWire: Tap; targetWire: Tap; fromTarget: Tap; toClient: Tap };
  clientGot: StreamCollector;
  serverGot: StreamCollector;
  uploads: Upload[];
}

/** A normal handshake, then forwarded mode switched on (and the taps recording). */
function setup(): Setup {
  const net = new Network();
  net.now = T0;
  const proxy = new ForwardingProxy();
  // 1200-byte packets throughout (PMTU discovery off): the checks below count packet sizes and
  // the datagrams one lost packet can hold.
  const fixed = { transport: { maxDatagramFrameSize: 1200 }, maxUdpPayload: 1200 };
  const client = new ForwardingClient(new ClientNode(clientConfig(1, fixed), T0), proxy);
  const server = new ServerNode(() => serverConfig(2, fixed));
  const taps = {
    clientWire: new Tap(TARGET_VCID_LENGTH),
    targetWire: new Tap(CID_LENGTH),
    fromTarget: new Tap(CID_LENGTH),
    toClient: new Tap(CLIENT_VCID_LENGTH),
  };
  net
    .add(client)
    .add(server)
    .link(CLIENT_ADDR, SERVER_ADDR, [
      taps.clientWire,
      proxy.fromClient,
      taps.targetWire,
      new Delay(10),
    ])
    .link(SERVER_ADDR, CLIENT_ADDR, [
      taps.fromTarget,
      proxy.fromTarget,
      taps.toClient,
      new Delay(10),
    ]);
  const clientGot = new StreamCollector();
  const serverGot = new StreamCollector();
  const uploads: Upload[] = [];
  const onEvent = (got: StreamCollector) => (conn: QuicConnection, ev: QuicAppEvent) => {
    got.add(ev);
    if (ev.type === 'stream-writable')
      for (const u of uploads) if (u.conn === conn && u.id === ev.streamId) u.pump();
    if (ev.type === 'datagram' && conn.role === 'server') conn.sendDatagram(ev.data);
  };
  client.inner.onEvent = onEvent(clientGot);
  server.onEvent = onEvent(serverGot);
  net.run({ until: T0 + 2_000, done: () => client.conn.handshakeConfirmed });
  // Let the last handshake packets settle (HANDSHAKE_DONE, NEW_CONNECTION_ID acknowledged).
  net.run({ until: net.now + 100 });
  expect(client.conn.state).toBe('established');
  client.enable();
  for (const t of Object.values(taps)) t.recording = true;
  // Count from here: short headers sent before were "tunnelled".
  proxy.tunnelledShortFromClient = 0;
  return { net, client, server, proxy, taps, clientGot, serverGot, uploads };
}

/**
 * Runs a 150 KB upload, a 150 KB download and 20 echoed datagrams; checks every byte. With
 * `lossy`, datagrams (unreliable, RFC 9221) may be lost with a dropped packet: only those that
 * arrived are checked.
 */
function exchange(s: Setup, seed: number, lossy = false): void {
  const { net, client, server, clientGot, serverGot, uploads } = s;
  const up = payload(seed, 150_000);
  const down = payload(seed + 1, 150_000);
  const upId = client.conn.openStream(false) as number;
  const downId = server.conn.openStream(false) as number;
  uploads.push(new Upload(client.conn, upId, up), new Upload(server.conn, downId, down));
  const sent: string[] = [];
  for (let i = 0; i < 20; i++) {
    const dg = payload(seed * 100 + i, 300);
    sent.push(sha(dg));
    client.conn.sendDatagram(dg);
  }
  const echoedBefore = client.inner.log.of('datagram').length;
  const r = net.run({
    until: net.now + 30_000,
    done: () =>
      serverGot.finished.has(upId) &&
      clientGot.finished.has(downId) &&
      (lossy || client.inner.log.of('datagram').length - echoedBefore === sent.length),
  });
  expect(r.reason).toBe('done');
  expect(sha(serverGot.bytes(upId))).toBe(sha(up));
  expect(sha(clientGot.bytes(downId))).toBe(sha(down));
  const echoed = client.inner.log.of('datagram').slice(echoedBefore);
  if (lossy) {
    // One lost 1200-byte packet holds at most three of these 300-byte datagrams.
    expect(echoed.length).toBeGreaterThanOrEqual(sent.length - 3);
    for (const e of echoed) expect(sent).toContain(sha(e.data));
  } else expect(echoed.map((e) => sha(e.data))).toEqual(sent);
}

const hexSet = (cids: readonly Uint8Array[]): Set<string> => new Set(cids.map(toHex));

describe('forwarded mode over an unmodified connection (quic-proxy §6, RFC 9001 §5.3)', () => {
  it('1-RTT packets carry VCIDs on the client-proxy link; streams and datagrams arrive intact', () => {
    const s = setup();
    const { client, server, proxy, taps } = s;
    exchange(s, 1);

    // Client to proxy: every short header carries the 12-byte target VCID, never the server CID.
    const vcid = toHex(client.targetVcid as Uint8Array);
    expect(taps.clientWire.dcids.length).toBeGreaterThan(50);
    expect(new Set(taps.clientWire.dcids)).toEqual(new Set([vcid]));
    expect(proxy.tunnelledShortFromClient).toBe(0);
    expect(client.rewrittenOut).toBe(taps.clientWire.dcids.length);
    expect(proxy.forwardedToTarget).toBe(client.rewrittenOut);
    // Proxy to target: the real 8-byte CID the server issued.
    const serverCids = hexSet(server.conn.localCids);
    expect(taps.targetWire.dcids.every((d) => serverCids.has(d))).toBe(true);
    expect(taps.targetWire.dcids[0]).toBe(toHex(client.targetRegistrations[0]?.cid as Uint8Array));
    // quic-proxy §6.1: a longer VCID extends the packet. The connection fills 1200-byte datagrams
    // (its maxUdpPayload), so the client-proxy link carries 1204: the path must allow for it.
    expect(taps.targetWire.maxSize).toBe(1200);
    expect(taps.clientWire.maxSize).toBe(1200 + TARGET_VCID_LENGTH - CID_LENGTH);
    expect(taps.toClient.maxSize).toBe(1200 + CLIENT_VCID_LENGTH - CID_LENGTH);

    // Target to proxy: the real client CID; proxy to client: its 16-byte client VCID.
    const clientCids = hexSet(client.conn.localCids);
    expect(taps.fromTarget.dcids.every((d) => clientCids.has(d))).toBe(true);
    expect(taps.toClient.dcids.every((d) => client.clientCidByVcid.has(d))).toBe(true);
    expect(proxy.forwardedToClient).toBe(taps.fromTarget.dcids.length);
    // Some forwarded packets may still be on the link when the run stops.
    expect(client.restoredIn).toBeGreaterThan(50);
    expect(client.restoredIn).toBeLessThanOrEqual(proxy.forwardedToClient);
    expect(client.unknownIn).toBe(0);

    // Nothing failed to decrypt on either side: the AEAD saw the real CIDs.
    expect(server.conn.stats.undecryptable).toBe(0);
    expect(client.conn.stats.undecryptable).toBe(0);
  });

  it('the client switches to a new server CID: a new target VCID is registered, the old closed', () => {
    const s = setup();
    const { client, server, proxy, taps } = s;
    exchange(s, 10);
    const first = client.targetRegistrations[0];
    if (first === undefined) throw new Error('no registration');
    expect(client.conn.rotatePeerCid()).toBe(true);
    const newCid = client.conn.peerCid as Uint8Array;
    expect(bytesEqual(newCid, first.cid)).toBe(false);
    const mark = { wire: taps.clientWire.dcids.length, target: taps.targetWire.dcids.length };
    exchange(s, 20);

    expect(client.targetRegistrations.length).toBe(2);
    const second = client.targetRegistrations[1] as { cid: Uint8Array; vcid: Uint8Array };
    expect(second.cid).toEqual(newCid);
    expect(second.vcid.length).toBe(TARGET_VCID_LENGTH);
    // The proxy table is keyed by VCID and holds only the live mapping.
    expect([...proxy.targetByVcid.keys()]).toEqual([toHex(second.vcid)]);
    expect(proxy.targetByVcid.get(toHex(second.vcid))).toEqual(newCid);
    expect(new Set(taps.clientWire.dcids.slice(mark.wire))).toEqual(new Set([toHex(second.vcid)]));
    expect(new Set(taps.targetWire.dcids.slice(mark.target))).toEqual(new Set([toHex(newCid)]));
    // The server retired the old CID on the client's RETIRE_CONNECTION_ID and issued another.
    expect(server.cidLog).toContain(`cid-removed ${toHex(first.cid)}`);
    expect(server.knows(first.cid)).toBe(false);
    expect(proxy.tunnelledShortFromClient).toBe(0);
    expect(server.conn.stats.undecryptable).toBe(0);
  });

  it('the server switches to a new client CID: the client VCID table follows pollCidEvent', () => {
    const s = setup();
    const { client, server, proxy, taps } = s;
    exchange(s, 30);
    const oldClientCid = server.conn.peerCid as Uint8Array;
    expect(server.conn.rotatePeerCid()).toBe(true);
    const newClientCid = server.conn.peerCid as Uint8Array;
    expect(bytesEqual(newClientCid, oldClientCid)).toBe(false);
    const mark = taps.fromTarget.dcids.length;
    exchange(s, 40);

    expect(new Set(taps.fromTarget.dcids.slice(mark))).toEqual(new Set([toHex(newClientCid)]));
    // The client learned of the retirement through pollCidEvent and closed the mapping; the
    // replacement CID it issued was registered. The proxy table matches the live client CIDs.
    expect(proxy.vcidByClientCid.has(toHex(oldClientCid))).toBe(false);
    expect(new Set(proxy.vcidByClientCid.keys())).toEqual(hexSet(client.conn.localCids));
    expect(client.clientCidByVcid.size).toBe(client.conn.localCids.length);
    expect(client.restoredIn).toBeLessThanOrEqual(proxy.forwardedToClient);
    expect(client.unknownIn).toBe(0);
    expect(client.conn.stats.undecryptable).toBe(0);
  });
});

describe('a CID that is not swapped back breaks packet protection (RFC 9001 §5.3)', () => {
  /** One sealed 1-RTT datagram from the client carrying `data` on a new stream. */
  function sealed(s: Setup, data: Uint8Array): Uint8Array {
    const id = s.client.conn.openStream(false) as number;
    s.client.conn.writeStream(id, data, true);
    const t = s.client.conn.pollTransmit(s.net.now);
    if (t === undefined) throw new Error('nothing to send');
    expect(isLongHeader(t.data[0])).toBe(false);
    return t.data.slice();
  }

  function streamText(s: Setup): string[] {
    return s.server.log
      .of('stream-data')
      .map((e) => new TextDecoder().decode(e.data))
      .filter((t) => t.length > 0);
  }

  it.each([
    ['a 12-byte VCID (header parsed at the wrong offsets)', 12],
    ['an 8-byte VCID (same layout, only the authenticated DCID differs)', 8],
  ])('a packet still carrying %s is dropped silently and counted', (_name, vcidLength) => {
    const s = setup();
    const { server, net } = s;
    const real = sealed(s, new TextEncoder().encode('secret'));
    const vcid = new Uint8Array(vcidLength).fill(0x5a);
    const unrestored = rewriteShortHeaderDcid(real.slice(), CID_LENGTH, vcid);
    const before = server.conn.stats.undecryptable;

    // Delivered to the connection as is (the endpoint routed it by some other means).
    server.conn.receive(unrestored.slice(), CLIENT_ADDR, net.now);
    expect(server.conn.stats.undecryptable).toBe(before + 1);
    expect(server.conn.state).toBe('established');
    for (let ev = server.conn.pollEvent(); ev !== undefined; ev = server.conn.pollEvent())
      expect(ev.type).not.toBe('connection-closed');

    // The same bytes with the real CID put back open fine: the DCID alone made the difference.
    const restored = rewriteShortHeaderDcid(unrestored, vcidLength, real.subarray(1, 9));
    expect(restored).toEqual(real);
    server.receive({ from: CLIENT_ADDR, to: SERVER_ADDR, data: restored }, net.now);
    expect(streamText(s)).toEqual(['secret']);
    expect(server.conn.stats.undecryptable).toBe(before + 1);
  });

  it('a proxy that restores another valid CID of the connection: routed, dropped, recovered', () => {
    const s = setup();
    const { client, server, proxy } = s;
    const current = client.targetRegistrations[0]?.cid as Uint8Array;
    const other = server.conn.localCids.find((c) => !bytesEqual(c, current));
    if (other === undefined) throw new Error('the server issued a single CID');
    proxy.misrouteNext = other;
    const before = server.conn.stats.undecryptable;
    exchange(s, 50, true);
    // Routed to the right connection by its CID, but sealed under another: AEAD failure.
    expect(server.conn.stats.undecryptable).toBe(before + 1);
    expect(server.conn.state).toBe('established');
    expect(client.conn.state).toBe('established');
    expect(server.log.of('connection-closed')).toEqual([]);
  });

  it('a VCID that is not swapped back matches no connection at the endpoint: not delivered', () => {
    const s = setup();
    const { client, server, proxy } = s;
    proxy.skipRestoreNext = true;
    const unroutable = server.unroutable.length;
    exchange(s, 60, true);
    expect(server.unroutable.length).toBe(unroutable + 1);
    const lost = server.unroutable.at(-1) as SimDatagram;
    expect(toHex(lost.data.subarray(1, 1 + TARGET_VCID_LENGTH))).toBe(
      toHex(client.targetVcid as Uint8Array),
    );
    expect(server.conn.stats.undecryptable).toBe(0);
    expect(server.conn.state).toBe('established');
  });
});
