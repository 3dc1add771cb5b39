/**
 * The running proxy: an HTTP/3 server (our QUIC stack) with the connect-udp handler registered,
 * the Prometheus listener when configured, and a pino logger (level from `MASQUE_LOG`, else the
 * configuration; logs go to stderr).
 *
 *   const proxy = await startProxy(parseConfig({ listen: '127.0.0.1:4433' }));
 *   proxy.template  // https://127.0.0.1:4433/.well-known/masque/udp/{target_host}/{target_port}/
 *   await proxy.close();
 *
 * Without a certificate in the configuration (or the options) a development certificate for
 * localhost / 127.0.0.1 / ::1 is generated in memory; its SPKI pin is in `spkiSha256`.
 *
 * Shutdown (`close`): new requests are refused (503), every tunnel ends with a FIN and its socket
 * closes, then the HTTP/3 server sends GOAWAY and drains its connections (RFC 9114 §5.2) for at
 * most `timeout` ms before closing them and the UDP socket.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { type Logger, pino } from 'pino';
import { ConfigError } from '../config/load.js';
import type { ProxyConfig } from '../config/schema.js';
import { authConfig, targetRules } from '../config/schema.js';
import { cryptoBackend } from '../crypto/native.js';
import { TargetPolicy } from '../masque/connect-udp/policy.js';
import type { Resolver } from '../masque/connect-udp/resolve.js';
import { defaultTemplate } from '../masque/connect-udp/template-expand.js';
import type { BoundSocketFactory } from '../masque/proxy/bound-socket.js';
import { ConnectUdpHandler } from '../masque/proxy/connect-udp-handler.js';
import type { UdpSocketFactory } from '../masque/proxy/udp-socket.js';
import { ProxyMetrics } from '../metrics/metrics.js';
import { type MetricsServer, startMetricsServer } from '../metrics/server.js';
import type { CidSteering } from '../quic/cid/steering.js';
import type { AckFrequencyPolicy } from '../quic/connection/index.js';
import { H3Server } from '../runtime/server/server.js';
import { listenTcp, type TcpListener } from '../runtime/tcp/tcp-listener.js';
import { generateDevCert } from '../tls/certs/dev-cert.js';
import { loadServerCredential } from '../tls/handshake/index.js';
import { resolverFor } from './resolver.js';

/** Options of {@link startProxy} that a configuration file cannot carry. */
export interface StartProxyOptions {
  /** Certificate chain and key (PEM), over `config.certificate`. */
  certPem?: string;
  keyPem?: string;
  /** DNS (default: as `config.dns` says, `resolver.ts`). */
  resolver?: Resolver;
  /** Tunnel sockets (default: connected node:dgram sockets). */
  socketFactory?: UdpSocketFactory;
  /** Opens the unconnected sockets of bound tunnels (tests). */
  boundSocketFactory?: BoundSocketFactory;
  /** Logger (default: pino to stderr at `MASQUE_LOG` or `config.logLevel`). */
  logger?: Logger;
  /** See `tunnel.ts`. Default 'capsule'. */
  largeDatagrams?: 'capsule' | 'drop';
  /** Interval of the metrics batch flush (ms). Default 1000. */
  metricsIntervalMs?: number;
  /**
   * Ceiling of path MTU discovery for the proxy's QUIC packets (1200-65527; default 1452): they
   * start at 1200 bytes and grow as the path allows.
   */
  maxUdpPayload?: number;
  /**
   * What the proxy asks of clients supporting the ACK frequency extension (default `{}`: fewer
   * ACKs on busy tunnels; `false` asks nothing). See `src/quic/connection/ack-frequency.ts`.
   */
  ackFrequency?: AckFrequencyPolicy | false;
  /** Write one qlog file per QUIC connection into this directory (for qvis). */
  qlogDir?: string;
  /** Bind the UDP socket with SO_REUSEPORT: this process is one of several workers (workers.ts). */
  reusePort?: boolean;
  /** This worker's mark in the CIDs it issues, for the kernel's steering (src/quic/cid/steering.ts). */
  cidSteering?: CidSteering;
  /** Fields on every line of the default logger (a worker's number). */
  logBindings?: Record<string, unknown>;
  /**
   * Stateless reset key (at least 16 bytes), over `config.statelessResetKeyFile`. Without either,
   * a random key per run: clients then learn of a restart only by their idle timeout.
   */
  statelessResetKey?: Uint8Array;
}

