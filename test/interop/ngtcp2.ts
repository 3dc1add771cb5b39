/**
 * Drives ngtcp2's HTTP/3 example client and server from Debian (`ngtcp2-client` /
 * `ngtcp2-server` 0.12, GnuTLS builds: /usr/bin/gtlsclient, /usr/sbin/gtlsserver), an
 * independent QUIC v1 + HTTP/3 stack (ngtcp2 + nghttp3) used as an interop peer.
 *
 * Quirks of these binaries that the helpers hide:
 * - The client exits 0 even when the handshake fails (e.g. `ERR_HANDSHAKE_TIMEOUT`), so the
 *   outcome is parsed from its stderr log: `QUIC handshake has completed`, `Negotiated ALPN is
 *   h3`, `http: stream 0x0 [:status: 200]`. That log only exists without `-q`;
 *   `--no-quic-dump --no-http-dump` keep it to one line per packet/frame event.
 * - The client saves response bodies with `--download=DIR`, named after the last path segment
 *   (`index.html` when there is none); `--exit-on-all-streams-close` makes it exit afterwards.
 * - Key logs: neither binary has a flag; both honour `SSLKEYLOGFILE` (NSS format).
 * - The server takes `ADDR PORT KEY CERT` positionally, serves files from `-d DIR` and never
 *   prints its port: with port 0 the bound port is read from /proc.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  boundUdpPorts,
  type ManagedProcess,
  pollUntil,
  requireExecutable,
  runToCompletion,
  spawnManaged,
  tail,
} from './peer-process.js';

/** Path of ngtcp2's example HTTP/3 client (Debian package `ngtcp2-client`). */
export const NGTCP2_CLIENT_PATH = '/usr/bin/gtlsclient';
/** Path of ngtcp2's example HTTP/3 server (Debian package `ngtcp2-server`). */
export const NGTCP2_SERVER_PATH = '/usr/sbin/gtlsserver';

/** The client binary, or an error naming the Debian package. */
export function ngtcp2ClientBinary(): string {
  return requireExecutable(NGTCP2_CLIENT_PATH, 'ngtcp2-client', "ngtcp2's HTTP/3 client");
}

/** The server binary, or an error naming the Debian package. */
export function ngtcp2ServerBinary(): string {
  return requireExecutable(NGTCP2_SERVER_PATH, 'ngtcp2-server', "ngtcp2's HTTP/3 server");
}

/** Options of {@link runNgtcp2Client}. */
export interface Ngtcp2ClientOptions {
  /** Server address (an IP literal; a DNS name would also be sent as SNI). */
  host: string;
  /** Server UDP port. */
  port: number;
  /** Request URLs (`https://host:port/path`), one request stream each. */
  urls: readonly string[];
  /** Directory for response bodies (`--download`). */
  downloadDir?: string;
  /** NSS key log file (via `SSLKEYLOGFILE`). */
  keylogFile?: string;
  /** TLS SNI override (`--sni`). */
  sni?: string;
  /** QUIC version (`-v`, e.g. `v1` or `0x00000001`). */
  quicVersion?: string;
  /** HTTP method (`-m`), default GET. */
  method?: string;
  /** Request body file (`-d`). */
  dataFile?: string;
  /** QUIC handshake timeout in seconds (default 5). */
  handshakeTimeoutS?: number;
  /** QUIC idle timeout in seconds (default 10). */
  idleTimeoutS?: number;
  /** qlog output directory (`--qlog-dir`). */
  qlogDir?: string;
  /** More raw arguments, placed before the positional ones. */
  extraArgs?: readonly string[];
  /** Kill the client after this long (default 20 s). */
  timeoutMs?: number;
}

/** One response as logged by the client. */
export interface Ngtcp2Response {
  /** Request stream ID. */
  streamId: number;
  /** `:status`, when response headers arrived. */
  status?: number;
  /** Response header fields in arrival order (pseudo-headers included). */
  headers: [string, string][];
  /** HTTP/3 application error code the stream closed with (0x100 = H3_NO_ERROR). */
  closeCode?: number;
}

