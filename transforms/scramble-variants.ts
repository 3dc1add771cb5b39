/**
 * Alternative implementations of the scramble transform, kept for two jobs only: the benchmark
 * that justified the choice in scramble.ts, and the tests, which check the chosen implementation
 * against these independent ones. They are not registered; use `createTransform('scramble-dt')`.
 *
 * - {@link ScramblePerPacketCtr} follows the draft's steps literally with a fresh node:crypto
 *   `aes-128-ctr` context per packet (the k2 ECB contexts are long-lived).
 * - {@link ScrambleNoble} uses @noble/ciphers' public `ctr()`/`ecb()`, created per packet (its
 *   cipher objects refuse a second `encrypt`).
 * - {@link ScrambleNobleCached} uses @noble/ciphers' low-level API with both key schedules
 *   expanded once, the best case for a pure-JS AES.
 */
import { type Cipher, createCipheriv, createDecipheriv, type Decipher } from 'node:crypto';
import { ctr, ecb, unsafe } from '@noble/ciphers/aes.js';
import { checkScrambleKey, SCRAMBLE_IV_LENGTH, scrambleMinLength } from './scramble.js';
import { checkPacket, type PacketTransform } from './types.js';

/** The parts the draft names, for a packet with CID length `L`. */
function split(packet: Uint8Array, L: number): { iv: Uint8Array; ctrInput: Uint8Array } {
  const ctrInput = new Uint8Array(packet.length - L - SCRAMBLE_IV_LENGTH);
  ctrInput[0] = packet[0];
  ctrInput.set(packet.subarray(L + 1 + SCRAMBLE_IV_LENGTH), 1);
  return { iv: packet.slice(L + 1, L + 1 + SCRAMBLE_IV_LENGTH), ctrInput };
}

/** header | cid | ivField | ctr_output[1:], written into `out`. */
function assemble(
  packet: Uint8Array,
  L: number,
  out: Uint8Array,
  ivField: Uint8Array,
  ctrOutput: Uint8Array,
): void {
  out[0] = ctrOutput[0] & 0x7f;
  if (out !== packet) out.set(packet.subarray(1, L + 1), 1);
  out.set(ivField, L + 1);
  out.set(ctrOutput.subarray(1), L + 1 + SCRAMBLE_IV_LENGTH);
}

/** Scramble with a new `aes-128-ctr` cipher per packet. */
export class ScramblePerPacketCtr implements PacketTransform {
  readonly name = 'scramble-dt';
  readonly #k1: Uint8Array;
  readonly #k2Enc: Cipher;
  readonly #k2Dec: Decipher;

  constructor(key: Uint8Array) {
    checkScrambleKey(key);
    this.#k1 = key.slice(0, 16);
    const k2 = key.slice(16, 32);
    this.#k2Enc = createCipheriv('aes-128-ecb', k2, null).setAutoPadding(false);
    this.#k2Dec = createDecipheriv('aes-128-ecb', k2, null).setAutoPadding(false);
  }

  minPacketLength(cidLength: number): number {
    return scrambleMinLength(cidLength);
  }

  encode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv, ctrInput } = split(packet, cidLength);
    const ctrOutput = createCipheriv('aes-128-ctr', this.#k1, iv).update(ctrInput);
    assemble(packet, cidLength, out, this.#k2Enc.update(iv), ctrOutput);
  }

  decode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv: encIv, ctrInput } = split(packet, cidLength);
    const iv = this.#k2Dec.update(encIv);
    const ctrOutput = createCipheriv('aes-128-ctr', this.#k1, iv).update(ctrInput);
    assemble(packet, cidLength, out, iv, ctrOutput);
  }
}

/** Scramble with @noble/ciphers' public API, one cipher object per packet and operation. */
export class ScrambleNoble implements PacketTransform {
  readonly name = 'scramble-dt';
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;

  constructor(key: Uint8Array) {
    checkScrambleKey(key);
    this.#k1 = key.slice(0, 16);
    this.#k2 = key.slice(16, 32);
  }

  minPacketLength(cidLength: number): number {
    return scrambleMinLength(cidLength);
  }

  encode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv, ctrInput } = split(packet, cidLength);
    const ctrOutput = ctr(this.#k1, iv).encrypt(ctrInput);
    const encIv = ecb(this.#k2, { disablePadding: true }).encrypt(iv);
    assemble(packet, cidLength, out, encIv, ctrOutput);
  }

  decode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv: encIv, ctrInput } = split(packet, cidLength);
    const iv = ecb(this.#k2, { disablePadding: true }).decrypt(encIv);
    const ctrOutput = ctr(this.#k1, iv).encrypt(ctrInput);
    assemble(packet, cidLength, out, iv, ctrOutput);
  }
}

/** Scramble with @noble/ciphers' low-level API and key schedules expanded once. */
export class ScrambleNobleCached implements PacketTransform {
  readonly name = 'scramble-dt';
  readonly #xk1: Uint32Array;
  readonly #xk2: Uint32Array;
  readonly #xk2Dec: Uint32Array;

  constructor(key: Uint8Array) {
    checkScrambleKey(key);
    this.#xk1 = unsafe.expandKeyLE(key.slice(0, 16));
    this.#xk2 = unsafe.expandKeyLE(key.slice(16, 32));
    this.#xk2Dec = unsafe.expandKeyDecLE(key.slice(16, 32));
  }

  minPacketLength(cidLength: number): number {
    return scrambleMinLength(cidLength);
  }

  encode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv, ctrInput } = split(packet, cidLength);
    // ctrCounter advances its nonce argument in place, so it gets a copy of the IV.
    const ctrOutput = unsafe.ctrCounter(this.#xk1, iv.slice(), ctrInput);
    const encIv = unsafe.encryptBlock(this.#xk2, iv.slice());
    assemble(packet, cidLength, out, encIv, ctrOutput);
  }

  decode(packet: Uint8Array, cidLength: number, out: Uint8Array = packet): void {
    checkPacket(packet, cidLength, scrambleMinLength(cidLength), out);
    const { iv: encIv, ctrInput } = split(packet, cidLength);
    const iv = unsafe.decryptBlock(this.#xk2Dec, encIv);
    const ctrOutput = unsafe.ctrCounter(this.#xk1, iv.slice(), ctrInput);
    assemble(packet, cidLength, out, iv, ctrOutput);
  }
}
