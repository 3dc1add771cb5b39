/**
 * Address validation tokens for Retry packets and NEW_TOKEN frames (RFC 9000 §8.1.2-§8.1.4),
 * sealed with AES-128-GCM under a server-only key. Server-side and once per connection attempt,
 * so `node:crypto` is used directly.
 *
 *   Token {
 *     Kind (8),               // 0x01 Retry, 0x02 NEW_TOKEN; clear (§8.1.3 allows it), also AAD
 *     Nonce (96),             // from the injected Random
 *     Ciphertext (..),        // AES-128-GCM of the plaintext below
 *     Tag (128),
 *   }
 *   Plaintext {
 *     Issued At (i),          // milliseconds on the caller's wall clock
 *     Address Length (8), Address (..),            // UTF-8
 *     [Retry only] ODCID Length (8), ODCID (..), Retry SCID Length (8), Retry SCID (..),
 *   }
 *
 * One key and random 96-bit nonces: rotate the key well before 2^32 tokens (NIST SP 800-38D).
 * Replay (§8.1.4 "servers MUST ensure that replay of tokens is prevented or limited") is limited
 * here by the maximum ages; single use of NEW_TOKEN tokens needs an endpoint-side cache.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Random } from '../../util/random.js';
import { ByteReader, ByteWriter, isCodecError } from '../../wire/index.js';

/** How a token was provided to the client (§8.1.1: the server MUST be able to tell). */
export type TokenKind = 'retry' | 'new-token';

const KIND_BYTE: Readonly<Record<TokenKind, number>> = { retry: 0x01, 'new-token': 0x02 };
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 16;
/** Kind + nonce + tag + the smallest plaintext (1-byte Issued At, empty address). */
const MIN_TOKEN_LENGTH = 1 + NONCE_LENGTH + TAG_LENGTH + 2;

/** What a valid token says. */
export interface TokenContents {
  /** Retry or NEW_TOKEN. */
  readonly kind: TokenKind;
  /** When it was issued (ms, the clock passed to `seal*`). */
  readonly issuedAt: number;
  /** The client address it was issued to (as given to `seal*`). */
  readonly address: string;
  /** Retry only: the client's original Destination Connection ID (for the transport parameter). */
  readonly originalDcid: Uint8Array | undefined;
  /** Retry only: the Source Connection ID of the Retry packet (retry_source_connection_id). */
  readonly retryScid: Uint8Array | undefined;
}

/**
 * Why a token was refused. The endpoint maps these: an invalid Retry token → close with
 * INVALID_TOKEN (§8.1.2 SHOULD); an invalid NEW_TOKEN token → proceed as unvalidated (§8.1.3).
 */
export type TokenRejection = 'malformed' | 'integrity' | 'expired' | 'future' | 'address-mismatch';

export type TokenCheck =
  | { readonly ok: true; readonly token: TokenContents }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface AddressTokensOptions {
  /** Oldest acceptable Retry token, ms (§8.1.4: "only accepted for a short time"). Default 10 s. */
  retryMaxAge?: number;
  /** Oldest acceptable NEW_TOKEN token, ms (§8.1.3 SHOULD expire). Default 24 h. */
  newTokenMaxAge?: number;
  /** Tolerated clock skew between servers sharing the key, ms. Default 2 s. */
  maxClockSkew?: number;
  /** Keys of earlier rotations, still accepted when opening tokens. */
  previousKeys?: readonly Uint8Array[];
}

export class AddressTokens {
  readonly #key: Uint8Array;
  readonly #previousKeys: readonly Uint8Array[];
  readonly #random: Random;
  readonly #retryMaxAge: number;
  readonly #newTokenMaxAge: number;
  readonly #skew: number;

  constructor(key: Uint8Array, random: Random, options: AddressTokensOptions = {}) {
    for (const k of [key, ...(options.previousKeys ?? [])]) {
      if (k.length !== KEY_LENGTH) throw new RangeError('token keys are 16 bytes (AES-128)');
    }
    this.#key = key.slice();
    this.#previousKeys = (options.previousKeys ?? []).map((k) => k.slice());
    this.#random = random;
    this.#retryMaxAge = options.retryMaxAge ?? 10_000;
    this.#newTokenMaxAge = options.newTokenMaxAge ?? 86_400_000;
    this.#skew = options.maxClockSkew ?? 2_000;
  }

