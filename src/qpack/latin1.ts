/**
 * Field names and values as strings, one character per octet (ISO-8859-1, "latin1").
 *
 * QPACK carries octets; HTTP/3 field names are lowercase ASCII and values may hold any octet
 * except NUL, CR and LF (RFC 9114 §4.2, checked by the HTTP/3 layer, not here). Mapping each
 * octet to the character with the same code keeps every byte faithfully and makes a string's
 * length equal to its size in octets, which the table size rules (RFC 9204 §3.2.1) count.
 */

/** The octets of `bytes` as a string of characters U+0000-U+00FF. */
export function latin1String(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the range starts at U+0000 on purpose.
const NON_LATIN1 = /[^\u0000-\u00ff]/;

/**
 * The octets of a string whose characters are all U+0000-U+00FF. Throws `TypeError` for any
 * other character: that is a caller bug (encode UTF-8 text to octets first), not a wire error.
 */
export function latin1Bytes(text: string): Uint8Array {
  if (NON_LATIN1.test(text)) {
    throw new TypeError('QPACK field strings must hold only characters U+0000-U+00FF (octets)');
  }
  const buf = Buffer.from(text, 'latin1');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