/** Request streams a client may have open beyond its tunnels (refusals, status requests). */
const STREAM_HEADROOM = 16;

/** What {@link RunningProxy.reload} did. */
export interface ReloadOutcome {
  /** Settings that changed and apply from now on (to new tunnels, new handshakes). */
  applied: string[];
  /** Settings that changed but take a restart; the running values stay. */
  restartNeeded: string[];
}

/** Options of {@link RunningProxy.close}. */
export interface ProxyCloseOptions {
  /**
   * How long running tunnels may go on before they are closed (ms, default 0): new requests are
   * refused (503) meanwhile, and the close goes on as soon as the last tunnel ends.
   */
  drain?: number;
  /** Then how long the HTTP/3 connections may drain after GOAWAY (ms, default 3000). */
  timeout?: number;
}

/**
 * Settings a reload applies (to new tunnels; running ones keep theirs). `limits` applies only its
 * `tunnelsTotal`: the per-connection count sets the QUIC stream credit, the rest are built into
 * the relays and the endpoint.
 */
const RELOADABLE = new Set([
  'auth',
  'targets',
  'dns',
  'request',
  'accessLog',
  'logLevel',
  'shutdownGraceMs',
]);

/** A running proxy. */
export interface RunningProxy {
  /** The bound address, "127.0.0.1:4433" / "[::1]:4433". */
  readonly address: string;
  readonly port: number;
  /** The URI template clients use (RFC 9298 §2). */
  readonly template: string;
  /** The certificate (PEM) the proxy presents (to new handshakes, after a reload). */
  readonly certPem: string;
  /** base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
  readonly spkiSha256: string;
  /** True when the certificate was generated for this run. */
  readonly devCert: boolean;
  /** "host:port" of the metrics listener, when configured. */
  readonly metricsAddress: string | undefined;
  /**
   * The TCP port of HTTP/2 and HTTP/1.1 (connect-udp where UDP is blocked), when it listens.
   */
  readonly h2Port: number | undefined;
  readonly handler: ConnectUdpHandler;
  readonly server: H3Server;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  /** The configuration in force (reloaded settings included). */
  readonly config: ProxyConfig;
  /** False once the proxy is shutting down (readiness). */
  readonly ready: boolean;
  /**
   * Applies a new configuration to what follows (new tunnels, new handshakes) without touching
   * running tunnels: see {@link ReloadOutcome}. The certificate is read again from its files
   * (or taken from `options`). Throws {@link ConfigError} and changes nothing when something in it
   * cannot be used.
   */
  reload(
    config: ProxyConfig,
    options?: { certPem?: string; keyPem?: string },
  ): Promise<ReloadOutcome>;
  /** Graceful shutdown: see {@link ProxyCloseOptions}. */
  close(options?: ProxyCloseOptions): Promise<void>;
}

/** The certificate chain and key of `certificate`, read; problems name the field. */
async function readCertificate(certificate: {
  cert: string;
  key: string;
}): Promise<{ certPem: string; keyPem: string }> {
  const problems: string[] = [];
  const read = async (path: string, field: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      problems.push(`${field}: cannot read ${path}: ${(err as Error).message}`);
      return '';
    }
  };
  const [certPem, keyPem] = await Promise.all([
    read(certificate.cert, 'certificate.cert'),
    read(certificate.key, 'certificate.key'),
  ]);
  if (problems.length > 0) throw new ConfigError(problems);
  return { certPem, keyPem };
}