  /**
   * A token for a Retry packet. `address` should include the port (§8.1.4: Retry tokens SHOULD
   * let the server verify that "the source IP address and port in client packets remain
   * constant").
   */
  sealRetry(
    address: string,
    now: number,
    originalDcid: Uint8Array,
    retryScid: Uint8Array,
  ): Uint8Array {
    return this.#seal('retry', address, now, originalDcid, retryScid);
  }

  /**
   * A token for a NEW_TOKEN frame. `address` should be the IP address only: §8.1.3 notes the
   * port is unlikely to survive to the next connection. Every token is unique (random nonce),
   * as §8.1.3 requires.
   */
  sealNewToken(address: string, now: number): Uint8Array {
    return this.#seal('new-token', address, now, undefined, undefined);
  }

  /** Opens and checks `token` for a client at `address` at time `now`. Never throws. */
  open(token: Uint8Array, address: string, now: number): TokenCheck {
    if (token.length < MIN_TOKEN_LENGTH) return reject('malformed');
    const kindByte = token[0];
    const kind: TokenKind | undefined =
      kindByte === KIND_BYTE.retry
        ? 'retry'
        : kindByte === KIND_BYTE['new-token']
          ? 'new-token'
          : undefined;
    if (kind === undefined) return reject('malformed');
    let plain = decrypt(this.#key, token);
    for (let i = 0; plain === undefined && i < this.#previousKeys.length; i++) {
      plain = decrypt(this.#previousKeys[i], token);
    }
    if (plain === undefined) return reject('integrity');

    let contents: TokenContents;
    try {
      const r = new ByteReader(plain);
      const issuedAt = r.varint();
      const tokenAddress = new TextDecoder('utf-8', { fatal: true }).decode(r.vec8());
      let originalDcid: Uint8Array | undefined;
      let retryScid: Uint8Array | undefined;
      if (kind === 'retry') {
        originalDcid = r.vec8().slice();
        retryScid = r.vec8().slice();
      }
      r.expectEnd();
      contents = { kind, issuedAt, address: tokenAddress, originalDcid, retryScid };
    } catch (err) {
      // Authentic but unparsable: only a different format under the same key can do this.
      if (isCodecError(err) || err instanceof TypeError) return reject('malformed');
      throw err;
    }

    const maxAge = kind === 'retry' ? this.#retryMaxAge : this.#newTokenMaxAge;
    if (contents.issuedAt > now + this.#skew) return reject('future');
    if (now - contents.issuedAt > maxAge) return reject('expired');
    if (contents.address !== address) return reject('address-mismatch');
    return { ok: true, token: contents };
  }

  #seal(
    kind: TokenKind,
    address: string,
    now: number,
    originalDcid: Uint8Array | undefined,
    retryScid: Uint8Array | undefined,
  ): Uint8Array {
    const w = new ByteWriter();
    w.varint(Math.max(0, Math.floor(now)));
    w.vec8(new TextEncoder().encode(address));
    if (originalDcid && retryScid) w.vec8(originalDcid).vec8(retryScid);
    const plain = w.toBytes();

    const out = new Uint8Array(1 + NONCE_LENGTH + plain.length + TAG_LENGTH);
    out[0] = KIND_BYTE[kind];
    const nonce = out.subarray(1, 1 + NONCE_LENGTH);
    this.#random.fill(nonce);
    const cipher = createCipheriv('aes-128-gcm', this.#key, nonce, { authTagLength: TAG_LENGTH });
    cipher.setAAD(out.subarray(0, 1));
    const body = cipher.update(plain);
    const last = cipher.final();
    out.set(body, 1 + NONCE_LENGTH);
    out.set(last, 1 + NONCE_LENGTH + body.length);
    out.set(cipher.getAuthTag(), out.length - TAG_LENGTH);
    return out;
  }
}

/** The plaintext of `token` under `key`, or undefined when authentication fails. */
function decrypt(key: Uint8Array, token: Uint8Array): Uint8Array | undefined {
  const nonce = token.subarray(1, 1 + NONCE_LENGTH);
  const body = token.subarray(1 + NONCE_LENGTH, token.length - TAG_LENGTH);
  const tag = token.subarray(token.length - TAG_LENGTH);
  const decipher = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(token.subarray(0, 1));
  decipher.setAuthTag(tag);
  const head = decipher.update(body);
  try {
    const tail = decipher.final();
    if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head, 0);
    out.set(tail, head.length);
    return out;
  } catch {
    return undefined;
  }
}

function reject(reason: TokenRejection): TokenCheck {
  return { ok: false, reason };
}
