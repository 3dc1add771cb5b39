/**
 * Captures QUIC on the loopback interface with tshark (Debian package `tshark`, Wireshark 4.0)
 * and checks that every packet decrypts with the endpoints' NSS key log and nothing is
 * malformed: the fastest way to settle who is wrong in an interop failure.
 *
 * Field names found by experiment with tshark 4.0 (`tshark -G fields`):
 * - One QUIC packet = one `quic` layer; a datagram with coalesced packets gives an array of
 *   them in `-T json --no-duplicate-keys` (so per-packet attribution survives coalescing).
 * - Long header: `quic.header_form` 1, `quic.version`, `quic.long.packet_type` (v1:
 *   0 Initial, 1 0-RTT, 2 Handshake, 3 Retry) or `quic.long.packet_type_v2` (RFC 9369:
 *   0 Retry, 1 Initial, 2 0-RTT, 3 Handshake); version 0 = Version Negotiation.
 *   Short header: a `quic.short` subtree.
 * - Decrypted: the packet has `quic.frame` children (and `quic.packet_number`, inside
 *   `quic.short` for 1-RTT).
 * - Not decrypted, no key: `quic.remaining_payload` holds the protected bytes; for long headers
 *   (and short ones whose connection is known) also the expert item `quic.decryption_failed`
 *   ("Failed to create decryption context: Secrets are not available").
 * - Not decrypted, AEAD failure (wrong key, corrupted or truncated packet): `quic.payload` is
 *   the ciphertext, no `quic.frame`, and the warning "Decryption failed: Decryption (checktag)
 *   failed: Checksum error" sits inside `quic.payload_tree`.
 * - Malformed: the `_ws.malformed` pseudo-protocol; expert items are `_ws.expert.message` /
 *   `_ws.expert.severity` (0x600000 warning, 0x800000 error).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childPids,
  endProcess,
  isRunning,
  type ManagedProcess,
  pollUntil,
  requireExecutable,
  runToCompletion,
  spawnManaged,
  tail,
} from './peer-process.js';

// A capture on loopback sees a segmented send (UDP GSO) as the one large datagram it was handed
// to the kernel as, not as the datagrams it is cut into (lo segments on receive): captured
// processes of this test run, in-process or spawned later, send each datagram on its own.
process.env.MASQUE_GSO = '0';

/** Path of tshark (Debian package `tshark`). */
export const TSHARK_PATH = '/usr/bin/tshark';

/** The tshark binary, or an error naming the Debian package. */
export function tsharkBinary(): string {
  return requireExecutable(TSHARK_PATH, 'tshark', 'tshark (Wireshark CLI)');
}

/** Options of {@link captureLoopback}. */
export interface CaptureOptions {
  /** UDP ports to capture (either direction). At least one. */
  ports: readonly number[];
  /** Where to write the capture; default `capture.pcapng` in a fresh temp dir the caller removes. */
  pcapFile?: string;
  /** Interface (default `lo`). */
  iface?: string;
  /** How long to wait for tshark to start capturing (default 15 s). */
  startTimeoutMs?: number;
  /** Milliseconds to wait after the scenario before stopping (default 200). */
  settleMs?: number;
}

/** Result of {@link captureLoopback}. */
export interface Capture<T> {
  /** The pcapng file written. */
  pcapFile: string;
  /** What the scenario returned. */
  value: T;
  /** tshark's stderr (holds "N packets captured"). */
  log: string;
  /** Packets tshark reported capturing, when it said. */
  capturedCount?: number;
}

/** The `-f` capture filter for `ports`. */
export function captureFilter(ports: readonly number[]): string {
  if (ports.length === 0) throw new RangeError('captureLoopback needs at least one port');
  return ports.map((p) => `udp port ${p}`).join(' or ');
}

/**
 * Starts `tshark -i lo -f "udp port P1 or ..." -w FILE`, waits until it prints
 * `Capture started`, runs `run`, then stops tshark with SIGINT and waits for it to exit (it
 * flushes the file then). tshark is stopped also when the scenario throws.
 */
