/**
 * In-memory stand-ins for the tunnel's two sides: an extended CONNECT session (what
 * `ServerConnectSession` offers the handler) and a UDP socket factory that records what it opens.
 */
import type { Resolver } from '../../../src/masque/connect-udp/index.js';
import type {
  BoundPeerInfo,
  BoundSocket,
  BoundSocketFactory,
  ConnectUdpRequest,
  TunnelSocket,
  UdpSocketFactory,
  UdpTarget,
} from '../../../src/masque/proxy/index.js';
import { DatagramTooLargeError } from '../../../src/quic/api.js';

type CloseInfo = { kind: 'end' | 'reset' | 'connection'; code?: number };

/** A connect-udp request as the handler sees it, driven by the test. */
export class FakeSession implements ConnectUdpRequest {
  readonly headers: Array<[string, string]>;
  readonly remoteAddress: string;
  capsuleMode = true;
  bufferedAmount = 0;
  /** Largest HTTP datagram payload a QUIC DATAGRAM frame carries here. */
  maxDatagram = 1200;

  get maxDatagramPayload(): number {
    return this.maxDatagram;
  }
  /** Whether the connection's DATAGRAM queue accepts more. */
  datagramQueueOpen = true;
  /** QUIC DATAGRAM frames negotiated (else datagrams go as capsules). */
  datagramsEnabled = true;
  /** The transport's pause signal for datagram senders. */
  datagramsWritable = true;
  #writableListeners: Array<() => void> = [];
  /** What the handler answered. */
  status: number | undefined;
  responseHeaders: Array<[string, string]> = [];
  /** HTTP datagram payloads sent to the client (copies), and capsules. */
  readonly datagrams: Uint8Array[] = [];
  readonly capsules: Array<{ type: number; value: Uint8Array }> = [];
  /** Our side: 'open', 'fin' (close) or the reset code. */
  ended: 'open' | 'fin' | number = 'open';
  closeInfo: CloseInfo | undefined;
  readonly closed: Promise<CloseInfo>;
  #resolve!: (info: CloseInfo) => void;
  #listeners: Array<(p: Uint8Array) => void> = [];
  #capsuleListeners: Array<(c: { type: number; value: Uint8Array }) => void> = [];

