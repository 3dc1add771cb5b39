/**
 * The receive side of a capsule stream carried by an HTTP/2 stream (RFC 9297 §3.2), for both
 * roles' adapters: chunks in, HTTP datagrams (DATAGRAM capsules, §3.5) and other known capsules
 * out to their listeners. What arrives before a listener subscribes is held, bounded: up to
 * `MAX_EARLY_DATAGRAMS` datagrams (older ones dropped, as UDP would) and `MAX_EARLY_CAPSULE_BYTES`
 * of other capsules (beyond it the stream is malformed for us: CapsuleError).
 */
import { CapsuleError } from '../../capsule/errors.js';
import { CapsuleParser } from '../../capsule/parser.js';
import { type Capsule, CapsuleType } from '../../capsule/types.js';

const MAX_EARLY_DATAGRAMS = 1024;
const MAX_EARLY_CAPSULE_BYTES = 64 * 1024;

export class H2CapsuleReader {
  readonly #parser: CapsuleParser;
  #datagrams: Array<(payload: Uint8Array) => void> = [];
  #capsules: Array<(c: Capsule) => void> = [];
  #earlyDatagrams: Uint8Array[] = [];
  #earlyCapsules: Capsule[] = [];
  #earlyBytes = 0;

  constructor(known: Iterable<readonly [number, number]>) {
    this.#parser = new CapsuleParser({ known });
  }

  onDatagram(cb: (payload: Uint8Array) => void): () => void {
    this.#datagrams.push(cb);
    const early = this.#earlyDatagrams;
    this.#earlyDatagrams = [];
    for (const d of early) cb(d);
    return () => {
      this.#datagrams = this.#datagrams.filter((l) => l !== cb);
    };
  }

  onCapsule(cb: (c: Capsule) => void): () => void {
    this.#capsules.push(cb);
    const early = this.#earlyCapsules;
    this.#earlyCapsules = [];
    this.#earlyBytes = 0;
    for (const c of early) cb(c);
    return () => {
      this.#capsules = this.#capsules.filter((l) => l !== cb);
    };
  }

  /** A chunk of the stream. Throws CapsuleError when the capsule stream is malformed (§3.3). */
  push(chunk: Uint8Array): void {
    this.#parser.push(chunk, (c) => {
      if (c.type === CapsuleType.DATAGRAM) {
        if (this.#datagrams.length === 0) {
          if (this.#earlyDatagrams.length >= MAX_EARLY_DATAGRAMS) this.#earlyDatagrams.shift();
          this.#earlyDatagrams.push(c.value.slice());
          return;
        }
        for (const l of this.#datagrams) l(c.value);
        return;
      }
      const copy: Capsule = { type: c.type, value: c.value.slice() };
      if (this.#capsules.length === 0) {
        this.#earlyBytes += copy.value.length;
        if (this.#earlyBytes > MAX_EARLY_CAPSULE_BYTES) {
          throw new CapsuleError('too many capsules before anyone reads them', 'TOO_LARGE');
        }
        this.#earlyCapsules.push(copy);
        return;
      }
      for (const l of this.#capsules) l(copy);
    });
  }

  /** The stream ended cleanly. Throws CapsuleError when it ended inside a capsule (§3.3). */
  end(): void {
    this.#parser.end();
  }
}
