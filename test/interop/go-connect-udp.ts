/**
 * Builds and drives the independent CONNECT-UDP client (`test/interop/go-connect-udp/`),
 * written on Debian's quic-go 0.29 with hand-written HTTP/3 framing and marten-seemann/qpack,
 * plus its tiny reference proxy and UDP echo server. A test that needs it must FAIL (never
 * skip) when it cannot be built.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildGoPeer,
  type PeerExit,
  type ReadyPeer,
  runJsonPeer,
  startReadyPeer,
} from './peer-process.js';
import { type QuicGoFlags, quicGoArgv, quicGoPattern } from './quic-go-peer.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(HERE, 'go-connect-udp', 'build.sh');

/** The default URI template of RFC 9298 §3, as a path (scheme and authority from `--proxy`). */
export const DEFAULT_CONNECT_UDP_TEMPLATE = '/.well-known/masque/udp/{target_host}/{target_port}/';

/** Long-running subcommands (they print `READY host:port`). */
export type GoConnectUdpServerMode = 'proxy' | 'udp-echo';

/** One CONNECT-UDP request of a client run. */
export interface GoConnectUdpSession {
  /** QUIC stream ID of the request stream. */
  stream_id: number;
  /** `stream_id / 4`, the prefix of its HTTP/3 Datagrams (RFC 9297 §2.1). */
  quarter_stream_id: number;
  /** Final response status. */
  status: number;
  /** Proxy-Status response header (RFC 9209), if any. */
  proxy_status?: string;
  /** UDP payloads handed to quic-go (or written as capsules). */
  sent: number;
  /** Payloads received with this Quarter Stream ID and Context ID 0. */
  received: number;
  /** Received payloads equal to one sent on this session and not yet matched. */
  verified: number;
}

/** JSON line printed by `connect-udp client`. */
export interface GoConnectUdpClientResult {
  /** True when the expected status arrived and (for 2xx) enough payloads came back verified. */
  ok: boolean;
  /** Failure reason (only when `ok` is false). */
  error?: string;
  /** Where it failed: flags, tls, handshake, settings, request, response or datagrams. */
  stage?: string;
  /** Final status of the first request (0 if none). */
  status: number;
  /** Its Proxy-Status header ("" when absent). */
  proxy_status: string;
  /** Whether the response carried `capsule-protocol: ?1`. */
  capsule_protocol: boolean;
  /** Response fields other than `:status`, as `name: value`. */
  response_headers: string[];
  /** Payloads sent over all sessions. */
  sent: number;
  /** Payloads received for known sessions with Context ID 0. */
  received: number;
  /** Received payloads that matched one sent on the same session. */
  verified: number;
  /** Of `received`, how many came as DATAGRAM capsules on the request stream. */
  capsule_datagrams: number;
  /** QUIC datagrams whose Quarter Stream ID matched no session (dropped). */
  unknown_stream: number;
  /** HTTP Datagrams with a Context ID other than 0 (dropped). */
  unknown_context: number;
  /** Times `--window` gave up waiting for an echo after `--stall`. */
  stalls: number;
  /** Sessions whose response stream the proxy finished (FIN) after our FIN. */
  proxy_finished: number;
  /** `quic.DialAddr` handshake time, ms. */
  handshake_ms: number;
  /** Dial start to the proxy's SETTINGS, ms. */
  settings_ms: number;
  /** Request HEADERS sent to the last final response, ms. */
  response_ms: number;
  /** Whole run, ms. */
  elapsed_ms: number;
  /** Negotiated ALPN (always `h3` when the handshake succeeded). */
  alpn: string;
  /** Both sides sent max_datagram_frame_size (RFC 9221). */
  datagrams_supported: boolean;
  /** The proxy's SETTINGS as `{"0x8": 1, "0x33": 1, ...}`. */
  server_settings?: Record<string, number>;
  /** `:authority` sent. */
  authority: string;
  /** `:path` sent (the expanded template). */
  path: string;
  /** Per-request details. */
  sessions: GoConnectUdpSession[];
}

/** JSON line printed by `connect-udp expand`. */
export interface GoConnectUdpExpandResult {
  /** False when the template or target was rejected. */
  ok: boolean;
  /** Why it was rejected. */
  error?: string;
  /** `:scheme`. */
  scheme?: string;
  /** `:authority`. */
  authority?: string;
  /** `:path`. */
  path?: string;
}

/** Exit code (0 success, 1 failure, 2 usage error) and stderr of a one-shot run. */
export type GoConnectUdpExit = PeerExit;

/** A running `proxy` or `udp-echo`. */
export type GoConnectUdpServer = ReadyPeer;

/**
 * Builds `connect-udp` (offline, cached by source hash) and returns the binary path. Throws
 * with the build script's message (naming the Debian packages) when Go or the sources are
 * missing.
 */
export function buildGoConnectUdp(): string {
  return buildGoPeer(BUILD_SCRIPT, 'connect-udp');
}

/**
 * Starts `connect-udp proxy` or `connect-udp udp-echo` and resolves at its `READY` line.
 * Its stdin stays an open pipe, so it exits when this process dies.
 */
export function startGoConnectUdpServer(
  mode: GoConnectUdpServerMode,
  flags: QuicGoFlags = {},
  readyTimeoutMs = 15_000,
): Promise<GoConnectUdpServer> {
  const argv = quicGoArgv(flags);
  if (!argv.some((a) => a === '--listen' || a.startsWith('--listen='))) {
    argv.push('--listen', '127.0.0.1:0');
  }
  return startReadyPeer(buildGoConnectUdp(), [mode, ...argv], {
    what: `connect-udp ${mode}`,
    readyTimeoutMs,
  });
}

/** Runs a one-shot subcommand and parses the last JSON line of its stdout. */
function runJson<T>(
  sub: string,
  flags: QuicGoFlags,
  timeoutMs: number,
): Promise<T & GoConnectUdpExit> {
  return runJsonPeer<T>(buildGoConnectUdp(), [sub, ...quicGoArgv(flags)], {
    what: `connect-udp ${sub}`,
    timeoutMs,
  });
}

/**
 * Runs `connect-udp client` (flags such as `proxy`, `target`, `count`, `size`, `insecure`)
 * and resolves with its JSON line, also when it reports `ok: false`. Rejects on timeout.
 */
export function runGoConnectUdpClient(
  flags: QuicGoFlags,
  timeoutMs = 45_000,
): Promise<GoConnectUdpClientResult & GoConnectUdpExit> {
  return runJson<GoConnectUdpClientResult>('client', flags, timeoutMs);
}

/** Runs `connect-udp expand`: the pseudo-headers the client would send for a target. */
export function runGoConnectUdpExpand(
  flags: QuicGoFlags,
  timeoutMs = 15_000,
): Promise<GoConnectUdpExpandResult & GoConnectUdpExit> {
  return runJson<GoConnectUdpExpandResult>('expand', flags, timeoutMs);
}

/**
 * UDP payload `i` of session `session` in a client run (mirror of `clientSession.payload`):
 * `quicGoPattern(0x30000 + (session << 20) + i, size)` with size `1 + (i * 211) % maxSize`, or
 * `maxSize` with `--fixed-size`.
 */
export function goConnectUdpPayload(
  session: number,
  i: number,
  maxSize: number,
  fixedSize = false,
): Uint8Array {
  const size = fixedSize ? maxSize : 1 + ((i * 211) % maxSize);
  return quicGoPattern((0x30000 + session * 0x100000 + i) >>> 0, size);
}
