/**
 * HPACK Huffman coding (RFC 7541 §5.2, Appendix B), as used by QPACK string literals
 * (RFC 9204 §4.1.2).
 *
 * Decoding is a 4-bit state machine built once, at module load, from the code table: a state is
 * an internal node of the code tree (256 of them, state 0 is the root) and each of the 16
 * transitions of a state consumes one nibble. The shortest code is 5 bits long, so a nibble
 * completes at most one symbol. Errors are `CodecError('MALFORMED')`; the caller maps them to the
 * QPACK error code of the stream the string came from.
 */
import { CodecError } from '../wire/errors.js';
import { HUFFMAN_CODES, HUFFMAN_EOS, HUFFMAN_LENGTHS } from './huffman-table.js';

/** Transition flag: the nibble completed a symbol, found in bits 8-15. */
const EMIT = 1 << 16;
/** Transition flag: the nibble completed the EOS code. */
const FAIL = 1 << 17;

const STATES = 256;

/** `TRANSITIONS[state * 16 + nibble]`: next state (bits 0-7), symbol (8-15), flags (16-17). */
const TRANSITIONS = new Uint32Array(STATES * 16);
/** 1 where the input may end in this state: at most 7 bits of EOS prefix pending. */
const ACCEPTING = new Uint8Array(STATES);

buildDecoder();

function buildDecoder(): void {
  // children[node * 2 + bit]: 0 = unset (the root is never a child), > 0 an internal node,
  // < 0 a leaf holding symbol -1 - value.
  const children = new Int32Array(STATES * 2);
  const depth = new Uint8Array(STATES);
  const allOnes = new Uint8Array(STATES);
  allOnes[0] = 1;
  let nodes = 1;
  for (let sym = 0; sym <= HUFFMAN_EOS; sym++) {
    const code = HUFFMAN_CODES[sym];
    const len = HUFFMAN_LENGTHS[sym];
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const bit = (code >>> i) & 1;
      const slot = node * 2 + bit;
      if (children[slot] === 0) {
        const child = nodes++;
        children[slot] = child;
        depth[child] = depth[node] + 1;
        allOnes[child] = allOnes[node] & bit;
      }
      node = children[slot];
    }
    children[node * 2 + (code & 1)] = -1 - sym;
  }
  for (let state = 0; state < STATES; state++) {
    // RFC 7541 §5.2: padding is at most 7 bits, all taken from the (all-ones) EOS code.
    ACCEPTING[state] = allOnes[state] === 1 && depth[state] <= 7 ? 1 : 0;
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let out = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const next = children[node * 2 + ((nibble >>> bit) & 1)];
        if (next >= 0) {
          node = next;
          continue;
        }
        const sym = -1 - next;
        if (sym === HUFFMAN_EOS) {
          out = FAIL;
          break;
        }
        out = EMIT | (sym << 8);
        node = 0;
      }
      TRANSITIONS[state * 16 + nibble] = out | node;
    }
  }
}

/** Length in bytes of the Huffman encoding of `src`, padding included. */
export function huffmanEncodedLength(src: Uint8Array): number {
  let bits = 0;
  for (let i = 0; i < src.length; i++) bits += HUFFMAN_LENGTHS[src[i]];
  return Math.ceil(bits / 8);
}

/** Huffman-encodes `src`, padding the last byte with the most significant bits of EOS (all 1s). */
export function huffmanEncode(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(src));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < src.length; i++) {
    let code = HUFFMAN_CODES[src[i]];
    let len = HUFFMAN_LENGTHS[src[i]];
    if (len > 24) {
      // Split long codes so the accumulator (< 8 pending bits + code) stays within 31 bits.
      const high = len - 16;
      acc = (acc << high) | (code >>> 16);
      bits += high;
      while (bits >= 8) {
        bits -= 8;
        out[o++] = acc >>> bits;
      }
      acc &= (1 << bits) - 1;
      code &= 0xffff;
      len = 16;
    }
    acc = (acc << len) | code;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      out[o++] = acc >>> bits;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out[o] = (acc << (8 - bits)) | (0xff >>> bits);
  return out;
}

/**
 * Decodes a Huffman-encoded string. Throws `CodecError('MALFORMED')` when the input contains the
 * EOS code, or ends in padding longer than 7 bits or not made of 1s (RFC 7541 §5.2: each "MUST be
 * treated as a decoding error").
 */
export function huffmanDecode(src: Uint8Array): Uint8Array {
  // Every code is at least 5 bits long, which bounds the output.
  const out = new Uint8Array(Math.floor((src.length * 8) / 5));
  let n = 0;
  let state = 0;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i];
    let t = TRANSITIONS[state * 16 + (byte >>> 4)];
    if ((t & FAIL) !== 0) throw eos(i);
    if ((t & EMIT) !== 0) out[n++] = (t >>> 8) & 0xff;
    state = t & 0xff;
    t = TRANSITIONS[state * 16 + (byte & 0x0f)];
    if ((t & FAIL) !== 0) throw eos(i);
    if ((t & EMIT) !== 0) out[n++] = (t >>> 8) & 0xff;
    state = t & 0xff;
  }
  if (ACCEPTING[state] === 0) {
    throw new CodecError(
      'MALFORMED',
      'Huffman string: invalid padding (not EOS prefix, or > 7 bits)',
    );
  }
  return out.subarray(0, n);
}

function eos(offset: number): CodecError {
  return new CodecError('MALFORMED', `Huffman string: EOS symbol in byte ${offset}`);
}
