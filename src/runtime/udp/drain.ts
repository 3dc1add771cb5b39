/**
 * Batched receive behind node:dgram (issue 13). node:dgram reads one datagram per recvmsg(2) and
 * calls into JavaScript once per datagram with a fresh address object. Where the native addon is
 * loaded (Linux), a socket's message callback, after handling the datagram node delivered, reads
 * whatever waits behind it with recvmmsg(2): up to {@link DRAIN_SLOTS} datagrams per system call,
 * {@link DRAIN_ROUNDS} calls at most, then libuv's own reading takes over again (it finds the
 * queue empty, or what arrived since). The socket stays node's: it is not polled a second time,
 * and sends, errors and close go through node as before.
 *
 * One scratch per process: a drain copies every datagram out before its next system call, and
 * drains do not nest (each runs inside one node callback). Slots of 64 KiB hold any UDP datagram
 * (a UDP payload is at most 65,527 bytes), so none is ever cut; pages are touched only as deep as
 * datagrams reach, so the resident cost is a few pages per slot.
 */
import type { NativeBinding } from '../../crypto/native.js';

const DRAIN_SLOTS = 16;
export const DRAIN_SLOT = 65536;
/** Bytes of the addon's record of one datagram (layout: src/crypto/native.ts `recvmmsg`). */
export const DRAIN_META = 80;
/** recvmmsg calls per node message callback at most. */
const DRAIN_ROUNDS = 4;

/** The shared buffers a drain reads into. */
export interface DrainScratch {
  readonly data: Uint8Array;
  readonly meta: Uint8Array;
  readonly view: DataView;
}

let shared: DrainScratch | undefined;

/** The process's drain scratch, made on first use. */
function drainScratch(): DrainScratch {
  if (shared === undefined) {
    const meta = new Uint8Array(DRAIN_SLOTS * DRAIN_META);
    shared = {
      data: new Uint8Array(DRAIN_SLOTS * DRAIN_SLOT),
      meta,
      view: new DataView(meta.buffer),
    };
  }
  return shared;
}

/** Where drained datagrams go (a socket implements it: no closure per drain). */
export interface DrainSink {
  /** True once the socket closed: the drain stops. */
  readonly drainStopped: boolean;
  /**
   * Datagram `i` of the last read, `length` bytes at `s.data[i * DRAIN_SLOT]`, its record at
   * `s.meta[i * DRAIN_META]`; the bytes are overwritten by the next read (copy what is kept).
   */
  drained(s: DrainScratch, i: number, length: number): void;
  /** The read failed with `errno` (a connected socket's ICMP error, e.g. ECONNREFUSED). */
  drainFailed(errno: number): void;
}

/** Reads what waits on `fd` into `sink`; returns how many datagrams it read. */
export function drain(
  fd: number,
  recvmmsg: NonNullable<NativeBinding['recvmmsg']>,
  sink: DrainSink,
): number {
  const s = drainScratch();
  let total = 0;
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    if (sink.drainStopped) break;
    const n = recvmmsg(fd, s.data, DRAIN_SLOT, s.meta, DRAIN_SLOTS);
    if (n < 0) {
      sink.drainFailed(-n);
      break;
    }
    total += n;
    for (let i = 0; i < n && !sink.drainStopped; i++) {
      sink.drained(s, i, s.view.getInt32(i * DRAIN_META, true));
    }
    if (n < DRAIN_SLOTS) break;
  }
  return total;
}

/** Whether the drain is on: the addon has recvmmsg and MASQUE_RECVMMSG is not "0". */
export function drainFunction(
  native: Pick<NativeBinding, 'recvmmsg'> | undefined,
): NativeBinding['recvmmsg'] {
  return process.env.MASQUE_RECVMMSG === '0' ? undefined : native?.recvmmsg;
}