/** What the client's stderr log says happened. */
export interface Ngtcp2ClientLog {
  /** `QUIC handshake has completed` was logged. */
  handshakeCompleted: boolean;
  /** `QUIC handshake has been confirmed` was logged. */
  handshakeConfirmed: boolean;
  /** Negotiated ALPN (`Negotiated ALPN is h3`). */
  alpn?: string;
  /** Negotiated TLS cipher suite (`Negotiated cipher suite is AES-128-GCM`). */
  cipherSuite?: string;
  /** Responses by request stream, in stream order. */
  responses: Ngtcp2Response[];
  /** Lines naming an ngtcp2/nghttp3 error code (`...: ERR_HANDSHAKE_TIMEOUT`). */
  errors: string[];
}

/** A downloaded body. */
export interface Ngtcp2Download {
  /** File name inside the download directory. */
  name: string;
  /** Size in bytes. */
  bytes: number;
  /** Hex SHA-256. */
  sha256: string;
}

/** Outcome of {@link runNgtcp2Client}. */
export interface Ngtcp2ClientResult extends Ngtcp2ClientLog {
  /** Exit code (0 even on handshake failure: read the log fields). */
  exitCode: number;
  /** Files in the download directory afterwards. */
  downloads: Ngtcp2Download[];
  /** Full stderr log. */
  stderr: string;
  /** The argv the client ran with (for reports). */
  argv: string[];
  /** Wall time, in milliseconds. */
  elapsedMs: number;
}

/** The argv {@link runNgtcp2Client} passes to the client. */
export function ngtcp2ClientArgs(opts: Ngtcp2ClientOptions): string[] {
  const args = [
    '--no-quic-dump',
    '--no-http-dump',
    '--exit-on-all-streams-close',
    `--handshake-timeout=${opts.handshakeTimeoutS ?? 5}s`,
    `--timeout=${opts.idleTimeoutS ?? 10}s`,
  ];
  if (opts.downloadDir !== undefined) args.push(`--download=${opts.downloadDir}`);
  if (opts.sni !== undefined) args.push(`--sni=${opts.sni}`);
  if (opts.quicVersion !== undefined) args.push(`--version=${opts.quicVersion}`);
  if (opts.method !== undefined) args.push(`--http-method=${opts.method}`);
  if (opts.dataFile !== undefined) args.push(`--data=${opts.dataFile}`);
  if (opts.qlogDir !== undefined) args.push(`--qlog-dir=${opts.qlogDir}`);
  args.push(...(opts.extraArgs ?? []), opts.host, String(opts.port), ...opts.urls);
  return args;
}

/** Parses the client's stderr log (see the module comment for the lines it relies on). */
export function parseNgtcp2ClientLog(log: string): Ngtcp2ClientLog {
  const out: Ngtcp2ClientLog = {
    handshakeCompleted: false,
    handshakeConfirmed: false,
    responses: [],
    errors: [],
  };
  const byStream = new Map<number, Ngtcp2Response>();
  const response = (id: number): Ngtcp2Response => {
    let r = byStream.get(id);
    if (r === undefined) {
      r = { streamId: id, headers: [] };
      byStream.set(id, r);
    }
    return r;
  };
  for (const line of log.split('\n')) {
    if (line.startsWith('QUIC handshake has completed')) out.handshakeCompleted = true;
    else if (line.startsWith('QUIC handshake has been confirmed')) out.handshakeConfirmed = true;
    let m = /^Negotiated ALPN is (\S+)/.exec(line);
    if (m) out.alpn = m[1];
    m = /^Negotiated cipher suite is (\S+)/.exec(line);
    if (m) out.cipherSuite = m[1];
    // "http: stream 0x0 [:status: 200]" / "http: stream 0x0 [content-type: text/plain]"
    m = /^http: stream (0x[0-9a-f]+) \[(:?[^:\]]+): (.*)\]$/.exec(line);
    if (m) {
      const r = response(Number.parseInt(m[1], 16));
      r.headers.push([m[2], m[3]]);
      if (m[2] === ':status') r.status = Number(m[3]);
    }
    m = /^HTTP stream (\d+) closed with error code (\d+)/.exec(line);
    if (m) response(Number(m[1])).closeCode = Number(m[2]);
    if (/: ERR_[A-Z_]+/.test(line) && !line.includes('ERR_DRAINING')) out.errors.push(line.trim());
  }
  out.responses = [...byStream.values()].sort((a, b) => a.streamId - b.streamId);
  return out;
}

