/**
 * A fake connection and packet builders for endpoint tests. The fake records what it receives,
 * sends what a test queues, and reports CID changes the way `QuicConnection` does.
 */

import { AEAD_TAG_LENGTH } from '../../../src/crypto/aead.js';
import type {
  CidEvent,
  EndpointConnection,
  EndpointConnectionState,
  ServerInitialInfo,
  Transmit,
} from '../../../src/quic/endpoint/index.js';
import {
  finishLongHeader,
  LongPacketType,
  type ProtectedLongPacketType,
  writeLongHeader,
} from '../../../src/quic/packet/index.js';
import { initialKeys, PacketProtector } from '../../../src/quic/protection/index.js';
import { INITIAL_SUITE } from '../../../src/quic/protection/initial.js';
import { type Random, SeededRandom } from '../../../src/util/random.js';
import { ByteWriter, bytesEqual } from '../../../src/wire/index.js';

export interface Received {
  datagram: Uint8Array;
  remote: string;
  now: number;
}

export class FakeConnection implements EndpointConnection {
  state: EndpointConnectionState = 'handshaking';
  readonly received: Received[] = [];
  readonly outbox: Transmit[] = [];
  readonly timeoutsRun: number[] = [];
  deadline: number | undefined;
  closedWith: { code: number; reason: string | undefined } | undefined;
  /** Peer stateless reset tokens this connection would recognise (RFC 9000 §10.3.1). */
  readonly peerResetTokens: Uint8Array[] = [];
  /** Echo every datagram back to its sender (for socket tests). */
  echo = false;
  /** What to do when the deadline fires. */
  onTimeout: (() => void) | undefined;
  /** How often the endpoint called each driver method (work done on this connection). */
  readonly calls = { receive: 0, pollTransmit: 0, nextTimeout: 0, handleTimeout: 0 };
  readonly #cidEvents: CidEvent[] = [];

  constructor(
    readonly name: string,
    readonly localCids: Uint8Array[],
    readonly info?: ServerInitialInfo,
    readonly config?: unknown,
  ) {
    for (const cid of localCids) this.#cidEvents.push({ type: 'cid-added', cid });
  }

  addCid(cid: Uint8Array): void {
    this.localCids.push(cid);
    this.#cidEvents.push({ type: 'cid-added', cid });
  }

  removeCid(cid: Uint8Array): void {
    this.#cidEvents.push({ type: 'cid-removed', cid });
  }

  receive(datagram: Uint8Array, remote: string, now: number): void {
    this.calls.receive++;
    this.received.push({ datagram: datagram.slice(), remote, now });
    const tail = datagram.subarray(datagram.length - 16);
    if (datagram.length >= 21 && this.peerResetTokens.some((t) => bytesEqual(t, tail))) {
      this.state = 'draining';
      return;
    }
    if (this.echo) this.outbox.push({ data: datagram.slice(), to: remote });
  }

  pollTransmit(_now: number): Transmit | undefined {
    this.calls.pollTransmit++;
    return this.outbox.shift();
  }

  nextTimeout(): number | undefined {
    this.calls.nextTimeout++;
    return this.deadline;
  }

  handleTimeout(now: number): void {
    this.calls.handleTimeout++;
    this.timeoutsRun.push(now);
    if (this.deadline !== undefined && this.deadline <= now) {
      this.deadline = undefined;
      this.onTimeout?.();
    }
  }

  pollCidEvent(): CidEvent | undefined {
    return this.#cidEvents.shift();
  }

  close(code: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.state = 'closing';
    this.outbox.push({ data: new Uint8Array([0x40, 0x1d, code]), to: 'closing' });
  }
}

/** Deterministic CIDs: `cid(7)` is 8 bytes 07 07 ... 07 unless a length is given. */
export function cid(fill: number, length = 8): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/** A long header datagram of `size` bytes (unprotected: the endpoint never decrypts). */
export function longDatagram(opts: {
  type?: ProtectedLongPacketType;
  dcid: Uint8Array;
  scid: Uint8Array;
  token?: Uint8Array;
  size?: number;
}): Uint8Array {
  const size = opts.size ?? 1200;
  const w = new ByteWriter(size + 64);
  const layout = writeLongHeader(w, {
    type: opts.type ?? LongPacketType.Initial,
    dcid: opts.dcid,
    scid: opts.scid,
    token: opts.token,
    packetNumber: 0,
    pnLength: 1,
  });
  if (w.position < size) w.zeros(size - w.position);
  finishLongHeader(w, layout);
  return w.toBytes();
}

/**
 * A client Initial in a datagram of `size` bytes (default 1200), protected with the Initial keys
 * of `dcid` (RFC 9001 §5.2) like a real one: the endpoint authenticates Initials before it creates
 * any state. Its payload is a PING and PADDING.
 */
export function clientInitial(
  dcid: Uint8Array,
  scid: Uint8Array,
  token?: Uint8Array,
  size = 1200,
): Uint8Array {
  const w = new ByteWriter(size + 64);
  const layout = writeLongHeader(w, {
    type: LongPacketType.Initial,
    dcid,
    scid,
    token,
    packetNumber: 0,
    pnLength: 1,
  });
  const payloadLength = Math.max(4, size - w.position - AEAD_TAG_LENGTH);
  w.u8(0x01).zeros(payloadLength - 1); // PING, then PADDING
  finishLongHeader(w, layout, AEAD_TAG_LENGTH);
  const packet = new Uint8Array(w.length + AEAD_TAG_LENGTH);
  packet.set(w.view());
  const keys = initialKeys(dcid).client;
  PacketProtector.fromKeys(INITIAL_SUITE, keys).seal(packet, layout.pnOffset, 1, 0, payloadLength);
  return packet;
}

/** A long header of some version other than 1 (invariant fields, then filler). */
export function otherVersionDatagram(
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  size = 1200,
): Uint8Array {
  const w = new ByteWriter(size + 600);
  w.u8(0xc0).u32(version).vec8(dcid).vec8(scid);
  if (w.position < size) w.zeros(size - w.position);
  return w.toBytes();
}

/** A short header datagram of `size` bytes to `dcid`, filled with random bytes. */
export function shortDatagram(
  dcid: Uint8Array,
  size: number,
  random: Random = new SeededRandom(9),
): Uint8Array {
  const out = new Uint8Array(size);
  random.fill(out);
  out[0] = 0x40 | (out[0] & 0x3f);
  out.set(dcid, 1);
  return out;
}

/** Total driver calls the endpoint made on `conns` (see `FakeConnection.calls`). */
export function work(conns: Iterable<FakeConnection>): number {
  let n = 0;
  for (const c of conns) {
    n += c.calls.receive + c.calls.pollTransmit + c.calls.nextTimeout + c.calls.handleTimeout;
  }
  return n;
}

/** Zeroes the call counters of `conns`. */
export function resetWork(conns: Iterable<FakeConnection>): void {
  for (const c of conns) {
    c.calls.receive = 0;
    c.calls.pollTransmit = 0;
    c.calls.nextTimeout = 0;
    c.calls.handleTimeout = 0;
  }
}

/** Pulls every datagram the endpoint has to send now. */
export function drain(
  ep: { pollTransmit(now: number): Transmit | undefined },
  now = 0,
): Transmit[] {
  const out: Transmit[] = [];
  for (let t = ep.pollTransmit(now); t !== undefined; t = ep.pollTransmit(now)) out.push(t);
  return out;
}
