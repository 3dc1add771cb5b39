/**
 * Capsules framed by hand from RFC 9297 (§3.2 capsule format, §3.5 DATAGRAM capsule, RFC 9000
 * §16 varints), for tests whose client is not our code: what they send and read is checked
 * against the RFC's layout, not against our own codec.
 */

/** A QUIC variable-length integer (RFC 9000 §16), up to 4-byte encodings. */
export function varint(n: number): number[] {
  if (n < 0x40) return [n];
  if (n < 0x4000) return [0x40 | (n >> 8), n & 0xff];
  return [0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** A DATAGRAM capsule (type 0) carrying Context ID 0 and `payload`. */
export const datagramCapsule = (payload: number[]): Buffer =>
  Buffer.from([0x00, ...varint(payload.length + 1), 0x00, ...payload]);

/** Splits a capsule stream into DATAGRAM payloads (after the Context ID). */
export function capsuleReader() {
  let buf = Buffer.alloc(0);
  const payloads: number[][] = [];
  const read = (at: number): { v: number; n: number } | undefined => {
    if (buf.length <= at) return undefined;
    const len = 1 << ((buf[at] as number) >> 6);
    if (buf.length < at + len) return undefined;
    let v = (buf[at] as number) & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + (buf[at + i] as number);
    return { v, n: at + len };
  };
  return {
    payloads,
    push(chunk: Buffer) {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const t = read(0);
        const l = t && read(t.n);
        if (t === undefined || l === undefined || buf.length < l.n + l.v) return;
        const value = buf.subarray(l.n, l.n + l.v);
        if (t.v === 0) payloads.push([...value.subarray(1)]);
        buf = buf.subarray(l.n + l.v);
      }
    },
  };
}