export async function captureLoopback<T>(
  opts: CaptureOptions,
  run: () => Promise<T>,
): Promise<Capture<T>> {
  const bin = tsharkBinary();
  const pcapFile =
    opts.pcapFile ?? join(mkdtempSync(join(tmpdir(), 'tshark-capture-')), 'capture.pcapng');
  const args = ['-i', opts.iface ?? 'lo', '-f', captureFilter(opts.ports), '-w', pcapFile];
  const ts = spawnManaged(bin, args);
  try {
    // "Capturing on 'Loopback: lo'" comes too early: packets sent right after it are lost (seen
    // with tshark 4.0: 0 of 5 probes captured). "Capture started" (dumpcap's message relayed by
    // tshark) is reliable (5 of 5). A tshark that never prints it gets 1 s after "Capturing on".
    let capturingSince: number | undefined;
    await pollUntil(
      () => {
        const log = ts.stderr();
        if (/Capture started/.test(log)) return true;
        if (/Capturing on/.test(log)) {
          capturingSince ??= performance.now();
          if (performance.now() - capturingSince > 1000) return true;
        }
        if (!isRunning(ts.proc)) throw new Error(`tshark exited (code ${ts.proc.exitCode})`);
        return undefined;
      },
      opts.startTimeoutMs ?? 15_000,
      'tshark did not start capturing',
    );
  } catch (err) {
    await stopCapture(ts);
    const log = ts.stderr();
    const perm = /permission|not permitted|don't have permission/i.test(log)
      ? '\nCapturing on the loopback interface needs root or CAP_NET_RAW + CAP_NET_ADMIN on ' +
        '/usr/bin/dumpcap (dpkg-reconfigure wireshark-common, then add the user to group ' +
        'wireshark).'
      : '';
    throw new Error(`${(err as Error).message}: tshark ${args.join(' ')}${perm}\n${tail(log)}`);
  }
  let value: T;
  try {
    value = await run();
    await new Promise((r) => setTimeout(r, opts.settleMs ?? 200));
  } finally {
    await stopCapture(ts);
  }
  const log = ts.stderr();
  const m = /(\d+) packets? captured/.exec(log);
  return {
    pcapFile,
    value,
    log,
    ...(m ? { capturedCount: Number(m[1]) } : {}),
  };
}

/**
 * SIGINT to tshark (it then stops dumpcap, flushes the file and exits). tshark does not always
 * take its dumpcap child down (seen once when SIGINT arrived right after "Capture started"), so
 * the dumpcap it had is ended too, by pid.
 */
async function stopCapture(ts: ManagedProcess): Promise<void> {
  const pid = ts.proc.pid;
  const children = pid === undefined ? [] : childPids(pid);
  await ts.stop('SIGINT', 5000);
  await Promise.all(children.map((c) => endProcess(c, 'dumpcap')));
}

/** QUIC packet types as counted by {@link analyseQuicCapture}. */
export type QuicPacketKind =
  | 'initial'
  | '0rtt'
  | 'handshake'
  | 'retry'
  | '1rtt'
  | 'version_negotiation'
  | 'unknown';

/** Per-type counters. */
export interface QuicKindCount {
  /** QUIC packets of this type. */
  packets: number;
  /** Packets whose payload tshark decrypted. */
  decrypted: number;
  /** Protected packets tshark could not decrypt. */
  undecryptable: number;
}

/** One undecryptable or malformed packet, for diagnostics. */
export interface QuicPacketProblem {
  /** Frame number in the capture (1-based). */
  frame: number;
  /** Index of the QUIC packet inside the datagram (coalescing). */
  index: number;
  /** Packet type. */
  kind: QuicPacketKind;
  /** Expert message, if tshark gave one. */
  message?: string;
}

/** Counts over a capture. */
export interface QuicCaptureAnalysis {
  /** UDP datagrams tshark dissected as QUIC. */
  datagrams: number;
  /** Captured frames not dissected as QUIC. */
  nonQuicFrames: number;
  /** QUIC packets (coalesced packets counted one by one). */
  packets: number;
  /** Protected packets decrypted. */
  decrypted: number;
  /** Protected packets not decrypted. */
  undecryptable: number;
  /** Unprotected packets (Version Negotiation, Retry): neither decrypted nor undecryptable. */
  unprotected: number;
  /** Frames tshark marked malformed. */
  malformed: number;
  /** Per-type counters. */
  byKind: Record<QuicPacketKind, QuicKindCount>;
  /** Undecryptable packets (first 50). */
  undecryptablePackets: QuicPacketProblem[];
  /** Frame numbers of malformed frames. */
  malformedFrames: number[];
  /** Expert messages of warning or error severity, with counts. */
  expert: { message: string; severity: 'warning' | 'error'; count: number }[];
}

