/**
 * Builds and drives the independent quic-go 0.29 peer (`test/interop/quic-go/`) used by the
 * interop tests. The peer is a real, separately written QUIC v1 + HTTP/3 stack; a test that
 * needs it must FAIL (never skip) when it cannot be built.
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

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD_SCRIPT = join(HERE, 'quic-go', 'build.sh');

/** Body of the peer's `GET /hello`. */
export const QUIC_GO_HELLO_BODY = 'hello from quic-go';

/** Server subcommands of the peer. */
export type QuicGoServerMode = 'server' | 'h3server';
/** Client subcommands of the peer. */
export type QuicGoClientMode = 'client' | 'h3client';

/**
 * Command-line flags: either ready-made arguments, or a record turned into `--name value`
 * (`true` → `--name`, `false` → `--name=false`, `undefined` → omitted).
 */
export type QuicGoFlags = readonly string[] | Record<string, string | number | boolean | undefined>;

/** JSON line printed by `peer client`. */
export interface QuicGoClientResult {
  /** True when every stream echo verified and (if datagrams were sent) enough came back. */
  ok: boolean;
  /** Failure reason (only when `ok` is false). */
  error?: string;
  /** Where it failed: flags, tls, handshake, streams, uni-streams or datagrams. */
  stage?: string;
  /** Time for `quic.DialAddr` to complete the handshake, in milliseconds. */
  handshake_ms: number;
  /** Whole run, in milliseconds. */
  elapsed_ms: number;
  /** Streams requested. */
  streams: number;
  /** Streams whose echo matched byte for byte (SHA-256). */
  streams_ok: number;
  /** Unidirectional streams requested (`--uni-streams`). */
  uni_streams: number;
  /** Unidirectional streams echoed back byte for byte on server-initiated streams. */
  uni_streams_ok: number;
  /** Total verified echoed bytes over all bidirectional streams. */
  bytes: number;
  /** Whether both sides negotiated max_datagram_frame_size (RFC 9221). */
  datagrams_supported: boolean;
  /** Datagrams handed to quic-go. */
  datagrams_sent: number;
  /** Distinct datagrams echoed back within `--datagram-wait`. */
  datagrams_echoed: number;
  /** Negotiated ALPN. */
  alpn: string;
  /** QUIC version as quic-go names it: `v1`, `draft-29`, `v2` (pre-RFC 0x709a50c4). */
  version: string;
  /** QUIC version number, `0x%08x`. */
  version_number: string;
  /** Peer's max_datagram_frame_size transport parameter (-1 before it was seen). */
  peer_max_datagram_frame_size: number;
}

/** JSON line printed by `peer h3client`. */
export interface QuicGoH3Result {
  /** True for a 2xx response whose body was read completely. */
  ok: boolean;
  /** Failure reason (only when `ok` is false). */
  error?: string;
  /** HTTP status code (0 if no response). */
  status: number;
  /** Response body length. */
  body_bytes: number;
  /** Hex SHA-256 of the response body. */
  sha256: string;
  /** Request body length (`--body-bytes`). */
  request_bytes: number;
  /** Hex SHA-256 of the request body (`quicGoPattern(1, N)`), when one was sent. */
  request_sha256?: string;
  /** Response Content-Type. */
  content_type?: string;
  /** `HTTP/3.0` from quic-go's RoundTripper. */
  proto: string;
  /** Negotiated ALPN (`h3`, or `h3-29` with `--quic-version draft29`). */
  alpn: string;
  /** QUIC version as quic-go names it. */
  version: string;
  /** Whole request, in milliseconds. */
  elapsed_ms: number;
}

/** What the run functions add to the peer's JSON line. */
/** Exit code (0 success, 1 failure, 2 usage error) and stderr of a client run. */
export type QuicGoExit = PeerExit;

/** A running peer server. */
export type QuicGoServer = ReadyPeer;