/** Top-level (and `limits.*`) settings whose values differ. */
function changedSettings(a: ProxyConfig, b: ProxyConfig): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ProxyConfig>;
  for (const k of keys) {
    if (k === 'limits') {
      for (const l of Object.keys(a.limits) as Array<keyof ProxyConfig['limits']>) {
        if (a.limits[l] !== b.limits[l]) out.push(`limits.${l}`);
      }
    } else if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) {
      out.push(k);
    }
  }
  return out;
}

/**
 * The public address of bound tunnels' wildcard sockets when none is configured: a loopback
 * listener means a proxy for this host (loopback addresses); a specific listen address names its
 * own family; otherwise the host's interfaces decide (`interfaceAddress`).
 */
export function listenPublicAddress(host: string, family: 4 | 6): string | undefined {
  if (host === 'localhost' || host.startsWith('127.') || host === '::1') {
    return family === 4 ? '127.0.0.1' : '::1';
  }
  if (isIP(host) === family && host !== '0.0.0.0' && host !== '::') return host;
  return undefined;
}

/** base64 SHA-256 of a PEM certificate's SPKI (Chromium's `--ignore-certificate-errors-spki-list`). */
export function spkiSha256Of(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * The stateless reset key derived from a file's contents (SHA-256 of them, so any secret of 16
 * bytes or more will do).
 */
export async function resetKeyFromFile(path: string): Promise<Uint8Array> {
  let secret: Buffer;
  try {
    secret = await readFile(path);
  } catch (err) {
    throw new ConfigError([
      `statelessResetKeyFile: cannot read ${path}: ${(err as Error).message}`,
    ]);
  }
  if (secret.length < 16) {
    throw new ConfigError([`statelessResetKeyFile: ${path} holds fewer than 16 bytes`]);
  }
  return new Uint8Array(createHash('sha256').update(secret).digest());
}