/** Options of {@link analyseQuicCapture}. */
export interface AnalyseOptions {
  /** UDP ports to decode as QUIC regardless of heuristics (`-d udp.port==P,quic`). */
  quicPorts?: readonly number[];
  /** Kill tshark after this long (default 30 s). */
  timeoutMs?: number;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const SEVERITY_WARNING = 0x600000;
const SEVERITY_ERROR = 0x800000;

function asArray(v: Json | undefined): Json[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Depth-first search for the first value under `key`. */
function find(node: Json | undefined, key: string): Json | undefined {
  if (Array.isArray(node)) {
    for (const n of node) {
      const v = find(n, key);
      if (v !== undefined) return v;
    }
    return undefined;
  }
  if (!isObject(node)) return undefined;
  if (key in node) return node[key];
  for (const v of Object.values(node)) {
    const found = find(v, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Classifies one `quic` layer object of tshark's JSON. */
export function quicPacketKind(pkt: JsonObject): QuicPacketKind {
  if (find(pkt, 'quic.short') !== undefined) return '1rtt';
  if (String(find(pkt, 'quic.header_form')) !== '1') return 'unknown';
  const version = find(pkt, 'quic.version');
  if (version !== undefined && Number.parseInt(String(version), 16) === 0) {
    return 'version_negotiation';
  }
  const v1 = find(pkt, 'quic.long.packet_type');
  if (v1 !== undefined) {
    return (['initial', '0rtt', 'handshake', 'retry'] as const)[Number(v1)] ?? 'unknown';
  }
  const v2 = find(pkt, 'quic.long.packet_type_v2');
  if (v2 !== undefined) {
    return (['retry', 'initial', '0rtt', 'handshake'] as const)[Number(v2)] ?? 'unknown';
  }
  return 'unknown';
}

function emptyCounts(): Record<QuicPacketKind, QuicKindCount> {
  const kinds: QuicPacketKind[] = [
    'initial',
    '0rtt',
    'handshake',
    'retry',
    '1rtt',
    'version_negotiation',
    'unknown',
  ];
  return Object.fromEntries(
    kinds.map((k) => [k, { packets: 0, decrypted: 0, undecryptable: 0 }]),
  ) as Record<QuicPacketKind, QuicKindCount>;
}

/** Fields kept in tshark's JSON (`-j`): the quic layer's direct children plus these. */
const JSON_FIELDS = [
  'quic',
  'quic.short',
  'quic.header_form',
  'quic.long.packet_type',
  'quic.long.packet_type_v2',
  'quic.version',
  'quic.packet_number',
  'quic.frame',
  'quic.remaining_payload',
  'quic.decryption_failed',
  '_ws.expert',
  '_ws.malformed',
];

/**
 * Dissects `pcapFile` with `tls.keylog_file` set to `keylog` (several files are concatenated)
 * and counts QUIC packets: decrypted, undecryptable, malformed, per type.
 */
export async function analyseQuicCapture(
  pcapFile: string,
  keylog?: string | readonly string[],
  opts: AnalyseOptions = {},
): Promise<QuicCaptureAnalysis> {
  const bin = tsharkBinary();
  const dir = mkdtempSync(join(tmpdir(), 'tshark-analyse-'));
  try {
    const common = ['-r', pcapFile, '-n'];
    if (keylog !== undefined) {
      const files = typeof keylog === 'string' ? [keylog] : keylog;
      const merged = join(dir, 'keys.log');
      writeFileSync(merged, files.map((f) => readFileSync(f, 'utf8')).join('\n'));
      common.push('-o', `tls.keylog_file:${merged}`);
    }
    for (const p of opts.quicPorts ?? []) common.push('-d', `udp.port==${p},quic`);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const packets = await runToCompletion(
      bin,
      [...common, '-T', 'json', '--no-duplicate-keys', '-j', JSON_FIELDS.join(' ')],
      { timeoutMs, name: 'tshark -T json' },
    );
    if (packets.exitCode !== 0) {
      throw new Error(`tshark could not read ${pcapFile}:\n${tail(packets.stderr)}`);
    }
    // Malformed frames and expert items anywhere in the tree (the -j filter hides subtrees).
    const flags = await runToCompletion(
      bin,
      [
        ...common,
        '-Y',
        '_ws.malformed || _ws.expert',
        '-T',
        'fields',
        '-E',
        'separator=\t',
        '-E',
        'occurrence=a',
        '-E',
        'aggregator=\x1f',
        '-e',
        'frame.number',
        '-e',
        '_ws.malformed',
        '-e',
        '_ws.expert.severity',
        '-e',
        '_ws.expert.message',
      ],
      { timeoutMs, name: 'tshark -T fields' },
    );
    return summarise(JSON.parse(packets.stdout) as Json, flags.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Malformed frames and warning/error expert items from the `-T fields` pass. */
function readFlags(flags: string): Pick<QuicCaptureAnalysis, 'malformedFrames' | 'expert'> & {
  messagesByFrame: Map<number, string[]>;
} {
  const malformedFrames: number[] = [];
  const messagesByFrame = new Map<number, string[]>();
  const expert = new Map<
    string,
    { message: string; severity: 'warning' | 'error'; count: number }
  >();
  for (const line of flags.split('\n')) {
    if (line.trim() === '') continue;
    const [frame, malformed, severities, messages] = line.split('\t');
    // `_ws.malformed` prints "[Malformed Packet: QUIC],_ws.malformed" when present.
    if (malformed !== undefined && malformed !== '') malformedFrames.push(Number(frame));
    const msg = (messages ?? '').split('\x1f');
    (severities ?? '').split('\x1f').forEach((s, i) => {
      const n = Number(s);
      if (!(n >= SEVERITY_WARNING)) return;
      const severity = n >= SEVERITY_ERROR ? 'error' : 'warning';
      const message = msg[i] ?? '';
      const list = messagesByFrame.get(Number(frame)) ?? [];
      list.push(message);
      messagesByFrame.set(Number(frame), list);
      const key = `${severity}\0${message}`;
      const e = expert.get(key) ?? { message, severity, count: 0 };
      e.count++;
      expert.set(key, e);
    });
  }
  return {
    malformedFrames,
    messagesByFrame,
    expert: [...expert.values()].sort((a, b) => b.count - a.count),
  };
}

function summarise(json: Json, flags: string): QuicCaptureAnalysis {
  const { malformedFrames, expert, messagesByFrame } = readFlags(flags);
  const malformedSet = new Set(malformedFrames);
  const out: QuicCaptureAnalysis = {
    datagrams: 0,
    nonQuicFrames: 0,
    packets: 0,
    decrypted: 0,
    undecryptable: 0,
    unprotected: 0,
    malformed: malformedFrames.length,
    byKind: emptyCounts(),
    undecryptablePackets: [],
    malformedFrames,
    expert,
  };
  for (const [frameIndex, frame] of asArray(json).entries()) {
    const layers = isObject(frame) ? find(frame, 'layers') : undefined;
    const quic = isObject(layers) ? layers.quic : undefined;
    if (quic === undefined) {
      out.nonQuicFrames++;
      continue;
    }
    out.datagrams++;
    const frameNumber = frameIndex + 1; // no display filter: every frame is listed, in order
    for (const [index, pkt] of asArray(quic).entries()) {
      if (!isObject(pkt)) continue;
      const kind = quicPacketKind(pkt);
      const count = out.byKind[kind];
      out.packets++;
      count.packets++;
      if (kind === 'retry' || kind === 'version_negotiation') {
        out.unprotected++;
        continue;
      }
      // RFC 9000 §12.4: every packet carries at least one frame, so a decrypted packet shows
      // `quic.frame`; an AEAD failure leaves only the ciphertext (and an expert item nested in
      // `quic.payload_tree`), a missing key leaves `quic.remaining_payload`.
      const failed =
        find(pkt, 'quic.remaining_payload') !== undefined ||
        find(pkt, 'quic.decryption_failed') !== undefined ||
        find(pkt, 'quic.frame') === undefined;
      if (!failed) {
        out.decrypted++;
        count.decrypted++;
        continue;
      }
      // A packet whose header could not even be parsed is counted as malformed only.
      if (malformedSet.has(frameNumber)) continue;
      out.undecryptable++;
      count.undecryptable++;
      if (out.undecryptablePackets.length < 50) {
        const message = messagesByFrame.get(frameNumber)?.join('; ');
        out.undecryptablePackets.push({
          frame: frameNumber,
          index,
          kind,
          ...(message ? { message } : {}),
        });
      }
    }
  }
  return out;
}