function listDownloads(dir: string | undefined): Ngtcp2Download[] {
  if (dir === undefined) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const data = readFileSync(join(dir, e.name));
      return {
        name: e.name,
        bytes: data.length,
        sha256: createHash('sha256').update(data).digest('hex'),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Runs the ngtcp2 client to completion and parses what it did. */
export async function runNgtcp2Client(opts: Ngtcp2ClientOptions): Promise<Ngtcp2ClientResult> {
  const bin = ngtcp2ClientBinary();
  const argv = ngtcp2ClientArgs(opts);
  const env: Record<string, string> = {};
  if (opts.keylogFile !== undefined) env.SSLKEYLOGFILE = opts.keylogFile;
  const done = await runToCompletion(bin, argv, {
    timeoutMs: opts.timeoutMs ?? 20_000,
    env,
    name: 'ngtcp2 client',
  });
  return {
    ...parseNgtcp2ClientLog(done.stderr),
    exitCode: done.exitCode,
    downloads: listDownloads(opts.downloadDir),
    stderr: done.stderr,
    argv: [bin, ...argv],
    elapsedMs: done.elapsedMs,
  };
}

/** Options of {@link startNgtcp2Server}. */
export interface Ngtcp2ServerOptions {
  /** PEM private key file. */
  keyFile: string;
  /** PEM certificate file. */
  certFile: string;
  /** Document root (`-d`); files are served as `GET /name`. */
  htdocs: string;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** UDP port (default 0: any; the bound port is read from /proc). */
  port?: number;
  /** NSS key log file (via `SSLKEYLOGFILE`). */
  keylogFile?: string;
  /** Log every packet and frame instead of running with `-q` (default false). */
  verbose?: boolean;
  /** qlog output directory (`--qlog-dir`). */
  qlogDir?: string;
  /** More raw arguments, placed before the positional ones. */
  extraArgs?: readonly string[];
  /** How long to wait for the UDP socket (default 10 s). */
  readyTimeoutMs?: number;
}

/** A running ngtcp2 server. */
export interface Ngtcp2Server extends ManagedProcess {
  /** Listen address. */
  host: string;
  /** Bound UDP port. */
  port: number;
  /** The argv it runs with. */
  argv: string[];
}

/** Starts the ngtcp2 server and resolves once its UDP socket is bound. */
export async function startNgtcp2Server(opts: Ngtcp2ServerOptions): Promise<Ngtcp2Server> {
  const bin = ngtcp2ServerBinary();
  const host = opts.host ?? '127.0.0.1';
  const args = [`--htdocs=${opts.htdocs}`, '--no-quic-dump', '--no-http-dump'];
  if (opts.verbose !== true) args.push('--quiet');
  if (opts.qlogDir !== undefined) args.push(`--qlog-dir=${opts.qlogDir}`);
  args.push(...(opts.extraArgs ?? []), host, String(opts.port ?? 0), opts.keyFile, opts.certFile);
  const env: Record<string, string> = {};
  if (opts.keylogFile !== undefined) env.SSLKEYLOGFILE = opts.keylogFile;
  const managed = spawnManaged(bin, args, env);
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  let port: number;
  try {
    port = await pollUntil(
      () => {
        if (managed.proc.exitCode !== null || managed.proc.signalCode !== null) {
          throw new Error(`exited early (code ${managed.proc.exitCode})`);
        }
        const pid = managed.proc.pid;
        if (pid === undefined) return undefined;
        const ports = boundUdpPorts(pid);
        if (opts.port !== undefined && opts.port !== 0) {
          return ports.includes(opts.port) ? opts.port : undefined;
        }
        return ports[0];
      },
      timeoutMs,
      'bound no UDP socket',
    );
  } catch (err) {
    await managed.stop();
    throw new Error(
      `ngtcp2 server ${(err as Error).message}\nargv: ${[bin, ...args].join(' ')}\n` +
        `stderr:\n${tail(managed.stderr())}`,
    );
  }
  return { ...managed, host, port, argv: [bin, ...args] };
}
