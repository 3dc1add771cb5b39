/**
 * Builds and drives the independent quic-go 0.29 peer (`test/interop/quic-go/`) used by the
 * interop tests. The peer is a real, separately written QUIC v1 + HTTP/3 stack; a test that
 * needs it must FAIL (never skip) when it cannot be built.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGoPeer } from './peer-process.js';

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
export interface QuicGoExit {
  /** Exit code of the peer (0 success, 1 failure, 2 usage error). */
  exitCode: number;
  /** Everything the peer logged on stderr. */
  stderr: string;
}

/** A running peer server. */
export interface QuicGoServer {
  /** Bound UDP port from the `READY host:port` line. */
  port: number;
  /** Bound host from the `READY` line (e.g. `127.0.0.1`). */
  host: string;
  /** The child process. */
  proc: ChildProcess;
  /** Stderr logged so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process exited. Idempotent. */
  stop(): Promise<void>;
}

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
  const bin = buildQuicGoPeer();
  const argv = quicGoArgv(opts.flags);
  if (!argv.some((a) => a === '--listen' || a.startsWith('--listen='))) {
    argv.push('--listen', '127.0.0.1:0');
  }
  const proc = spawn(bin, [opts.mode ?? 'server', ...argv], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: peerEnv(),
  });
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else {
      proc.once('exit', () => resolve());
      proc.once('error', () => resolve());
    }
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      proc.stdin?.destroy();
    })();
    return stopping;
  };

  return new Promise<QuicGoServer>((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`quic-go ${opts.mode ?? 'server'} ${why}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(
      () => fail(`printed no READY line within ${opts.readyTimeoutMs ?? 15_000} ms`),
      opts.readyTimeoutMs ?? 15_000,
    );
    const onError = (err: Error): void => fail(`failed to spawn: ${err.message}`);
    const onExit = (code: number | null, signal: string | null): void =>
      fail(`exited early (code ${code}, signal ${signal})`);
    proc.once('error', onError);
    proc.once('exit', onExit);
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /^READY (\S+):(\d+)$/m.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      proc.off('error', onError);
      proc.off('exit', onExit);
      resolve({ host: m[1], port: Number(m[2]), proc, stderr: () => stderr, stop });
    });
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
  const bin = buildQuicGoPeer();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const proc = spawn(bin, [opts.mode, ...quicGoArgv(opts.flags)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: peerEnv(),
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`quic-go ${opts.mode} timed out after ${timeoutMs} ms\nstderr:\n${stderr}`));
    }, timeoutMs);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`quic-go ${opts.mode} failed to spawn: ${err.message}`));
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('{'))
        .at(-1);
      if (line === undefined) {
        reject(
          new Error(
            `quic-go ${opts.mode} printed no JSON (code ${code}, signal ${signal})\n` +
              `stdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
        return;
      }
      try {
        const parsed = JSON.parse(line) as QuicGoClientResult | QuicGoH3Result;
        resolve({ ...parsed, exitCode: code ?? -1, stderr });
      } catch (err) {
        reject(new Error(`quic-go ${opts.mode} printed bad JSON ${line}: ${String(err)}`));
      }
    });
  });
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
