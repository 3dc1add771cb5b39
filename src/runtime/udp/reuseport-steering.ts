/**
 * The kernel side of worker steering (src/quic/cid/steering.ts): a classic BPF program attached
 * to the SO_REUSEPORT group of the proxy's UDP port (SO_ATTACH_REUSEPORT_CBPF, Linux >= 4.5,
 * no privilege needed) that sends each datagram to the worker its Destination Connection ID
 * names, and the bookkeeping of which socket of the group is which worker's.
 *
 * The program runs on the UDP payload (the kernel pulls the UDP header first) and returns the
 * index of the socket to receive it; an index past the group's end makes the kernel fall back to
 * its 4-tuple hash (net/core/sock_reuseport.c, reuseport_select_sock). It reads:
 *   long header (first bit 1, RFC 9000 §17.2): DCID Length at byte 5, the DCID's last byte at
 *     5 + DCID Length;
 *   short header (§17.3): the DCID's last byte at `cidLength` (its length is ours: the header
 *     does not carry it);
 * then worker = byte mod N, and a jump table turns the worker into its socket's index, or past
 * the end for a worker with no socket now (between its exit and its replacement). A datagram
 * shorter than a load aborts the program, which then returns 0: the first socket gets it (such
 * a datagram is no QUIC packet; that worker drops and counts it).
 *
 * A socket's index is its place in the group: sockets are appended as they bind, and when one
 * closes the last one moves into its place (reuseport_add_sock, __reuseport_detach_sock).
 * {@link ReuseportGroup} mirrors that, so the workers bind one after the other; the kernel test
 * (test/runtime/udp/reuseport-steering.test.ts) checks both rules on this machine's kernel.
 */

// linux/bpf_common.h and linux/filter.h
const BPF_LD_B_ABS = 0x30; // A = P[k]
const BPF_LD_B_IND = 0x50; // A = P[X + k]
const BPF_MISC_TAX = 0x07; // X = A
const BPF_ALU_MOD_K = 0x94; // A %= k
const BPF_JMP_JA = 0x05; // pc += k
const BPF_JMP_JEQ_K = 0x15; // pc += A == k ? jt : jf
const BPF_JMP_JSET_K = 0x45; // pc += A & k ? jt : jf
const BPF_RET_K = 0x06; // return k

/** Returned for "no socket of ours": past any group's end, so the kernel's hash decides. */
export const STEER_FALLBACK = 0xffff_ffff;

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/**
 * The steering program for `workers` workers whose CIDs are `cidLength` bytes long; `slots[w]` is
 * the socket index of worker w (0-based), or undefined when it has none now.
 */
export function steeringProgram(
  cidLength: number,
  workers: number,
  slots: readonly (number | undefined)[],
): BpfInstruction[] {
  if (!Number.isInteger(cidLength) || cidLength < 1 || cidLength > 20) {
    throw new RangeError(`steering needs connection IDs of 1..20 bytes, not ${cidLength}`);
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new RangeError(`steering: ${workers} workers is not 1..256`);
  }
  const i = (code: number, k = 0, jt = 0, jf = 0): BpfInstruction => ({ code, jt, jf, k });
  const program = [
    i(BPF_LD_B_ABS, 0), // 0: first byte
    i(BPF_JMP_JSET_K, 0x80, 0, 4), // 1: long header? on at 2, else short at 6
    i(BPF_LD_B_ABS, 5), // 2: DCID Length
    i(BPF_MISC_TAX), // 3
    i(BPF_LD_B_IND, 5), // 4: P[5 + DCID Length], the DCID's last byte
    i(BPF_JMP_JA, 1), // 5: to 7
    i(BPF_LD_B_ABS, cidLength), // 6: short header: P[1 + cidLength - 1]
    i(BPF_ALU_MOD_K, workers), // 7: the worker
  ];
  for (let w = 0; w < workers; w++) {
    const slot = slots[w];
    program.push(
      i(BPF_JMP_JEQ_K, w, 0, 1),
      i(BPF_RET_K, slot === undefined ? STEER_FALLBACK : slot),
    );
  }
  program.push(i(BPF_RET_K, STEER_FALLBACK));
  return program;
}

/** `program` as the bytes of a struct sock_filter array in host byte order. */
export function encodeProgram(program: readonly BpfInstruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  program.forEach((ins, n) => {
    view.setUint16(n * 8, ins.code, little);
    view.setUint8(n * 8 + 2, ins.jt);
    view.setUint8(n * 8 + 3, ins.jf);
    view.setUint32(n * 8 + 4, ins.k >>> 0, little);
  });
  return bytes;
}

/**
 * The order of a SO_REUSEPORT group's sockets as the kernel keeps it, by worker (0-based): a
 * socket that binds is appended; one that closes is replaced by the last.
 */
export class ReuseportGroup {
  readonly #order: number[] = [];

  /** Worker `w`'s socket has bound (joined the group). */
  joined(w: number): void {
    if (this.#order.includes(w)) throw new Error(`worker ${w} joined the group twice`);
    this.#order.push(w);
  }

  /** Worker `w`'s socket has closed (its process exited). */
  left(w: number): void {
    const at = this.#order.indexOf(w);
    if (at < 0) return;
    const last = this.#order.pop() as number;
    if (at < this.#order.length) this.#order[at] = last;
  }

  /** Socket index by worker, for {@link steeringProgram}. */
  slots(workers: number): (number | undefined)[] {
    const out: (number | undefined)[] = new Array(workers).fill(undefined);
    this.#order.forEach((w, index) => {
      if (w < workers) out[w] = index;
    });
    return out;
  }
}
