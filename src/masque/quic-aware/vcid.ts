/**
 * Virtual connection IDs (quic-proxy §2.2): chosen by the proxy, unpredictable ("Proxies MUST
 * choose unpredictable client and target VCIDs to avoid forwarding loop attacks", §5.10), and,
 * for a fleet behind a CID-aware load balancer, routable: a generator configured with a QUIC-LB
 * server ID (draft-ietf-quic-load-balancers §3, §5) writes it into every VCID, so the balancer
 * sends forwarded packets to the instance that holds the mapping.
 *
 *   QUIC-LB Connection ID { First Octet (8), Server ID (8..), Nonce (32..), [random padding] }
 *   First Octet { Config Rotation (3), random bits (5) }
 *
 * Without a key the server ID is in the clear (QUIC-LB §5.4: the nonce must then have "no
 * observable relationship" to earlier ones: random); with a 16-byte key and server ID + nonce
 * = 16 octets, the block after the first octet is AES-128-ECB encrypted ("single pass", §5.4.1).
 * The four-pass algorithm for other lengths is not implemented: such configurations are refused.
 * The first octet's remaining five bits are random (§3.3 "SHOULD choose the five bits so as to
 * have no observable relationship to previous connection IDs"), or the length when configured.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { CidSteering } from '../../quic/cid/steering.js';
import type { Random } from '../../util/random.js';

/** A QUIC-LB configuration (draft-ietf-quic-load-balancers §5.3). */
export interface QuicLbConfig {
  /** Config Rotation codepoint, 0..6 (7 is reserved for unroutable CIDs, §4). */
  readonly configId: number;
  /** This instance's server ID, 1 octet or more. */
  readonly serverId: Uint8Array;
  /** Nonce octets, at least 4; server ID + nonce at most 19. */
  readonly nonceLength: number;
  /** Optional 16-byte AES key; requires server ID + nonce = 16 (single pass). */
  readonly key?: Uint8Array;
  /** Write the CID's length (less the first octet) in the first octet's low bits (§3.3). */
  readonly encodeLength?: boolean;
}

/** Options of {@link VcidGenerator}. */
export interface VcidGeneratorOptions {
  readonly random: Random;
  /** QUIC-LB routing; without it VCIDs are random bytes. */
  readonly quicLb?: QuicLbConfig;
  /**
   * The worker mark (src/quic/cid/steering.ts) when workers share the port: target VCIDs arrive
   * there as the DCID of forwarded packets, so their last byte names this worker. With QUIC-LB it
   * takes the last nonce or padding octet; an encrypted layout with no padding has none to give.
   */
  readonly steering?: CidSteering;
}

export class VcidGenerator {
  readonly #random: Random;
  readonly #lb: QuicLbConfig | undefined;
  readonly #steering: CidSteering | undefined;

  constructor(options: VcidGeneratorOptions) {
    this.#random = options.random;
    this.#steering = options.steering;
    const lb = options.quicLb;
    if (lb !== undefined) {
      if (!Number.isInteger(lb.configId) || lb.configId < 0 || lb.configId > 6) {
        throw new RangeError(`QUIC-LB config rotation ${lb.configId} is not 0..6`);
      }
      if (
        lb.serverId.length < 1 ||
        lb.nonceLength < 4 ||
        lb.serverId.length + lb.nonceLength > 19
      ) {
        throw new RangeError('QUIC-LB: server ID >= 1, nonce >= 4 and their sum <= 19 octets');
      }
      if (
        lb.key !== undefined &&
        (lb.key.length !== 16 || lb.serverId.length + lb.nonceLength !== 16)
      ) {
        throw new RangeError(
          'QUIC-LB: only the single-pass algorithm (16-byte key, ID + nonce = 16)',
        );
      }
    }
    this.#lb = lb;
  }

  /** The shortest VCID this generator makes (the QUIC-LB layout's length, else 1). */
  get minLength(): number {
    const lb = this.#lb;
    return lb === undefined ? 1 : 1 + lb.serverId.length + lb.nonceLength;
  }

  /** A fresh VCID of `length` bytes (at least `minLength`, at most 20 for QUIC v1). */
  next(length: number): Uint8Array {
    if (!Number.isInteger(length) || length < this.minLength || length > 20) {
      throw new RangeError(`a VCID of ${length} bytes (need ${this.minLength}..20)`);
    }
    const out = new Uint8Array(length);
    this.#random.fill(out);
    const lb = this.#lb;
    if (lb === undefined) return this.#steering?.mark(out) ?? out;
    if (this.#steering !== undefined && lb.key !== undefined && length <= 17) {
      throw new RangeError(
        `an encrypted QUIC-LB VCID of ${length} bytes has no octet left for the worker mark (needs 18 or more)`,
      );
    }
    // The mark goes in first: a plaintext layout's last octet is nonce or padding, an encrypted
    // one's (18 bytes or more) padding after the encrypted block.
    this.#steering?.mark(out);
    out[0] = (lb.configId << 5) | (lb.encodeLength === true ? length - 1 : out[0] & 0x1f);
    out.set(lb.serverId, 1);
    if (lb.key !== undefined) {
      const c = createCipheriv('aes-128-ecb', lb.key, null);
      c.setAutoPadding(false);
      out.set(c.update(out.subarray(1, 17)), 1);
    }
    return out;
  }
}

/** The server ID a QUIC-LB load balancer reads from `cid` under `config` (tests, tools). */
export function quicLbServerId(cid: Uint8Array, config: QuicLbConfig): Uint8Array | undefined {
  if (cid.length < 1 + config.serverId.length + config.nonceLength) return undefined;
  if (cid[0] >> 5 !== config.configId) return undefined;
  if (config.key === undefined) return cid.slice(1, 1 + config.serverId.length);
  const dec = createDecipheriv('aes-128-ecb', config.key, null);
  dec.setAutoPadding(false);
  return Uint8Array.from(dec.update(cid.subarray(1, 17))).slice(0, config.serverId.length);
}