/** Options of {@link startQuicGoServer}. */
export interface StartQuicGoServerOptions {
  /** Subcommand (default `server`). */
  mode?: QuicGoServerMode;
  /** Flags; `--listen` defaults to `127.0.0.1:0`. */
  flags?: QuicGoFlags;
  /** How long to wait for `READY` (default 15 s). */
  readyTimeoutMs?: number;
}

/** Options of {@link runQuicGoClient}. */
export interface RunQuicGoClientOptions<M extends QuicGoClientMode> {
  /** Subcommand. */
  mode: M;
  /** Flags (`--connect`/`--url` etc.). */
  flags: QuicGoFlags;
  /** Kill the client after this long (default 30 s). */
  timeoutMs?: number;
}

/**
 * Builds the peer (offline, cached by source hash) and returns the binary path.
 * Throws with the build script's message when Go or the quic-go sources are missing.
 */
export function buildQuicGoPeer(): string {
  return buildGoPeer(BUILD_SCRIPT, 'quic-go interop peer');
}

/** Turns {@link QuicGoFlags} into argv. */
export function quicGoArgv(flags: QuicGoFlags | undefined): string[] {
  if (flags === undefined) return [];
  if (Array.isArray(flags)) return [...flags];
  const argv: string[] = [];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    if (value === true) argv.push(`--${name}`);
    else if (value === false) argv.push(`--${name}=false`);
    else argv.push(`--${name}`, String(value));
  }
  return argv;
}

function peerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING: 'true' };
}

/**
 * Starts `peer server` / `peer h3server` and resolves once it printed `READY host:port`.
 * Its stdin stays an open pipe: the peer exits when this process dies.
 */
export function startQuicGoServer(opts: StartQuicGoServerOptions = {}): Promise<QuicGoServer> {
  const argv = quicGoArgv(opts.flags);
  if (!argv.some((a) => a === '--listen' || a.startsWith('--listen='))) {
    argv.push('--listen', '127.0.0.1:0');
  }
  const mode = opts.mode ?? 'server';
  return startReadyPeer(buildQuicGoPeer(), [mode, ...argv], {
    what: `quic-go ${mode}`,
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
    env: peerEnv(),
  });
}

/**
 * Runs `peer client` / `peer h3client` and resolves with its JSON line plus exit code and
 * stderr (also when the peer reports `ok: false`). Rejects on timeout or without a JSON line.
 */
export function runQuicGoClient(
  opts: RunQuicGoClientOptions<'client'>,
): Promise<QuicGoClientResult & QuicGoExit>;
export function runQuicGoClient(
  opts: RunQuicGoClientOptions<'h3client'>,
): Promise<QuicGoH3Result & QuicGoExit>;
export function runQuicGoClient(
  opts: RunQuicGoClientOptions<QuicGoClientMode>,
): Promise<(QuicGoClientResult | QuicGoH3Result) & QuicGoExit> {
  return runJsonPeer<QuicGoClientResult | QuicGoH3Result>(
    buildQuicGoPeer(),
    [opts.mode, ...quicGoArgv(opts.flags)],
    { what: `quic-go ${opts.mode}`, timeoutMs: opts.timeoutMs ?? 30_000, env: peerEnv() },
  );
}

/**
 * The peer's deterministic byte pattern (mirror of `patternBytes` in quic-go/common.go):
 * xorshift32 with state `seed ^ 0x9e3779b9` (1 if 0), each step emits 4 little-endian bytes.
 * Stream i of `peer client` carries pattern(i + 1, N), its unidirectional stream i
 * pattern(0x20000 + i, N); `GET /bytes/N` is pattern(0, N);
 * `h3client --body-bytes N` posts pattern(1, N); datagram i is
 * pattern(0x10000 + i, 1 + (i * 211) % maxSize).
 */
export function quicGoPattern(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed ^ 0x9e3779b9) >>> 0;
  if (x === 0) x = 1;
  for (let i = 0; i < n; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (x >>> (8 * j)) & 0xff;
  }
  return out;
}
