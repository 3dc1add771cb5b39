/**
 * What the shared tshark analysis (test/interop/tshark.ts) does not report: the key phases and
 * frame types tshark saw in the decrypted QUIC packets of a capture.
 */
import { runToCompletion } from '../../interop/peer-process.js';
import { tsharkBinary } from '../../interop/tshark.js';

/** Key phase bits and frame types seen in a capture, plus the source ports of 1-RTT packets. */
export interface QuicFieldSummary {
  /** `quic.key_phase` values seen ("0", "1"). */
  keyPhases: Set<string>;
  /** Frame types seen (RFC 9000 §19 numbering; DATAGRAM 0x30/0x31). */
  frameTypes: Set<number>;
  /** Frame types per UDP source port. */
  frameTypesFrom: Map<number, Set<number>>;
}

/** Runs `tshark -T fields` over `pcapFile` decrypted with `keylog`. */
export async function quicFields(
  pcapFile: string,
  keylog: string,
  quicPorts: readonly number[],
): Promise<QuicFieldSummary> {
  const args = ['-r', pcapFile, '-n', '-o', `tls.keylog_file:${keylog}`];
  for (const p of quicPorts) args.push('-d', `udp.port==${p},quic`);
  args.push('-Y', 'quic', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,');
  args.push('-e', 'udp.srcport', '-e', 'quic.key_phase', '-e', 'quic.frame_type');
  const out = await runToCompletion(tsharkBinary(), args, {
    timeoutMs: 30_000,
    name: 'tshark -T fields',
  });
  if (out.exitCode !== 0) throw new Error(`tshark failed:\n${out.stderr}`);
  const keyPhases = new Set<string>();
  const frameTypes = new Set<number>();
  const frameTypesFrom = new Map<number, Set<number>>();
  for (const line of out.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [port, kp, ft] = line.split('\t');
    for (const p of (kp ?? '').split(',')) if (p !== '') keyPhases.add(p);
    let from = frameTypesFrom.get(Number(port));
    if (from === undefined) {
      from = new Set();
      frameTypesFrom.set(Number(port), from);
    }
    for (const f of (ft ?? '').split(',')) {
      if (f === '') continue;
      frameTypes.add(Number(f));
      from.add(Number(f));
    }
  }
  return { keyPhases, frameTypes, frameTypesFrom };
}
