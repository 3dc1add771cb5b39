/**
 * Writes UDP datagrams into a classic libpcap file (LINKTYPE_IPV4, 228) so the tshark
 * analysis can be tested on hand-made packets: RFC 9001 sample packets, truncated or garbage
 * QUIC. Not a general pcap library: IPv4 only, no fragmentation, UDP checksum 0 (none).
 */
import { writeFileSync } from 'node:fs';

/** One datagram to write. */
export interface PcapUdpDatagram {
  /** Source IPv4 address, dotted quad. */
  src: string;
  /** Destination IPv4 address, dotted quad. */
  dst: string;
  /** Source UDP port. */
  sport: number;
  /** Destination UDP port. */
  dport: number;
  /** UDP payload. */
  payload: Uint8Array;
}

const LINKTYPE_IPV4 = 228;

function ipv4(addr: string): number[] {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) {
    throw new RangeError(`not an IPv4 address: ${addr}`);
  }
  return parts;
}

/** The pcap bytes for `datagrams`, one record per datagram, 1 ms apart. */
export function udpPcap(datagrams: readonly PcapUdpDatagram[]): Uint8Array {
  const records: Uint8Array[] = [];
  // Global header: magic, v2.4, thiszone 0, sigfigs 0, snaplen, network (little-endian).
  const head = new DataView(new ArrayBuffer(24));
  head.setUint32(0, 0xa1b2c3d4, true);
  head.setUint16(4, 2, true);
  head.setUint16(6, 4, true);
  head.setUint32(16, 262_144, true);
  head.setUint32(20, LINKTYPE_IPV4, true);
  records.push(new Uint8Array(head.buffer));
  datagrams.forEach((d, i) => {
    const total = 20 + 8 + d.payload.length;
    const rec = new Uint8Array(16 + total);
    const v = new DataView(rec.buffer);
    v.setUint32(0, 1_700_000_000, true); // ts_sec
    v.setUint32(4, i * 1000, true); // ts_usec
    v.setUint32(8, total, true); // incl_len
    v.setUint32(12, total, true); // orig_len
    // IPv4: version 4 / IHL 5, TOS 0, total length, id, flags DF, TTL 64, protocol 17 (UDP).
    const ip = 16;
    rec.set([0x45, 0, total >> 8, total & 0xff, 0, i & 0xff, 0x40, 0, 64, 17, 0, 0], ip);
    rec.set(ipv4(d.src), ip + 12);
    rec.set(ipv4(d.dst), ip + 16);
    let sum = 0;
    for (let j = 0; j < 20; j += 2) sum += (rec[ip + j] << 8) | rec[ip + j + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(ip + 10, ~sum & 0xffff);
    // UDP: ports, length, checksum 0 (not computed).
    const udp = ip + 20;
    v.setUint16(udp, d.sport);
    v.setUint16(udp + 2, d.dport);
    v.setUint16(udp + 4, 8 + d.payload.length);
    rec.set(d.payload, udp + 8);
    records.push(rec);
  });
  const out = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of records) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/** Writes {@link udpPcap} to `file`. */
export function writeUdpPcap(file: string, datagrams: readonly PcapUdpDatagram[]): void {
  writeFileSync(file, udpPcap(datagrams));
}
