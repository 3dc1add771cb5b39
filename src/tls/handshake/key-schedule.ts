/**
 * The TLS 1.3 key schedule (RFC 9846 §7.1), for SHA-256 and SHA-384 suites:
 *
 *              0
 *              |
 *   PSK ->  HKDF-Extract = Early Secret ---> binder_key ("ext binder" | "res binder")
 *              |                        +--> client_early_traffic_secret ("c e traffic")
 *        Derive-Secret(., "derived", "")
 *              |
 *   (EC)DHE -> HKDF-Extract = Handshake Secret -> "c hs traffic", "s hs traffic"
 *              |
 *        Derive-Secret(., "derived", "")
 *              |
 *   0 -> HKDF-Extract = Master Secret -> "c ap traffic", "s ap traffic", "exp master",
 *                                        "res master"
 *
 * Transcript hashes are computed by the caller (see transcript.ts) and passed in.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  deriveSecret,
  HASH_LENGTH,
  type HashName,
  hkdfExpandLabel,
  hkdfExtract,
} from '../../crypto/index.js';

const EMPTY = new Uint8Array(0);
const emptyHashes: Partial<Record<HashName, Uint8Array>> = {};

/** Hash("") for Derive-Secret(., label, "") (RFC 9846 §7.1). */
export function emptyHash(hash: HashName): Uint8Array {
  let h = emptyHashes[hash];
  if (!h) {
    h = new Uint8Array(createHash(hash).digest());
    emptyHashes[hash] = h;
  }
  return h;
}

/** Early Secret = HKDF-Extract(0, PSK), with PSK = 0^Hash.length when there is none. */
export function earlySecret(hash: HashName, psk?: Uint8Array): Uint8Array {
  return hkdfExtract(hash, EMPTY, psk ?? new Uint8Array(HASH_LENGTH[hash]));
}

/** The next stage's salt: Derive-Secret(previous, "derived", ""). */
function derived(hash: HashName, secret: Uint8Array): Uint8Array {
  return deriveSecret(hash, secret, 'derived', emptyHash(hash));
}

/** Handshake Secret = HKDF-Extract(Derive-Secret(Early Secret, "derived", ""), (EC)DHE). */
export function handshakeSecret(
  hash: HashName,
  early: Uint8Array,
  sharedSecret: Uint8Array,
): Uint8Array {
  return hkdfExtract(hash, derived(hash, early), sharedSecret);
}

/** Master Secret = HKDF-Extract(Derive-Secret(Handshake Secret, "derived", ""), 0). */
export function masterSecret(hash: HashName, handshake: Uint8Array): Uint8Array {
  return hkdfExtract(hash, derived(hash, handshake), new Uint8Array(HASH_LENGTH[hash]));
}

/** binder_key = Derive-Secret(Early Secret, "res binder" | "ext binder", ""). */
export function binderKey(hash: HashName, early: Uint8Array, external = false): Uint8Array {
  return deriveSecret(hash, early, external ? 'ext binder' : 'res binder', emptyHash(hash));
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 9846 §4.4.4). */
export function finishedKey(hash: HashName, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(hash, baseKey, 'finished', EMPTY, HASH_LENGTH[hash]);
}

/**
 * verify_data = HMAC(finished_key, Transcript-Hash(...)) (RFC 9846 §4.4.4). Also the PSK binder,
 * with BaseKey = binder_key and the hash of the truncated ClientHello (§4.2.11.2).
 */
export function finishedVerifyData(
  hash: HashName,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
): Uint8Array {
  const key = finishedKey(hash, baseKey);
  return new Uint8Array(createHmac(hash, key).update(transcriptHash).digest());
}

/** Constant-time comparison of a received verify_data or binder with the expected one. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The resumption PSK of one ticket: HKDF-Expand-Label(resumption_master_secret, "resumption",
 * ticket_nonce, Hash.length) (RFC 9846 §4.6.1).
 */
export function resumptionPsk(
  hash: HashName,
  resumptionMasterSecret: Uint8Array,
  ticketNonce: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(
    hash,
    resumptionMasterSecret,
    'resumption',
    ticketNonce,
    HASH_LENGTH[hash],
  );
}

/** Client and server traffic secrets of one stage. */
export interface TrafficSecrets {
  /** client_*_traffic_secret. */
  readonly client: Uint8Array;
  /** server_*_traffic_secret. */
  readonly server: Uint8Array;
}

/**
 * One connection's key schedule, advanced stage by stage. Each stage's secret is kept only until
 * the next stage is derived from it.
 */
export class KeySchedule {
  readonly hash: HashName;
  /** Hash.length in bytes. */
  readonly hashLength: number;
  #early: Uint8Array;
  #handshake: Uint8Array | undefined;
  #master: Uint8Array | undefined;

  /** Starts at the Early Secret, from a PSK (resumption) or from zeros. */
  constructor(hash: HashName, psk?: Uint8Array) {
    this.hash = hash;
    this.hashLength = HASH_LENGTH[hash];
    this.#early = earlySecret(hash, psk);
  }

  /** binder_key of this PSK (resumption unless `external`). */
  binderKey(external = false): Uint8Array {
    return binderKey(this.hash, this.#early, external);
  }

  /** client_early_traffic_secret over Transcript-Hash(ClientHello), for 0-RTT. */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return deriveSecret(this.hash, this.#early, 'c e traffic', clientHelloHash);
  }

  /** Mixes in the (EC)DHE secret; returns the handshake traffic secrets over CH..SH. */
  handshake(sharedSecret: Uint8Array, helloHash: Uint8Array): TrafficSecrets {
    this.#handshake = handshakeSecret(this.hash, this.#early, sharedSecret);
    this.#early = EMPTY;
    return {
      client: deriveSecret(this.hash, this.#handshake, 'c hs traffic', helloHash),
      server: deriveSecret(this.hash, this.#handshake, 's hs traffic', helloHash),
    };
  }

  /** Derives the Master Secret; returns the application traffic secrets over CH..server Finished. */
  application(serverFinishedHash: Uint8Array): TrafficSecrets & { readonly exporter: Uint8Array } {
    if (!this.#handshake) throw new Error('KeySchedule: application() before handshake()');
    this.#master = masterSecret(this.hash, this.#handshake);
    this.#handshake = undefined;
    return {
      client: deriveSecret(this.hash, this.#master, 'c ap traffic', serverFinishedHash),
      server: deriveSecret(this.hash, this.#master, 's ap traffic', serverFinishedHash),
      exporter: deriveSecret(this.hash, this.#master, 'exp master', serverFinishedHash),
    };
  }

  /** resumption_master_secret over CH..client Finished; the schedule is finished after this. */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    if (!this.#master) throw new Error('KeySchedule: resumption before application()');
    const rms = deriveSecret(this.hash, this.#master, 'res master', clientFinishedHash);
    this.#master = undefined;
    return rms;
  }
}
