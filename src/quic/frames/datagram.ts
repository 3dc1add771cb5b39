/**
 * DATAGRAM frames (RFC 9221 §4): 0x30 runs to the end of the packet, 0x31 has a Length field.
 *
 *   DATAGRAM Frame { Type (i) = 0x30..0x31, [Length (i)], Datagram Data (..) }
 */
import type { ByteReader, ByteWriter } from '../../wire/index.js';
import { vlen } from './codec.js';
import { type DatagramFrame, FrameType } from './types.js';

export function parseDatagram(r: ByteReader, type: number): DatagramFrame {
  const implicitLength = type === FrameType.DATAGRAM;
  const data = implicitLength ? r.rest() : r.bytes(r.varint());
  return { kind: 'DATAGRAM', data, implicitLength };
}

export function writeDatagram(w: ByteWriter, f: DatagramFrame): void {
  if (f.implicitLength) w.u8(FrameType.DATAGRAM);
  else w.u8(FrameType.DATAGRAM_LEN).varint(f.data.length);
  w.bytes(f.data);
}

/**
 * Encoded size; RFC 9221 §3 compares this whole size (type, length and payload) against the
 * peer's max_datagram_frame_size.
 */
export function datagramLength(f: DatagramFrame): number {
  return 1 + (f.implicitLength ? 0 : vlen(f.data.length)) + f.data.length;
}