async function listenLiteral(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  return (await lookup(host)).address;
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The authority a client should use for a bound address (a wildcard becomes loopback). */
function reachableAuthority(host: string, port: number): string {
  if (host === '0.0.0.0') return `127.0.0.1:${port}`;
  if (host === '::') return `[::1]:${port}`;
  return hostPort(host, port);
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `MASQUE_LOG` when set (it overrides the configuration); throws {@link ConfigError} for a bad one. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const v = env.MASQUE_LOG;
  if (v === undefined || v === '') return undefined;
  if (!LOG_LEVELS.includes(v)) {
    throw new ConfigError([
      `MASQUE_LOG: "${v}" is not a log level; use one of ${LOG_LEVELS.join(', ')}`,
    ]);
  }
  return v;
}

/** Starts the proxy described by `config`. */
export async function startProxy(
  config: ProxyConfig,
  options: StartProxyOptions = {},
): Promise<RunningProxy> {
  const level = logLevelFromEnv(process.env) ?? config.logLevel;
  const defaultLogger = (): Logger => {
    const root = pino({ level, name: 'masque' }, pino.destination(2));
    return options.logBindings === undefined ? root : root.child(options.logBindings);
  };
  const logger = options.logger ?? defaultLogger();
  let certPem = options.certPem;
  let keyPem = options.keyPem;
  if ((certPem === undefined || keyPem === undefined) && config.certificate !== undefined) {
    ({ certPem, keyPem } = await readCertificate(config.certificate));
  }
  const devCert = certPem === undefined || keyPem === undefined;
  if (devCert) {
    const dev = generateDevCert();
    certPem = dev.certPem;
    keyPem = dev.keyPem;
  }
  try {
    loadServerCredential(certPem as string, keyPem as string);
  } catch (err) {
    const where =
      config.certificate === undefined
        ? 'certificate'
        : `certificate (${config.certificate.cert}, ${config.certificate.key})`;
    throw new ConfigError([`${where}: ${(err as Error).message}`]);
  }
  const statelessResetKey =
    options.statelessResetKey ??
    (config.statelessResetKeyFile === undefined
      ? undefined
      : await resetKeyFromFile(config.statelessResetKeyFile));
  const listenHost = await listenLiteral(config.listen.host);
  // The status endpoint answers only authenticated clients when authentication is on (401 with
  // the same challenge as WWW-Authenticate: it is a resource of the proxy itself, RFC 9110 §11.6.1).
  let statusAuth: ConnectUdpHandler | undefined;
  const server = await H3Server.listen({
    statusAccess: (headers) => {
      const r = statusAuth?.authenticate(headers);
      if (r === undefined || r.ok) return undefined;
      return {
        status: 401,
        headers: r.headers.map(([, v]): [string, string] => ['www-authenticate', v]),
      };
    },
    listen: hostPort(listenHost, config.listen.port),
    reusePort: options.reusePort,
    cidSteering: options.cidSteering,
    certPem: certPem as string,
    keyPem: keyPem as string,
    logger: logger.child({ component: 'h3' }),
    // Stream credit follows the tunnel limit (RFC 9000 §4.6): a client may open every tunnel it
    // is allowed, and a few more requests beyond it still get a stream to be answered on (429,
    // the status endpoint) instead of waiting for credit that never comes.
    transport: { initialMaxStreamsBidi: config.limits.tunnelsPerConnection + STREAM_HEADROOM },
    maxUdpPayload: options.maxUdpPayload,
    ackFrequency: options.ackFrequency,
    qlogDir: options.qlogDir,
    statelessResetKey,
    connectionLimits: {
      maxConnections: config.limits.connections,
      maxConnectionsPerSource: config.limits.connectionsPerSource,
      maxHalfOpen: config.limits.halfOpenConnections,
      maxHalfOpenPerSource: config.limits.halfOpenPerSource,
      initialRatePerSource: {
        perSecond: config.limits.initialsPerSecondPerSource,
        burst: 2 * config.limits.initialsPerSecondPerSource,
      },
    },
  });
  const port = server.port;
  const template = config.template ?? defaultTemplate(reachableAuthority(listenHost, port));
  // Process figures too (heap, event-loop delay, open handles and descriptors): under a flood
  // they tell whether the proxy itself is falling behind (issue 10).
  const metrics = new ProxyMetrics({ processMetrics: true });
  const handler = new ConnectUdpHandler({
    template,
    proxyName: config.proxyName,
    auth: authConfig(config),
    policy: new TargetPolicy(targetRules(config), { allowSpecial: config.targets.allowSpecial }),
    resolver: options.resolver ?? resolverFor(config.dns),
    prefer: config.dns.prefer,
    fallback: config.dns.fallback,
    strictAuthority: config.request.strictAuthority,
    requireCapsuleProtocol: config.request.requireCapsuleProtocol,
    limits: {
      tunnelsPerConnection: config.limits.tunnelsPerConnection,
      tunnelsTotal: config.limits.tunnelsTotal,
      datagramQueue: config.limits.datagramQueue,
      idleTimeoutMs: config.limits.tunnelIdleTimeoutMs,
    },
    largeDatagrams: options.largeDatagrams,
    socketFactory: options.socketFactory,
    bind: config.bind.enabled
      ? {
          egress: config.bind.egress,
          publicAddresses: config.bind.publicAddresses,
          maxTunnels: config.bind.maxTunnels,
          maxContexts: config.bind.maxContextsPerTunnel,
          compressAfter: config.bind.compressAfter,
          maxUnackedAssigns: config.bind.maxUnackedAssigns,
          wire: config.bind.wire,
          socketFactory: options.boundSocketFactory,
          defaultPublicAddress: (family) => listenPublicAddress(config.listen.host, family),
        }
      : undefined,
    quicAware: config.quicAware.enabled
      ? {
          forwarding: config.quicAware.forwarding,
          profiles: config.quicAware.profiles,
          transforms: config.quicAware.transforms,
          portSharing: config.quicAware.portSharing,
          minCidLength: config.quicAware.minCidLength,
          maxConnectionIds: config.quicAware.maxConnectionIds,
          reregistrationIsFree: config.quicAware.reregistrationIsFree,
          steering: options.cidSteering,
          quicLb:
            config.quicAware.quicLb === undefined
              ? undefined
              : {
                  configId: config.quicAware.quicLb.configId,
                  serverId: Buffer.from(config.quicAware.quicLb.serverId, 'hex'),
                  nonceLength: config.quicAware.quicLb.nonceLength,
                  key:
                    config.quicAware.quicLb.key === undefined
                      ? undefined
                      : Buffer.from(config.quicAware.quicLb.key, 'hex'),
                },
        }
      : undefined,
    metrics,
    logger: logger.child({ component: 'connect-udp' }),
    accessLog: config.accessLog,
  });
  try {
    handler.register(server);
  } catch (err) {
    // A configuration the server cannot serve (e.g. QUIC-LB VCIDs longer than its CIDs).
    await server.close({ timeout: 0 });
    metrics.close();
    throw err;
  }
  statusAuth = handler;

  // HTTP/2 and HTTP/1.1 beside HTTP/3 (issue: networks that block UDP): same port number, same
  // certificate, ALPN choosing the version.
  let h2: TcpListener | undefined;
  if (config.http2.enabled) {
    const [h2host, h2port] =
      config.http2.listen === undefined
        ? [server.address.slice(0, server.address.lastIndexOf(':')).replace(/^\[|\]$/g, ''), port]
        : [config.http2.listen.host, config.http2.listen.port];
    try {
      h2 = await listenTcp({
        host: h2host,
        port: h2port,
        certPem: certPem as string,
        keyPem: keyPem as string,
        http1: config.http2.http1,
        h2: config.http2.h2,
        h3Port: port,
        knownCapsules: handler.knownCapsules,
        onConnectUdp: (s) => void handler.handle(s),
        onRefused: (r) => handler.recordRefusal({ ...r, transport: 'h1' }),
        maxConnections: config.limits.connections,
        maxConnectionsPerSource: config.limits.connectionsPerSource,
        logger: logger.child({ component: 'http2' }),
      });
    } catch (err) {
      // The UDP proxy still runs; say why TCP does not.
      logger.warn({ err, port: h2port }, 'HTTP/2 listener not started');
    }
  }

  let metricsServer: MetricsServer | undefined;
  if (config.metrics !== undefined) {
    try {
      metricsServer = await startMetricsServer(metrics, config.metrics.listen, {
        ready: () => closing === undefined && !handler.closing,
      });
    } catch (err) {
      await server.close({ timeout: 0 });
      metrics.close();
      throw err;
    }
  }
  // Connection counts come from the server's stats, tunnel traffic from the handler's batches.
  let seenTotal = 0;
  let seenActive = 0;
  const tick = (): void => {
    const st = server.stats();
    for (let i = seenTotal; i < st.connectionsTotal; i++) metrics.connectionOpened();
    const closed = seenActive + (st.connectionsTotal - seenTotal) - st.connections;
    for (let i = 0; i < closed; i++) metrics.connectionClosed();
    seenTotal = st.connectionsTotal;
    seenActive = st.connections;
    handler.flushMetrics();
    metrics.observeEndpoint({
      ...server.endpoint.endpoint.stats(),
      socket: server.endpoint.socketStats(),
    });
    metrics.observeHeaders(st);
    if (h2 !== undefined) metrics.observeTcp(h2.connections, h2.refusals);
  };
  const timer = setInterval(tick, options.metricsIntervalMs ?? 1000);
  timer.unref();

  const metricsAddress =
    metricsServer === undefined
      ? undefined
      : hostPort(metricsServer.address.address, metricsServer.address.port);
  logger.info(
    {
      listen: `${server.address} (HTTP/3, UDP)`,
      tcp:
        h2 === undefined
          ? undefined
          : `${hostPort(server.address.slice(0, server.address.lastIndexOf(':')).replace(/^\[|\]$/g, ''), h2.port)} (${[config.http2.h2 ? 'HTTP/2' : '', config.http2.http1 ? 'HTTP/1.1' : ''].filter((v) => v !== '').join(', ')}, TCP)`,
      template,
      devCert,
      modes: [...handler.modes],
      metrics: metricsAddress === undefined ? undefined : `http://${metricsAddress}/metrics`,
      auth: config.auth.mode,
      accessLog: config.accessLog,
      crypto: cryptoBackend(),
    },
    'proxy listening',
  );

  let closing: Promise<void> | undefined;
  let current = config;
  let presented = certPem as string;
  const reload = async (
    next: ProxyConfig,
    o: { certPem?: string; keyPem?: string } = {},
  ): Promise<ReloadOutcome> => {
    if (closing !== undefined) throw new ConfigError(['the proxy is shutting down']);
    let pem: { certPem: string; keyPem: string } | undefined;
    if (o.certPem !== undefined && o.keyPem !== undefined) {
      pem = { certPem: o.certPem, keyPem: o.keyPem };
    } else if (next.certificate !== undefined) {
      pem = await readCertificate(next.certificate);
    }
    const policy = new TargetPolicy(targetRules(next), { allowSpecial: next.targets.allowSpecial });
    const resolver =
      JSON.stringify(next.dns) === JSON.stringify(current.dns) || options.resolver !== undefined
        ? undefined
        : resolverFor(next.dns);
    const changed = changedSettings(current, next);
    const applied = changed.filter((k) => RELOADABLE.has(k) || k === 'limits.tunnelsTotal');
    const restartNeeded = changed.filter((k) => !applied.includes(k) && k !== 'certificate');
    // The certificate last among what can fail: a refused one leaves everything as it was.
    if (pem !== undefined && pem.certPem !== presented) {
      try {
        server.setCertificate(pem.certPem, pem.keyPem);
        h2?.setCertificate(pem.certPem, pem.keyPem);
      } catch (err) {
        const field = next.certificate === undefined ? 'certificate' : 'certificate.key';
        throw new ConfigError([`${field}: ${(err as Error).message}`]);
      }
      presented = pem.certPem;
      applied.push('certificate');
    }
    handler.reconfigure({
      auth: authConfig(next),
      policy,
      resolver,
      prefer: next.dns.prefer,
      fallback: next.dns.fallback,
      strictAuthority: next.request.strictAuthority,
      requireCapsuleProtocol: next.request.requireCapsuleProtocol,
      tunnelsTotal: next.limits.tunnelsTotal,
      accessLog: next.accessLog,
    });
    if (options.logger === undefined) logger.level = logLevelFromEnv(process.env) ?? next.logLevel;
    // Settings that need a restart keep their running values, so the next reload reports them
    // again until the restart.
    const kept = { ...next, limits: { ...current.limits, tunnelsTotal: next.limits.tunnelsTotal } };
    for (const k of Object.keys(current) as Array<keyof ProxyConfig>) {
      if (k !== 'limits' && !RELOADABLE.has(k) && k !== 'certificate') {
        (kept as Record<string, unknown>)[k] = current[k];
      }
    }
    current = kept;
    return { applied, restartNeeded };
  };
  const close = async (drain: number, timeout: number): Promise<void> => {
    if (drain > 0 && handler.tunnels.size > 0) {
      logger.info({ tunnels: handler.tunnels.size, graceMs: drain }, 'draining');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        handler.drain(),
        new Promise<void>((r) => {
          timer = setTimeout(r, drain);
        }),
      ]);
      clearTimeout(timer);
    }
    handler.closeAll();
    await Promise.all([server.close({ timeout }), h2?.close()]);
    clearInterval(timer);
    tick();
    await metricsServer?.close();
    metrics.close();
    logger.info('proxy stopped');
  };
  return {
    address: server.address,
    port,
    template,
    get certPem() {
      return presented;
    },
    get spkiSha256() {
      return spkiSha256Of(presented);
    },
    get config() {
      return current;
    },
    get ready() {
      return closing === undefined && !handler.closing;
    },
    reload,
    devCert,
    metricsAddress,
    h2Port: h2?.port,
    handler,
    server,
    metrics,
    logger,
    close: (o = {}) => {
      closing ??= close(o.drain ?? 0, o.timeout ?? 3000);
      return closing;
    },
  };
}
