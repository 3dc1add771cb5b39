/**
 * The sans-IO TLS 1.3 session for QUIC (RFC 9001 §4.1): CRYPTO bytes in per encryption level,
 * events out. No TLS record layer: handshake messages travel directly in CRYPTO frames (§4.1.3).
 *
 *   session.receive(level, bytes, now)   in-order CRYPTO data of one level
 *   session.poll()                       next event: send / keys / complete / ticket / keylog
 *
 * Errors are thrown as `TlsAlertError` (QUIC sends CRYPTO_ERROR 0x0100 + alert, RFC 9001 §4.8),
 * as `QuicProtocolViolation` where RFC 9001 names PROTOCOL_VIOLATION, or as whatever a configured
 * hook threw (the QUIC layer's `TransportError` for bad transport parameters). Anything else that
 * escapes (a node:crypto or programming error) leaves as an alert too, see {@link asTlsError}.
 * After an error the session is dead: every later call throws the same error.
 */
import { type CipherSuite, type SuiteParams, suiteParams } from '../../crypto/index.js';
import { CodecError, toHex } from '../../wire/index.js';
import { TlsAlertError } from '../alert.js';
import {
  HandshakeReader,
  type HandshakeReaderLimits,
  type RawHandshake,
} from '../messages/index.js';
import { QuicProtocolViolation, rejectNonQuicHandshakeType } from '../quic.js';
import { Transcript } from './transcript.js';
import type { CryptoLevel, KeyLevel, TlsEvent } from './types.js';

/** NSS key log labels (the SSLKEYLOGFILE format Wireshark reads). */
export const KeylogLabel = {
  clientHandshake: 'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
  serverHandshake: 'SERVER_HANDSHAKE_TRAFFIC_SECRET',
  clientApplication: 'CLIENT_TRAFFIC_SECRET_0',
  serverApplication: 'SERVER_TRAFFIC_SECRET_0',
  clientEarly: 'CLIENT_EARLY_TRAFFIC_SECRET',
} as const;

export abstract class TlsSession {
  /** Which side of the handshake this is. */
  abstract readonly role: 'client' | 'server';

  /** The running transcript hash (RFC 9846 §4.4.1). */
  protected readonly transcript = new Transcript();
  /** The negotiated suite, once known. */
  protected suite: SuiteParams | undefined;
  /** ClientHello.random, the key log's connection identifier. */
  protected clientRandom: Uint8Array | undefined;

  readonly #readers: Record<CryptoLevel, HandshakeReader>;
  readonly #events: TlsEvent[] = [];
  #head = 0;
  #failure: unknown;
  #complete = false;
  /** Errors thrown by configured hooks: they leave unchanged (see {@link callHook}). */
  readonly #hookErrors = new WeakSet<object>();

  constructor(limits: HandshakeReaderLimits | undefined) {
    this.#readers = {
      initial: new HandshakeReader(limits),
      handshake: new HandshakeReader(limits),
      application: new HandshakeReader(limits),
    };
  }

  /** True once the handshake completed (RFC 9001 §4.1.1). */
  get handshakeComplete(): boolean {
    return this.#complete;
  }

  /** The negotiated cipher suite, once the hellos are exchanged. */
  get cipherSuite(): CipherSuite | undefined {
    return this.suite?.id;
  }

  /** The next event, or undefined when there is nothing to report. */
  poll(): TlsEvent | undefined {
    if (this.#head === this.#events.length) return undefined;
    const ev = this.#events[this.#head++];
    if (this.#head === this.#events.length) {
      this.#events.length = 0;
      this.#head = 0;
    }
    return ev;
  }

  /**
   * In-order CRYPTO data received at `level`. Bytes at a level where no handshake message is
   * expected now are an unexpected_message (RFC 9846 §5.1: handshake messages "MUST NOT span key
   * changes"; a message at the wrong level cannot belong to this handshake).
   */
  receive(level: CryptoLevel, bytes: Uint8Array, now: number): void {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      if (bytes.length === 0) return;
      if (level !== this.expectedLevel()) {
        throw new TlsAlertError(
          'unexpected_message',
          `handshake data at the ${level} level, expected ${this.expectedLevel()}`,
        );
      }
      const reader = this.#readers[level];
      reader.push(bytes);
      for (let m = reader.next(); m !== undefined; m = reader.next()) {
        rejectNonQuicHandshakeType(m.type);
        this.handle(level, m, now);
        if (this.expectedLevel() !== level && reader.buffered > 0) {
          // RFC 9846 §5.1: data left at a level whose keys were just superseded.
          throw new TlsAlertError('unexpected_message', `data after a key change at ${level}`);
        }
      }
    } catch (err) {
      this.#failure = this.#asTlsError(err);
      throw this.#failure;
    }
  }

  /** Marks the session failed with `err` and throws it (for entry points other than receive). */
  protected fail(err: unknown): never {
    this.#failure = this.#asTlsError(err);
    throw this.#failure;
  }

  /** Runs a configured hook; what it throws leaves the session as it is. */
  protected callHook<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (typeof err === 'object' && err !== null) this.#hookErrors.add(err);
      throw err;
    }
  }

  #asTlsError(err: unknown): unknown {
    if (
      err instanceof TlsAlertError ||
      err instanceof QuicProtocolViolation ||
      (typeof err === 'object' && err !== null && this.#hookErrors.has(err))
    ) {
      return err;
    }
    return asTlsError(err);
  }

  /** Throws the stored failure, if any. */
  protected checkAlive(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The level the next handshake message must arrive at. */
  protected abstract expectedLevel(): CryptoLevel;

  /** Processes one complete handshake message. */
  protected abstract handle(level: CryptoLevel, msg: RawHandshake, now: number): void;

  protected emit(ev: TlsEvent): void {
    this.#events.push(ev);
  }

  protected send(level: CryptoLevel, data: Uint8Array): void {
    this.emit({ kind: 'send', level, data });
  }

  protected setSuite(id: number): SuiteParams {
    this.suite = suiteParams(id);
    this.transcript.setHash(this.suite.hash);
    return this.suite;
  }

  /** Reports a traffic secret and logs it. */
  protected installKeys(
    level: KeyLevel,
    direction: 'read' | 'write',
    secret: Uint8Array,
    label: string,
  ): void {
    this.emit({ kind: 'keylog', line: `${label} ${toHex(this.clientRandom!)} ${toHex(secret)}` });
    this.emit({ kind: 'keys', level, direction, suite: this.suite!.id, secret });
  }

  protected markComplete(): void {
    this.#complete = true;
  }
}

/** Throws unexpected_message for a message type not valid in the current state. */
export function unexpected(msg: RawHandshake, state: string): never {
  throw new TlsAlertError('unexpected_message', `handshake message type ${msg.type} in ${state}`);
}

/**
 * The alert for an error that is not a TLS one: `decode_error` for bytes that did not parse
 * (RFC 9846 §6.2: a message "which cannot be parsed according to the syntax"), otherwise
 * `internal_error` ("An internal error unrelated to the peer or the correctness of the protocol
 * ... prohibits it from continuing"). The original error is the cause.
 */
export function asTlsError(err: unknown): TlsAlertError {
  if (err instanceof TlsAlertError) return err;
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (err instanceof CodecError) return new TlsAlertError('decode_error', what, { cause: err });
  return new TlsAlertError('internal_error', what, { cause: err });
}
