/**
 * The handshake transcript hash (RFC 9846 §4.4.1): the hash of the concatenated handshake
 * messages (headers included), computed incrementally. The client does not know the hash
 * function until the server picks a cipher suite, so messages are kept until `setHash`.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HashName } from '../../crypto/index.js';
import { messageHash } from '../messages/index.js';

export class Transcript {
  #hash: HashName | undefined;
  #ctx: Hash | undefined;
  /** Messages added before the hash function was known. */
  #pending: Uint8Array[] = [];

  /** The hash function, once known. */
  get hash(): HashName | undefined {
    return this.#hash;
  }

  /** Fixes the hash function and hashes the messages seen so far. */
  setHash(hash: HashName): void {
    if (this.#hash !== undefined) {
      if (this.#hash !== hash) throw new Error(`transcript hash already ${this.#hash}`);
      return;
    }
    this.#hash = hash;
    this.#ctx = createHash(hash);
    for (const m of this.#pending) this.#ctx.update(m);
    this.#pending = [];
  }

  /** Appends one framed handshake message. */
  add(message: Uint8Array): void {
    if (this.#ctx) this.#ctx.update(message);
    else this.#pending.push(message);
  }

  /** Transcript-Hash of everything added so far (the running hash is not disturbed). */
  digest(): Uint8Array {
    return new Uint8Array(this.#context().copy().digest());
  }

  /** Transcript-Hash of everything added so far followed by `extra` (not added). */
  digestWith(extra: Uint8Array): Uint8Array {
    return new Uint8Array(this.#context().copy().update(extra).digest());
  }

  /**
   * After a HelloRetryRequest (RFC 9846 §4.4.1): replaces ClientHello1, the only message so far,
   * with the synthetic message_hash(Hash(ClientHello1)).
   */
  replaceWithMessageHash(): void {
    const ch1Hash = this.digest();
    this.#ctx = createHash(this.#hash!);
    this.#ctx.update(messageHash(ch1Hash));
  }

  #context(): Hash {
    if (!this.#ctx) throw new Error('transcript hash function not set');
    return this.#ctx;
  }
}
