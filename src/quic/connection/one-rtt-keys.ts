/**
 * 1-RTT keys and the key update (RFC 9001 §6). Keys are numbered by generation; the Key Phase bit
 * is the generation's low bit. Reading keeps the current generation, the next one (derived ahead
 * so a peer's update is recognised, §6.3) and, for a while after an update, the previous one for
 * reordered packets (§6.5: no longer than three times the PTO).
 *
 * AEAD usage limits (§6.6) are counted here: packets sealed with the current write key (an update
 * is wanted before the confidentiality limit) and packets that failed authentication over the
 * connection (past the integrity limit the connection MUST close with AEAD_LIMIT_REACHED).
 */
import type { CipherSuite } from '../../crypto/suites.js';
import { AEAD_LIMITS, PacketProtector } from '../protection/index.js';

/** Which read keys opened a 1-RTT packet. */
export type ReadChoice = 'current' | 'next' | 'previous';

export class OneRttKeys {
  readonly suite: CipherSuite;
  #write: PacketProtector;
  #writeGen = 0;
  #readCurrent: PacketProtector;
  #readNext: PacketProtector;
  #readPrev: PacketProtector | undefined;
  #readGen = 0;
  /** Smallest packet number opened with the current read generation. */
  #firstPnCurrent = Number.POSITIVE_INFINITY;
  /** When the previous read keys go (ms). */
  #prevDiscardAt: number | undefined;
  /** True once a packet sent with the current write generation was acknowledged (§6.1). */
  #currentWriteAcked = false;
  #sealedWithCurrent = 0;
  /** Packets that failed authentication, all 1-RTT generations. */
  #authFailures = 0;
  /** Confidentiality limit (packets per key); tests may lower it. */
  readonly confidentialityLimit: number;
  /** Integrity limit (failed packets per connection). */
  readonly integrityLimit: number;

  constructor(
    suite: CipherSuite,
    readSecret: Uint8Array,
    writeSecret: Uint8Array,
    limits?: { confidentiality?: number; integrity?: number },
  ) {
    this.suite = suite;
    this.#write = PacketProtector.fromSecret(suite, writeSecret);
    this.#readCurrent = PacketProtector.fromSecret(suite, readSecret);
    this.#readNext = this.#readCurrent.nextKeyPhase();
    this.confidentialityLimit = limits?.confidentiality ?? AEAD_LIMITS[suite].confidentiality;
    this.integrityLimit = limits?.integrity ?? AEAD_LIMITS[suite].integrity;
  }

  /** Key Phase bit to put in packets we send. */
  get writePhase(): 0 | 1 {
    return (this.#writeGen & 1) as 0 | 1;
  }

  /** Write generation (0 before any update). */
  get writeGeneration(): number {
    return this.#writeGen;
  }

  /** Read generation (0 before any update). */
  get readGeneration(): number {
    return this.#readGen;
  }

  get writer(): PacketProtector {
    return this.#write;
  }

  /** The header protection key is shared by every generation (§6: it is not updated). */
  get headerKeys(): PacketProtector {
    return this.#readCurrent;
  }

  /** When the previous read keys are dropped, or undefined. */
  get discardDeadline(): number | undefined {
    return this.#prevDiscardAt;
  }

  get authFailures(): number {
    return this.#authFailures;
  }

  /** Read keys for a packet with Key Phase `phase` and packet number `pn` (§6.3, §6.5). */
  readKeysFor(phase: 0 | 1, pn: number): { keys: PacketProtector; choice: ReadChoice } {
    if (phase === (this.#readGen & 1)) return { keys: this.#readCurrent, choice: 'current' };
    if (this.#readPrev !== undefined && pn < this.#firstPnCurrent) {
      return { keys: this.#readPrev, choice: 'previous' };
    }
    return { keys: this.#readNext, choice: 'next' };
  }

  /**
   * A packet opened with `choice` keys. Opening with the next keys means the peer updated: the
   * read generation moves on, and our write keys follow unless we initiated (§6.2). Returns true
   * when that happened.
   */
  onOpened(choice: ReadChoice, pn: number, now: number, pto: number): boolean {
    if (choice === 'current') {
      if (pn < this.#firstPnCurrent) this.#firstPnCurrent = pn;
      return false;
    }
    if (choice === 'previous') return false;
    this.#readPrev = this.#readCurrent;
    this.#readCurrent = this.#readNext;
    this.#readNext = this.#readCurrent.nextKeyPhase();
    this.#readGen++;
    this.#firstPnCurrent = pn;
    this.#prevDiscardAt = now + 3 * pto;
    if (this.#writeGen < this.#readGen) this.#advanceWrite();
    return true;
  }

  /** A packet failed authentication; true once the integrity limit is exceeded (§6.6). */
  onAuthFailure(): boolean {
    this.#authFailures++;
    return this.#authFailures > this.integrityLimit;
  }

  /**
   * True when we may start a key update (§6.1): the peer acknowledged a packet of the current
   * generation, and both directions are on the same generation.
   */
  canInitiate(): boolean {
    return this.#currentWriteAcked && this.#writeGen === this.#readGen;
  }

  /** Starts a key update: the next packet we send uses new keys. */
  initiate(): void {
    this.#advanceWrite();
  }

  /** A packet we sent with write generation `gen` was acknowledged. */
  onAcked(gen: number): void {
    if (gen === this.#writeGen) this.#currentWriteAcked = true;
  }

  /** Counts a sealed packet; true when the confidentiality limit calls for an update (§6.6). */
  onSealed(): boolean {
    this.#sealedWithCurrent++;
    // Update with margin: well before the limit, so the peer has time to follow.
    return this.#sealedWithCurrent >= this.confidentialityLimit * 0.9;
  }

  /** True when the current write key reached its confidentiality limit: stop sending. */
  get exhausted(): boolean {
    return this.#sealedWithCurrent >= this.confidentialityLimit;
  }

  /** Drops the previous read keys once their time is up. */
  onTimeout(now: number): void {
    if (this.#prevDiscardAt !== undefined && now >= this.#prevDiscardAt) {
      this.#readPrev = undefined;
      this.#prevDiscardAt = undefined;
    }
  }

  #advanceWrite(): void {
    this.#write = this.#write.nextKeyPhase();
    this.#writeGen++;
    this.#currentWriteAcked = false;
    this.#sealedWithCurrent = 0;
  }
}
