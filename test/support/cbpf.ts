/**
 * A classic BPF interpreter for the instructions our steering program uses (linux/filter.h
 * semantics: a load past the packet's end ends the program with 0), so that its logic is tested
 * on any machine; the kernel itself runs it in test/runtime/udp/reuseport-steering.test.ts.
 */
import type { BpfInstruction } from '../../src/runtime/udp/reuseport-steering.js';

export function runCbpf(program: readonly BpfInstruction[], packet: Uint8Array): number {
  let a = 0;
  let x = 0;
  for (let pc = 0, steps = 0; pc < program.length && steps < 4096; pc++, steps++) {
    const { code, jt, jf, k } = program[pc];
    switch (code) {
      case 0x30: // ld b abs
        if (k >= packet.length) return 0;
        a = packet[k];
        break;
      case 0x50: // ld b ind
        if (x + k >= packet.length) return 0;
        a = packet[x + k];
        break;
      case 0x07: // tax
        x = a;
        break;
      case 0x94: // mod k
        a = a % k;
        break;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq k
        pc += a === k ? jt : jf;
        break;
      case 0x45: // jset k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // ret k
        return k >>> 0;
      default:
        throw new Error(`instruction 0x${code.toString(16)} not interpreted`);
    }
  }
  throw new Error('the program ran off its end');
}
