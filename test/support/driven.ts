/** A fake QUIC endpoint as a `SessionDriver` sees it: the transport plus an event queue. */
import type { QuicAppEvent } from '../../src/quic/api.js';
import type { DrivenConnection } from '../../src/runtime/h3/driver.js';
import type { FakeQuicEndpoint } from './fake-quic.js';

/** The fake endpoint plus the event queue a driver polls. */
export class Driven implements DrivenConnection {
  readonly role = 'server' as const;
  readonly queue: QuicAppEvent[] = [];
  readonly #ep: FakeQuicEndpoint;
  constructor(ep: FakeQuicEndpoint) {
    this.#ep = ep;
  }
  pollEvent(): QuicAppEvent | undefined {
    return this.queue.shift();
  }
  openStream(bidi: boolean): number | undefined {
    return this.#ep.openStream(bidi);
  }
  writeStream(id: number, data: Uint8Array, fin?: boolean): number {
    return this.#ep.writeStream(id, data, fin);
  }
  writableBytes(id: number): number {
    return this.#ep.writableBytes(id);
  }
  resetStream(id: number, code: number): void {
    this.#ep.resetStream(id, code);
  }
  stopSending(id: number, code: number): void {
    this.#ep.stopSending(id, code);
  }
  sendDatagram(data: Uint8Array): boolean {
    return this.#ep.sendDatagram(data);
  }
  get maxDatagramPayload(): number {
    return this.#ep.maxDatagramPayload;
  }
  close(code: number, reason?: string): void {
    this.#ep.close(code, reason);
  }
}