  constructor(headers: Array<[string, string]>, remoteAddress = '192.0.2.7:5000') {
    this.headers = headers;
    this.remoteAddress = remoteAddress;
    this.closed = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  accept(headers: Array<[string, string]> = []): void {
    this.status = 200;
    this.responseHeaders = headers;
  }

  reject(status: number, headers: Array<[string, string]> = []): void {
    this.status = status;
    this.responseHeaders = headers;
    this.finish({ kind: 'end' });
  }

  header(name: string): string | undefined {
    return this.responseHeaders.find(([n]) => n === name)?.[1];
  }

  /** DatagramTooLargeErrors thrown (the relay should check `maxDatagramPayload` first). */
  tooLargeThrown = 0;

  sendDatagram(payload: Uint8Array): boolean {
    if (this.closeInfo !== undefined) return false;
    if (payload.length > this.maxDatagram) {
      this.tooLargeThrown++;
      throw new DatagramTooLargeError(payload.length, this.maxDatagram);
    }
    if (!this.datagramQueueOpen) return false;
    this.datagrams.push(payload.slice());
    return true;
  }

  sendCapsule(type: number, value: Uint8Array): boolean {
    this.capsules.push({ type, value: value.slice() });
    return true;
  }

  onDatagramsWritable(cb: () => void): () => void {
    this.#writableListeners.push(cb);
    return () => {
      this.#writableListeners = this.#writableListeners.filter((l) => l !== cb);
    };
  }

  /** The transport drained: writable again, listeners told. */
  becomeWritable(): void {
    this.datagramsWritable = true;
    for (const l of [...this.#writableListeners]) l();
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  onDatagram(cb: (payload: Uint8Array) => void): () => void {
    this.#listeners.push(cb);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== cb);
    };
  }

  onCapsule(cb: (c: { type: number; value: Uint8Array }) => void): () => void {
    this.#capsuleListeners.push(cb);
    return () => {
      this.#capsuleListeners = this.#capsuleListeners.filter((l) => l !== cb);
    };
  }

  /** The client sends a capsule (a type the handler registered). */
  deliverCapsule(type: number, value: Uint8Array): void {
    for (const l of this.#capsuleListeners) l({ type, value: value.slice() });
  }

  close(): void {
    if (this.ended === 'open') this.ended = 'fin';
  }

  abort(code = 0x10c): void {
    if (this.ended === 'open' || this.ended === 'fin') this.ended = code;
    this.finish({ kind: 'reset', code });
  }

  /** The client sends an HTTP datagram (the bytes after the Quarter Stream ID). */
  deliver(payload: Uint8Array): void {
    for (const l of this.#listeners) l(payload);
  }

  /** The session ends from the client's or connection's side. */
  finish(info: CloseInfo): void {
    if (this.closeInfo !== undefined) return;
    this.closeInfo = info;
    this.#resolve(info);
  }
}

/** A socket that records sends; the test plays the target. */
export class FakeSocket implements TunnelSocket {
  readonly target: UdpTarget;
  readonly localAddress = '0.0.0.0:40000';
  readonly sent: Uint8Array[] = [];
  /** Send callbacks not yet run (when `holdSends`). */
  readonly held: Array<(err: Error | null) => void> = [];
  holdSends = false;
  /**
   * What `trySend` answers: false (default: go through `send`), true (sent at once: a copy of
   * the slice is recorded in `sent`) or an Error (the failure `send` would have reported).
   */
  sendsAtOnce: boolean | Error = false;
  closeCalls = 0;
  #message: (data: Buffer) => void = () => {};
  #error: (err: Error) => void = () => {};

  constructor(target: UdpTarget) {
    this.target = target;
  }

  send(data: Uint8Array, done: (err: Error | null) => void): void {
    this.sent.push(data);
    if (this.holdSends) this.held.push(done);
    else queueMicrotask(() => done(null));
  }

  trySend(data: Uint8Array, offset: number, length: number): boolean | Error {
    if (this.sendsAtOnce === true) this.sent.push(data.slice(offset, offset + length));
    return this.sendsAtOnce;
  }

  onMessage(handler: (data: Buffer) => void): void {
    this.#message = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.#error = handler;
  }

  close(): void {
    this.closeCalls++;
  }

  /** The target sends a datagram. */
  receive(data: Uint8Array): void {
    this.#message(Buffer.from(data));
  }

  /** The OS reports an error (e.g. ICMP port unreachable). */
  fail(code: string): void {
    this.#error(Object.assign(new Error(code), { code }));
  }
}

/** An unconnected socket that records sends (with their destination); the test plays peers. */
export class FakeBoundSocket implements BoundSocket {
  readonly family: 4 | 6;
  readonly address: string;
  readonly port: number;
  readonly sent: Array<{ data: Uint8Array; address: string; port: number }> = [];
  readonly held: Array<(err: Error | null) => void> = [];
  holdSends = false;
  closeCalls = 0;
  #message: (data: Buffer, from: BoundPeerInfo) => void = () => {};
  #error: (err: Error) => void = () => {};

  constructor(family: 4 | 6, address: string, port: number) {
    this.family = family;
    this.address = address;
    this.port = port;
  }

  send(data: Uint8Array, port: number, address: string, done: (err: Error | null) => void): void {
    this.sent.push({ data, address, port });
    if (this.holdSends) this.held.push(done);
    else queueMicrotask(() => done(null));
  }

  onMessage(handler: (data: Buffer, from: BoundPeerInfo) => void): void {
    this.#message = handler;
  }

  onError(handler: (err: Error) => void): void {
    this.#error = handler;
  }

  close(): void {
    this.closeCalls++;
  }

  /** A peer sends a datagram to the bound port. */
  receive(data: Uint8Array, address: string, port: number): void {
    this.#message(Buffer.from(data), { address, port });
  }

  fail(code: string): void {
    this.#error(Object.assign(new Error(code), { code }));
  }
}

/** Records the bound sockets it opens; refuses the families in `refuse`. */
export class FakeBoundSocketFactory implements BoundSocketFactory {
  readonly sockets: FakeBoundSocket[] = [];
  readonly refuse = new Set<4 | 6>();
  #nextPort = 50_000;

  async open(family: 4 | 6, address: string): Promise<BoundSocket> {
    if (this.refuse.has(family)) {
      throw Object.assign(new Error('EAFNOSUPPORT'), { code: 'EAFNOSUPPORT' });
    }
    const s = new FakeBoundSocket(family, address, this.#nextPort++);
    this.sockets.push(s);
    return s;
  }

  get openCount(): number {
    return this.sockets.filter((s) => s.closeCalls === 0).length;
  }
}

/** Records every socket it opens; refuses the addresses in `refuse`. */
export class FakeSocketFactory implements UdpSocketFactory {
  readonly sockets: FakeSocket[] = [];
  readonly refuse = new Set<string>();
  /** Resolved when the next `open` is allowed to complete (tests of races). */
  gate: Promise<void> | undefined;

  async open(target: UdpTarget): Promise<TunnelSocket> {
    if (this.gate !== undefined) await this.gate;
    if (this.refuse.has(target.address)) {
      throw Object.assign(new Error('EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    }
    const s = new FakeSocket(target);
    this.sockets.push(s);
    return s;
  }

  /** Sockets opened and not closed. */
  get openCount(): number {
    return this.sockets.filter((s) => s.closeCalls === 0).length;
  }
}

/** A resolver answering from a table; names missing from it are NXDOMAIN. */
export function tableResolver(
  table: Record<string, { a?: string[]; aaaa?: string[]; error?: string }>,
): Resolver {
  const answer = (name: string, key: 'a' | 'aaaa'): Promise<string[]> => {
    const e = table[name];
    if (e === undefined) {
      return Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
    }
    if (e.error !== undefined) {
      return Promise.reject(Object.assign(new Error(e.error), { code: e.error }));
    }
    const list = e[key];
    if (list === undefined) {
      return Promise.reject(Object.assign(new Error('ENODATA'), { code: 'ENODATA' }));
    }
    return Promise.resolve([...list]);
  };
  return { resolve4: (n) => answer(n, 'a'), resolve6: (n) => answer(n, 'aaaa') };
}

/** A connect-udp request header section for `path`. */
export function connectUdpHeaders(
  path: string,
  extra: Array<[string, string]> = [],
  authority = 'proxy.example:4433',
): Array<[string, string]> {
  return [
    [':method', 'CONNECT'],
    [':protocol', 'connect-udp'],
    [':scheme', 'https'],
    [':authority', authority],
    [':path', path],
    ['capsule-protocol', '?1'],
    ...extra,
  ];
}
